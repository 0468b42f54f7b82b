#include "shared/date_range.h"

#include <cstdio>
#include <limits>
#include <string>

namespace reclaim {
namespace {

struct PresetInfo {
  DatePreset preset;
  std::string_view display_name;
  std::string_view api_name;
  UnixSeconds length;  // 0 for kCustom, which has no fixed length
};

constexpr PresetInfo kPresets[] = {
    {DatePreset::kLast24Hours, "Last 24 hours", "last_24_hours", kSecondsPerDay},
    {DatePreset::kLast7Days, "Last 7 days", "last_7_days", 7 * kSecondsPerDay},
    {DatePreset::kLast30Days, "Last 30 days", "last_30_days", 30 * kSecondsPerDay},
    {DatePreset::kLast90Days, "Last 90 days", "last_90_days", 90 * kSecondsPerDay},
    {DatePreset::kLastYear, "Last year", "last_year", 365 * kSecondsPerDay},
    {DatePreset::kCustom, "Custom range", "custom", 0},
};
static_assert(sizeof(kPresets) / sizeof(kPresets[0]) == kDatePresetCount,
              "kPresets needs one row per DatePreset");

constexpr bool RowsFollowEnumOrder() {
  for (int i = 0; i < kDatePresetCount; ++i) {
    if (static_cast<int>(kPresets[i].preset) != i)
      return false;
  }
  return true;
}
static_assert(RowsFollowEnumOrder(), "kPresets rows must be in DatePreset order");

// The row of `preset`, or nullptr for a value outside the enum.
const PresetInfo* FindPreset(DatePreset preset) {
  const int index = static_cast<int>(preset);
  if (index < 0 || index >= kDatePresetCount)
    return nullptr;
  return &kPresets[index];
}

std::string FormatDate(CivilDate date) {
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02d", date.year, date.month, date.day);
  return buffer;
}

std::string FormatLocalTime(const CivilTime& time) {
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "%s %02d:%02d:%02d", FormatDate(time.date).c_str(),
                time.hour, time.minute, time.second);
  return buffer;
}

bool IsValidLocalTime(const CivilTime& time) {
  return IsValidDate(time.date) && time.hour >= 0 && time.hour <= 23 && time.minute >= 0 &&
         time.minute <= 59 && time.second >= 0 && time.second <= 59;
}

Status InvalidDate(const char* field, CivilDate date) {
  return Status::Invalid(
      field, "invalid date " + FormatDate(date) + "; expected a calendar date YYYY-MM-DD");
}

Status InvalidLocalTime(const char* field, const CivilTime& time) {
  return Status::Invalid(field, "invalid local time " + FormatLocalTime(time) +
                                    "; expected a calendar date and a time of day "
                                    "from 00:00:00 to 23:59:59");
}

// Lexicographic comparison of civil times, which is their order in local time.
bool IsBefore(const CivilTime& a, const CivilTime& b) {
  const int a_fields[] = {a.date.year, a.date.month, a.date.day, a.hour, a.minute, a.second};
  const int b_fields[] = {b.date.year, b.date.month, b.date.day, b.hour, b.minute, b.second};
  for (int i = 0; i < 6; ++i) {
    if (a_fields[i] != b_fields[i])
      return a_fields[i] < b_fields[i];
  }
  return false;
}

}  // namespace

std::string_view DisplayName(DatePreset preset) {
  const PresetInfo* info = FindPreset(preset);
  return info ? info->display_name : std::string_view();
}

std::string_view ApiName(DatePreset preset) {
  const PresetInfo* info = FindPreset(preset);
  return info ? info->api_name : std::string_view();
}

std::optional<DatePreset> DatePresetFromApiName(std::string_view name) {
  for (const PresetInfo& info : kPresets) {
    if (info.api_name == name)
      return info.preset;
  }
  return std::nullopt;
}

Result<TimeRange> RangeForPreset(DatePreset preset, UnixSeconds now) {
  const PresetInfo* info = FindPreset(preset);
  if (info == nullptr || info->length == 0) {
    return Status::Invalid("preset", "the preset \"" + std::string(ApiName(preset)) +
                                         "\" has no fixed length; expected one of last_24_hours, "
                                         "last_7_days, last_30_days, last_90_days, last_year, or "
                                         "a custom range with explicit bounds");
  }
  return TimeRange{now - info->length, now + 1};
}

Result<TimeRange> RangeForLocalTimes(const CivilTime& from, const CivilTime& to,
                                     const TimeZone& zone) {
  if (!IsValidLocalTime(from))
    return InvalidLocalTime("from", from);
  if (!IsValidLocalTime(to))
    return InvalidLocalTime("to", to);
  if (IsBefore(to, from)) {
    return Status::Invalid("to", "the end " + FormatLocalTime(to) + " is before the start " +
                                     FormatLocalTime(from) + "; expected an end at or after it");
  }

  // The end is the first instant at or after the second that follows `to`,
  // so a `to` inside a daylight-saving gap ends the range where the gap ends.
  const CivilTime after_to = CivilFromSeconds(SecondsFromCivil(to) + 1);
  return TimeRange{LocalToUtc(zone, from), LocalToUtc(zone, after_to)};
}

Result<TimeRange> RangeForLocalDays(CivilDate first, CivilDate last, const TimeZone& zone) {
  if (!IsValidDate(first))
    return InvalidDate("first", first);
  if (!IsValidDate(last))
    return InvalidDate("last", last);
  const int64_t first_day = DaysFromCivil(first);
  const int64_t last_day = DaysFromCivil(last);
  if (last_day < first_day) {
    return Status::Invalid("last", "the last day " + FormatDate(last) +
                                       " is before the first day " + FormatDate(first) +
                                       "; expected a day at or after it");
  }

  // Midnight can fall in a gap (zones that change clocks at 00:00), so each
  // bound is the first instant of its day rather than 00:00 itself. The end
  // is the start of the day after `last`, which makes the range as long as
  // the local days are, whether 23, 24 or 25 hours.
  CivilTime begin_time;
  begin_time.date = first;
  CivilTime end_time;
  end_time.date = CivilFromDays(last_day + 1);
  return TimeRange{LocalToUtc(zone, begin_time), LocalToUtc(zone, end_time)};
}

Result<TimeRange> RangeForInstants(UnixSeconds start, UnixSeconds end) {
  if (end < start) {
    return Status::Invalid("end", "the end " + FormatIso8601(end) + " is before the start " +
                                      FormatIso8601(start) + "; expected an end at or after it");
  }
  if (end == std::numeric_limits<UnixSeconds>::max()) {
    return Status::Invalid("end", "the end " + std::to_string(end) +
                                      " is out of range; expected an instant as ISO 8601");
  }
  return TimeRange{start, end + 1};
}

}  // namespace reclaim
