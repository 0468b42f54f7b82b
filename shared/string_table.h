// Compact string storage for the columnar incident store.
//
// StringPool interns repeated values (reasons, sender and recipient
// criteria) so each row stores a 32-bit index. StringColumn keeps one
// distinct string per row (identifiers, ids) in one character buffer.
// Neither is thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace reclaim {

class StringPool {
 public:
  StringPool() { Intern(""); }  // index 0 is always the empty string

  uint32_t Intern(std::string_view value);
  std::string_view Get(uint32_t index) const { return values_[index]; }
  size_t size() const { return values_.size(); }
  size_t MemoryBytes() const;

 private:
  std::deque<std::string> values_;  // a deque keeps the views in index_ valid
  std::unordered_map<std::string_view, uint32_t> index_;
};

class StringColumn {
 public:
  void Append(std::string_view value);
  // Replaces row `row`; the old bytes stay until Reorder().
  void Set(size_t row, std::string_view value);
  std::string_view Get(size_t row) const {
    return std::string_view(chars_.data() + offsets_[row], lengths_[row]);
  }
  size_t size() const { return offsets_.size(); }
  // Keeps the rows in `order` (old row indices), in that order, and drops
  // the bytes no row refers to any more.
  void Reorder(const std::vector<uint32_t>& order);
  void Reserve(size_t rows, size_t chars);
  size_t MemoryBytes() const;
  size_t CharBytes() const { return chars_.capacity(); }

 private:
  std::string chars_;
  std::vector<uint32_t> offsets_;
  std::vector<uint32_t> lengths_;
};

}  // namespace reclaim
