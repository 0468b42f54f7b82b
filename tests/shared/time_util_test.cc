#include <doctest/doctest.h>

#include "shared/time_util.h"

using namespace reclaim;

TEST_CASE("civil day numbers") {
  struct Row {
    CivilDate date;
    int64_t days;
  };
  // Day numbers worked out by hand from 1970-01-01 = 0.
  const Row rows[] = {
      {{1970, 1, 1}, 0},      {{1970, 1, 2}, 1},      {{1969, 12, 31}, -1},
      {{1972, 2, 29}, 789},   {{2000, 3, 1}, 11017},  {{2024, 2, 29}, 19782},
      {{2026, 12, 4}, 20791}, {{1900, 3, 1}, -25508}, {{2100, 3, 1}, 47541},
  };
  for (const Row& row : rows) {
    INFO(row.date.year << "-" << row.date.month << "-" << row.date.day);
    CHECK(DaysFromCivil(row.date) == row.days);
    CivilDate back = CivilFromDays(row.days);
    CHECK(back.year == row.date.year);
    CHECK(back.month == row.date.month);
    CHECK(back.day == row.date.day);
  }
}

TEST_CASE("date validity") {
  CHECK(IsValidDate({2024, 2, 29}));
  CHECK(IsValidDate({2000, 2, 29}));
  CHECK_FALSE(IsValidDate({2100, 2, 29}));
  CHECK_FALSE(IsValidDate({2026, 2, 29}));
  CHECK_FALSE(IsValidDate({2026, 4, 31}));
  CHECK_FALSE(IsValidDate({2026, 13, 1}));
  CHECK_FALSE(IsValidDate({2026, 0, 1}));
  CHECK_FALSE(IsValidDate({2026, 1, 0}));
  CHECK(IsValidDate({2026, 12, 31}));
}

TEST_CASE("ISO 8601 formatting") {
  struct Row {
    UnixSeconds seconds;
    const char* text;
  };
  const Row rows[] = {
      {0, "1970-01-01T00:00:00Z"},
      {1796399754, "2026-12-04T15:55:54Z"},
      {951782400, "2000-02-29T00:00:00Z"},
      {-1, "1969-12-31T23:59:59Z"},
      {253402300799, "9999-12-31T23:59:59Z"},
  };
  for (const Row& row : rows) {
    INFO("seconds " << row.seconds);
    CHECK(FormatIso8601(row.seconds) == row.text);
    char buffer[32];
    CHECK(std::string(buffer, FormatIso8601(row.seconds, buffer)) == row.text);
  }
}

TEST_CASE("ISO 8601 parsing") {
  struct Row {
    const char* text;
    UnixSeconds seconds;
  };
  const Row rows[] = {
      {"2026-12-04T15:55:54Z", 1796399754},
      {"2026-12-04t15:55:54z", 1796399754},
      {"2026-12-04T15:55:54.123Z", 1796399754},
      {"2026-12-04T16:55:54+01:00", 1796399754},
      {"2026-12-04T10:25:54-0530", 1796399754},
      {"2026-12-04 15:55:54Z", 1796399754},
      {"2026-12-04", 1796342400},
      {"1970-01-01T00:00:00Z", 0},
  };
  for (const Row& row : rows) {
    INFO("text " << row.text);
    Result<UnixSeconds> parsed = ParseIso8601(row.text, "start");
    REQUIRE(parsed.ok());
    CHECK(*parsed == row.seconds);
  }
}

TEST_CASE("ISO 8601 parsing rejects bad text") {
  const char* bad[] = {
      "",
      "yesterday",
      "2026-12-04T15:55:54",
      "2026-12-04T15:55Z",
      "2026-13-04T15:55:54Z",
      "2026-02-30T00:00:00Z",
      "2026-12-04T24:00:00Z",
      "2026-12-04T15:55:54+25:00",
      "2026-12-04T15:55:54Zjunk",
      "2026-12-04T15:55:54.Z",
      "26-12-04T15:55:54Z",
      "1796399754",
  };
  for (const char* text : bad) {
    INFO("text '" << text << "'");
    Result<UnixSeconds> parsed = ParseIso8601(text, "end");
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().field() == "end");
    CHECK(parsed.status().message().find(text) != std::string::npos);
  }
}
