#include "wasm-client/state/preferences.h"

#include <doctest/doctest.h>

using namespace reclaim;
using namespace reclaim::client;

TEST_CASE("preferences round trip") {
  Preferences preferences;
  preferences.token = "rcl_abc";
  preferences.queue_columns = {IncidentColumn::kRestored, IncidentColumn::kCode};
  preferences.page_size = 150;
  preferences.theme = Theme::kLight;
  Result<Preferences> decoded = DecodePreferences(EncodePreferences(preferences));
  REQUIRE(decoded.ok());
  CHECK(decoded->token == "rcl_abc");
  CHECK(decoded->queue_columns == preferences.queue_columns);
  CHECK(decoded->page_size == 150);
  CHECK(decoded->theme == Theme::kLight);
}

TEST_CASE("preferences reject bad members") {
  struct Case {
    const char* text;
    const char* field;
  };
  for (Case c : {Case{R"({"pageSize": 49})", "pageSize"}, Case{R"({"pageSize": 301})", "pageSize"},
                 Case{R"({"theme": "blue"})", "theme"}, Case{R"({"columns": ["nope"]})", "columns"},
                 Case{R"({"token": 5})", "token"}}) {
    INFO(c.text);
    Result<Preferences> decoded = DecodePreferences(c.text);
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.status().field() == c.field);
  }
}

TEST_CASE("missing preferences take defaults") {
  Result<Preferences> decoded = DecodePreferences("{}");
  REQUIRE(decoded.ok());
  CHECK(decoded->page_size == kDefaultPageSize);
  CHECK(decoded->queue_columns == AllIncidentColumns());
  CHECK(decoded->theme == Theme::kDark);
}
