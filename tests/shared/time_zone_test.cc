#include "shared/time_zone.h"

#include <doctest/doctest.h>

#include <cstdio>
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
constexpr const char* kNuuk = "<-02>2<-01>,M3.5.0/-1,M10.5.0/0";
constexpr const char* kKolkata = "IST-5:30";

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

std::string Format(const CivilTime& time) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02d %02d:%02d:%02d", time.date.year,
                time.date.month, time.date.day, time.hour, time.minute, time.second);
  return buffer;
}

struct OffsetCase {
  const char* rule;
  Instant utc;
  int offset;
};

void CheckOffsets(const OffsetCase* cases, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    const OffsetCase& c = cases[i];
    INFO("rule: " << c.rule << ", at " << c.utc.iso);
    std::unique_ptr<PosixTimeZone> zone = ParseOrDie(c.rule);
    CHECK(zone->OffsetAt(c.utc.seconds) == c.offset);
  }
}

TEST_CASE("PosixTimeZone offsets of real zones") {
  const OffsetCase cases[] = {
      // Berlin: last Sunday of March 02:00 CET, last Sunday of October 03:00 CEST.
      {kBerlin, {1768478400, "2026-01-15T12:00:00Z"}, 3600},
      {kBerlin, {1774745999, "2026-03-29T00:59:59Z"}, 3600},
      {kBerlin, {1774746000, "2026-03-29T01:00:00Z"}, 7200},
      {kBerlin, {1782864000, "2026-07-01T00:00:00Z"}, 7200},
      {kBerlin, {1792889999, "2026-10-25T00:59:59Z"}, 7200},
      {kBerlin, {1792890000, "2026-10-25T01:00:00Z"}, 3600},
      // March 2024 has five Sundays, so "last" is the fifth, March 31.
      {kBerlin, {1711846799, "2024-03-31T00:59:59Z"}, 3600},
      {kBerlin, {1711846800, "2024-03-31T01:00:00Z"}, 7200},
      // New York: second Sunday of March and first Sunday of November, 02:00.
      {kNewYork, {1772953199, "2026-03-08T06:59:59Z"}, -18000},
      {kNewYork, {1772953200, "2026-03-08T07:00:00Z"}, -14400},
      {kNewYork, {1793512799, "2026-11-01T05:59:59Z"}, -14400},
      {kNewYork, {1793512800, "2026-11-01T06:00:00Z"}, -18000},
      // Sydney: daylight saving time spans New Year.
      {kSydney, {1768435200, "2026-01-15T00:00:00Z"}, 39600},
      {kSydney, {1775318399, "2026-04-04T15:59:59Z"}, 39600},
      {kSydney, {1775318400, "2026-04-04T16:00:00Z"}, 36000},
      {kSydney, {1782864000, "2026-07-01T00:00:00Z"}, 36000},
      {kSydney, {1791043199, "2026-10-03T15:59:59Z"}, 36000},
      {kSydney, {1791043200, "2026-10-03T16:00:00Z"}, 39600},
      {kSydney, {1798761599, "2026-12-31T23:59:59Z"}, 39600},
      // Santiago: changes at 24:00 on the first Saturday of April and September.
      {kSantiago, {1767225600, "2026-01-01T00:00:00Z"}, -10800},
      {kSantiago, {1775357999, "2026-04-05T02:59:59Z"}, -10800},
      {kSantiago, {1775358000, "2026-04-05T03:00:00Z"}, -14400},
      {kSantiago, {1788667199, "2026-09-06T03:59:59Z"}, -14400},
      {kSantiago, {1788667200, "2026-09-06T04:00:00Z"}, -10800},
      // Nuuk: starts at -1:00 on the last Sunday of March, the Saturday's 23:00.
      {kNuuk, {1774745999, "2026-03-29T00:59:59Z"}, -7200},
      {kNuuk, {1774746000, "2026-03-29T01:00:00Z"}, -3600},
      {kNuuk, {1792889999, "2026-10-25T00:59:59Z"}, -3600},
      {kNuuk, {1792890000, "2026-10-25T01:00:00Z"}, -7200},
      {kKolkata, {0, "1970-01-01T00:00:00Z"}, 19800},
      {kKolkata, {1780272000, "2026-06-01T00:00:00Z"}, 19800},
  };
  CheckOffsets(cases, sizeof cases / sizeof cases[0]);
}

TEST_CASE("PosixTimeZone rule forms and extensions") {
  const OffsetCase cases[] = {
      // Jn never counts February 29: J60 is March 1 in every year.
      {"AAA0BBB,J60,J300", {1709258399, "2024-03-01T01:59:59Z"}, 0},
      {"AAA0BBB,J60,J300", {1709258400, "2024-03-01T02:00:00Z"}, 3600},
      {"AAA0BBB,J60,J300", {1729990799, "2024-10-27T00:59:59Z"}, 3600},
      {"AAA0BBB,J60,J300", {1729990800, "2024-10-27T01:00:00Z"}, 0},
      {"AAA0BBB,J60,J300", {1740794400, "2025-03-01T02:00:00Z"}, 3600},
      // n counts February 29: day 59 is February 29 in 2024 and March 1 in 2025.
      {"AAA0BBB,59,299", {1709171999, "2024-02-29T01:59:59Z"}, 0},
      {"AAA0BBB,59,299", {1709172000, "2024-02-29T02:00:00Z"}, 3600},
      {"AAA0BBB,59,299", {1729904400, "2024-10-26T01:00:00Z"}, 0},
      {"AAA0BBB,59,299", {1740794399, "2025-03-01T01:59:59Z"}, 0},
      {"AAA0BBB,59,299", {1740794400, "2025-03-01T02:00:00Z"}, 3600},
      // Times past 24:00 move the change into the following days.
      {"AAA0BBB,M3.5.0/26,M10.5.0", {1774835999, "2026-03-30T01:59:59Z"}, 0},
      {"AAA0BBB,M3.5.0/26,M10.5.0", {1774836000, "2026-03-30T02:00:00Z"}, 3600},
      {"AAA0BBB,M3.1.0/167,M10.5.0", {1772924399, "2026-03-07T22:59:59Z"}, 0},
      {"AAA0BBB,M3.1.0/167,M10.5.0", {1772924400, "2026-03-07T23:00:00Z"}, 3600},
      // December 31 at 25:00 starts daylight saving time on January 1 of the next year.
      {"AAA0BBB,J365/25,J100", {1767229199, "2026-01-01T00:59:59Z"}, 0},
      {"AAA0BBB,J365/25,J100", {1767229200, "2026-01-01T01:00:00Z"}, 3600},
      {"AAA0BBB,J365/25,J100", {1775782799, "2026-04-10T00:59:59Z"}, 3600},
      {"AAA0BBB,J365/25,J100", {1775782800, "2026-04-10T01:00:00Z"}, 0},
      // Daylight saving time all year, the form given in RFC 8536 section 3.3.1.
      {"EST5EDT,0/0,J365/25", {1704067200, "2024-01-01T00:00:00Z"}, -14400},
      {"EST5EDT,0/0,J365/25", {1704085200, "2024-01-01T05:00:00Z"}, -14400},
      {"EST5EDT,0/0,J365/25", {1719792000, "2024-07-01T00:00:00Z"}, -14400},
      {"EST5EDT,0/0,J365/25", {1735646400, "2024-12-31T12:00:00Z"}, -14400},
      // Without dates the US rules apply.
      {"EST5EDT", {1772953199, "2026-03-08T06:59:59Z"}, -18000},
      {"EST5EDT", {1772953200, "2026-03-08T07:00:00Z"}, -14400},
      {"EST5EDT", {1793512800, "2026-11-01T06:00:00Z"}, -18000},
      // Without a daylight-saving offset it is one hour ahead of standard time.
      {"NST3:30NDT,M3.2.0,M11.1.0", {1772947799, "2026-03-08T05:29:59Z"}, -12600},
      {"NST3:30NDT,M3.2.0,M11.1.0", {1772947800, "2026-03-08T05:30:00Z"}, -9000},
      // Lord Howe Island moves its clocks by 30 minutes.
      {"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", {1768435200, "2026-01-15T00:00:00Z"}, 39600},
      {"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", {1782864000, "2026-07-01T00:00:00Z"}, 37800},
      {"<+03>-3", {1782864000, "2026-07-01T00:00:00Z"}, 10800},
      {"UTC0", {1782864000, "2026-07-01T00:00:00Z"}, 0},
      {"XXX+2:15:30", {1782864000, "2026-07-01T00:00:00Z"}, -8130},
  };
  CheckOffsets(cases, sizeof cases / sizeof cases[0]);
}

TEST_CASE("PosixTimeZone parse errors") {
  struct ErrorCase {
    const char* rule;
    const char* fragment;  // expected inside the message
  };
  const ErrorCase cases[] = {
      {"", "the rule is empty"},
      {"CET", "the rule ends early; expected a standard time offset"},
      {"C-1", "\"C-1\" is not valid; expected a standard time name"},
      {"<+03-3", "\"<+03-3\" is not valid; expected a standard time name"},
      {"<+0>-3", "\"<+0>-3\" is not valid; expected a standard time name"},
      {"CET-25", "\"-25\" is not valid; expected a standard time offset"},
      {"CET-1:60", "\"-1:60\" is not valid; expected a standard time offset"},
      {"CET-1CEST;M3.5.0,M10.5.0", "\";M3.5.0\" is not valid; expected a daylight-saving time"},
      {"CET-1C", "\"C\" is not valid; expected a daylight-saving time name"},
      {"CET-1CEST,M13.5.0,M10.5.0/3", "\"M13.5.0\" is not valid; expected a start date"},
      {"CET-1CEST,M3.0.0,M10.5.0/3", "\"M3.0.0\" is not valid; expected a start date"},
      {"CET-1CEST,M3.5.7,M10.5.0/3", "\"M3.5.7\" is not valid; expected a start date"},
      {"CET-1CEST,M3.10.0,M10.5.0/3", "\"M3.10.0\" is not valid; expected a start date"},
      {"CET-1CEST,366,J365", "\"366\" is not valid; expected a start date"},
      {"CET-1CEST,M3.5.0,J0", "\"J0\" is not valid; expected an end date"},
      {"CET-1CEST,M3.5.0/168,M10.5.0/3", "\"168\" is not valid; expected a start time"},
      {"CET-1CEST,M3.5.0,M10.5.0/-168", "\"-168\" is not valid; expected an end time"},
      {"CET-1CEST,M3.5.0", "the rule ends early; expected ,start[/time],end[/time]"},
      {"CET-1CEST,M3.5.0,M10.5.0/3x", "\"x\" is not valid; expected nothing after the end"},
  };
  for (const ErrorCase& c : cases) {
    INFO("rule: \"" << c.rule << "\"");
    Result<std::unique_ptr<PosixTimeZone>> zone = PosixTimeZone::Parse(c.rule);
    REQUIRE_FALSE(zone.ok());
    const Status& status = zone.status();
    INFO("message: " << status.message());
    CHECK(status.code() == StatusCode::kInvalidArgument);
    CHECK(status.field() == "timeZone");
    CHECK(status.message().find("invalid POSIX TZ rule \"" + std::string(c.rule) + "\"") == 0);
    CHECK(status.message().find(c.fragment) != std::string::npos);
  }

  SUBCASE("field named by the caller") {
    Result<std::unique_ptr<PosixTimeZone>> zone =
        PosixTimeZone::Parse("CET", "Europe/Berlin", "settings.timeZone");
    REQUIRE_FALSE(zone.ok());
    CHECK(zone.status().field() == "settings.timeZone");
  }
}

TEST_CASE("PosixTimeZone display name") {
  Result<std::unique_ptr<PosixTimeZone>> named = PosixTimeZone::Parse(kBerlin, "Europe/Berlin");
  REQUIRE(named.ok());
  CHECK((*named)->Name() == "Europe/Berlin");
  CHECK(ParseOrDie(kBerlin)->Name() == kBerlin);
}

TEST_CASE("FixedTimeZone offset and name") {
  struct NameCase {
    int offset;
    const char* name;
  };
  const NameCase cases[] = {
      {0, "UTC"},
      {3600, "UTC+01:00"},
      {19800, "UTC+05:30"},
      {-16200, "UTC-04:30"},
      {-1050, "UTC-00:17:30"},
      {50400, "UTC+14:00"},
  };
  for (const NameCase& c : cases) {
    INFO("offset: " << c.offset);
    FixedTimeZone zone(c.offset);
    CHECK(zone.Name() == c.name);
    CHECK(zone.OffsetAt(0) == c.offset);
    CHECK(zone.OffsetAt(1774746000) == c.offset);
  }
  CHECK(FixedTimeZone(3600, "Europe/Paris (fixed)").Name() == "Europe/Paris (fixed)");
}

TEST_CASE("LocalTime across transitions") {
  struct LocalCase {
    const char* rule;
    Instant utc;
    CivilTime local;
  };
  const LocalCase cases[] = {
      {kBerlin, {1774745999, "2026-03-29T00:59:59Z"}, Civil(2026, 3, 29, 1, 59, 59)},
      {kBerlin, {1774746000, "2026-03-29T01:00:00Z"}, Civil(2026, 3, 29, 3, 0, 0)},
      {kBerlin, {1792889999, "2026-10-25T00:59:59Z"}, Civil(2026, 10, 25, 2, 59, 59)},
      {kBerlin, {1792890000, "2026-10-25T01:00:00Z"}, Civil(2026, 10, 25, 2, 0, 0)},
      {kNewYork, {1793511000, "2026-11-01T05:30:00Z"}, Civil(2026, 11, 1, 1, 30, 0)},
      {kNewYork, {1793514600, "2026-11-01T06:30:00Z"}, Civil(2026, 11, 1, 1, 30, 0)},
      {kSydney, {1775318400, "2026-04-04T16:00:00Z"}, Civil(2026, 4, 5, 2, 0, 0)},
      {kSydney, {1791043200, "2026-10-03T16:00:00Z"}, Civil(2026, 10, 4, 3, 0, 0)},
      {kSantiago, {1788667199, "2026-09-06T03:59:59Z"}, Civil(2026, 9, 5, 23, 59, 59)},
      {kSantiago, {1788667200, "2026-09-06T04:00:00Z"}, Civil(2026, 9, 6, 1, 0, 0)},
      {kSantiago, {1775358000, "2026-04-05T03:00:00Z"}, Civil(2026, 4, 4, 23, 0, 0)},
      {kKolkata, {1767205800, "2025-12-31T18:30:00Z"}, Civil(2026, 1, 1, 0, 0, 0)},
      {kKolkata, {1767225600, "2026-01-01T00:00:00Z"}, Civil(2026, 1, 1, 5, 30, 0)},
  };
  for (const LocalCase& c : cases) {
    INFO("rule: " << c.rule << ", at " << c.utc.iso);
    std::unique_ptr<PosixTimeZone> zone = ParseOrDie(c.rule);
    CHECK(Format(LocalTime(*zone, c.utc.seconds)) == Format(c.local));
  }
  CHECK(Format(LocalTime(FixedTimeZone(-16200), 0)) == "1969-12-31 19:30:00");
}

TEST_CASE("LocalToUtc gaps and overlaps") {
  struct UtcCase {
    const char* rule;
    CivilTime local;
    Instant utc;
  };
  const UtcCase cases[] = {
      // Berlin skips 02:00-03:00 on 2026-03-29 and repeats it on 2026-10-25.
      {kBerlin, Civil(2026, 3, 29, 1, 59, 59), {1774745999, "2026-03-29T00:59:59Z"}},
      {kBerlin, Civil(2026, 3, 29, 2, 0, 0), {1774746000, "2026-03-29T01:00:00Z"}},
      {kBerlin, Civil(2026, 3, 29, 2, 30, 0), {1774746000, "2026-03-29T01:00:00Z"}},
      {kBerlin, Civil(2026, 3, 29, 3, 0, 0), {1774746000, "2026-03-29T01:00:00Z"}},
      {kBerlin, Civil(2026, 10, 25, 1, 59, 59), {1792886399, "2026-10-24T23:59:59Z"}},
      {kBerlin, Civil(2026, 10, 25, 2, 30, 0), {1792888200, "2026-10-25T00:30:00Z"}},
      {kBerlin, Civil(2026, 10, 25, 3, 0, 0), {1792893600, "2026-10-25T02:00:00Z"}},
      {kNewYork, Civil(2026, 3, 8, 2, 30, 0), {1772953200, "2026-03-08T07:00:00Z"}},
      {kNewYork, Civil(2026, 11, 1, 1, 30, 0), {1793511000, "2026-11-01T05:30:00Z"}},
      {kNewYork, Civil(2026, 11, 1, 2, 0, 0), {1793516400, "2026-11-01T07:00:00Z"}},
      {kSydney, Civil(2026, 10, 4, 2, 30, 0), {1791043200, "2026-10-03T16:00:00Z"}},
      {kSydney, Civil(2026, 4, 5, 2, 30, 0), {1775316600, "2026-04-04T15:30:00Z"}},
      {kSydney, Civil(2026, 4, 5, 3, 0, 0), {1775322000, "2026-04-04T17:00:00Z"}},
      // Santiago skips 00:00-01:00 on Sunday 2026-09-06, so that day starts at 01:00.
      {kSantiago, Civil(2026, 9, 6, 0, 0, 0), {1788667200, "2026-09-06T04:00:00Z"}},
      {kSantiago, Civil(2026, 9, 6, 0, 59, 59), {1788667200, "2026-09-06T04:00:00Z"}},
      {kSantiago, Civil(2026, 4, 4, 23, 30, 0), {1775356200, "2026-04-05T02:30:00Z"}},
      {kSantiago, Civil(2026, 4, 5, 0, 0, 0), {1775361600, "2026-04-05T04:00:00Z"}},
      // Nuuk skips 23:00-24:00 on Saturday 2026-03-28 and repeats it on 2026-10-24.
      {kNuuk, Civil(2026, 3, 28, 23, 30, 0), {1774746000, "2026-03-29T01:00:00Z"}},
      {kNuuk, Civil(2026, 10, 24, 23, 30, 0), {1792888200, "2026-10-25T00:30:00Z"}},
      {kKolkata, Civil(2026, 1, 1, 0, 0, 0), {1767205800, "2025-12-31T18:30:00Z"}},
  };
  for (const UtcCase& c : cases) {
    INFO("rule: " << c.rule << ", local " << Format(c.local) << ", expected " << c.utc.iso);
    std::unique_ptr<PosixTimeZone> zone = ParseOrDie(c.rule);
    CHECK(LocalToUtc(*zone, c.local) == c.utc.seconds);
  }
}

// A zone that is not rule-based: UTC until `change`, then UTC+01:30. It
// checks that LocalToUtc relies on OffsetAt alone.
class StepZone : public TimeZone {
 public:
  explicit StepZone(UnixSeconds change) : change_(change) {}
  int OffsetAt(UnixSeconds utc) const override { return utc < change_ ? 0 : 5400; }
  std::string Name() const override { return "step"; }

 private:
  UnixSeconds change_;
};

TEST_CASE("LocalToUtc with any TimeZone") {
  const Instant change = {1777636800, "2026-05-01T12:00:00Z"};
  StepZone zone(change.seconds);
  // Local 12:00:00 to 13:29:59 on 2026-05-01 does not exist.
  CHECK(LocalToUtc(zone, Civil(2026, 5, 1, 11, 59, 59)) == change.seconds - 1);
  CHECK(LocalToUtc(zone, Civil(2026, 5, 1, 12, 0, 0)) == change.seconds);
  CHECK(LocalToUtc(zone, Civil(2026, 5, 1, 13, 29, 59)) == change.seconds);
  CHECK(LocalToUtc(zone, Civil(2026, 5, 1, 13, 30, 0)) == change.seconds);
  CHECK(LocalToUtc(zone, Civil(2026, 5, 1, 13, 30, 1)) == change.seconds + 1);
}

TEST_CASE("LocalToUtc inverts LocalTime") {
  // Every hour of 2026 plus an odd number of seconds: converting local time
  // back returns the same instant, or the earlier one of a repeated hour.
  const Instant first = {1767225600, "2026-01-01T00:00:00Z"};
  const Instant last = {1798761600, "2027-01-01T00:00:00Z"};
  for (const char* rule : {kBerlin, kNewYork, kSydney, kSantiago, kNuuk, kKolkata}) {
    std::unique_ptr<PosixTimeZone> zone = ParseOrDie(rule);
    int failures = 0;
    for (UnixSeconds t = first.seconds + 17; t < last.seconds && failures < 3; t += 3600) {
      const CivilTime local = LocalTime(*zone, t);
      const UnixSeconds back = LocalToUtc(*zone, local);
      const bool same = back == t;
      const bool earlier_of_repeat = back == t - 3600 && zone->OffsetAt(back) > zone->OffsetAt(t);
      INFO("rule: " << rule << ", t = " << t << ", local " << Format(local) << ", back " << back);
      CHECK((same || earlier_of_repeat));
      if (!same && !earlier_of_repeat)
        ++failures;
    }
  }
}

}  // namespace
}  // namespace reclaim
