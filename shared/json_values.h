// The JSON wire format of incidents, message rows and snapshots at the level
// of nlohmann::json values, for the server, which builds larger responses
// around these records. Code that only needs text uses json_codec.h, which
// keeps nlohmann out of its callers. The format is described in
// docs/formats.md.
//
// Encoders accept every input. Decoders check every field's presence and type,
// reject unknown fields and malformed values, and write `*out` only on
// success. A decoder's error field is relative to the value it was given
// (`searchCriteria.start`); callers decoding a record inside a larger
// document add their own prefix with Status::WithFieldPrefix. No function
// here throws, except std::bad_alloc when memory runs out.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "shared/incident.h"
#include "shared/json_codec.h"
#include "shared/status.h"

namespace reclaim {

nlohmann::json ToJson(const Incident& incident);
Status FromJson(const nlohmann::json& value, Incident* out);

nlohmann::json ToJson(const MessageRow& row);
Status FromJson(const nlohmann::json& value, MessageRow* out);

// A JSON array of message rows. Errors name the row as `[3].status`.
nlohmann::json ToJson(const std::vector<MessageRow>& rows);
Status FromJson(const nlohmann::json& value, std::vector<MessageRow>* out);

// Always writes kSnapshotSchemaVersion, whatever `snapshot.schema_version`
// contains, because the encoder writes only that version's layout.
nlohmann::json ToJson(const Snapshot& snapshot);
Status FromJson(const nlohmann::json& value, Snapshot* out);

// Serialises compactly. In strings that are not valid UTF-8 (mail headers
// can carry any bytes), each invalid sequence becomes U+FFFD, where
// nlohmann::json::dump() would throw by default.
std::string DumpJson(const nlohmann::json& value);

// Parses JSON text. Malformed text is an error whose message gives the
// parser's byte position; an object that has one key twice is an error
// whose field is that key.
Result<nlohmann::json> ParseJson(std::string_view text);

}  // namespace reclaim
