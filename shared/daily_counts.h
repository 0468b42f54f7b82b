// Incidents per local calendar day and type, for the console's chart above
// the queue.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "shared/incident.h"
#include "shared/incident_store.h"
#include "shared/time_zone.h"

namespace reclaim {

struct DailyTypeCounts {
  int64_t first_day = 0;  // days since 1970-01-01 of days[0], in the zone's local time
  // One entry per day from first_day to the last day with an incident, with
  // days without incidents included as zeros. Indexed by IncidentType.
  std::vector<std::array<uint32_t, kIncidentTypeCount>> days;
};

// Counts the given store rows by the local day of their Date Created in
// `zone`. Empty `rows` give an empty result.
DailyTypeCounts CountByLocalDay(const IncidentStore& store, const std::vector<uint32_t>& rows,
                                const TimeZone& zone);

}  // namespace reclaim
