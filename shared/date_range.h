// Date range filters of the incident queue, as half-open UTC intervals.
#pragma once

#include <optional>
#include <string_view>

#include "shared/status.h"
#include "shared/time_util.h"
#include "shared/time_zone.h"

namespace reclaim {

enum class DatePreset : uint8_t {
  kLast24Hours,
  kLast7Days,
  kLast30Days,
  kLast90Days,
  kLastYear,  // the last 365 days, the default retention period
  kCustom,
};
constexpr int kDatePresetCount = 6;
std::string_view DisplayName(DatePreset preset);  // "Last 7 days"
std::string_view ApiName(DatePreset preset);      // "last_7_days"
std::optional<DatePreset> DatePresetFromApiName(std::string_view name);

// [begin, end): begin inclusive, end exclusive, in UTC seconds.
struct TimeRange {
  UnixSeconds begin = 0;
  UnixSeconds end = 0;
  bool Contains(UnixSeconds t) const { return t >= begin && t < end; }
};

// The range a preset covers: [now - length, now + 1s), so that incidents
// created exactly at either end are included. kCustom is an error: use one
// of the functions below.
Result<TimeRange> RangeForPreset(DatePreset preset, UnixSeconds now);

// A custom range from two local times in `zone`, both inclusive to the
// second: [from, to + 1s). Rejects to < from, naming the `to` field.
Result<TimeRange> RangeForLocalTimes(const CivilTime& from, const CivilTime& to,
                                     const TimeZone& zone);

// A custom range of whole local days: from the start of `first` to the end of
// `last` in `zone`, so the whole last day is included even on days that are
// 23 or 25 hours long. Rejects invalid dates and last < first.
Result<TimeRange> RangeForLocalDays(CivilDate first, CivilDate last, const TimeZone& zone);

// A custom range of two UTC instants as typed in the API (`start`, `end`,
// both inclusive). Rejects end < start naming `end`.
Result<TimeRange> RangeForInstants(UnixSeconds start, UnixSeconds end);

}  // namespace reclaim
