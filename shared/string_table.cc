#include "shared/string_table.h"

namespace reclaim {

uint32_t StringPool::Intern(std::string_view value) {
  auto found = index_.find(value);
  if (found != index_.end())
    return found->second;
  uint32_t index = static_cast<uint32_t>(values_.size());
  values_.emplace_back(value);
  index_.emplace(values_.back(), index);
  return index;
}

size_t StringPool::MemoryBytes() const {
  size_t bytes = values_.size() * sizeof(std::string);
  for (const std::string& value : values_) {
    if (value.capacity() > 15)
      bytes += value.capacity() + 1;  // beyond the small-string buffer
  }
  // A hash node contains the key, the value, the cached hash and a link.
  constexpr size_t kNodeBytes = sizeof(std::string_view) + 2 * sizeof(size_t) + sizeof(void*);
  bytes += index_.size() * kNodeBytes + index_.bucket_count() * sizeof(void*);
  return bytes;
}

void StringColumn::Append(std::string_view value) {
  offsets_.push_back(static_cast<uint32_t>(chars_.size()));
  lengths_.push_back(static_cast<uint32_t>(value.size()));
  chars_.append(value);
}

void StringColumn::Set(size_t row, std::string_view value) {
  if (value == Get(row))
    return;
  if (value.size() <= lengths_[row]) {
    chars_.replace(offsets_[row], value.size(), value);
  } else {
    offsets_[row] = static_cast<uint32_t>(chars_.size());
    chars_.append(value);
  }
  lengths_[row] = static_cast<uint32_t>(value.size());
}

void StringColumn::Reorder(const std::vector<uint32_t>& order) {
  std::string chars;
  size_t total = 0;
  for (uint32_t old_row : order)
    total += lengths_[old_row];
  chars.reserve(total);
  std::vector<uint32_t> offsets;
  std::vector<uint32_t> lengths;
  offsets.reserve(order.size());
  lengths.reserve(order.size());
  for (uint32_t old_row : order) {
    offsets.push_back(static_cast<uint32_t>(chars.size()));
    lengths.push_back(lengths_[old_row]);
    chars.append(Get(old_row));
  }
  chars_ = std::move(chars);
  offsets_ = std::move(offsets);
  lengths_ = std::move(lengths);
}

void StringColumn::Reserve(size_t rows, size_t chars) {
  offsets_.reserve(rows);
  lengths_.reserve(rows);
  chars_.reserve(chars);
}

size_t StringColumn::MemoryBytes() const {
  return chars_.capacity() + (offsets_.capacity() + lengths_.capacity()) * sizeof(uint32_t);
}

}  // namespace reclaim
