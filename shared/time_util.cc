#include "shared/time_util.h"

#include <cstdio>

namespace reclaim {
namespace {

bool IsLeapYear(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

void WriteDigits(char* out, int value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// Reads exactly `width` decimal digits at `text[*pos]`.
bool ReadDigits(std::string_view text, size_t* pos, int width, int* value) {
  if (*pos + width > text.size())
    return false;
  int v = 0;
  for (int i = 0; i < width; ++i) {
    char c = text[*pos + i];
    if (c < '0' || c > '9')
      return false;
    v = v * 10 + (c - '0');
  }
  *pos += width;
  *value = v;
  return true;
}

bool Expect(std::string_view text, size_t* pos, char c) {
  if (*pos >= text.size() || text[*pos] != c)
    return false;
  ++*pos;
  return true;
}

}  // namespace

// Day counting on the proleptic Gregorian calendar with years shifted to
// start in March, so the leap day is the last day of the shifted year.
int64_t DaysFromCivil(CivilDate date) {
  int64_t y = date.year - (date.month <= 2 ? 1 : 0);
  int64_t era = FloorDiv(y, 400);
  int64_t year_of_era = y - era * 400;
  int64_t shifted_month = date.month > 2 ? date.month - 3 : date.month + 9;
  int64_t day_of_year = (153 * shifted_month + 2) / 5 + date.day - 1;
  int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

CivilDate CivilFromDays(int64_t days) {
  days += 719468;
  int64_t era = FloorDiv(days, 146097);
  int64_t day_of_era = days - era * 146097;
  int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  int64_t shifted_month = (5 * day_of_year + 2) / 153;
  CivilDate date;
  date.day = static_cast<int>(day_of_year - (153 * shifted_month + 2) / 5 + 1);
  date.month = static_cast<int>(shifted_month < 10 ? shifted_month + 3 : shifted_month - 9);
  date.year = static_cast<int>(year_of_era + era * 400 + (date.month <= 2 ? 1 : 0));
  return date;
}

bool IsValidDate(CivilDate date) {
  if (date.month < 1 || date.month > 12 || date.day < 1)
    return false;
  return date.day <= DaysInMonth(date.year, date.month);
}

UnixSeconds SecondsFromCivil(const CivilTime& time) {
  return DaysFromCivil(time.date) * kSecondsPerDay + time.hour * 3600 + time.minute * 60 +
         time.second;
}

CivilTime CivilFromSeconds(UnixSeconds seconds) {
  int64_t days = FloorDiv(seconds, kSecondsPerDay);
  int64_t rest = seconds - days * kSecondsPerDay;
  CivilTime time;
  time.date = CivilFromDays(days);
  time.hour = static_cast<int>(rest / 3600);
  time.minute = static_cast<int>(rest % 3600 / 60);
  time.second = static_cast<int>(rest % 60);
  return time;
}

size_t FormatIso8601(UnixSeconds seconds, char* out) {
  CivilTime t = CivilFromSeconds(seconds);
  if (t.date.year < 0 || t.date.year > 9999) {
    // Outside the four-digit years the fixed form cannot express; the
    // extended form keeps the text honest instead of wrapping around.
    int n = std::snprintf(out, 32, "%+07d-%02d-%02dT%02d:%02d:%02dZ", t.date.year, t.date.month,
                          t.date.day, t.hour, t.minute, t.second);
    return static_cast<size_t>(n);
  }
  WriteDigits(out, t.date.year, 4);
  out[4] = '-';
  WriteDigits(out + 5, t.date.month, 2);
  out[7] = '-';
  WriteDigits(out + 8, t.date.day, 2);
  out[10] = 'T';
  WriteDigits(out + 11, t.hour, 2);
  out[13] = ':';
  WriteDigits(out + 14, t.minute, 2);
  out[16] = ':';
  WriteDigits(out + 17, t.second, 2);
  out[19] = 'Z';
  return 20;
}

std::string FormatIso8601(UnixSeconds seconds) {
  char buffer[32];
  size_t n = FormatIso8601(seconds, buffer);
  return std::string(buffer, n);
}

Result<UnixSeconds> ParseIso8601(std::string_view text, const std::string& field) {
  auto invalid = [&] {
    return Status::Invalid(field, "invalid time '" + std::string(text) +
                                      "': expected ISO 8601 such as 2026-12-04T15:30:00Z");
  };
  CivilTime t;
  size_t pos = 0;

  // Date part, which may stand alone.
  if (!ReadDigits(text, &pos, 4, &t.date.year) || !Expect(text, &pos, '-') ||
      !ReadDigits(text, &pos, 2, &t.date.month) || !Expect(text, &pos, '-') ||
      !ReadDigits(text, &pos, 2, &t.date.day) || !IsValidDate(t.date)) {
    return invalid();
  }
  if (pos == text.size())
    return SecondsFromCivil(t);

  // Time of day, with optional fractional seconds that are dropped.
  if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ')
    return invalid();
  ++pos;
  if (!ReadDigits(text, &pos, 2, &t.hour) || !Expect(text, &pos, ':') ||
      !ReadDigits(text, &pos, 2, &t.minute) || !Expect(text, &pos, ':') ||
      !ReadDigits(text, &pos, 2, &t.second) || t.hour > 23 || t.minute > 59 || t.second > 60) {
    return invalid();
  }
  if (t.second == 60)
    t.second = 59;  // a leap second reads as the second before it
  if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
    ++pos;
    size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      ++pos;
      ++digits;
    }
    if (digits == 0)
      return invalid();
  }

  // Zone designator: Z or a numeric offset. A time without one is ambiguous.
  if (pos >= text.size()) {
    return Status::Invalid(field, "time '" + std::string(text) +
                                      "' has no time zone: add Z for UTC or an offset like +01:00");
  }
  int offset = 0;
  char sign = text[pos++];
  if (sign == 'Z' || sign == 'z') {
    if (pos != text.size())
      return invalid();
  } else if (sign == '+' || sign == '-') {
    int hours = 0;
    int minutes = 0;
    if (!ReadDigits(text, &pos, 2, &hours))
      return invalid();
    if (pos < text.size() && text[pos] == ':')
      ++pos;
    if (!ReadDigits(text, &pos, 2, &minutes) || pos != text.size() || hours > 23 || minutes > 59) {
      return invalid();
    }
    offset = (hours * 3600 + minutes * 60) * (sign == '-' ? -1 : 1);
  } else {
    return invalid();
  }
  return SecondsFromCivil(t) - offset;
}

}  // namespace reclaim
