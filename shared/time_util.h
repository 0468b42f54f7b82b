// UTC instants and their ISO 8601 text form.
//
// Instants are whole seconds since 1970-01-01T00:00:00Z (UnixSeconds). The
// text form is always UTC with a `Z` suffix: 2026-12-04T15:55:54Z.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "shared/status.h"

namespace reclaim {

using UnixSeconds = int64_t;

constexpr UnixSeconds kSecondsPerDay = 86400;

struct CivilDate {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
};

struct CivilTime {
  CivilDate date;
  int hour = 0;
  int minute = 0;
  int second = 0;
};

// Days since 1970-01-01 of a proleptic Gregorian date, and back.
int64_t DaysFromCivil(CivilDate date);
CivilDate CivilFromDays(int64_t days);

// Returns true for a real calendar date (month 1..12, day within the month).
bool IsValidDate(CivilDate date);

// Seconds since the epoch of a civil time read as UTC, and back.
UnixSeconds SecondsFromCivil(const CivilTime& time);
CivilTime CivilFromSeconds(UnixSeconds seconds);

// Writes `2026-12-04T15:55:54Z` into `out` (which needs 32 bytes: years
// outside 0000-9999 take the longer signed form) and returns
// the number of bytes written. No allocation, for the CSV hot path.
size_t FormatIso8601(UnixSeconds seconds, char* out);
std::string FormatIso8601(UnixSeconds seconds);

// Parses an ISO 8601 UTC instant: `YYYY-MM-DDTHH:MM:SS` followed by `Z` or a
// numeric offset (`+01:00`, `-0530`); optional fractional seconds are
// truncated. A date alone (`YYYY-MM-DD`) means its midnight UTC. The error
// names `field` and shows the rejected text.
Result<UnixSeconds> ParseIso8601(std::string_view text, const std::string& field);

}  // namespace reclaim
