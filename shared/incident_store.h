// In-memory columnar store of incidents, the data behind every query.
//
// Rows are kept sorted by (Date Created, code), so a date range is a
// contiguous block found by binary search and the default order (newest
// first) needs no sorting. Each column is its own array. Repeated strings
// (reasons, sender and recipient criteria) are interned, and unique ones
// (identifiers, ids) share one character buffer. A row takes about 80 bytes
// beyond its identifier strings (bench/core_bench.cc prints the figure).
//
// Row indices are valid until the next mutation. Not thread-safe: callers
// serialise writers against readers.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "shared/incident.h"
#include "shared/string_table.h"

namespace reclaim {

class IncidentStore {
 public:
  IncidentStore() = default;

  // Inserts incidents, replacing any with the same code (organisation and
  // sequence number). Rejects an incident whose code or strings are invalid
  // and stores none of the batch then; the error names `incidents[i]`.
  Status Upsert(const std::vector<Incident>& incidents);
  Status Upsert(const Incident& incident);

  // Removes the incidents with these codes; unknown codes are ignored.
  // Returns how many were removed.
  size_t Erase(const std::vector<std::string>& codes);
  // Removes every incident created before `cutoff` and returns their codes.
  std::vector<std::string> EraseCreatedBefore(UnixSeconds cutoff);
  void Clear();

  size_t size() const { return created_.size(); }
  bool empty() const { return created_.empty(); }

  std::optional<uint32_t> FindByCode(std::string_view code) const;
  // Scans every row: ids are looked up once per page view, and an index
  // would cost more memory per row than all the other columns' overhead.
  std::optional<uint32_t> FindById(std::string_view id) const;
  Incident Get(uint32_t row) const;

  // Column access for the query engine and the CSV export.
  UnixSeconds created(uint32_t row) const { return created_[row]; }
  UnixSeconds modified(uint32_t row) const { return modified_[row]; }
  IncidentType type(uint32_t row) const { return static_cast<IncidentType>(type_[row]); }
  uint32_t sequence(uint32_t row) const { return sequence_[row]; }
  std::string_view org(uint32_t row) const { return orgs_[org_[row]]; }
  // Position of the row's organisation in alphabetical order, for sorting.
  uint32_t org_rank(uint32_t row) const { return org_rank_[org_[row]]; }
  std::string_view identifier(uint32_t row) const { return identifier_.Get(row); }
  std::string_view id(uint32_t row) const { return id_.Get(row); }
  uint32_t reason_index(uint32_t row) const { return reason_[row]; }
  std::string_view reason(uint32_t row) const { return pool_.Get(reason_[row]); }
  std::string_view from(uint32_t row) const { return pool_.Get(from_[row]); }
  std::string_view to(uint32_t row) const { return pool_.Get(to_[row]); }
  const MessageCounts& counts(uint32_t row) const { return counts_[row]; }
  UnixSeconds window_start(uint32_t row) const { return window_start_[row]; }
  UnixSeconds window_end(uint32_t row) const { return window_end_[row]; }
  std::string_view restores(uint32_t row) const { return pool_.Get(restores_[row]); }
  // Raw columns for the query engine's inner loop.
  const uint8_t* type_column() const { return type_.data(); }
  const uint32_t* reason_column() const { return reason_.data(); }
  const uint32_t* from_column() const { return from_.data(); }
  const uint32_t* to_column() const { return to_.data(); }

  // Interned strings are indexed in one pool; its size bounds reason_index.
  size_t pool_size() const { return pool_.size(); }
  std::string_view pooled(uint32_t index) const { return pool_.Get(index); }

  // Writes the row's code into `out` (at least 32 bytes) without allocating
  // and returns its length.
  size_t FormatCode(uint32_t row, char* out) const;

  // First row created at or after `t` (rows are in created order).
  uint32_t LowerBoundCreated(UnixSeconds t) const;

  // Counts the rows in [begin, end) whose type is in `types`. Whole blocks
  // of kTypeCountBlock rows are counted from per-block totals, so a span of
  // n rows costs about n / kTypeCountBlock additions.
  size_t CountTypes(TypeMask types, uint32_t begin, uint32_t end) const;
  static constexpr uint32_t kTypeCountBlock = 1024;

  // Heap bytes held, split into the fixed per-row columns and the unique
  // identifier and id strings.
  struct Memory {
    size_t columns = 0;
    size_t identifier_strings = 0;
  };
  Memory MemoryBytes() const;

 private:
  static uint64_t SparseKey(uint32_t org, uint32_t sequence) {
    return (uint64_t{org} << 32) | sequence;
  }
  std::optional<uint32_t> FindRow(uint32_t org, uint32_t sequence) const;
  void IndexRow(uint32_t org, uint32_t sequence, uint32_t row);
  std::optional<uint32_t> FindOrg(std::string_view org) const;
  uint32_t InternOrg(std::string_view org);
  void Append(const Incident& incident, uint32_t org);
  void Assign(uint32_t row, const Incident& incident);
  bool RowLess(uint32_t a, uint32_t b) const;
  void SortRows();
  void Reserve(size_t rows);
  void KeepRows(const std::vector<uint32_t>& order);
  void RebuildCodeIndex();
  void RebuildTypeCounts();
  void CountType(uint32_t row, int delta);

  std::vector<UnixSeconds> created_;
  std::vector<UnixSeconds> modified_;
  std::vector<UnixSeconds> window_start_;
  std::vector<UnixSeconds> window_end_;
  std::vector<MessageCounts> counts_;
  std::vector<uint32_t> sequence_;
  std::vector<uint32_t> reason_;
  std::vector<uint32_t> from_;
  std::vector<uint32_t> to_;
  std::vector<uint32_t> restores_;
  std::vector<uint8_t> org_;
  std::vector<uint8_t> type_;
  StringColumn identifier_;
  StringColumn id_;
  StringPool pool_;

  std::vector<std::string> orgs_;
  std::vector<uint32_t> org_rank_;
  // Code index: per organisation, row + 1 by sequence number (0: none).
  // Servers number incidents densely, so this costs 4 bytes a row; numbers
  // far beyond the row count go to the sparse map instead.
  std::vector<std::vector<uint32_t>> row_by_sequence_;
  std::unordered_map<uint64_t, uint32_t> sparse_rows_;
  // Rows of each type per block of kTypeCountBlock rows, kept up to date by
  // every mutation.
  std::vector<std::array<uint32_t, kIncidentTypeCount>> type_counts_;
};

}  // namespace reclaim
