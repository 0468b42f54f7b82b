#include <doctest/doctest.h>

#include "shared/query_params.h"

using namespace reclaim;

namespace {

constexpr UnixSeconds kNow = 1796399754;  // 2026-12-04T15:55:54Z

}  // namespace

TEST_CASE("query params defaults") {
  Result<QueryForm> form = QueryFormFromParams({}, kNow);
  REQUIRE(form.ok());
  CHECK(form->query.field == SearchField::kAll);
  CHECK(form->query.types == kAllTypesMask);
  CHECK_FALSE(form->query.created.has_value());
  CHECK(form->query.sort == IncidentColumn::kCreated);
  CHECK(form->query.direction == SortDirection::kDescending);
  CHECK(form->query.page_size == 50);
  CHECK(form->query.page == 1);
  CHECK_FALSE(form->preset.has_value());
  CHECK(ParamsFromQueryForm(*form).empty());
}

TEST_CASE("query params parse every parameter") {
  QueryParams params = {{"field", "reason"},           {"text", "remov"},
                        {"types", "manual,automatic"}, {"range", "last_30_days"},
                        {"sort", "removed"},           {"direction", "asc"},
                        {"pageSize", "300"},           {"page", "3"}};
  Result<QueryForm> form = QueryFormFromParams(params, kNow);
  REQUIRE(form.ok());
  const Query& q = form->query;
  CHECK(q.field == SearchField::kReason);
  CHECK(q.text == "remov");
  CHECK(q.types == (TypeBit(IncidentType::kManual) | TypeBit(IncidentType::kAutomatic)));
  REQUIRE(q.created.has_value());
  CHECK(q.created->begin == kNow - 30 * 86400);
  CHECK(q.created->end == kNow + 1);
  CHECK(q.sort == IncidentColumn::kRemoved);
  CHECK(q.direction == SortDirection::kAscending);
  CHECK(q.page_size == 300);
  CHECK(q.page == 3);
  // Writing the form back gives the same parameters, defaults left out.
  QueryParams expected = {{"field", "reason"},           {"text", "remov"},
                          {"types", "manual,automatic"}, {"range", "last_30_days"},
                          {"sort", "removed"},           {"direction", "asc"},
                          {"pageSize", "300"},           {"page", "3"}};
  CHECK(ParamsFromQueryForm(*form) == expected);
}

TEST_CASE("query params custom range") {
  Result<QueryForm> form = QueryFormFromParams(
      {{"start", "2026-11-01T00:00:00Z"}, {"end", "2026-11-30T23:59:59Z"}}, kNow);
  REQUIRE(form.ok());
  CHECK(form->preset == DatePreset::kCustom);
  REQUIRE(form->query.created.has_value());
  CHECK(form->query.created->begin == 1793491200);  // 2026-11-01T00:00:00Z
  CHECK(form->query.created->end == 1796083200);    // 2026-12-01T00:00:00Z, exclusive
  QueryParams expected = {
      {"range", "custom"}, {"start", "2026-11-01T00:00:00Z"}, {"end", "2026-11-30T23:59:59Z"}};
  CHECK(ParamsFromQueryForm(*form) == expected);
}

TEST_CASE("query params errors name the parameter") {
  struct Row {
    QueryParams params;
    const char* field;
  };
  const Row rows[] = {
      {{{"pageSize", "49"}}, "pageSize"},
      {{{"pageSize", "301"}}, "pageSize"},
      {{{"pageSize", "fifty"}}, "pageSize"},
      {{{"page", "0"}}, "page"},
      {{{"field", "sender"}}, "field"},
      {{{"types", "manual,bogus"}}, "types"},
      {{{"range", "yesterday"}}, "range"},
      {{{"sort", "colour"}}, "sort"},
      {{{"direction", "up"}}, "direction"},
      {{{"start", "2026-11-02T00:00:00Z"}, {"end", "2026-11-01T00:00:00Z"}}, "end"},
      {{{"start", "2026-11-02T00:00:00Z"}}, "end"},
      {{{"range", "custom"}}, "start"},
      {{{"range", "last_7_days"}, {"start", "2026-11-02T00:00:00Z"}}, "range"},
      {{{"start", "yesterday"}, {"end", "2026-11-01T00:00:00Z"}}, "start"},
      {{{"colour", "red"}}, "colour"},
  };
  for (const Row& row : rows) {
    INFO("first parameter " << row.params.front().first << "=" << row.params.front().second);
    Result<QueryForm> form = QueryFormFromParams(row.params, kNow);
    REQUIRE_FALSE(form.ok());
    CHECK(form.status().field() == row.field);
  }
}

TEST_CASE("query params url encoding") {
  QueryParams params = {{"text", "Rechnung März & co+1"}, {"types", "manual,restore"}};
  std::string encoded = EncodeQueryParams(params);
  CHECK(encoded == "text=Rechnung%20M%C3%A4rz%20%26%20co%2B1&types=manual%2Crestore");
  Result<QueryParams> decoded = DecodeQueryParams("?" + encoded);
  REQUIRE(decoded.ok());
  CHECK(*decoded == params);
  Result<QueryParams> plus = DecodeQueryParams("text=a+b&page=2");
  REQUIRE(plus.ok());
  CHECK(plus->at(0).second == "a b");
  CHECK(plus->at(1).second == "2");
  CHECK_FALSE(DecodeQueryParams("text=%ZZ").ok());
  CHECK_FALSE(DecodeQueryParams("text=%4").ok());
  CHECK(DecodeQueryParams("")->empty());
}
