#include "shared/date_range.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <utility>

namespace reclaim {
namespace {

// Footers of the TZif files of the IANA tz database.
constexpr const char* kBerlin = "CET-1CEST,M3.5.0,M10.5.0/3";
constexpr const char* kNewYork = "EST5EDT,M3.2.0,M11.1.0";
constexpr const char* kSydney = "AEST-10AEDT,M10.1.0,M4.1.0/3";
constexpr const char* kSantiago = "<-04>4<-03>,M9.1.6/24,M4.1.6/24";
constexpr const char* kKolkata = "IST-5:30";
constexpr const char* kUtc = "UTC0";

constexpr UnixSeconds kHour = 3600;

// Expected instants are written as seconds with their ISO 8601 form. The
// transition dates were worked out by hand on a calendar, converted to
// seconds with Python's datetime and checked against the IANA tz database.
struct Instant {
  UnixSeconds seconds;
  const char* iso;
};

std::unique_ptr<PosixTimeZone> ParseOrDie(const char* rule) {
  Result<std::unique_ptr<PosixTimeZone>> zone = PosixTimeZone::Parse(rule);
  INFO("rule: " << rule << ", error: " << zone.status().message());
  REQUIRE(zone.ok());
  return std::move(zone).value();
}

CivilTime Civil(int year, int month, int day, int hour, int minute, int second) {
  CivilTime time;
  time.date = {year, month, day};
  time.hour = hour;
  time.minute = minute;
  time.second = second;
  return time;
}

std::string Format(CivilDate date) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02d", date.year, date.month, date.day);
  return buffer;
}

std::string Format(const CivilTime& time) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, " %02d:%02d:%02d", time.hour, time.minute, time.second);
  return Format(time.date) + buffer;
}

TEST_CASE("DatePreset names") {
  struct NameCase {
    DatePreset preset;
    const char* display_name;
    const char* api_name;
  };
  const NameCase cases[] = {
      {DatePreset::kLast24Hours, "Last 24 hours", "last_24_hours"},
      {DatePreset::kLast7Days, "Last 7 days", "last_7_days"},
      {DatePreset::kLast30Days, "Last 30 days", "last_30_days"},
      {DatePreset::kLast90Days, "Last 90 days", "last_90_days"},
      {DatePreset::kLastYear, "Last year", "last_year"},
      {DatePreset::kCustom, "Custom range", "custom"},
  };
  static_assert(sizeof cases / sizeof cases[0] == kDatePresetCount, "one row per preset");
  for (const NameCase& c : cases) {
    INFO("preset: " << c.api_name);
    CHECK(DisplayName(c.preset) == c.display_name);
    CHECK(ApiName(c.preset) == c.api_name);
    const std::optional<DatePreset> parsed = DatePresetFromApiName(c.api_name);
    REQUIRE(parsed.has_value());
    CHECK(*parsed == c.preset);
  }

  for (const char* name : {"", "Last 7 days", "LAST_7_DAYS", "last_7_day", "last_7_days ", "7"}) {
    INFO("name: \"" << name << "\"");
    CHECK_FALSE(DatePresetFromApiName(name).has_value());
  }
}

TEST_CASE("RangeForPreset ends just after now") {
  struct PresetCase {
    DatePreset preset;
    UnixSeconds length;
  };
  const PresetCase cases[] = {
      {DatePreset::kLast24Hours, 24 * kHour},     {DatePreset::kLast7Days, 7 * 24 * kHour},
      {DatePreset::kLast30Days, 30 * 24 * kHour}, {DatePreset::kLast90Days, 90 * 24 * kHour},
      {DatePreset::kLastYear, 365 * 24 * kHour},
  };
  const Instant now = {1774787696, "2026-03-29T12:34:56Z"};
  for (const PresetCase& c : cases) {
    INFO("preset: " << ApiName(c.preset) << ", now " << now.iso);
    Result<TimeRange> range = RangeForPreset(c.preset, now.seconds);
    REQUIRE(range.ok());
    CHECK(range->begin == now.seconds - c.length);
    CHECK(range->end == now.seconds + 1);
    CHECK(range->Contains(now.seconds));
    CHECK(range->Contains(now.seconds - c.length));
    CHECK_FALSE(range->Contains(now.seconds - c.length - 1));
    CHECK_FALSE(range->Contains(now.seconds + 1));
  }

  SUBCASE("custom has no fixed range") {
    Result<TimeRange> range = RangeForPreset(DatePreset::kCustom, now.seconds);
    REQUIRE_FALSE(range.ok());
    CHECK(range.status().code() == StatusCode::kInvalidArgument);
    CHECK(range.status().field() == "preset");
    CHECK(range.status().message().find("\"custom\"") != std::string::npos);
  }
}

TEST_CASE("RangeForLocalDays covers whole local days") {
  struct DaysCase {
    const char* rule;
    CivilDate first;
    CivilDate last;
    Instant begin;
    Instant end;
    int hours;
  };
  const DaysCase cases[] = {
      // Berlin: 23 hours on 2026-03-29, 25 hours on 2026-10-25.
      {kBerlin,
       {2026, 3, 29},
       {2026, 3, 29},
       {1774738800, "2026-03-28T23:00:00Z"},
       {1774821600, "2026-03-29T22:00:00Z"},
       23},
      {kBerlin,
       {2026, 10, 25},
       {2026, 10, 25},
       {1792879200, "2026-10-24T22:00:00Z"},
       {1792969200, "2026-10-25T23:00:00Z"},
       25},
      {kBerlin,
       {2026, 7, 1},
       {2026, 7, 1},
       {1782856800, "2026-06-30T22:00:00Z"},
       {1782943200, "2026-07-01T22:00:00Z"},
       24},
      {kBerlin,
       {2026, 3, 1},
       {2026, 3, 31},
       {1772319600, "2026-02-28T23:00:00Z"},
       {1774994400, "2026-03-31T22:00:00Z"},
       31 * 24 - 1},
      {kBerlin,
       {2026, 1, 1},
       {2026, 12, 31},
       {1767222000, "2025-12-31T23:00:00Z"},
       {1798758000, "2026-12-31T23:00:00Z"},
       365 * 24},
      {kNewYork,
       {2026, 3, 8},
       {2026, 3, 8},
       {1772946000, "2026-03-08T05:00:00Z"},
       {1773028800, "2026-03-09T04:00:00Z"},
       23},
      {kNewYork,
       {2026, 11, 1},
       {2026, 11, 1},
       {1793505600, "2026-11-01T04:00:00Z"},
       {1793595600, "2026-11-02T05:00:00Z"},
       25},
      // Sydney: the short day is in October and the long one in April.
      {kSydney,
       {2026, 10, 4},
       {2026, 10, 4},
       {1791036000, "2026-10-03T14:00:00Z"},
       {1791118800, "2026-10-04T13:00:00Z"},
       23},
      {kSydney,
       {2026, 4, 5},
       {2026, 4, 5},
       {1775307600, "2026-04-04T13:00:00Z"},
       {1775397600, "2026-04-05T14:00:00Z"},
       25},
      // Santiago: 2026-09-06 has no 00:00 and starts at 01:00 -03. 2026-04-04
      // repeats 23:00-24:00.
      {kSantiago,
       {2026, 9, 6},
       {2026, 9, 6},
       {1788667200, "2026-09-06T04:00:00Z"},
       {1788750000, "2026-09-07T03:00:00Z"},
       23},
      {kSantiago,
       {2026, 9, 5},
       {2026, 9, 5},
       {1788580800, "2026-09-05T04:00:00Z"},
       {1788667200, "2026-09-06T04:00:00Z"},
       24},
      {kSantiago,
       {2026, 4, 4},
       {2026, 4, 4},
       {1775271600, "2026-04-04T03:00:00Z"},
       {1775361600, "2026-04-05T04:00:00Z"},
       25},
      {kSantiago,
       {2026, 9, 1},
       {2026, 9, 30},
       {1788235200, "2026-09-01T04:00:00Z"},
       {1790823600, "2026-10-01T03:00:00Z"},
       30 * 24 - 1},
      {kKolkata,
       {2026, 1, 1},
       {2026, 1, 31},
       {1767205800, "2025-12-31T18:30:00Z"},
       {1769884200, "2026-01-31T18:30:00Z"},
       31 * 24},
      {kUtc,
       {2024, 2, 29},
       {2024, 2, 29},
       {1709164800, "2024-02-29T00:00:00Z"},
       {1709251200, "2024-03-01T00:00:00Z"},
       24},
  };
  for (const DaysCase& c : cases) {
    INFO("rule: " << c.rule << ", days " << Format(c.first) << " to " << Format(c.last)
                  << ", expected [" << c.begin.iso << ", " << c.end.iso << ")");
    std::unique_ptr<PosixTimeZone> zone = ParseOrDie(c.rule);
    Result<TimeRange> range = RangeForLocalDays(c.first, c.last, *zone);
    REQUIRE(range.ok());
    CHECK(range->begin == c.begin.seconds);
    CHECK(range->end == c.end.seconds);
    CHECK(range->end - range->begin == c.hours * kHour);
    // The last second of the last day is inside, the first of the next day is not.
    CHECK(range->Contains(c.end.seconds - 1));
    CHECK_FALSE(range->Contains(c.end.seconds));
    CHECK_FALSE(range->Contains(c.begin.seconds - 1));
  }
}

TEST_CASE("RangeForLocalDays rejects bad input") {
  struct ErrorCase {
    CivilDate first;
    CivilDate last;
    const char* field;
    const char* fragment;  // expected inside the message
  };
  const ErrorCase cases[] = {
      {{2026, 2, 29}, {2026, 3, 1}, "first", "invalid date 2026-02-29"},
      {{2026, 0, 10}, {2026, 3, 1}, "first", "invalid date 2026-00-10"},
      {{2026, 3, 1}, {2026, 13, 1}, "last", "invalid date 2026-13-01"},
      {{2026, 3, 1}, {2026, 4, 31}, "last", "invalid date 2026-04-31"},
      {{2026, 3, 2}, {2026, 3, 1}, "last", "2026-03-01 is before the first day 2026-03-02"},
  };
  std::unique_ptr<PosixTimeZone> zone = ParseOrDie(kBerlin);
  for (const ErrorCase& c : cases) {
    INFO("days " << Format(c.first) << " to " << Format(c.last));
    Result<TimeRange> range = RangeForLocalDays(c.first, c.last, *zone);
    REQUIRE_FALSE(range.ok());
    INFO("message: " << range.status().message());
    CHECK(range.status().code() == StatusCode::kInvalidArgument);
    CHECK(range.status().field() == c.field);
    CHECK(range.status().message().find(c.fragment) != std::string::npos);
  }
}

TEST_CASE("RangeForLocalTimes includes both ends") {
  struct TimesCase {
    const char* rule;
    CivilTime from;
    CivilTime to;
    Instant begin;
    Instant end;
  };
  const TimesCase cases[] = {
      {kBerlin,
       Civil(2026, 3, 29, 0, 0, 0),
       Civil(2026, 3, 29, 23, 59, 59),
       {1774738800, "2026-03-28T23:00:00Z"},
       {1774821600, "2026-03-29T22:00:00Z"}},
      {kBerlin,
       Civil(2026, 7, 1, 12, 0, 0),
       Civil(2026, 7, 1, 12, 0, 0),
       {1782900000, "2026-07-01T10:00:00Z"},
       {1782900001, "2026-07-01T10:00:01Z"}},
      {kBerlin,
       Civil(2026, 12, 31, 0, 0, 0),
       Civil(2026, 12, 31, 23, 59, 59),
       {1798671600, "2026-12-30T23:00:00Z"},
       {1798758000, "2026-12-31T23:00:00Z"}},
      // A `to` inside the gap ends the range where the gap ends.
      {kBerlin,
       Civil(2026, 3, 29, 1, 0, 0),
       Civil(2026, 3, 29, 2, 30, 0),
       {1774742400, "2026-03-29T00:00:00Z"},
       {1774746000, "2026-03-29T01:00:00Z"}},
      // 01:00-01:59:59 on 2026-11-01 happens twice in New York, and both are inside.
      {kNewYork,
       Civil(2026, 11, 1, 1, 0, 0),
       Civil(2026, 11, 1, 1, 59, 59),
       {1793509200, "2026-11-01T05:00:00Z"},
       {1793516400, "2026-11-01T07:00:00Z"}},
      {kSantiago,
       Civil(2026, 9, 5, 22, 0, 0),
       Civil(2026, 9, 6, 1, 59, 59),
       {1788660000, "2026-09-06T02:00:00Z"},
       {1788670800, "2026-09-06T05:00:00Z"}},
      {kKolkata,
       Civil(2026, 1, 1, 0, 0, 0),
       Civil(2026, 1, 1, 5, 29, 59),
       {1767205800, "2025-12-31T18:30:00Z"},
       {1767225600, "2026-01-01T00:00:00Z"}},
  };
  for (const TimesCase& c : cases) {
    INFO("rule: " << c.rule << ", from " << Format(c.from) << " to " << Format(c.to)
                  << ", expected [" << c.begin.iso << ", " << c.end.iso << ")");
    std::unique_ptr<PosixTimeZone> zone = ParseOrDie(c.rule);
    Result<TimeRange> range = RangeForLocalTimes(c.from, c.to, *zone);
    REQUIRE(range.ok());
    CHECK(range->begin == c.begin.seconds);
    CHECK(range->end == c.end.seconds);
  }
}

TEST_CASE("RangeForLocalTimes rejects bad input") {
  struct ErrorCase {
    CivilTime from;
    CivilTime to;
    const char* field;
    const char* fragment;  // expected inside the message
  };
  const ErrorCase cases[] = {
      {Civil(2026, 3, 1, 24, 0, 0), Civil(2026, 3, 2, 0, 0, 0), "from",
       "invalid local time 2026-03-01 24:00:00"},
      {Civil(2026, 3, 1, 10, 60, 0), Civil(2026, 3, 2, 0, 0, 0), "from",
       "invalid local time 2026-03-01 10:60:00"},
      {Civil(2026, 3, 1, 0, 0, 0), Civil(2026, 2, 30, 0, 0, 0), "to",
       "invalid local time 2026-02-30 00:00:00"},
      {Civil(2026, 3, 1, 0, 0, 0), Civil(2026, 3, 1, 0, 0, -1), "to",
       "invalid local time 2026-03-01 00:00:-1"},
      {Civil(2026, 3, 1, 12, 0, 0), Civil(2026, 3, 1, 11, 59, 59), "to",
       "2026-03-01 11:59:59 is before the start 2026-03-01 12:00:00"},
      {Civil(2026, 3, 1, 0, 0, 0), Civil(2025, 12, 31, 23, 0, 0), "to",
       "2025-12-31 23:00:00 is before the start 2026-03-01 00:00:00"},
  };
  std::unique_ptr<PosixTimeZone> zone = ParseOrDie(kBerlin);
  for (const ErrorCase& c : cases) {
    INFO("from " << Format(c.from) << " to " << Format(c.to));
    Result<TimeRange> range = RangeForLocalTimes(c.from, c.to, *zone);
    REQUIRE_FALSE(range.ok());
    INFO("message: " << range.status().message());
    CHECK(range.status().code() == StatusCode::kInvalidArgument);
    CHECK(range.status().field() == c.field);
    CHECK(range.status().message().find(c.fragment) != std::string::npos);
  }
}

TEST_CASE("RangeForInstants includes both ends") {
  const Instant start = {1772323200, "2026-03-01T00:00:00Z"};
  const Instant end = {1775001599, "2026-03-31T23:59:59Z"};

  Result<TimeRange> range = RangeForInstants(start.seconds, end.seconds);
  REQUIRE(range.ok());
  CHECK(range->begin == start.seconds);
  CHECK(range->end == end.seconds + 1);
  CHECK(range->Contains(end.seconds));

  Result<TimeRange> single = RangeForInstants(start.seconds, start.seconds);
  REQUIRE(single.ok());
  CHECK(single->end - single->begin == 1);

  Result<TimeRange> reversed = RangeForInstants(end.seconds, start.seconds);
  REQUIRE_FALSE(reversed.ok());
  CHECK(reversed.status().code() == StatusCode::kInvalidArgument);
  CHECK(reversed.status().field() == "end");
  CHECK(reversed.status().message().find("2026-03-01T00:00:00Z is before the start "
                                         "2026-03-31T23:59:59Z") != std::string::npos);

  Result<TimeRange> unbounded =
      RangeForInstants(start.seconds, std::numeric_limits<UnixSeconds>::max());
  REQUIRE_FALSE(unbounded.ok());
  CHECK(unbounded.status().field() == "end");
}

}  // namespace
}  // namespace reclaim
