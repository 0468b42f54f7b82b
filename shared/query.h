// The incident query: search, type and date filters, sort and paging.
//
// The browser client and the sync server run the same query on the same
// IncidentStore code, so a filter typed in the console and the same filter
// sent to the API return the same rows in the same order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shared/columns.h"
#include "shared/date_range.h"
#include "shared/incident_store.h"
#include "shared/status.h"

namespace reclaim {

enum class SearchField : uint8_t {
  kAll,         // code, reason, identifier, sender and recipient criteria
  kIncidentId,  // the incident code
  kReason,
};
constexpr int kSearchFieldCount = 3;
std::string_view DisplayName(SearchField field);  // "Incident ID"
std::string_view ApiName(SearchField field);      // "code"
std::optional<SearchField> SearchFieldFromApiName(std::string_view name);

enum class SortDirection : uint8_t { kAscending, kDescending };
std::string_view ApiName(SortDirection direction);  // "asc", "desc"
std::optional<SortDirection> SortDirectionFromApiName(std::string_view name);

constexpr int kMinPageSize = 50;
constexpr int kMaxPageSize = 300;
constexpr int kDefaultPageSize = 50;
constexpr size_t kMaxSearchTextLength = 512;

struct Query {
  SearchField field = SearchField::kAll;
  std::string text;  // case-insensitive substring; empty matches everything
  TypeMask types = kAllTypesMask;
  std::optional<TimeRange> created;  // on Date Created; none means all time
  IncidentColumn sort = IncidentColumn::kCreated;
  SortDirection direction = SortDirection::kDescending;
  int page_size = kDefaultPageSize;  // kMinPageSize..kMaxPageSize
  int page = 1;                      // 1-based
};

// Checks page size, page number, search text length and the range; errors
// name the query parameter (`pageSize`, `page`, `text`, `end`).
Status ValidateQuery(const Query& query);

struct QueryPage {
  std::vector<uint32_t> rows;  // store rows of the requested page, in order
  size_t total = 0;            // rows matching the filters, on all pages
};

// Validates and runs a query. Ties in the sort column are broken by code in the
// same direction, so reversing the direction reverses the whole list.
Result<QueryPage> RunQuery(const IncidentStore& store, const Query& query);

// How many rows match the filters (paging and sort are ignored).
Result<size_t> CountMatches(const IncidentStore& store, const Query& query);

// Every matching row in the query's order (paging ignored), for export.
Result<std::vector<uint32_t>> AllMatches(const IncidentStore& store, const Query& query);

// Lower-cases ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic letters
// of UTF-8 text; other characters and invalid bytes are kept as they are.
std::string FoldCase(std::string_view text);

// Case-insensitive substring test; `needle_folded` must come from FoldCase.
bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle_folded);

}  // namespace reclaim
