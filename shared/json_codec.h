// JSON encoding and validating decoding of incidents, message rows and
// snapshots. The wire format is described in docs/formats.md.
//
// Decoders check every field's presence and type, reject unknown fields and
// malformed values, and return an error whose field names the record and the
// field, for example `incidents[12].searchCriteria.start`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "shared/incident.h"
#include "shared/incident_store.h"
#include "shared/status.h"

namespace reclaim {

constexpr int kSnapshotSchemaVersion = 1;

// The client's local copy of the server's incidents. A full snapshot has
// every incident; a delta (from a `since` cursor) has those created or
// changed since, plus the codes purged by retention.
struct Snapshot {
  int schema_version = kSnapshotSchemaVersion;
  std::string cursor;  // opaque sync cursor to send back as `since`
  UnixSeconds generated = 0;
  bool delta = false;
  std::vector<Incident> incidents;
  std::vector<std::string> purged;  // incident codes removed by retention
};

std::string EncodeIncident(const Incident& incident);
Result<Incident> DecodeIncident(std::string_view json);

std::string EncodeMessageRows(const std::vector<MessageRow>& rows);
Result<std::vector<MessageRow>> DecodeMessageRows(std::string_view json);

std::string EncodeSnapshot(const Snapshot& snapshot);

// Appends the JSON of one stored incident, byte for byte what
// EncodeIncident(store.Get(row)) gives, without building the record. The
// server writes queue pages with it.
void AppendIncidentJson(const IncidentStore& store, uint32_t row, std::string* out);
Result<Snapshot> DecodeSnapshot(std::string_view json);

// A full snapshot of every incident in `store`, byte for byte what
// EncodeSnapshot gives for the same incidents in store order, written row by
// row so a large store is never copied into Incident records. The browser
// client persists and downloads its copy with it.
std::string EncodeStoreSnapshot(const IncidentStore& store, const std::string& cursor,
                                UnixSeconds generated);

}  // namespace reclaim
