#include "shared/query.h"

#include <algorithm>
#include <array>
#include <iterator>
#include <numeric>

namespace reclaim {
namespace {

struct SearchFieldNames {
  SearchField field;
  std::string_view display;
  std::string_view api;
};
constexpr SearchFieldNames kSearchFieldNames[] = {
    {SearchField::kAll, "All", "all"},
    {SearchField::kIncidentId, "Incident ID", "code"},
    {SearchField::kReason, "Reason", "reason"},
};
static_assert(std::size(kSearchFieldNames) == kSearchFieldCount, "one row per search field");

constexpr std::string_view kDirectionNames[] = {"asc", "desc"};
static_assert(std::size(kDirectionNames) == 2, "one name per sort direction");

constexpr std::array<char, 256> MakeLowerTable() {
  std::array<char, 256> table{};
  for (int i = 0; i < 256; ++i) {
    table[i] = static_cast<char>(i >= 'A' && i <= 'Z' ? i + ('a' - 'A') : i);
  }
  return table;
}
constexpr std::array<char, 256> kLower = MakeLowerTable();

char Lower(char c) {
  return kLower[static_cast<unsigned char>(c)];
}

// Appends the code point `cp` as UTF-8.
void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Lower case of the upper-case letters of Latin-1, Latin Extended-A, Greek
// and Cyrillic, the scripts most mail in this product's reach uses. Other
// code points are returned unchanged.
uint32_t FoldCodePoint(uint32_t cp) {
  if (cp >= 'A' && cp <= 'Z')
    return cp + 0x20;
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)
    return cp + 0x20;
  if (cp >= 0x100 && cp <= 0x17F && cp != 0x130 && cp != 0x138 && cp != 0x149) {
    // Latin Extended-A pairs upper and lower case, upper first, except in
    // the stretch U+0139..U+0148 and U+0179..U+017E where the pairs shift.
    bool odd_pairs = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E);
    bool upper = odd_pairs ? (cp % 2 == 1) : (cp % 2 == 0);
    return upper ? cp + 1 : cp;
  }
  if (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2)
    return cp + 0x20;
  if (cp >= 0x410 && cp <= 0x42F)
    return cp + 0x20;
  if (cp >= 0x400 && cp <= 0x40F)
    return cp + 0x50;
  return cp;
}

}  // namespace

std::string FoldCase(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      out.push_back(Lower(text[i]));
      ++i;
      continue;
    }
    // Decode two- and three-byte sequences; anything else is copied as is.
    size_t length = c >= 0xE0 && c < 0xF0 ? 3 : (c >= 0xC0 && c < 0xE0 ? 2 : 1);
    bool valid = length > 1 && i + length <= text.size();
    for (size_t k = 1; valid && k < length; ++k) {
      valid = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    }
    if (!valid) {
      out.push_back(text[i]);
      ++i;
      continue;
    }
    uint32_t cp = length == 2 ? (c & 0x1F) : (c & 0x0F);
    for (size_t k = 1; k < length; ++k)
      cp = (cp << 6) | (text[i + k] & 0x3F);
    AppendUtf8(FoldCodePoint(cp), &out);
    i += length;
  }
  return out;
}

namespace {

std::string LowerAscii(std::string_view text) {
  return FoldCase(text);
}

bool IsAscii(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80)
      return false;
  }
  return true;
}

// Code text after lower-casing holds only these bytes, so a needle with any
// other byte cannot match a code and the formatting can be skipped.
bool CouldMatchCode(std::string_view needle_lower) {
  for (char c : needle_lower) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok)
      return false;
  }
  return true;
}

// Filters rows for one query. Results for interned strings are memoised per
// pool index, because a million incidents share a few hundred reasons.
class Matcher {
 public:
  Matcher(const IncidentStore& store, const Query& query)
      : store_(store),
        type_column_(store.type_column()),
        reason_column_(store.reason_column()),
        types_(query.types),
        field_(query.field),
        needle_(LowerAscii(query.text)),
        code_possible_(CouldMatchCode(needle_)) {
    if (!needle_.empty())
      memo_.assign(store.pool_size(), kUnknown);
  }

  bool Matches(uint32_t row) {
    if ((types_ & (1u << type_column_[row])) == 0)
      return false;
    if (needle_.empty())
      return true;
    switch (field_) {
      case SearchField::kReason:
        return PooledMatches(reason_column_[row]);
      case SearchField::kIncidentId:
        return CodeMatches(row);
      case SearchField::kAll:
        break;
    }
    return PooledMatches(reason_column_[row]) || PooledMatches(store_.from_column()[row]) ||
           PooledMatches(store_.to_column()[row]) ||
           ContainsIgnoreCase(store_.identifier(row), needle_) || CodeMatches(row);
  }

 private:
  enum : uint8_t { kUnknown, kYes, kNo };

  bool PooledMatches(uint32_t index) {
    uint8_t& known = memo_[index];
    if (known == kUnknown)
      known = ContainsIgnoreCase(store_.pooled(index), needle_) ? kYes : kNo;
    return known == kYes;
  }

  bool CodeMatches(uint32_t row) const {
    if (!code_possible_)
      return false;
    char code[48];
    size_t n = store_.FormatCode(row, code);
    return ContainsIgnoreCase(std::string_view(code, n), needle_);
  }

  const IncidentStore& store_;
  const uint8_t* type_column_;
  const uint32_t* reason_column_;
  TypeMask types_;
  SearchField field_;
  std::string needle_;
  bool code_possible_;
  std::vector<uint8_t> memo_;
};

// Rows [begin, end) that the date filter leaves, as positions in created order.
struct RowSpan {
  uint32_t begin = 0;
  uint32_t end = 0;
};

RowSpan CreatedSpan(const IncidentStore& store, const Query& query) {
  if (!query.created)
    return {0, static_cast<uint32_t>(store.size())};
  uint32_t begin = store.LowerBoundCreated(query.created->begin);
  uint32_t end = store.LowerBoundCreated(query.created->end);
  return {begin, std::max(begin, end)};
}

// Rank of each incident type by display name, for sorting the Type column
// alphabetically as the console shows it.
std::array<uint8_t, kIncidentTypeCount> TypeRanks() {
  std::array<uint8_t, kIncidentTypeCount> order{};
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [](uint8_t a, uint8_t b) {
    return FoldCase(DisplayName(static_cast<IncidentType>(a))) <
           FoldCase(DisplayName(static_cast<IncidentType>(b)));
  });
  std::array<uint8_t, kIncidentTypeCount> rank{};
  for (uint8_t i = 0; i < kIncidentTypeCount; ++i)
    rank[order[i]] = i;
  return rank;
}

// Case-insensitive order of the pooled reasons, so sorting compares ranks.
std::vector<uint32_t> PoolRanks(const IncidentStore& store) {
  std::vector<uint32_t> order(store.pool_size());
  std::iota(order.begin(), order.end(), 0);
  std::vector<std::string> lowered(store.pool_size());
  for (uint32_t i = 0; i < lowered.size(); ++i)
    lowered[i] = LowerAscii(store.pooled(i));
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    if (lowered[a] != lowered[b])
      return lowered[a] < lowered[b];
    return store.pooled(a) < store.pooled(b);
  });
  std::vector<uint32_t> rank(order.size());
  for (uint32_t i = 0; i < order.size(); ++i)
    rank[order[i]] = i;
  return rank;
}

// Orders rows by one column with the code as tie-breaker, both ascending;
// the caller flips the result for descending order.
class ColumnLess {
 public:
  ColumnLess(const IncidentStore& store, IncidentColumn column) : store_(store), column_(column) {
    if (column == IncidentColumn::kType)
      type_rank_ = TypeRanks();
    if (column == IncidentColumn::kReason)
      pool_rank_ = PoolRanks(store);
  }

  bool operator()(uint32_t a, uint32_t b) const {
    int c = Compare(a, b);
    if (c != 0)
      return c < 0;
    if (store_.org_rank(a) != store_.org_rank(b))
      return store_.org_rank(a) < store_.org_rank(b);
    return store_.sequence(a) < store_.sequence(b);
  }

 private:
  template <typename T>
  static int Three(T a, T b) {
    return a < b ? -1 : (b < a ? 1 : 0);
  }

  int Compare(uint32_t a, uint32_t b) const {
    const MessageCounts& ca = store_.counts(a);
    const MessageCounts& cb = store_.counts(b);
    switch (column_) {
      case IncidentColumn::kCode:
        return 0;
      case IncidentColumn::kType:
        return Three(type_rank_[static_cast<size_t>(store_.type(a))],
                     type_rank_[static_cast<size_t>(store_.type(b))]);
      case IncidentColumn::kCreated:
        return Three(store_.created(a), store_.created(b));
      case IncidentColumn::kModified:
        return Three(store_.modified(a), store_.modified(b));
      case IncidentColumn::kIdentifier:
        return store_.identifier(a).compare(store_.identifier(b));
      case IncidentColumn::kReason:
        return Three(pool_rank_[store_.reason_index(a)], pool_rank_[store_.reason_index(b)]);
      case IncidentColumn::kIdentified:
        return Three(ca.identified, cb.identified);
      case IncidentColumn::kRemoved:
        return Three(ca.removed, cb.removed);
      case IncidentColumn::kFailed:
        return Three(ca.failed, cb.failed);
      case IncidentColumn::kRestored:
        return Three(ca.restored, cb.restored);
    }
    return 0;
  }

  const IncidentStore& store_;
  IncidentColumn column_;
  std::array<uint8_t, kIncidentTypeCount> type_rank_{};
  std::vector<uint32_t> pool_rank_;
};

// Calls `on_match(row)` for each row of `span` that passes the filters, in
// created order or its reverse. The common filters (types alone, or types
// and a reason search) run in a tight loop over the raw columns, and the
// reason test runs once per distinct reason. Other searches use Matcher.
template <typename OnMatch>
void ScanSpan(const IncidentStore& store, const Query& query, RowSpan span, bool descending,
              OnMatch&& on_match) {
  uint8_t type_ok[8] = {};
  for (int t = 0; t < kIncidentTypeCount; ++t)
    type_ok[t] = (query.types >> t) & 1u;
  const uint8_t* types = store.type_column();
  auto each_row = [&](auto&& keep) {
    if (descending) {
      for (uint32_t row = span.end; row > span.begin; --row) {
        if (keep(row - 1))
          on_match(row - 1);
      }
    } else {
      for (uint32_t row = span.begin; row < span.end; ++row) {
        if (keep(row))
          on_match(row);
      }
    }
  };

  if (query.text.empty()) {
    each_row([&](uint32_t row) { return type_ok[types[row]] != 0; });
    return;
  }
  size_t span_rows = span.end - span.begin;
  if (query.field == SearchField::kReason && store.pool_size() <= 4 * span_rows + 64) {
    // Few distinct reasons compared with the rows to scan: test them all once.
    std::string needle = LowerAscii(query.text);
    std::vector<uint8_t> reason_ok(store.pool_size());
    for (uint32_t i = 0; i < reason_ok.size(); ++i) {
      reason_ok[i] = ContainsIgnoreCase(store.pooled(i), needle) ? 1 : 0;
    }
    const uint32_t* reasons = store.reason_column();
    each_row([&](uint32_t row) { return (type_ok[types[row]] & reason_ok[reasons[row]]) != 0; });
    return;
  }
  Matcher matcher(store, query);
  each_row([&](uint32_t row) { return matcher.Matches(row); });
}

// ScanCreatedOrder for a query without search text: keeps the page's rows
// while scanning from the start of the order, stops once the page is full
// and counts the rest of the span from the store's per-block type counts.
size_t ScanTypesInCreatedOrder(const IncidentStore& store, const Query& query, size_t first,
                               size_t count, std::vector<uint32_t>* kept) {
  uint8_t type_ok[8] = {};
  for (int t = 0; t < kIncidentTypeCount; ++t)
    type_ok[t] = (query.types >> t) & 1u;
  const uint8_t* types = store.type_column();
  const RowSpan span = CreatedSpan(store, query);
  const size_t last = first + count;
  size_t total = 0;
  if (query.direction == SortDirection::kDescending) {
    uint32_t row = span.end;
    for (; row > span.begin && total < last; --row) {
      if (type_ok[types[row - 1]] == 0)
        continue;
      if (total >= first)
        kept->push_back(row - 1);
      ++total;
    }
    return total + store.CountTypes(query.types, span.begin, row);
  }
  uint32_t row = span.begin;
  for (; row < span.end && total < last; ++row) {
    if (type_ok[types[row]] == 0)
      continue;
    if (total >= first)
      kept->push_back(row);
    ++total;
  }
  return total + store.CountTypes(query.types, row, span.end);
}

// Scans rows in created order (either direction) and keeps those in
// [first, first + count) among the matches, counting all matches.
size_t ScanCreatedOrder(const IncidentStore& store, const Query& query, size_t first, size_t count,
                        std::vector<uint32_t>* kept) {
  if (query.text.empty())
    return ScanTypesInCreatedOrder(store, query, first, count, kept);
  size_t total = 0;
  size_t last = first + count;
  ScanSpan(store, query, CreatedSpan(store, query), query.direction == SortDirection::kDescending,
           [&](uint32_t row) {
             if (total >= first && total < last)
               kept->push_back(row);
             ++total;
           });
  return total;
}

std::vector<uint32_t> CollectMatches(const IncidentStore& store, const Query& query) {
  std::vector<uint32_t> rows;
  ScanSpan(store, query, CreatedSpan(store, query), false,
           [&](uint32_t row) { rows.push_back(row); });
  return rows;
}

// Sorts the first `limit` rows into place (all when limit >= size).
void SortByColumn(const IncidentStore& store, const Query& query, size_t limit,
                  std::vector<uint32_t>* rows) {
  ColumnLess less(store, query.sort);
  auto ordered = [&](uint32_t a, uint32_t b) {
    return query.direction == SortDirection::kAscending ? less(a, b) : less(b, a);
  };
  if (limit < rows->size()) {
    std::partial_sort(rows->begin(), rows->begin() + limit, rows->end(), ordered);
    rows->resize(limit);
  } else {
    std::sort(rows->begin(), rows->end(), ordered);
  }
}

}  // namespace

std::string_view DisplayName(SearchField field) {
  return kSearchFieldNames[static_cast<size_t>(field)].display;
}
std::string_view ApiName(SearchField field) {
  return kSearchFieldNames[static_cast<size_t>(field)].api;
}
std::optional<SearchField> SearchFieldFromApiName(std::string_view name) {
  for (const SearchFieldNames& row : kSearchFieldNames) {
    if (row.api == name)
      return row.field;
  }
  return std::nullopt;
}

std::string_view ApiName(SortDirection direction) {
  return kDirectionNames[static_cast<size_t>(direction)];
}
std::optional<SortDirection> SortDirectionFromApiName(std::string_view name) {
  if (name == kDirectionNames[0])
    return SortDirection::kAscending;
  if (name == kDirectionNames[1])
    return SortDirection::kDescending;
  return std::nullopt;
}

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle_lower) {
  // Bytes of multi-byte characters never equal ASCII bytes, so an ASCII
  // needle needs only ASCII folding of the haystack; otherwise fold it all.
  if (!IsAscii(needle_lower) && !IsAscii(haystack)) {
    std::string folded = FoldCase(haystack);
    return folded.find(needle_lower) != std::string::npos;
  }
  size_t m = needle_lower.size();
  if (m == 0)
    return true;
  if (m > haystack.size())
    return false;
  const char first = needle_lower[0];
  const size_t last_start = haystack.size() - m;
  for (size_t i = 0; i <= last_start; ++i) {
    if (Lower(haystack[i]) != first)
      continue;
    size_t j = 1;
    while (j < m && Lower(haystack[i + j]) == needle_lower[j])
      ++j;
    if (j == m)
      return true;
  }
  return false;
}

Status ValidateQuery(const Query& query) {
  if (query.page_size < kMinPageSize || query.page_size > kMaxPageSize) {
    return Status::Invalid("pageSize", "page size " + std::to_string(query.page_size) +
                                           " is out of range: use 50 to 300");
  }
  if (query.page < 1) {
    return Status::Invalid(
        "page", "page " + std::to_string(query.page) + " is invalid: pages are numbered from 1");
  }
  if (query.text.size() > kMaxSearchTextLength) {
    return Status::Invalid("text", "search text of " + std::to_string(query.text.size()) +
                                       " bytes is too long: use at most 512");
  }
  if ((query.types & ~kAllTypesMask) != 0) {
    return Status::Invalid("types", "unknown incident type bits in the type filter");
  }
  if (query.created && query.created->end < query.created->begin) {
    return Status::Invalid("end", "the date range ends before it starts: swap start and end");
  }
  return Status::Ok();
}

Result<QueryPage> RunQuery(const IncidentStore& store, const Query& query) {
  if (Status s = ValidateQuery(query); !s.ok())
    return s;
  QueryPage page;
  size_t first = static_cast<size_t>(query.page - 1) * static_cast<size_t>(query.page_size);
  size_t count = static_cast<size_t>(query.page_size);
  if (query.sort == IncidentColumn::kCreated) {
    // Rows are stored in created order, so this needs no sorting at all.
    page.rows.reserve(count);
    page.total = ScanCreatedOrder(store, query, first, count, &page.rows);
    return page;
  }
  std::vector<uint32_t> rows = CollectMatches(store, query);
  page.total = rows.size();
  if (first >= rows.size())
    return page;
  SortByColumn(store, query, first + count, &rows);
  page.rows.assign(rows.begin() + static_cast<std::ptrdiff_t>(first), rows.end());
  return page;
}

Result<size_t> CountMatches(const IncidentStore& store, const Query& query) {
  if (Status s = ValidateQuery(query); !s.ok())
    return s;
  const RowSpan span = CreatedSpan(store, query);
  if (query.text.empty())
    return store.CountTypes(query.types, span.begin, span.end);
  size_t total = 0;
  ScanSpan(store, query, span, false, [&](uint32_t) { ++total; });
  return total;
}

Result<std::vector<uint32_t>> AllMatches(const IncidentStore& store, const Query& query) {
  if (Status s = ValidateQuery(query); !s.ok())
    return s;
  std::vector<uint32_t> rows = CollectMatches(store, query);
  if (query.sort == IncidentColumn::kCreated) {
    if (query.direction == SortDirection::kDescending)
      std::reverse(rows.begin(), rows.end());
    return rows;
  }
  SortByColumn(store, query, rows.size(), &rows);
  return rows;
}

}  // namespace reclaim
