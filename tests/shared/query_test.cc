#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>

#include "shared/incident_export.h"
#include "shared/query.h"
#include "tests/shared/store_fixtures.h"

using namespace reclaim;
using reclaim::testing::MakeIncident;
using reclaim::testing::RandomIncidents;

namespace {

std::vector<std::string> PageCodes(const IncidentStore& store, const Query& query) {
  Result<QueryPage> page = RunQuery(store, query);
  REQUIRE(page.ok());
  std::vector<std::string> codes;
  for (uint32_t row : page->rows)
    codes.push_back(FormatIncidentCode(store.Get(row).code));
  return codes;
}

// A small queue with one incident of each type, times an hour apart.
IncidentStore SmallQueue() {
  IncidentStore store;
  Incident manual = MakeIncident("ACME", 1, IncidentType::kManual, 3600, "Removing messages by ID");
  Incident automatic =
      MakeIncident("ACME", 2, IncidentType::kAutomatic, 7200, "Verdict: malicious hash");
  Incident restore = MakeIncident("ACME", 3, IncidentType::kRestore, 10800, "Restoring a message");
  Incident notify = MakeIncident("ACME", 4, IncidentType::kNotifyOnly, 14400, "Notify: hash seen",
                                 "<Campaign.42@Mail.Example.NET>");
  Incident clawback =
      MakeIncident("ACME", 5, IncidentType::kMepClawback, 18000, "Misaddressed payroll");
  clawback.criteria.to = "Payroll@Example.com";
  manual.counts = {4, 3, 1, 0};
  automatic.counts = {2, 2, 0, 0};
  restore.counts = {3, 0, 0, 3};
  notify.counts = {9, 0, 0, 0};
  clawback.counts = {1, 1, 0, 0};
  REQUIRE(store.Upsert({manual, automatic, restore, notify, clawback}).ok());
  return store;
}

bool ContainsLowered(std::string haystack, const std::string& needle) {
  for (char& c : haystack)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return haystack.find(needle) != std::string::npos;
}
// The random data is ASCII, so std::tolower is an independent reference.

// Straightforward reference: filter a vector of incidents, then sort with
// one comparator, the way the engine is specified.
std::vector<std::string> ReferenceQuery(std::vector<Incident> incidents, const Query& query) {
  std::string needle = query.text;
  for (char& c : needle)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::vector<Incident> kept;
  for (const Incident& incident : incidents) {
    if (!(query.types & TypeBit(incident.code.type)))
      continue;
    if (query.created && !query.created->Contains(incident.created))
      continue;
    std::string code = FormatIncidentCode(incident.code);
    bool text_ok = needle.empty();
    if (!text_ok && query.field == SearchField::kIncidentId)
      text_ok = ContainsLowered(code, needle);
    if (!text_ok && query.field == SearchField::kReason) {
      text_ok = ContainsLowered(incident.reason, needle);
    }
    if (!text_ok && query.field == SearchField::kAll) {
      text_ok = ContainsLowered(code, needle) || ContainsLowered(incident.reason, needle) ||
                ContainsLowered(incident.criteria.identifier, needle) ||
                ContainsLowered(incident.criteria.from, needle) ||
                ContainsLowered(incident.criteria.to, needle);
    }
    if (text_ok)
      kept.push_back(incident);
  }
  auto key_less = [&](const Incident& a, const Incident& b) -> int {
    auto three = [](auto x, auto y) { return x < y ? -1 : (y < x ? 1 : 0); };
    std::string ra = a.reason, rb = b.reason;
    for (char& c : ra)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (char& c : rb)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    switch (query.sort) {
      case IncidentColumn::kCode:
        return 0;
      case IncidentColumn::kType:
        return three(FoldCase(DisplayName(a.code.type)), FoldCase(DisplayName(b.code.type)));
      case IncidentColumn::kCreated:
        return three(a.created, b.created);
      case IncidentColumn::kModified:
        return three(a.modified, b.modified);
      case IncidentColumn::kIdentifier:
        return three(a.criteria.identifier, b.criteria.identifier);
      case IncidentColumn::kReason:
        return ra != rb ? three(ra, rb) : three(a.reason, b.reason);
      case IncidentColumn::kIdentified:
        return three(a.counts.identified, b.counts.identified);
      case IncidentColumn::kRemoved:
        return three(a.counts.removed, b.counts.removed);
      case IncidentColumn::kFailed:
        return three(a.counts.failed, b.counts.failed);
      case IncidentColumn::kRestored:
        return three(a.counts.restored, b.counts.restored);
    }
    return 0;
  };
  auto less = [&](const Incident& a, const Incident& b) {
    int c = key_less(a, b);
    if (c != 0)
      return c < 0;
    if (a.code.org != b.code.org)
      return a.code.org < b.code.org;
    return a.code.sequence < b.code.sequence;
  };
  std::sort(kept.begin(), kept.end(), [&](const Incident& a, const Incident& b) {
    return query.direction == SortDirection::kAscending ? less(a, b) : less(b, a);
  });
  std::vector<std::string> codes;
  for (const Incident& incident : kept)
    codes.push_back(FormatIncidentCode(incident.code));
  return codes;
}

}  // namespace

TEST_CASE("query default order is newest first") {
  IncidentStore store = SmallQueue();
  Query query;
  std::vector<std::string> expected = {"TR-ACME-00005-C", "TR-ACME-00004-N", "TR-ACME-00003-R",
                                       "TR-ACME-00002-A", "TR-ACME-00001-M"};
  CHECK(PageCodes(store, query) == expected);
}

TEST_CASE("query search fields") {
  IncidentStore store = SmallQueue();
  struct Row {
    SearchField field;
    const char* text;
    std::vector<std::string> codes;
  };
  const Row rows[] = {
      {SearchField::kReason, "REMOV", {"TR-ACME-00001-M"}},
      {SearchField::kReason, "message", {"TR-ACME-00003-R", "TR-ACME-00001-M"}},
      {SearchField::kIncidentId, "00004", {"TR-ACME-00004-N"}},
      {SearchField::kIncidentId, "tr-acme-00002-a", {"TR-ACME-00002-A"}},
      {SearchField::kIncidentId, "-r", {"TR-ACME-00003-R"}},
      {SearchField::kIncidentId, "Removing", {}},
      // All also matches the identifier and the sender and recipient.
      {SearchField::kAll, "campaign.42@mail", {"TR-ACME-00004-N"}},
      {SearchField::kAll, "payroll@", {"TR-ACME-00005-C"}},
      {SearchField::kAll, "00001", {"TR-ACME-00001-M"}},
      {SearchField::kAll, "no such text", {}},
      {SearchField::kReason,
       "",
       {"TR-ACME-00005-C", "TR-ACME-00004-N", "TR-ACME-00003-R", "TR-ACME-00002-A",
        "TR-ACME-00001-M"}},
  };
  for (const Row& row : rows) {
    INFO("field " << ApiName(row.field) << " text '" << row.text << "'");
    Query query;
    query.field = row.field;
    query.text = row.text;
    CHECK(PageCodes(store, query) == row.codes);
    Result<size_t> count = CountMatches(store, query);
    REQUIRE(count.ok());
    CHECK(*count == row.codes.size());
  }
}

TEST_CASE("query type and date filters") {
  IncidentStore store = SmallQueue();
  Query query;
  query.types = TypeBit(IncidentType::kManual) | TypeBit(IncidentType::kRestore);
  CHECK(PageCodes(store, query) == std::vector<std::string>{"TR-ACME-00003-R", "TR-ACME-00001-M"});
  query.types = 0;
  CHECK(PageCodes(store, query).empty());

  // Half-open range: 7200 is in, 14400 is out.
  query.types = kAllTypesMask;
  query.created = TimeRange{7200, 14400};
  CHECK(PageCodes(store, query) == std::vector<std::string>{"TR-ACME-00003-R", "TR-ACME-00002-A"});
  query.created = TimeRange{20000, 30000};
  CHECK(PageCodes(store, query).empty());
}

TEST_CASE("query sort by count column") {
  IncidentStore store = SmallQueue();
  Query query;
  query.sort = IncidentColumn::kIdentified;
  query.direction = SortDirection::kAscending;
  CHECK(PageCodes(store, query) == std::vector<std::string>{"TR-ACME-00005-C", "TR-ACME-00002-A",
                                                            "TR-ACME-00003-R", "TR-ACME-00001-M",
                                                            "TR-ACME-00004-N"});
  query.sort = IncidentColumn::kType;
  CHECK(PageCodes(store, query) == std::vector<std::string>{"TR-ACME-00002-A", "TR-ACME-00001-M",
                                                            "TR-ACME-00005-C", "TR-ACME-00004-N",
                                                            "TR-ACME-00003-R"});
}

TEST_CASE("query validation names the parameter") {
  IncidentStore store = SmallQueue();
  struct Row {
    Query query;
    const char* field;
  };
  std::vector<Row> rows;
  Query q;
  q.page_size = 49;
  rows.push_back({q, "pageSize"});
  q.page_size = 301;
  rows.push_back({q, "pageSize"});
  q = Query();
  q.page = 0;
  rows.push_back({q, "page"});
  q = Query();
  q.text = std::string(513, 'x');
  rows.push_back({q, "text"});
  q = Query();
  q.created = TimeRange{100, 50};
  rows.push_back({q, "end"});
  for (const Row& row : rows) {
    INFO("expected error on " << row.field);
    Result<QueryPage> page = RunQuery(store, row.query);
    REQUIRE_FALSE(page.ok());
    CHECK(page.status().field() == row.field);
    CHECK(page.status().code() == StatusCode::kInvalidArgument);
  }
  Query edge;
  edge.page_size = 50;
  CHECK(RunQuery(store, edge).ok());
  edge.page_size = 300;
  CHECK(RunQuery(store, edge).ok());
}

TEST_CASE("query paging") {
  IncidentStore store;
  REQUIRE(store.Upsert(RandomIncidents(260, 11)).ok());
  Query query;
  query.page_size = 100;
  std::vector<std::string> all = ReferenceQuery(RandomIncidents(260, 11), query);
  for (int page = 1; page <= 4; ++page) {
    INFO("page " << page);
    query.page = page;
    Result<QueryPage> result = RunQuery(store, query);
    REQUIRE(result.ok());
    CHECK(result->total == 260);
    size_t first = static_cast<size_t>(page - 1) * 100;
    size_t last = std::min<size_t>(first + 100, all.size());
    std::vector<std::string> expected;
    if (first < all.size())
      expected.assign(all.begin() + first, all.begin() + last);
    CHECK(PageCodes(store, query) == expected);
  }
}

TEST_CASE("query matches the reference on random data") {
  const std::vector<Incident> incidents = RandomIncidents(600, 42);
  IncidentStore store;
  REQUIRE(store.Upsert(incidents).ok());
  const char* texts[] = {"", "remov", "EXAMPLE.net", "tr-a1", "0000", "aaaa", "msg1", "zzz"};
  const SearchField fields[] = {SearchField::kAll, SearchField::kIncidentId, SearchField::kReason};
  const TypeMask masks[] = {kAllTypesMask,
                            TypeBit(IncidentType::kAutomatic) | TypeBit(IncidentType::kManual),
                            TypeBit(IncidentType::kRestore)};
  for (int column = 0; column < kIncidentColumnCount; ++column) {
    for (SortDirection direction : {SortDirection::kAscending, SortDirection::kDescending}) {
      for (const char* text : texts) {
        for (SearchField field : fields) {
          for (TypeMask mask : masks) {
            Query query;
            query.sort = static_cast<IncidentColumn>(column);
            query.direction = direction;
            query.text = text;
            query.field = field;
            query.types = mask;
            query.page_size = 300;
            if (column % 2 == 0)
              query.created = TimeRange{1700000000 + 5 * 3600, 1700000000 + 30 * 3600};
            INFO("sort " << ApiName(query.sort) << " " << ApiName(direction) << " text '" << text
                         << "' field " << ApiName(field) << " types " << int(mask));
            std::vector<std::string> expected = ReferenceQuery(incidents, query);
            Result<std::vector<uint32_t>> all = AllMatches(store, query);
            REQUIRE(all.ok());
            std::vector<std::string> got;
            for (uint32_t row : *all)
              got.push_back(FormatIncidentCode(store.Get(row).code));
            CHECK(got == expected);
            std::vector<std::string> first_page(
                expected.begin(), expected.begin() + std::min<size_t>(300, expected.size()));
            CHECK(PageCodes(store, query) == first_page);
          }
        }
      }
    }
  }
}

TEST_CASE("query totals span several blocks") {
  // More rows than several type count blocks, so totals come from whole
  // blocks and from the rows around them.
  const std::vector<Incident> incidents =
      RandomIncidents(4 * IncidentStore::kTypeCountBlock + 123, 7);
  IncidentStore store;
  REQUIRE(store.Upsert(incidents).ok());
  const TypeMask masks[] = {kAllTypesMask, TypeBit(IncidentType::kManual),
                            TypeBit(IncidentType::kAutomatic) | TypeBit(IncidentType::kRestore)};
  const std::optional<TimeRange> ranges[] = {
      std::nullopt, TimeRange{1700000000 + 3600, 1700000000 + 40 * 3600}};
  for (TypeMask mask : masks) {
    for (const std::optional<TimeRange>& range : ranges) {
      for (SortDirection direction : {SortDirection::kAscending, SortDirection::kDescending}) {
        for (int page : {1, 3, 40}) {
          Query query;
          query.types = mask;
          query.created = range;
          query.direction = direction;
          query.page = page;
          INFO("types " << int(mask) << " range " << range.has_value() << " "
                        << ApiName(direction) << " page " << page);
          const std::vector<std::string> expected = ReferenceQuery(incidents, query);
          Result<QueryPage> result = RunQuery(store, query);
          REQUIRE(result.ok());
          CHECK(result->total == expected.size());
          Result<size_t> count = CountMatches(store, query);
          REQUIRE(count.ok());
          CHECK(*count == expected.size());
          const size_t first = static_cast<size_t>(page - 1) * query.page_size;
          std::vector<std::string> page_codes;
          for (size_t i = first; i < std::min(expected.size(), first + query.page_size); ++i)
            page_codes.push_back(expected[i]);
          CHECK(PageCodes(store, query) == page_codes);
        }
      }
    }
  }
}

TEST_CASE("case-insensitive substring") {
  struct Row {
    const char* haystack;
    const char* needle;
    bool found;
  };
  const Row rows[] = {
      {"Removing messages", "remov", true},
      {"REMOVE", "remove", true},
      {"abc", "", true},
      {"", "a", false},
      {"ab", "abc", false},
      {"xxaxab", "ab", true},
      {"Überweisung", "überweisung", true},
      {"ÜBERWEISUNG", "überweisung", true},
      {"ВАШ АККАУНТ", "аккаунт", true},
      {"Łódź", "łódź", true},
      {"ΕΛΛΗΝΙΚΆ", "ελλην", true},
      {"ÄRGER", "ä", true},
  };
  for (const Row& row : rows) {
    INFO("'" << std::string(row.haystack) << "' contains '" << std::string(row.needle) << "'");
    CHECK(ContainsIgnoreCase(row.haystack, FoldCase(row.needle)) == row.found);
  }
}

TEST_CASE("queue CSV export") {
  IncidentStore store = SmallQueue();
  Query query;
  query.types = TypeBit(IncidentType::kManual) | TypeBit(IncidentType::kNotifyOnly);
  Result<std::vector<uint32_t>> rows = AllMatches(store, query);
  REQUIRE(rows.ok());
  std::vector<IncidentColumn> columns = {IncidentColumn::kCode, IncidentColumn::kRemoved,
                                         IncidentColumn::kCreated, IncidentColumn::kIdentifier,
                                         IncidentColumn::kType};
  std::string csv = ExportIncidentsCsv(store, *rows, columns, CsvOptions{true, true});
  std::string expected =
      "\xEF\xBB\xBF"
      "\"Incident ID\",\"Removed Messages\",\"Date Created\",\"File Hash / Message "
      "ID\",\"Type\"\r\n"
      "\"TR-ACME-00004-N\",0,\"1970-01-01T04:00:00Z\",\"<Campaign.42@Mail.Example.NET>\","
      "\"Notify Only\"\r\n"
      "\"TR-ACME-00001-M\",3,\"1970-01-01T01:00:00Z\",\"" +
      std::string(64, 'a') + "\",\"Manual\"\r\n";
  CHECK(csv == expected);
}

TEST_CASE("queue CSV equals CsvWriter cells") {
  // The export builds rows in its own buffer. Every byte must equal what
  // CsvWriter writes cell by cell, including quotes, formula guards and the
  // empty cell for a zero time.
  std::vector<Incident> incidents = RandomIncidents(300, 5);
  incidents[0].reason = "=cmd|' /C calc'!A0";
  incidents[1].reason = "Say \"hi\", then \"bye\"";
  incidents[2].reason = std::string(40000, 'x') + "\"";
  incidents[3].modified = 0;
  incidents[4].created = -86400 * 400 + 5;
  incidents[5].criteria.identifier = "<-lead@example.com>";
  IncidentStore store;
  REQUIRE(store.Upsert(incidents).ok());
  std::vector<uint32_t> rows(store.size());
  for (uint32_t i = 0; i < rows.size(); ++i)
    rows[i] = i;
  for (bool neutralize : {true, false}) {
    CsvOptions options{false, neutralize};
    INFO("neutralize " << neutralize);
    std::string expected;
    CsvWriter writer(&expected, options);
    for (IncidentColumn column : AllIncidentColumns())
      writer.Text(DisplayName(column));
    writer.EndRow();
    for (uint32_t row : rows) {
      Incident incident = store.Get(row);
      writer.Text(FormatIncidentCode(incident.code));
      writer.Text(DisplayName(incident.code.type));
      writer.Time(incident.created);
      writer.Time(incident.modified);
      writer.Text(incident.criteria.identifier);
      writer.Text(incident.reason);
      writer.Integer(incident.counts.identified);
      writer.Integer(incident.counts.removed);
      writer.Integer(incident.counts.failed);
      writer.Integer(incident.counts.restored);
      writer.EndRow();
    }
    CHECK(ExportIncidentsCsv(store, rows, AllIncidentColumns(), options) == expected);
  }
}

TEST_CASE("query name tables") {
  struct Row {
    SearchField field;
    const char* display;
    const char* api;
  };
  const Row rows[] = {{SearchField::kAll, "All", "all"},
                      {SearchField::kIncidentId, "Incident ID", "code"},
                      {SearchField::kReason, "Reason", "reason"}};
  for (const Row& row : rows) {
    INFO("field " << row.api);
    CHECK(DisplayName(row.field) == row.display);
    CHECK(ApiName(row.field) == row.api);
    CHECK(SearchFieldFromApiName(row.api) == row.field);
  }
  CHECK_FALSE(SearchFieldFromApiName("Reason").has_value());
  CHECK(ApiName(SortDirection::kAscending) == "asc");
  CHECK(ApiName(SortDirection::kDescending) == "desc");
  CHECK(SortDirectionFromApiName("asc") == SortDirection::kAscending);
  CHECK(SortDirectionFromApiName("desc") == SortDirection::kDescending);
  CHECK_FALSE(SortDirectionFromApiName("up").has_value());
}

TEST_CASE("case folding") {
  CHECK(FoldCase("ÄÖÜ Straße") == "äöü straße");
  CHECK(FoldCase("ЁЖИК") == "ёжик");
  CHECK(FoldCase("ŁÓDŹ") == "łódź");
  CHECK(FoldCase("ΣΟΦΙΑ") == "σοφια");
  CHECK(FoldCase("MiXeD 123") == "mixed 123");
  CHECK(FoldCase("\xC3") == "\xC3");  // a cut sequence is kept as it is
}
