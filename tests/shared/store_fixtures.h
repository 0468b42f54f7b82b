// Builders of incidents for store and query tests.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "shared/incident.h"

namespace reclaim::testing {

inline Incident MakeIncident(const std::string& org, uint32_t sequence, IncidentType type,
                             UnixSeconds created, const std::string& reason,
                             const std::string& identifier = std::string(64, 'a')) {
  Incident incident;
  incident.id = "id-" + org + "-" + std::to_string(sequence);
  incident.code = {org, sequence, type};
  incident.created = created;
  incident.modified = created + 60;
  incident.reason = reason;
  incident.criteria.identifier = identifier;
  incident.criteria.start = created - 30 * 86400;
  incident.criteria.end = created;
  return incident;
}

// Random incidents with repeated created times, several organisations,
// mixed-case reasons and criteria, for comparing the engine with a
// straightforward reference implementation.
inline std::vector<Incident> RandomIncidents(size_t count, uint32_t seed) {
  std::mt19937 random(seed);
  const char* orgs[] = {"ACME", "BETA", "A1"};
  const char* reasons[] = {"Removing messages by ID", "Restoring a message",
                           "Phish reported by SOC",   "REMOVE campaign",
                           "Removing a restore",      "Clawback of misaddressed mail",
                           "Verdict: malicious hash"};
  const char* people[] = {"", "alice@example.com", "Bob@Example.NET", "carol@corp.example"};
  std::vector<Incident> incidents;
  for (size_t i = 0; i < count; ++i) {
    IncidentType type = kAllIncidentTypes[random() % kIncidentTypeCount];
    // Few distinct times so that ties in every sort column are common.
    UnixSeconds created = 1700000000 + static_cast<UnixSeconds>(random() % 50) * 3600;
    std::string identifier = random() % 2
                                 ? std::string(64, "0123456789abcdef"[random() % 16])
                                 : "<msg" + std::to_string(random() % 100) + "@Mail.Example>";
    Incident incident = MakeIncident(orgs[random() % 3], static_cast<uint32_t>(i + 1), type,
                                     created, reasons[random() % 7], identifier);
    incident.modified = created + static_cast<UnixSeconds>(random() % 5) * 60;
    incident.criteria.from = people[random() % 4];
    incident.criteria.to = people[random() % 4];
    incident.counts = {static_cast<uint32_t>(random() % 4), static_cast<uint32_t>(random() % 4),
                       static_cast<uint32_t>(random() % 4), static_cast<uint32_t>(random() % 4)};
    incidents.push_back(incident);
  }
  return incidents;
}

}  // namespace reclaim::testing
