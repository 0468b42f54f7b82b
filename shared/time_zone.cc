#include "shared/time_zone.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <utility>

namespace reclaim {

// One end of the daylight-saving period: a rule for the day in each year and
// the local time of day at which the clocks change.
struct TransitionRule {
  enum class Form {
    kMonthWeekDay,  // Mm.w.d: day d (0 = Sunday) of week w (5 = last) of month m
    kJulianNoLeap,  // Jn: day n of 1..365, never counting February 29
    kZeroBased,     // n: day n of 0..365, counting February 29
  };
  Form form = Form::kMonthWeekDay;
  int month = 1;
  int week = 1;
  int weekday = 0;
  int day = 0;                  // n of the Jn and n forms
  int time_seconds = 2 * 3600;  // seconds after local midnight, may be negative or past 24h
};

struct PosixTimeZone::Rule {
  std::string std_abbreviation;
  int std_offset = 0;  // seconds east of UTC
  bool has_dst = false;
  std::string dst_abbreviation;
  int dst_offset = 0;
  TransitionRule start;  // time of day in standard time
  TransitionRule end;    // time of day in daylight-saving time
};

namespace {

constexpr int kSecondsPerHour = 3600;
// POSIX limits the hours of an offset to 0..24.
constexpr int kMaxOffsetHours = 24;
// RFC 8536 section 3.3.1 (TZif version 3) extends transition times to -167..167 hours.
constexpr int kMaxTransitionHours = 167;
// Offsets parsed here stay below 26 hours and those of real zones within 14
// hours, so the instants that show a given local time lie within this
// distance of it.
constexpr UnixSeconds kLocalTimeWindow = 2 * kSecondsPerDay;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t quotient = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0)))
    --quotient;
  return quotient;
}

bool IsLeapYear(int year) {
  return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

// 0 is Sunday. 1970-01-01 was a Thursday.
int WeekdayFromDays(int64_t days) {
  return static_cast<int>(((days + 4) % 7 + 7) % 7);
}

// Formats an offset as [+-]hh:mm, or [+-]hh:mm:ss when its seconds are not zero.
std::string FormatOffset(int offset_seconds) {
  const char sign = offset_seconds < 0 ? '-' : '+';
  const int magnitude = offset_seconds < 0 ? -offset_seconds : offset_seconds;
  const int hours = magnitude / kSecondsPerHour;
  const int minutes = magnitude / 60 % 60;
  const int seconds = magnitude % 60;
  char buffer[32];
  if (seconds == 0) {
    std::snprintf(buffer, sizeof buffer, "%c%02d:%02d", sign, hours, minutes);
  } else {
    std::snprintf(buffer, sizeof buffer, "%c%02d:%02d:%02d", sign, hours, minutes, seconds);
  }
  return buffer;
}

// Reads a POSIX TZ rule from left to right. Each Parse* method consumes one
// element or returns an error that shows the rule, the rejected text and the
// expected form.
class RuleParser {
 public:
  RuleParser(std::string_view text, const std::string& field) : text_(text), field_(field) {}

  size_t position() const { return pos_; }
  bool AtEnd() const { return pos_ == text_.size(); }
  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }
  bool Consume(char c) {
    if (Peek() != c)
      return false;
    ++pos_;
    return true;
  }

  Status Invalid(size_t from, std::string_view expected) const {
    std::string message = "invalid POSIX TZ rule \"" + std::string(text_) + "\": ";
    if (text_.empty()) {
      message += "the rule is empty";
    } else if (from >= text_.size()) {
      message += "the rule ends early";
    } else {
      message += "\"" + std::string(ElementAt(from)) + "\" is not valid";
    }
    message += "; expected ";
    message += expected;
    return Status::Invalid(field_, std::move(message));
  }

  // A zone abbreviation: 3 or more letters, or <...> around 3 or more
  // letters, digits, '+' and '-'.
  Result<std::string> ParseAbbreviation(const char* label) {
    const size_t from = pos_;
    const bool quoted = Consume('<');
    const size_t name_begin = pos_;
    while (!AtEnd() && IsAbbreviationChar(Peek(), quoted))
      ++pos_;
    std::string name(text_.substr(name_begin, pos_ - name_begin));
    if (name.size() < 3 || (quoted && !Consume('>'))) {
      return Invalid(from, std::string(label) +
                               " name: 3 or more letters, or <...> around 3 or more letters, "
                               "digits, + and - (for example CET or <+03>)");
    }
    return name;
  }

  // [+-]hh[:mm[:ss]] with hh up to `max_hours`, as seconds.
  Result<int> ParseHms(int max_hours, std::string_view expected) {
    const size_t from = pos_;
    int sign = 1;
    if (Consume('-')) {
      sign = -1;
    } else {
      Consume('+');
    }
    int hours = 0;
    int minutes = 0;
    int seconds = 0;
    bool ok = ParseNumber(3, max_hours, &hours);
    if (ok && Consume(':'))
      ok = ParseNumber(2, 59, &minutes);
    if (ok && Consume(':'))
      ok = ParseNumber(2, 59, &seconds);
    if (!ok)
      return Invalid(from, expected);
    return sign * (hours * kSecondsPerHour + minutes * 60 + seconds);
  }

  // A POSIX offset is positive west of Greenwich, so the sign is flipped to
  // return seconds east of UTC.
  Result<int> ParseOffset(const char* label) {
    Result<int> west = ParseHms(kMaxOffsetHours, std::string(label) +
                                                     " offset: [+-]hh[:mm[:ss]] with hh 0..24, "
                                                     "positive west of Greenwich (for example "
                                                     "-1 for CET or 5 for EST)");
    if (!west.ok())
      return west.status();
    return -*west;
  }

  // One of Mm.w.d, Jn or n, then an optional /time.
  Result<TransitionRule> ParseTransition(const char* label) {
    const size_t from = pos_;
    TransitionRule rule;
    bool ok = true;
    if (Consume('M')) {
      rule.form = TransitionRule::Form::kMonthWeekDay;
      ok = ParseNumber(2, 12, &rule.month) && rule.month >= 1 && Consume('.') &&
           ParseNumber(1, 5, &rule.week) && rule.week >= 1 && Consume('.') &&
           ParseNumber(1, 6, &rule.weekday);
    } else if (Consume('J')) {
      rule.form = TransitionRule::Form::kJulianNoLeap;
      ok = ParseNumber(3, 365, &rule.day) && rule.day >= 1;
    } else {
      rule.form = TransitionRule::Form::kZeroBased;
      ok = ParseNumber(3, 365, &rule.day);
    }
    if (!ok) {
      return Invalid(from, std::string(label) +
                               " date: Mm.w.d (month 1..12, week 1..5, weekday 0..6 with 0 for "
                               "Sunday), Jn (1..365, February 29 not counted) or n (0..365)");
    }
    if (Consume('/')) {
      Result<int> time = ParseHms(
          kMaxTransitionHours,
          std::string(label) + " time: [+-]hh[:mm[:ss]] with hh -167..167 (for example /3)");
      if (!time.ok())
        return time.status();
      rule.time_seconds = *time;
    }
    return rule;
  }

 private:
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }
  static bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
  static bool IsAbbreviationChar(char c, bool quoted) {
    return IsAlpha(c) || (quoted && (IsDigit(c) || c == '+' || c == '-'));
  }

  // Reads 1 to `max_digits` digits into `value`. Fails when there are none,
  // when more digits follow or when the value exceeds `max_value`.
  bool ParseNumber(int max_digits, int max_value, int* value) {
    int digits = 0;
    int result = 0;
    while (digits < max_digits && IsDigit(Peek())) {
      result = result * 10 + (text_[pos_] - '0');
      ++pos_;
      ++digits;
    }
    if (digits == 0 || result > max_value || IsDigit(Peek()))
      return false;
    *value = result;
    return true;
  }

  // The text from `from` to the next comma, so that an error quotes the
  // element at fault rather than the rest of the rule.
  std::string_view ElementAt(size_t from) const {
    const size_t comma = text_.find(',', from + 1);
    return text_.substr(from,
                        comma == std::string_view::npos ? std::string_view::npos : comma - from);
  }

  std::string_view text_;
  const std::string& field_;
  size_t pos_ = 0;
};

// Days since the epoch of the local date on which `rule` applies in `year`.
int64_t TransitionDay(const TransitionRule& rule, int year) {
  const int64_t january_first = DaysFromCivil({year, 1, 1});
  switch (rule.form) {
    case TransitionRule::Form::kJulianNoLeap: {
      const bool after_leap_day = IsLeapYear(year) && rule.day >= 60;
      return january_first + rule.day - 1 + (after_leap_day ? 1 : 0);
    }
    case TransitionRule::Form::kZeroBased:
      return january_first + rule.day;
    case TransitionRule::Form::kMonthWeekDay:
      break;
  }
  const int64_t month_first = DaysFromCivil({year, rule.month, 1});
  const int64_t next_month_first =
      rule.month == 12 ? DaysFromCivil({year + 1, 1, 1}) : DaysFromCivil({year, rule.month + 1, 1});
  const int first_weekday = WeekdayFromDays(month_first);
  int64_t day = month_first + (rule.weekday - first_weekday + 7) % 7 + 7 * (rule.week - 1);
  // Week 5 means the last such weekday, which may be in week 4.
  while (day >= next_month_first)
    day -= 7;
  return day;
}

// A change of offset at an instant.
struct OffsetChange {
  UnixSeconds at = 0;
  int offset_after = 0;
  bool to_dst = false;
};

}  // namespace

FixedTimeZone::FixedTimeZone(int offset_seconds, std::string name)
    : offset_(offset_seconds), name_(std::move(name)) {
  if (name_.empty())
    name_ = offset_ == 0 ? "UTC" : "UTC" + FormatOffset(offset_);
}

PosixTimeZone::PosixTimeZone() : rule_(std::make_unique<Rule>()) {}
PosixTimeZone::~PosixTimeZone() = default;

Result<std::unique_ptr<PosixTimeZone>> PosixTimeZone::Parse(std::string_view rule_text,
                                                            std::string display_name,
                                                            const std::string& field) {
  RuleParser parser(rule_text, field);
  std::unique_ptr<PosixTimeZone> zone(new PosixTimeZone());
  Rule& rule = *zone->rule_;
  zone->name_ = display_name.empty() ? std::string(rule_text) : std::move(display_name);
  const char* const kWholeForm =
      "std offset [dst [offset] [,start[/time],end[/time]]] (for example "
      "CET-1CEST,M3.5.0,M10.5.0/3)";
  if (parser.AtEnd())
    return parser.Invalid(0, kWholeForm);

  // Step 1: standard time, which is all a zone without daylight saving has.
  Result<std::string> std_name = parser.ParseAbbreviation("a standard time");
  if (!std_name.ok())
    return std_name.status();
  rule.std_abbreviation = *std_name;
  Result<int> std_offset = parser.ParseOffset("a standard time");
  if (!std_offset.ok())
    return std_offset.status();
  rule.std_offset = *std_offset;
  if (parser.AtEnd())
    return zone;

  // Step 2: daylight-saving time, one hour ahead of standard time unless given.
  Result<std::string> dst_name = parser.ParseAbbreviation("a daylight-saving time");
  if (!dst_name.ok())
    return dst_name.status();
  rule.has_dst = true;
  rule.dst_abbreviation = *dst_name;
  rule.dst_offset = rule.std_offset + kSecondsPerHour;
  if (!parser.AtEnd() && parser.Peek() != ',') {
    Result<int> dst_offset = parser.ParseOffset("a daylight-saving time");
    if (!dst_offset.ok())
      return dst_offset.status();
    rule.dst_offset = *dst_offset;
  }

  // Step 3: the transition dates. POSIX leaves the default to the
  // implementation. This uses the US rules of 2007, M3.2.0,M11.1.0, as
  // tzcode does (TZDEFRULESTRING in localtime.c).
  if (parser.AtEnd()) {
    rule.start.month = 3;
    rule.start.week = 2;
    rule.end.month = 11;
    rule.end.week = 1;
    return zone;
  }
  const char* const kRulesForm = ",start[/time],end[/time] after the daylight-saving time";
  if (!parser.Consume(','))
    return parser.Invalid(parser.position(), kRulesForm);
  Result<TransitionRule> start = parser.ParseTransition("a start");
  if (!start.ok())
    return start.status();
  rule.start = *start;
  if (!parser.Consume(','))
    return parser.Invalid(parser.position(), kRulesForm);
  Result<TransitionRule> end = parser.ParseTransition("an end");
  if (!end.ok())
    return end.status();
  rule.end = *end;
  if (!parser.AtEnd())
    return parser.Invalid(parser.position(), "nothing after the end rule");
  return zone;
}

int PosixTimeZone::OffsetAt(UnixSeconds utc) const {
  const Rule& rule = *rule_;
  if (!rule.has_dst)
    return rule.std_offset;

  // Transition times of up to 167 hours can move a change into the next or
  // previous calendar year, so the changes of the neighbouring years are
  // considered too. Those of year - 2 all lie before `utc`.
  const int year = CivilFromDays(FloorDiv(utc, kSecondsPerDay)).year;
  std::array<OffsetChange, 8> changes;
  size_t count = 0;
  for (int y = year - 2; y <= year + 1; ++y) {
    const UnixSeconds start =
        TransitionDay(rule.start, y) * kSecondsPerDay + rule.start.time_seconds - rule.std_offset;
    const UnixSeconds end =
        TransitionDay(rule.end, y) * kSecondsPerDay + rule.end.time_seconds - rule.dst_offset;
    changes[count++] = {start, rule.dst_offset, true};
    changes[count++] = {end, rule.std_offset, false};
  }

  // When an end and a start fall on the same instant (as in "EST5EDT,0/0,J365/25"),
  // daylight-saving time applies all year, so the start sorts last and wins.
  std::sort(changes.begin(), changes.end(), [](const OffsetChange& a, const OffsetChange& b) {
    return a.at != b.at ? a.at < b.at : !a.to_dst && b.to_dst;
  });
  int offset = rule.std_offset;
  for (const OffsetChange& change : changes) {
    if (change.at > utc)
      break;
    offset = change.offset_after;
  }
  return offset;
}

std::string PosixTimeZone::Name() const {
  return name_;
}

CivilTime LocalTime(const TimeZone& zone, UnixSeconds utc) {
  return CivilFromSeconds(utc + zone.OffsetAt(utc));
}

UnixSeconds LocalToUtc(const TimeZone& zone, const CivilTime& local) {
  // The local time read as UTC, minus an offset in force around it, is a
  // candidate instant. It is right when that offset is in force there.
  const UnixSeconds wall = SecondsFromCivil(local);
  const int before = zone.OffsetAt(wall - kLocalTimeWindow);
  const int after = zone.OffsetAt(wall + kLocalTimeWindow);

  // Step 1: when the local time exists, one of the candidates is right. Where
  // clocks were set back it exists twice, and the larger offset gives the
  // earlier instant.
  const int larger = std::max(before, after);
  const int smaller = std::min(before, after);
  if (zone.OffsetAt(wall - larger) == larger)
    return wall - larger;
  if (zone.OffsetAt(wall - smaller) == smaller)
    return wall - smaller;

  // Step 2: the local time falls in a gap, so the result is the instant at
  // which the gap ends, the first one after `low` whose offset is no longer
  // `before`. Bisection needs only OffsetAt, so any TimeZone works.
  UnixSeconds low = wall - after;  // still at the offset `before`
  UnixSeconds high = wall - before;
  // NOTE: a zone that changes offset twice within the window around `local`
  // breaks this invariant, and the result is then `high`, the later candidate.
  if (zone.OffsetAt(low) != before || zone.OffsetAt(high) == before)
    return high;
  while (high - low > 1) {
    const UnixSeconds middle = low + (high - low) / 2;
    if (zone.OffsetAt(middle) == before) {
      low = middle;
    } else {
      high = middle;
    }
  }
  return high;
}

}  // namespace reclaim
