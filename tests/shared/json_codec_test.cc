#include "shared/json_codec.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "shared/json_values.h"
#include "tests/shared/store_fixtures.h"
#include "tests/shared/test_inputs.h"

namespace reclaim {
namespace {

using nlohmann::json;

constexpr char kSha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr char kMd5[] = "d41d8cd98f00b204e9800998ecf8427e";

// Times used below, worked out by hand from the calendar.
constexpr UnixSeconds k20240211T0900 = 1707642000;
constexpr UnixSeconds k20240301T0000 = 1709251200;
constexpr UnixSeconds k20240312T0900 = 1710234000;
constexpr UnixSeconds k20240312T0905 = 1710234300;
constexpr UnixSeconds k20240312T0930 = 1710235800;
constexpr UnixSeconds k20240312T0931 = 1710235860;
constexpr UnixSeconds k20240312T1000 = 1710237600;

Incident ManualIncident() {
  Incident incident;
  incident.id = "inc-7f3a";
  incident.code = {"ACME", 42, IncidentType::kManual};
  incident.created = k20240312T0900;
  incident.modified = k20240312T0905;
  incident.reason = "Phishing invoice";
  incident.counts = {3, 2, 1, 0};
  incident.criteria.identifier = kSha256;
  incident.criteria.from = "billing@invoices.example.net";
  incident.criteria.start = k20240211T0900;
  incident.criteria.end = k20240312T0900;
  return incident;
}

Incident RestoreIncident() {
  Incident incident;
  incident.id = "inc-7f3b";
  incident.code = {"ACME", 43, IncidentType::kRestore};
  incident.created = k20240312T0930;
  incident.modified = k20240312T0931;
  incident.reason = "Restoring a message";
  incident.counts = {1, 0, 0, 1};
  incident.criteria.identifier = "<Xk7Q.20240306.0001@mail.example.org>";
  incident.criteria.to = "alice@example.com";
  incident.criteria.start = k20240301T0000;
  incident.criteria.end = k20240312T0930;
  incident.restores = "TR-ACME-00042-M";
  return incident;
}

Snapshot SampleSnapshot() {
  Snapshot snapshot;
  snapshot.cursor = "c-000123";
  snapshot.generated = k20240312T1000;
  snapshot.delta = true;
  snapshot.incidents = {ManualIncident(), RestoreIncident()};
  snapshot.purged = {"TR-ACME-00001-A", "TR-ACME-00002-N"};
  return snapshot;
}

std::vector<MessageRow> SampleRows() {
  MessageRow removed;
  removed.id = "m1";
  removed.recipient = "alice@example.com";
  removed.sender = "Billing <billing@invoices.example.net>";
  removed.subject = "Invoice \"March\"";
  removed.delivered = k20240312T0900;
  removed.mailbox = "alice@example.com";
  removed.folder = "INBOX";
  removed.moved_to = "Quarantine";
  removed.status = MessageStatus::kRemoved;
  removed.last_action = k20240312T0905;

  MessageRow not_found = removed;
  not_found.id = "m2";
  not_found.recipient = "bob@example.com";
  not_found.mailbox = "bob@example.com";
  not_found.moved_to = "";
  not_found.status = MessageStatus::kFailed;
  not_found.failure = FailureReason::kNotFoundInMailbox;

  MessageRow timed_out = not_found;
  timed_out.id = "m3";
  timed_out.failure = FailureReason::kOther;
  timed_out.failure_detail = "IMAP timeout after 30 s";

  MessageRow untouched = removed;
  untouched.id = "m4";
  untouched.subject = "Grüße 📦";
  untouched.moved_to = "";
  untouched.status = MessageStatus::kIdentified;
  untouched.last_action = 0;

  return {removed, not_found, timed_out, untouched};
}

// Field by field, so that a failure names the field that differs.
void CheckSameIncident(const Incident& actual, const Incident& expected) {
  INFO("incident ", expected.id);
  CHECK(actual.id == expected.id);
  CHECK(actual.code.org == expected.code.org);
  CHECK(actual.code.sequence == expected.code.sequence);
  CHECK(actual.code.type == expected.code.type);
  CHECK(actual.created == expected.created);
  CHECK(actual.modified == expected.modified);
  CHECK(actual.reason == expected.reason);
  CHECK(actual.counts.identified == expected.counts.identified);
  CHECK(actual.counts.removed == expected.counts.removed);
  CHECK(actual.counts.failed == expected.counts.failed);
  CHECK(actual.counts.restored == expected.counts.restored);
  CHECK(actual.criteria.identifier == expected.criteria.identifier);
  CHECK(actual.criteria.from == expected.criteria.from);
  CHECK(actual.criteria.to == expected.criteria.to);
  CHECK(actual.criteria.start == expected.criteria.start);
  CHECK(actual.criteria.end == expected.criteria.end);
  CHECK(actual.restores == expected.restores);
}

void CheckSameRow(const MessageRow& actual, const MessageRow& expected) {
  INFO("message row ", expected.id);
  CHECK(actual.id == expected.id);
  CHECK(actual.recipient == expected.recipient);
  CHECK(actual.sender == expected.sender);
  CHECK(actual.subject == expected.subject);
  CHECK(actual.delivered == expected.delivered);
  CHECK(actual.mailbox == expected.mailbox);
  CHECK(actual.folder == expected.folder);
  CHECK(actual.moved_to == expected.moved_to);
  CHECK(actual.status == expected.status);
  CHECK(actual.failure == expected.failure);
  CHECK(actual.failure_detail == expected.failure_detail);
  CHECK(actual.last_action == expected.last_action);
}

void CheckSameSnapshot(const Snapshot& actual, const Snapshot& expected) {
  CHECK(actual.schema_version == expected.schema_version);
  CHECK(actual.cursor == expected.cursor);
  CHECK(actual.generated == expected.generated);
  CHECK(actual.delta == expected.delta);
  REQUIRE(actual.incidents.size() == expected.incidents.size());
  for (size_t i = 0; i < expected.incidents.size(); ++i) {
    CheckSameIncident(actual.incidents[i], expected.incidents[i]);
  }
  CHECK(actual.purged == expected.purged);
}

// The wire form of ManualIncident, written by hand.
const char kManualIncidentJson[] = R"({
  "id": "inc-7f3a",
  "code": "TR-ACME-00042-M",
  "type": "manual",
  "create": "2024-03-12T09:00:00Z",
  "modified": "2024-03-12T09:05:00Z",
  "reason": "Phishing invoice",
  "identified": 3,
  "removed": 2,
  "failed": 1,
  "restored": 0,
  "searchCriteria": {
    "fileHash": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "from": "billing@invoices.example.net",
    "to": "",
    "start": "2024-02-11T09:00:00Z",
    "end": "2024-03-12T09:00:00Z"
  }
})";

const char kRestoreIncidentJson[] = R"({
  "id": "inc-7f3b",
  "code": "TR-ACME-00043-R",
  "type": "restore",
  "create": "2024-03-12T09:30:00Z",
  "modified": "2024-03-12T09:31:00Z",
  "reason": "Restoring a message",
  "identified": 1,
  "removed": 0,
  "failed": 0,
  "restored": 1,
  "searchCriteria": {
    "messageId": "<Xk7Q.20240306.0001@mail.example.org>",
    "from": "",
    "to": "alice@example.com",
    "start": "2024-03-01T00:00:00Z",
    "end": "2024-03-12T09:30:00Z"
  },
  "restores": "TR-ACME-00042-M"
})";

const char kMessageRowsJson[] = R"([
  {"id": "m1", "recipient": "alice@example.com",
   "sender": "Billing <billing@invoices.example.net>", "subject": "Invoice \"March\"",
   "delivered": "2024-03-12T09:00:00Z", "mailbox": "alice@example.com", "folder": "INBOX",
   "movedTo": "Quarantine", "status": "removed", "failureReason": "",
   "lastAction": "2024-03-12T09:05:00Z"},
  {"id": "m2", "recipient": "bob@example.com",
   "sender": "Billing <billing@invoices.example.net>", "subject": "Invoice \"March\"",
   "delivered": "2024-03-12T09:00:00Z", "mailbox": "bob@example.com", "folder": "INBOX",
   "movedTo": "", "status": "failed", "failureReason": "Message was not found in mailbox.",
   "lastAction": "2024-03-12T09:05:00Z"},
  {"id": "m3", "recipient": "bob@example.com",
   "sender": "Billing <billing@invoices.example.net>", "subject": "Invoice \"March\"",
   "delivered": "2024-03-12T09:00:00Z", "mailbox": "bob@example.com", "folder": "INBOX",
   "movedTo": "", "status": "failed", "failureReason": "IMAP timeout after 30 s",
   "lastAction": "2024-03-12T09:05:00Z"},
  {"id": "m4", "recipient": "alice@example.com",
   "sender": "Billing <billing@invoices.example.net>", "subject": "Grüße 📦",
   "delivered": "2024-03-12T09:00:00Z", "mailbox": "alice@example.com", "folder": "INBOX",
   "movedTo": "", "status": "identified", "failureReason": "", "lastAction": null}
])";

json SnapshotJson() {
  json snapshot = {{"schemaVersion", 1},
                   {"cursor", "c-000123"},
                   {"generated", "2024-03-12T10:00:00Z"},
                   {"delta", true},
                   {"purged", {"TR-ACME-00001-A", "TR-ACME-00002-N"}}};
  snapshot["incidents"] = {json::parse(kManualIncidentJson), json::parse(kRestoreIncidentJson)};
  return snapshot;
}

TEST_CASE("json incident encodes to wire form") {
  CHECK(ToJson(ManualIncident()) == json::parse(kManualIncidentJson));
  CHECK(ToJson(RestoreIncident()) == json::parse(kRestoreIncidentJson));
  CHECK(json::parse(EncodeIncident(ManualIncident())) == json::parse(kManualIncidentJson));
}

TEST_CASE("json identifier chooses its field") {
  struct Case {
    std::string identifier;
    const char* field;
  };
  const Case kCases[] = {
      {kSha256, "fileHash"},
      {kMd5, "fileHash"},
      {"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", "fileHash"},
      {"<a@b.example>", "messageId"},
      {"d41d8cd98f00b204e9800998ecf8427", "messageId"},  // 31 hex digits
      {"z41d8cd98f00b204e9800998ecf8427e", "messageId"},
  };
  for (const Case& c : kCases) {
    INFO("identifier ", c.identifier);
    Incident incident = ManualIncident();
    incident.criteria.identifier = c.identifier;
    const json criteria = ToJson(incident).at("searchCriteria");
    CHECK(criteria.size() == 5);
    REQUIRE(criteria.contains(c.field));
    CHECK(criteria.at(c.field) == c.identifier);

    const auto decoded = DecodeIncident(EncodeIncident(incident));
    REQUIRE(decoded.ok());
    CHECK(decoded->criteria.identifier == c.identifier);
  }
}

TEST_CASE("json message rows encode to wire form") {
  CHECK(ToJson(SampleRows()) == json::parse(kMessageRowsJson));
  CHECK(json::parse(EncodeMessageRows(SampleRows())) == json::parse(kMessageRowsJson));
  CHECK(EncodeMessageRows({}) == "[]");
}

TEST_CASE("json snapshot encodes to wire form") {
  CHECK(ToJson(SampleSnapshot()) == SnapshotJson());

  // The encoder writes its own version, whatever the struct holds.
  Snapshot other_version = SampleSnapshot();
  other_version.schema_version = 7;
  CHECK(ToJson(other_version).at("schemaVersion") == 1);
}

TEST_CASE("json incident round trip") {
  Incident md5 = ManualIncident();
  md5.code = {"Z9", 123456789, IncidentType::kAutomatic};
  md5.criteria.identifier = kMd5;
  md5.counts = {4294967295u, 0, 0, 0};
  md5.reason = "Ünïcode \"quoted\"\nline";

  Incident notify = RestoreIncident();
  notify.code = {"ORG", 7, IncidentType::kNotifyOnly};
  notify.restores.clear();

  Incident clawback = ManualIncident();
  clawback.code = {"A", 99999, IncidentType::kMepClawback};
  clawback.created = 0;
  clawback.modified = 0;
  clawback.criteria.start = 0;
  clawback.criteria.end = 0;

  Incident restore_without_link = RestoreIncident();
  restore_without_link.restores.clear();

  const Incident kCases[] = {ManualIncident(), RestoreIncident(), md5,
                             notify,           clawback,          restore_without_link};
  for (const Incident& incident : kCases) {
    INFO("code ", FormatIncidentCode(incident.code));
    const auto decoded = DecodeIncident(EncodeIncident(incident));
    REQUIRE_MESSAGE(decoded.ok(), decoded.status().field(), ": ", decoded.status().message());
    CheckSameIncident(*decoded, incident);
  }
}

TEST_CASE("json message rows round trip") {
  const std::vector<MessageRow> rows = SampleRows();
  const auto decoded = DecodeMessageRows(EncodeMessageRows(rows));
  REQUIRE_MESSAGE(decoded.ok(), decoded.status().field(), ": ", decoded.status().message());
  REQUIRE(decoded->size() == rows.size());
  for (size_t i = 0; i < rows.size(); ++i)
    CheckSameRow((*decoded)[i], rows[i]);

  const auto empty = DecodeMessageRows("[]");
  REQUIRE(empty.ok());
  CHECK(empty->empty());
}

TEST_CASE("json snapshot round trip") {
  Snapshot full;
  full.cursor = "";
  full.generated = k20240312T1000;
  full.delta = false;
  full.incidents = {RestoreIncident()};

  const Snapshot kCases[] = {SampleSnapshot(), full, Snapshot()};
  for (const Snapshot& snapshot : kCases) {
    INFO("cursor \"", snapshot.cursor, "\" with ", snapshot.incidents.size(), " incidents");
    const auto decoded = DecodeSnapshot(EncodeSnapshot(snapshot));
    REQUIRE_MESSAGE(decoded.ok(), decoded.status().field(), ": ", decoded.status().message());
    CheckSameSnapshot(*decoded, snapshot);
  }
}

TEST_CASE("json snapshot fixture decodes") {
  const std::string path = std::string(RECLAIM_FIXTURES) + "/snapshot_v1.json";
  const auto text = testing::ReadFile(path);
  REQUIRE_MESSAGE(text.has_value(), "cannot read ", path);
  const auto decoded = DecodeSnapshot(*text);
  REQUIRE_MESSAGE(decoded.ok(), decoded.status().field(), ": ", decoded.status().message());
  CheckSameSnapshot(*decoded, SampleSnapshot());
}

TEST_CASE("json decoder accepts other time forms") {
  // Offsets and fractional seconds are accepted, and the encoder writes the Z form.
  json incident = json::parse(kManualIncidentJson);
  incident["create"] = "2024-03-12T10:00:00.750+01:00";
  incident["searchCriteria"]["start"] = "2024-02-11T09:00:00Z";
  const auto decoded = DecodeIncident(incident.dump());
  REQUIRE(decoded.ok());
  CHECK(decoded->created == k20240312T0900);
  CHECK(ToJson(*decoded).at("create") == "2024-03-12T09:00:00Z");
}

TEST_CASE("json values built in code") {
  // Signed integers, as `json x = 5` gives, are valid counts too.
  json incident = json::parse(kManualIncidentJson);
  incident["identified"] = int64_t{3};
  incident["removed"] = 2;
  Incident decoded;
  const Status status = FromJson(incident, &decoded);
  REQUIRE_MESSAGE(status.ok(), status.field(), ": ", status.message());
  CHECK(decoded.counts.identified == 3);
  CHECK(decoded.counts.removed == 2);
}

TEST_CASE("json failed decode leaves output") {
  Incident incident = ManualIncident();
  json bad = json::parse(kRestoreIncidentJson);
  bad["restored"] = -1;
  CHECK_FALSE(FromJson(bad, &incident).ok());
  CheckSameIncident(incident, ManualIncident());
}

// One bad input: the JSON Pointer of the member to change, its new value
// (none removes it), the error field expected and a part of the message.
struct BadInput {
  std::string pointer;
  std::optional<json> value;
  std::string field;
  std::string message_part;
};

json Apply(json document, const BadInput& bad) {
  const json::json_pointer pointer(bad.pointer);
  if (bad.value) {
    document[pointer] = *bad.value;
  } else {
    document[pointer.parent_pointer()].erase(pointer.back());
  }
  return document;
}

template <typename Decode>
void CheckBadInputs(const json& valid, const std::vector<BadInput>& cases, Decode decode) {
  for (const BadInput& bad : cases) {
    const json document = Apply(valid, bad);
    INFO("change ", bad.pointer, " to ", bad.value ? bad.value->dump() : "(removed)");
    const Status status = decode(document.dump());
    REQUIRE_FALSE(status.ok());
    CHECK(status.code() == StatusCode::kInvalidArgument);
    CHECK(status.field() == bad.field);
    INFO("message: ", status.message());
    CHECK(status.message().find(bad.message_part) != std::string::npos);
  }
}

TEST_CASE("json incident bad input") {
  const std::vector<BadInput> kCases = {
      {"/id", std::nullopt, "id", "missing field; expected a string"},
      {"/id", json(5), "id", "expected a string, got number 5"},
      {"/code", json("TR-acme-00042-M"), "code", "TR-acme-00042-M"},
      {"/code", json("TR-ACME-42-M"), "code", "TR-ACME-42-M"},
      {"/code", json(nullptr), "code", "got null"},
      {"/type", json("bogus"), "type",
       "expected one of manual, automatic, restore, notify_only, mep_clawback, got \"bogus\""},
      {"/type", json("automatic"), "type", "\"automatic\""},
      {"/type", std::nullopt, "type", "missing field"},
      {"/create", json("2024-13-01T00:00:00Z"), "create", "2024-13-01T00:00:00Z"},
      {"/create", json("yesterday"), "create", "yesterday"},
      {"/modified", json(1710234300), "modified", "got number 1710234300"},
      {"/reason", json::array(), "reason", "got array []"},
      {"/reason", json(std::vector<int>(20, 7)), "reason", "got an array of 20 elements"},
      {"/reason", json::parse("[[1]]"), "reason", "got an array of 1 element"},
      {"/reason", json::parse(R"({"a": {}})"), "reason", "got an object with 1 member"},
      {"/identified", json(-1), "identified", "non-negative integer up to 4294967295, got -1"},
      {"/removed", json(1.5), "removed", "got 1.5"},
      {"/failed", json("3"), "failed", "got \"3\""},
      {"/restored", json(4294967296), "restored", "got 4294967296"},
      {"/restored", json(true), "restored", "got true"},
      {"/extra", json(1), "extra", "unknown field"},
      {"/Code", json("TR-ACME-00042-M"), "Code", "unknown field"},
      {"/searchCriteria", std::nullopt, "searchCriteria", "missing field"},
      {"/searchCriteria", json::array(), "searchCriteria", "expected a JSON object, got array"},
      {"/searchCriteria/start", json("2024-02-30T00:00:00Z"), "searchCriteria.start",
       "2024-02-30T00:00:00Z"},
      {"/searchCriteria/end", json("2024-02-11T08:59:59Z"), "searchCriteria.end",
       "expected end at or after start"},
      {"/searchCriteria/end", std::nullopt, "searchCriteria.end", "missing field"},
      {"/searchCriteria/fileHash", json("xyz"), "searchCriteria.fileHash",
       "expected 64 hex digits (SHA-256) or 32 hex digits (MD5), got \"xyz\""},
      {"/searchCriteria/fileHash", json(std::string(kSha256).substr(1)), "searchCriteria.fileHash",
       "64 hex digits"},
      {"/searchCriteria/fileHash", json(7), "searchCriteria.fileHash", "expected a string"},
      {"/searchCriteria/messageId", json("<a@b.example>"), "searchCriteria",
       "exactly one of fileHash and messageId"},
      {"/searchCriteria/fileHash", std::nullopt, "searchCriteria", "got neither"},
      {"/searchCriteria/subject", json("x"), "searchCriteria.subject", "unknown field"},
      {"/searchCriteria/from", json(nullptr), "searchCriteria.from", "got null"},
      {"/searchCriteria/to", std::nullopt, "searchCriteria.to", "missing field"},
      {"/restores", json("TR-ACME-00001-M"), "restores", "only restore incidents"},
  };
  const json valid = json::parse(kManualIncidentJson);
  CheckBadInputs(valid, kCases,
                 [](const std::string& text) { return DecodeIncident(text).status(); });
}

TEST_CASE("json incident identifier bad input") {
  // Starting from the restore incident, whose criteria use messageId.
  const std::vector<BadInput> kCases = {
      {"/searchCriteria/messageId", json(kMd5), "searchCriteria.messageId",
       "is a file hash; send it as fileHash"},
      {"/searchCriteria/messageId", json(""), "searchCriteria.messageId", "expected a Message-ID"},
      {"/restores", json("TR-ACME-42-M"), "restores", "TR-ACME-42-M"},
      {"/restores", json(42), "restores", "got number 42"},
      {"/type", json("manual"), "type", "ends in R"},
  };
  const json valid = json::parse(kRestoreIncidentJson);
  CheckBadInputs(valid, kCases,
                 [](const std::string& text) { return DecodeIncident(text).status(); });
}

TEST_CASE("json message rows bad input") {
  const std::vector<BadInput> kCases = {
      {"/0/status", json("deleted"), "[0].status",
       "expected one of identified, removed, failed, restored, got \"deleted\""},
      {"/0/status", json(1), "[0].status", "got number 1"},
      {"/1/lastAction", json(5), "[1].lastAction", "or null, got number 5"},
      {"/1/lastAction", json("yesterday"), "[1].lastAction", "yesterday"},
      {"/3/lastAction", std::nullopt, "[3].lastAction", "missing field"},
      {"/0/delivered", json(nullptr), "[0].delivered", "got null"},
      {"/2/failureReason", std::nullopt, "[2].failureReason", "missing field"},
      {"/2/failureReason", json(nullptr), "[2].failureReason", "expected a string"},
      {"/0/moved_to", json(""), "[0].moved_to", "unknown field"},
      {"/3/subject", json::object(), "[3].subject", "got object {}"},
      {"/1", json(3), "[1]", "expected a JSON object, got number 3"},
  };
  const json valid = json::parse(kMessageRowsJson);
  CheckBadInputs(valid, kCases,
                 [](const std::string& text) { return DecodeMessageRows(text).status(); });

  const auto not_array = DecodeMessageRows("{}");
  REQUIRE_FALSE(not_array.ok());
  CHECK(not_array.status().field() == "");
  CHECK(not_array.status().message() == "expected a JSON array, got object {}");
}

TEST_CASE("json snapshot bad input") {
  const std::vector<BadInput> kCases = {
      {"/schemaVersion", json(2), "schemaVersion",
       "unsupported schema version 2; this build understands schemaVersion 1 only"},
      {"/schemaVersion", json("1"), "schemaVersion", "unsupported schema version \"1\""},
      {"/schemaVersion", json(1.0), "schemaVersion", "unsupported schema version 1.0"},
      {"/schemaVersion", std::nullopt, "schemaVersion", "missing field"},
      {"/cursor", std::nullopt, "cursor", "missing field"},
      {"/generated", json("2024-03-12 10:00"), "generated", "2024-03-12 10:00"},
      {"/delta", json("yes"), "delta", "expected true or false, got string \"yes\""},
      {"/incidents", json::object(), "incidents", "expected a JSON array, got object"},
      {"/incidents/0/code", json("TR-ACME-00042"), "incidents[0].code", "TR-ACME-00042"},
      {"/incidents/1/searchCriteria/start", json("2024-03-01T25:00:00Z"),
       "incidents[1].searchCriteria.start", "2024-03-01T25:00:00Z"},
      {"/incidents/1/identified", json(-2), "incidents[1].identified", "got -2"},
      {"/incidents/1", json("TR-ACME-00043-R"), "incidents[1]", "expected a JSON object"},
      {"/incidents/1", json::array(), "incidents[1]", "expected a JSON object"},
      {"/purged/0", json::object(), "purged[0]", "expected an incident code"},
      {"/purged/1", json("TR-ACME-2-N"), "purged[1]", "TR-ACME-2-N"},
      {"/purged/0", json(1), "purged[0]", "expected an incident code"},
      {"/purged", json("TR-ACME-00001-A"), "purged", "expected a JSON array"},
      {"/extra", json(true), "extra", "unknown field"},
  };
  CheckBadInputs(SnapshotJson(), kCases,
                 [](const std::string& text) { return DecodeSnapshot(text).status(); });

  // A newer version is reported as such, not as its unknown fields.
  json newer = SnapshotJson();
  newer["schemaVersion"] = 2;
  newer["tombstones"] = json::array();
  const auto decoded = DecodeSnapshot(newer.dump());
  REQUIRE_FALSE(decoded.ok());
  CHECK(decoded.status().field() == "schemaVersion");
}

TEST_CASE("json malformed text reports byte") {
  struct Case {
    std::string text;
    std::string byte_part;
  };
  // Byte positions count from 1 and point at the character that failed.
  const Case kCases[] = {
      {"", "at byte 1:"},    {"{\"id\": }", "at byte 8:"}, {"[1,2", "at byte 5:"},
      {"nul", "at byte 4:"}, {"{} x", "at byte 4:"},
  };
  for (const Case& c : kCases) {
    INFO("text '", c.text, "'");
    for (const Status& status :
         {DecodeIncident(c.text).status(), DecodeMessageRows(c.text).status(),
          DecodeSnapshot(c.text).status()}) {
      REQUIRE_FALSE(status.ok());
      CHECK(status.code() == StatusCode::kInvalidArgument);
      CHECK(status.field() == "");
      INFO("message: ", status.message());
      CHECK(status.message().rfind("invalid JSON at byte", 0) == 0);
      CHECK(status.message().find(c.byte_part) != std::string::npos);
    }
  }
}

TEST_CASE("json object with a key twice") {
  struct Case {
    std::string text;
    std::string key;  // empty: valid
  };
  const Case kCases[] = {
      {R"({"a": 1, "a": 2})", "a"},
      {R"({"outer": {"b": 1, "c": 2, "b": 3}})", "b"},
      {R"([{"d": 1}, {"d": 2, "d": 3}])", "d"},
      // Equal keys in different objects, or an object nested under a key
      // of the same name, are fine.
      {R"({"e": {"e": 1}, "f": [{"e": 2}, {"e": 3}]})", ""},
      {R"({"g": 1, "G": 2})", ""},
  };
  for (const Case& c : kCases) {
    INFO("text ", c.text);
    Result<nlohmann::json> parsed = ParseJson(c.text);
    if (c.key.empty()) {
      CHECK(parsed.ok());
      continue;
    }
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().code() == StatusCode::kInvalidArgument);
    CHECK(parsed.status().field() == c.key);
    CHECK(parsed.status().message() ==
          "the key '" + c.key + "' appears twice in one JSON object; give it once");
  }
  // The decoders report it the same way.
  const Status status = DecodeIncident(R"({"id": "TR-ACME-00001-M", "id": "TR-ACME-00002-M"})").status();
  CHECK(status.field() == "id");
}

TEST_CASE("json deep nesting in error") {
  // Dumping this value into the message would recurse once per level.
  const int kDepth = 200000;
  const std::string text = R"({"schemaVersion": 1, "cursor": )" + std::string(kDepth, '[') +
                           std::string(kDepth, ']') + "}";
  const auto decoded = DecodeSnapshot(text);
  REQUIRE_FALSE(decoded.ok());
  CHECK(decoded.status().field() == "cursor");
  CHECK(decoded.status().message() == "expected a string, got an array of 1 element");
}

TEST_CASE("json invalid utf-8 is replaced") {
  std::vector<MessageRow> rows = SampleRows();
  rows[0].subject = "bad \xFF byte";
  std::string text;
  CHECK_NOTHROW(text = EncodeMessageRows(rows));
  CHECK(text.find("bad \xEF\xBF\xBD byte") != std::string::npos);

  // The decoder does not accept such text, naming the byte.
  const auto decoded = DecodeMessageRows("[\"\xFF\"]");
  REQUIRE_FALSE(decoded.ok());
  CHECK(decoded.status().message().find("at byte 3:") != std::string::npos);
}

}  // namespace
}  // namespace reclaim

TEST_CASE("incident json from the store equals the codec") {
  using namespace reclaim;
  // AppendIncidentJson writes the bytes itself; they must equal the
  // nlohmann-based encoder's for every field shape.
  std::vector<Incident> incidents = reclaim::testing::RandomIncidents(200, 9);
  incidents[0].reason = "quote \" backslash \\ tab \t newline \n bell \x07 end";
  incidents[1].reason = "Überweisung – Rechnung € 99";
  incidents[2].reason = std::string("broken \xC3 utf-8 \xFF");
  incidents[3].criteria.from = "\"Acme, Billing\" <acme@bill.example.net>";
  incidents[4].code.type = IncidentType::kRestore;
  incidents[4].restores = "TR-ACME-00001-M";
  incidents[5].criteria.identifier = std::string(32, 'c');
  IncidentStore store;
  REQUIRE(store.Upsert(incidents).ok());
  for (uint32_t row = 0; row < store.size(); ++row) {
    INFO("row " << row << " reason " << store.reason(row));
    std::string fast;
    AppendIncidentJson(store, row, &fast);
    CHECK(fast == EncodeIncident(store.Get(row)));
  }
}

TEST_CASE("store snapshot matches EncodeSnapshot") {
  reclaim::IncidentStore store;
  REQUIRE(store.Upsert(reclaim::testing::RandomIncidents(300, 11)).ok());
  reclaim::Snapshot expected;
  expected.cursor = "c42";
  expected.generated = 1710237600;
  for (uint32_t row = 0; row < store.size(); ++row)
    expected.incidents.push_back(store.Get(row));

  std::string written = reclaim::EncodeStoreSnapshot(store, "c42", 1710237600);
  CHECK(written == reclaim::EncodeSnapshot(expected));

  reclaim::Result<reclaim::Snapshot> decoded = reclaim::DecodeSnapshot(written);
  REQUIRE(decoded.ok());
  CHECK(decoded->incidents.size() == store.size());
  CHECK(decoded->cursor == "c42");
}

TEST_CASE("store snapshot of an empty store") {
  reclaim::IncidentStore store;
  std::string written = reclaim::EncodeStoreSnapshot(store, "", 0);
  CHECK(written == reclaim::EncodeSnapshot(reclaim::Snapshot{}));
}
