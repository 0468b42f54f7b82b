#include "shared/daily_counts.h"

#include <algorithm>
#include <unordered_map>

namespace reclaim {
namespace {

// Floor division, so instants before 1970 land on the right day.
int64_t FloorDiv(int64_t value, int64_t divisor) {
  int64_t quotient = value / divisor;
  return (value % divisor != 0 && (value < 0) != (divisor < 0)) ? quotient - 1 : quotient;
}

}  // namespace

DailyTypeCounts CountByLocalDay(const IncidentStore& store, const std::vector<uint32_t>& rows,
                                const TimeZone& zone) {
  DailyTypeCounts result;
  if (rows.empty())
    return result;

  // Zones change their offset on hour boundaries, so one lookup per UTC hour
  // is exact and keeps OffsetAt calls (a call into JavaScript in the
  // browser) far below one per row.
  std::unordered_map<int64_t, int> offset_by_hour;
  std::vector<int64_t> day_of_row(rows.size());
  int64_t first = INT64_MAX;
  int64_t last = INT64_MIN;
  for (size_t i = 0; i < rows.size(); ++i) {
    UnixSeconds created = store.created(rows[i]);
    int64_t hour = FloorDiv(created, 3600);
    auto found = offset_by_hour.find(hour);
    if (found == offset_by_hour.end())
      found = offset_by_hour.emplace(hour, zone.OffsetAt(hour * 3600)).first;
    day_of_row[i] = FloorDiv(created + found->second, kSecondsPerDay);
    first = std::min(first, day_of_row[i]);
    last = std::max(last, day_of_row[i]);
  }

  result.first_day = first;
  result.days.assign(static_cast<size_t>(last - first + 1), {});
  for (size_t i = 0; i < rows.size(); ++i) {
    auto type = static_cast<size_t>(store.type(rows[i]));
    ++result.days[static_cast<size_t>(day_of_row[i] - first)][type];
  }
  return result;
}

}  // namespace reclaim
