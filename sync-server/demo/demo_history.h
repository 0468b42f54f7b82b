// A year of incident history for the demo organisation, written through
// IncidentRepository as the remediation engine writes real incidents:
// identified rows first, then journalled moves into the hold folder and
// back, so counts, Last Updated times and restores come out as in real use.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "shared/status.h"
#include "shared/time_util.h"
#include "sync-server/store/incident_repository.h"

namespace reclaim::demo {

struct HistorySettings {
  std::vector<std::string> users;     // connected demo mailboxes
  std::vector<std::string> partners;  // addresses in a domain without a connection
  std::string connection;             // name of the Maildir connection
  std::string hold_folder;
  UnixSeconds now = 0;
  int days = 360;  // incidents are spread over this many days before `now`
};

// Writes about 150 incidents of all five types, oldest first, so sequence
// numbers follow the creation dates. The caller holds a transaction.
// Returns the number of incidents written.
Result<int> WriteHistory(IncidentRepository* repository, std::mt19937_64& random,
                         const HistorySettings& settings);

}  // namespace reclaim::demo
