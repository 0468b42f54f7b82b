// Retention: incidents are kept for a configurable number of days after
// they were created (365 by default) and purged after that.
#pragma once

#include <string>
#include <vector>

#include "shared/incident.h"
#include "shared/incident_store.h"

namespace reclaim {

constexpr int kDefaultRetentionDays = 365;
constexpr int kMinRetentionDays = 1;
constexpr int kMaxRetentionDays = 3650;

// Checks a retention setting; the error names `field` and the allowed range.
Status ValidateRetentionDays(int days, const std::string& field = "retentionDays");

// Incidents created before this instant are past the keep period.
UnixSeconds RetentionCutoff(UnixSeconds now, int retention_days);

bool IsPastRetention(const Incident& incident, UnixSeconds now, int retention_days);

// Codes of the store's incidents past the keep period, oldest first.
std::vector<std::string> ExpiredCodes(const IncidentStore& store, UnixSeconds now,
                                      int retention_days);

}  // namespace reclaim
