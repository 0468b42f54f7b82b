#include "shared/json_codec.h"

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shared/json_values.h"
#include "shared/time_util.h"

namespace reclaim {
namespace {

using nlohmann::json;

constexpr size_t kMaxShownValueBytes = 80;
constexpr size_t kMaxShownElements = 16;

// Returns true for a scalar, or for an array or object of at most 16
// scalars. Only these are dumped into messages, because dump() recurses once
// per nesting level and a crafted document can nest deeply enough to
// overflow the stack.
bool IsSmallAndFlat(const json& value) {
  if (!value.is_structured())
    return true;
  if (value.size() > kMaxShownElements)
    return false;
  for (const json& element : value) {
    if (element.is_structured())
      return false;
  }
  return true;
}

// Returns the compact JSON text of `value` for error messages, cut to about
// 80 bytes at a UTF-8 character boundary. Larger or nested containers are
// summarised by their size.
std::string ShowValue(const json& value) {
  if (!IsSmallAndFlat(value)) {
    const size_t size = value.size();
    const std::string count = std::to_string(size);
    if (value.is_array())
      return "an array of " + count + (size == 1 ? " element" : " elements");
    return "an object with " + count + (size == 1 ? " member" : " members");
  }
  std::string text = DumpJson(value);
  if (text.size() <= kMaxShownValueBytes)
    return text;
  size_t cut = kMaxShownValueBytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
    --cut;
  text.resize(cut);
  return text + "...";
}

// Returns the type and the value, such as `number 42` or `null`, for errors
// about a value of the wrong type.
std::string DescribeValue(const json& value) {
  if (value.is_null() || !IsSmallAndFlat(value))
    return ShowValue(value);
  return std::string(value.type_name()) + " " + ShowValue(value);
}

// The forms are string views so that a decoder builds message text only
// when a value is bad, not once per field read.
Status WrongType(const std::string& field, const json& value, std::string_view expected) {
  return Status::Invalid(
      field, std::string("expected ").append(expected) + ", got " + DescribeValue(value));
}

Status BadValue(const std::string& field, const json& value, std::string_view expected) {
  return Status::Invalid(field,
                         std::string("expected ").append(expected) + ", got " + ShowValue(value));
}

// "one of manual, automatic, ...", built from the name table once.
const std::string& IncidentTypeForm() {
  static const std::string form = [] {
    std::string text = "one of ";
    for (IncidentType type : kAllIncidentTypes) {
      if (type != kAllIncidentTypes.front())
        text += ", ";
      text += ApiName(type);
    }
    return text;
  }();
  return form;
}

const std::string& MessageStatusForm() {
  static const std::string form = [] {
    std::string text = "one of ";
    for (int i = 0; i < kMessageStatusCount; ++i) {
      if (i > 0)
        text += ", ";
      text += ApiName(static_cast<MessageStatus>(i));
    }
    return text;
  }();
  return form;
}

constexpr std::string_view kTimeForm = "an ISO 8601 UTC time such as \"2026-12-04T15:55:54Z\"";
constexpr std::string_view kTimeOrNullForm =
    "an ISO 8601 UTC time such as \"2026-12-04T15:55:54Z\" or null";
constexpr std::string_view kCodeForm = "an incident code such as \"TR-ACME-00042-M\"";
constexpr std::string_view kCountForm = "a non-negative integer up to 4294967295";

// Reads the members of one JSON object and keeps the first error. Reads
// after an error do nothing, so a decoder lists its fields as plain
// statements and checks status() once. Error fields are member names, and
// the caller adds the record's prefix.
class FieldReader {
 public:
  // Checks that `value` is an object whose member names are all in
  // `known_fields`.
  FieldReader(const json& value, std::initializer_list<const char*> known_fields) : object_(value) {
    if (!value.is_object()) {
      Fail(WrongType("", value, "a JSON object"));
      return;
    }
    for (const auto& member : value.items()) {
      if (!IsKnown(member.key(), known_fields)) {
        Fail(Status::Invalid(member.key(),
                             "unknown field; expected only " + JoinNames(known_fields)));
        return;
      }
    }
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  // Keeps the first error only, because later ones are often its echoes.
  void Fail(Status status) {
    if (status_.ok())
      status_ = std::move(status);
  }

  bool Has(const char* key) const { return ok() && object_.contains(key); }

  // Returns the member, or null after recording that it is missing.
  const json* Find(const char* key, std::string_view expected) {
    if (!ok())
      return nullptr;
    const auto it = object_.find(key);
    if (it != object_.end())
      return &*it;
    Fail(Status::Invalid(key, std::string("missing field; expected ").append(expected)));
    return nullptr;
  }

  // Returns the member's text, or null after recording an error.
  const std::string* FindString(const char* key, std::string_view expected) {
    const json* member = Find(key, expected);
    if (member == nullptr)
      return nullptr;
    if (member->is_string())
      return &member->get_ref<const std::string&>();
    Fail(WrongType(key, *member, expected));
    return nullptr;
  }

  void String(const char* key, std::string* out) {
    if (const std::string* text = FindString(key, "a string"))
      *out = *text;
  }

  void Bool(const char* key, bool* out) {
    const json* member = Find(key, "true or false");
    if (member == nullptr)
      return;
    if (member->is_boolean()) {
      *out = member->get<bool>();
      return;
    }
    Fail(WrongType(key, *member, "true or false"));
  }

  // A message count: an integer from 0 to 2^32 - 1. A value built in code
  // may be a signed integer, so both integer kinds are accepted.
  void Count(const char* key, uint32_t* out) {
    const json* member = Find(key, kCountForm);
    if (member == nullptr)
      return;
    constexpr uint64_t kMax = std::numeric_limits<uint32_t>::max();
    if (member->is_number_unsigned() && member->get<uint64_t>() <= kMax) {
      *out = static_cast<uint32_t>(member->get<uint64_t>());
      return;
    }
    if (member->is_number_integer() && !member->is_number_unsigned() &&
        member->get<int64_t>() >= 0 && static_cast<uint64_t>(member->get<int64_t>()) <= kMax) {
      *out = static_cast<uint32_t>(member->get<int64_t>());
      return;
    }
    Fail(BadValue(key, *member, kCountForm));
  }

  void Time(const char* key, UnixSeconds* out) {
    const std::string* text = FindString(key, kTimeForm);
    if (text == nullptr)
      return;
    Result<UnixSeconds> time = ParseIso8601(*text, key);
    if (time.ok()) {
      *out = *time;
    } else {
      Fail(time.status());
    }
  }

  // A time that may be null, meaning "never" (stored as 0).
  void TimeOrNull(const char* key, UnixSeconds* out) {
    const json* member = Find(key, kTimeOrNullForm);
    if (member == nullptr)
      return;
    if (member->is_null()) {
      *out = 0;
      return;
    }
    if (!member->is_string()) {
      Fail(WrongType(key, *member, kTimeOrNullForm));
      return;
    }
    Time(key, out);
  }

  void Code(const char* key, IncidentCode* out) {
    const std::string* text = FindString(key, kCodeForm);
    if (text == nullptr)
      return;
    Result<IncidentCode> code = ParseIncidentCode(*text, key);
    if (code.ok()) {
      *out = *code;
    } else {
      Fail(code.status());
    }
  }

  void Type(const char* key, IncidentType* out) {
    const std::string* text = FindString(key, IncidentTypeForm());
    if (text == nullptr)
      return;
    if (std::optional<IncidentType> type = IncidentTypeFromApiName(*text)) {
      *out = *type;
      return;
    }
    Fail(BadValue(key, *text, IncidentTypeForm()));
  }

  void MessageStatusField(const char* key, MessageStatus* out) {
    const std::string* text = FindString(key, MessageStatusForm());
    if (text == nullptr)
      return;
    if (std::optional<MessageStatus> status = MessageStatusFromApiName(*text)) {
      *out = *status;
      return;
    }
    Fail(BadValue(key, *text, MessageStatusForm()));
  }

  // Decodes a member with `decode(const json&) -> Status`, whose error
  // fields are relative to the member.
  template <typename Decode>
  void Nested(const char* key, std::string_view expected, Decode decode) {
    const json* member = Find(key, expected);
    if (member == nullptr)
      return;
    Status status = decode(*member);
    if (!status.ok())
      Fail(status.WithFieldPrefix(key));
  }

 private:
  static bool IsKnown(const std::string& name, std::initializer_list<const char*> known_fields) {
    for (const char* known : known_fields) {
      if (name == known)
        return true;
    }
    return false;
  }

  static std::string JoinNames(std::initializer_list<const char*> names) {
    std::string joined;
    for (const char* name : names) {
      if (!joined.empty())
        joined += ", ";
      joined += name;
    }
    return joined;
  }

  const json& object_;
  Status status_;
};

// Decodes each element of a JSON array with `decode(const json&, T*)`.
// Element errors are prefixed with `name[i]`, so that `name` "incidents"
// gives `incidents[12].searchCriteria.start` and an empty name gives `[3].status`.
template <typename T, typename Decode>
Status DecodeArray(const json& value, const std::string& name, Decode decode, std::vector<T>* out) {
  if (!value.is_array())
    return WrongType(name, value, "a JSON array");
  std::vector<T> items;
  items.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    T item;
    Status status = decode(value[i], &item);
    if (!status.ok())
      return status.WithFieldPrefix(name + "[" + std::to_string(i) + "]");
    items.push_back(std::move(item));
  }
  *out = std::move(items);
  return Status::Ok();
}

// nlohmann::json::get and at throw on a type mismatch. The decoders check
// types first, so this only turns a missed check into an error value
// instead of an exception.
template <typename Decode>
Status CatchJsonErrors(const char* record_kind, Decode decode) {
  try {
    return decode();
  } catch (const json::exception& error) {
    return Status::Internal(std::string("unexpected JSON error while decoding ") + record_kind +
                            ": " + error.what());
  }
}

// ---------------------------------------------------------------------------
// Incident

json CriteriaToJson(const SearchCriteria& criteria) {
  json out = json::object();
  const bool is_hash = ClassifyIdentifier(criteria.identifier) != IdentifierKind::kMessageId;
  out[is_hash ? "fileHash" : "messageId"] = criteria.identifier;
  out["from"] = criteria.from;
  out["to"] = criteria.to;
  out["start"] = FormatIso8601(criteria.start);
  out["end"] = FormatIso8601(criteria.end);
  return out;
}

// Exactly one of fileHash and messageId is present, and its value must be
// the kind of identifier that ClassifyIdentifier gives, so that encoding the
// decoded criteria chooses the same field again.
Status CheckIdentifier(bool is_hash_field, const std::string& identifier) {
  const IdentifierKind kind = ClassifyIdentifier(identifier);
  if (is_hash_field && kind == IdentifierKind::kMessageId) {
    return BadValue("fileHash", identifier, "64 hex digits (SHA-256) or 32 hex digits (MD5)");
  }
  if (!is_hash_field && identifier.empty()) {
    return Status::Invalid("messageId",
                           "expected a Message-ID such as \"<id@example.com>\", got \"\"");
  }
  if (!is_hash_field && kind != IdentifierKind::kMessageId) {
    return Status::Invalid("messageId", "got " + ShowValue(identifier) +
                                            ", which is a file hash; send it as fileHash");
  }
  return Status::Ok();
}

Status CriteriaFromJson(const json& value, SearchCriteria* out) {
  FieldReader reader(value, {"fileHash", "messageId", "from", "to", "start", "end"});
  if (!reader.ok())
    return reader.status();

  const bool has_hash = reader.Has("fileHash");
  if (has_hash == reader.Has("messageId")) {
    return Status::Invalid("", has_hash ? "expected exactly one of fileHash and messageId, got both"
                                        : "expected fileHash or messageId, got neither");
  }
  SearchCriteria criteria;
  const char* identifier_key = has_hash ? "fileHash" : "messageId";
  reader.String(identifier_key, &criteria.identifier);
  if (reader.ok())
    reader.Fail(CheckIdentifier(has_hash, criteria.identifier));
  reader.String("from", &criteria.from);
  reader.String("to", &criteria.to);
  reader.Time("start", &criteria.start);
  reader.Time("end", &criteria.end);
  if (reader.ok() && criteria.end < criteria.start) {
    reader.Fail(Status::Invalid("end", "the window ends at " + FormatIso8601(criteria.end) +
                                           ", before its start " + FormatIso8601(criteria.start) +
                                           "; expected end at or after start"));
  }
  if (!reader.ok())
    return reader.status();
  *out = std::move(criteria);
  return Status::Ok();
}

Status DecodeIncidentFields(const json& value, Incident* out) {
  FieldReader reader(value, {"id", "code", "type", "create", "modified", "reason", "identified",
                             "removed", "failed", "restored", "searchCriteria", "restores"});
  Incident incident;
  reader.String("id", &incident.id);
  reader.Code("code", &incident.code);

  // The type is stored once, in the code, so the separate field must agree.
  IncidentType type = IncidentType::kManual;
  reader.Type("type", &type);
  if (reader.ok() && type != incident.code.type) {
    reader.Fail(Status::Invalid(
        "type", "got \"" + std::string(ApiName(type)) + "\", but the code " +
                    FormatIncidentCode(incident.code) + " ends in " +
                    CodeLetter(incident.code.type) + ", which means \"" +
                    std::string(ApiName(incident.code.type)) + "\"; expected them to agree"));
  }

  reader.Time("create", &incident.created);
  reader.Time("modified", &incident.modified);
  reader.String("reason", &incident.reason);
  reader.Count("identified", &incident.counts.identified);
  reader.Count("removed", &incident.counts.removed);
  reader.Count("failed", &incident.counts.failed);
  reader.Count("restored", &incident.counts.restored);
  reader.Nested("searchCriteria", "a JSON object", [&](const json& criteria) {
    return CriteriaFromJson(criteria, &incident.criteria);
  });

  // The optional link from a restore incident to the one it restores.
  if (reader.Has("restores")) {
    IncidentCode original;
    reader.Code("restores", &original);
    if (reader.ok() && incident.code.type != IncidentType::kRestore) {
      reader.Fail(Status::Invalid("restores",
                                  "only restore incidents name an original, but this "
                                  "incident's type is \"" +
                                      std::string(ApiName(incident.code.type)) +
                                      "\"; remove restores or fix the type"));
    }
    if (reader.ok())
      incident.restores = FormatIncidentCode(original);
  }

  if (!reader.ok())
    return reader.status();
  *out = std::move(incident);
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// MessageRow

Status DecodeMessageRowFields(const json& value, MessageRow* out) {
  FieldReader reader(value, {"id", "recipient", "sender", "subject", "delivered", "mailbox",
                             "folder", "movedTo", "status", "failureReason", "lastAction"});
  MessageRow row;
  reader.String("id", &row.id);
  reader.String("recipient", &row.recipient);
  reader.String("sender", &row.sender);
  reader.String("subject", &row.subject);
  reader.Time("delivered", &row.delivered);
  reader.String("mailbox", &row.mailbox);
  reader.String("folder", &row.folder);
  reader.String("movedTo", &row.moved_to);
  reader.MessageStatusField("status", &row.status);

  // A known text maps back to its reason, and any other text is kept as
  // the detail of kOther.
  std::string failure_text;
  reader.String("failureReason", &failure_text);
  row.failure = FailureReasonFromText(failure_text);
  if (row.failure == FailureReason::kOther)
    row.failure_detail = std::move(failure_text);

  reader.TimeOrNull("lastAction", &row.last_action);
  if (!reader.ok())
    return reader.status();
  *out = std::move(row);
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Snapshot

// Checked before the other fields, so that a document of another version
// gets this error and not one about a field that version added or dropped.
Status CheckSchemaVersion(const json& value) {
  const std::string supported =
      "this build understands schemaVersion " + std::to_string(kSnapshotSchemaVersion) + " only";
  const auto it = value.find("schemaVersion");
  if (it == value.end()) {
    return Status::Invalid("schemaVersion", "missing field; " + supported);
  }
  if (!it->is_number_integer() || it->get<int64_t>() != kSnapshotSchemaVersion) {
    return Status::Invalid("schemaVersion",
                           "unsupported schema version " + ShowValue(*it) + "; " + supported +
                               ", so update the client and the server to the same release");
  }
  return Status::Ok();
}

Status DecodeSnapshotFields(const json& value, Snapshot* out) {
  if (value.is_object()) {
    Status version = CheckSchemaVersion(value);
    if (!version.ok())
      return version;
  }
  FieldReader reader(value,
                     {"schemaVersion", "cursor", "generated", "delta", "incidents", "purged"});
  Snapshot snapshot;
  reader.String("cursor", &snapshot.cursor);
  reader.Time("generated", &snapshot.generated);
  reader.Bool("delta", &snapshot.delta);

  // Array members build their own `incidents[12]` prefixes, so they go
  // through Find and not Nested, which would add a dot.
  if (const json* incidents = reader.Find("incidents", "a JSON array of incidents")) {
    reader.Fail(DecodeArray(*incidents, "incidents", DecodeIncidentFields, &snapshot.incidents));
  }
  if (const json* purged = reader.Find("purged", "a JSON array of incident codes")) {
    reader.Fail(DecodeArray(
        *purged, "purged",
        [](const json& element, std::string* code) {
          if (!element.is_string())
            return WrongType("", element, kCodeForm);
          Result<IncidentCode> parsed =
              ParseIncidentCode(element.get_ref<const std::string&>(), "");
          if (!parsed.ok())
            return parsed.status();
          *code = FormatIncidentCode(*parsed);
          return Status::Ok();
        },
        &snapshot.purged));
  }

  if (!reader.ok())
    return reader.status();
  *out = std::move(snapshot);
  return Status::Ok();
}

// Parses `text` and decodes it with FromJson into a T.
template <typename T>
Result<T> DecodeText(std::string_view text) {
  Result<json> parsed = ParseJson(text);
  if (!parsed.ok())
    return parsed.status();
  T value;
  Status status = FromJson(*parsed, &value);
  if (!status.ok())
    return status;
  return value;
}

}  // namespace

// ---------------------------------------------------------------------------
// json_values.h

nlohmann::json ToJson(const Incident& incident) {
  json out = json::object();
  out["id"] = incident.id;
  out["code"] = FormatIncidentCode(incident.code);
  out["type"] = std::string(ApiName(incident.code.type));
  out["create"] = FormatIso8601(incident.created);
  out["modified"] = FormatIso8601(incident.modified);
  out["reason"] = incident.reason;
  out["identified"] = incident.counts.identified;
  out["removed"] = incident.counts.removed;
  out["failed"] = incident.counts.failed;
  out["restored"] = incident.counts.restored;
  out["searchCriteria"] = CriteriaToJson(incident.criteria);
  if (!incident.restores.empty())
    out["restores"] = incident.restores;
  return out;
}

Status FromJson(const nlohmann::json& value, Incident* out) {
  return CatchJsonErrors("an incident", [&] { return DecodeIncidentFields(value, out); });
}

nlohmann::json ToJson(const MessageRow& row) {
  json out = json::object();
  out["id"] = row.id;
  out["recipient"] = row.recipient;
  out["sender"] = row.sender;
  out["subject"] = row.subject;
  out["delivered"] = FormatIso8601(row.delivered);
  out["mailbox"] = row.mailbox;
  out["folder"] = row.folder;
  out["movedTo"] = row.moved_to;
  out["status"] = std::string(ApiName(row.status));
  out["failureReason"] = FailureDisplay(row);
  out["lastAction"] = row.last_action == 0 ? json(nullptr) : json(FormatIso8601(row.last_action));
  return out;
}

Status FromJson(const nlohmann::json& value, MessageRow* out) {
  return CatchJsonErrors("a message row", [&] { return DecodeMessageRowFields(value, out); });
}

nlohmann::json ToJson(const std::vector<MessageRow>& rows) {
  json out = json::array();
  for (const MessageRow& row : rows)
    out.push_back(ToJson(row));
  return out;
}

Status FromJson(const nlohmann::json& value, std::vector<MessageRow>* out) {
  return CatchJsonErrors("message rows",
                         [&] { return DecodeArray(value, "", DecodeMessageRowFields, out); });
}

nlohmann::json ToJson(const Snapshot& snapshot) {
  json out = json::object();
  out["schemaVersion"] = kSnapshotSchemaVersion;
  out["cursor"] = snapshot.cursor;
  out["generated"] = FormatIso8601(snapshot.generated);
  out["delta"] = snapshot.delta;
  json incidents = json::array();
  for (const Incident& incident : snapshot.incidents)
    incidents.push_back(ToJson(incident));
  out["incidents"] = std::move(incidents);
  out["purged"] = snapshot.purged;
  return out;
}

Status FromJson(const nlohmann::json& value, Snapshot* out) {
  return CatchJsonErrors("a snapshot", [&] { return DecodeSnapshotFields(value, out); });
}

// With error_handler_t::replace, dump() has no invalid-UTF-8 case left to
// throw for, so no catch is needed here.
std::string DumpJson(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

// Thrown from the parser callback to stop at a key an object already has.
struct DuplicateKey {
  std::string key;
};

}  // namespace

Result<nlohmann::json> ParseJson(std::string_view text) {
  // nlohmann keeps the last of two equal keys in one object. A request
  // that names a field twice is more likely a mistake than a wish for the
  // second value, so it is rejected. The stack contains the keys seen in
  // each open object. Arrays have no keys and need no entry.
  std::vector<std::set<std::string>> keys;
  json::parser_callback_t callback = [&keys](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        keys.emplace_back();
        break;
      case json::parse_event_t::object_end:
        keys.pop_back();
        break;
      case json::parse_event_t::key:
        if (!keys.empty() && !keys.back().insert(parsed.get<std::string>()).second)
          throw DuplicateKey{parsed.get<std::string>()};
        break;
      default:
        break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), callback);
  } catch (const DuplicateKey& duplicate) {
    return Status::Invalid(duplicate.key, "the key '" + duplicate.key +
                                              "' appears twice in one JSON object; give it once");
  } catch (const json::parse_error& error) {
    // what() starts with "[json.exception.parse_error.101] ". The rest is
    // the parser's own description with line and column.
    std::string description = error.what();
    const size_t tag_end = description.find("] ");
    if (tag_end != std::string::npos)
      description.erase(0, tag_end + 2);
    return Status::Invalid(
        "", "invalid JSON at byte " + std::to_string(error.byte) + ": " + description);
  }
}

// ---------------------------------------------------------------------------
// json_codec.h

namespace {

// A JSON string literal as nlohmann::json dumps it with ensure_ascii off.
// Text with bytes above 0x7F goes through nlohmann itself, so its UTF-8
// checks and replacement characters come out the same.
void AppendJsonString(std::string_view text, std::string* out) {
  bool plain = true;
  bool ascii = true;
  for (char c : text) {
    unsigned char b = static_cast<unsigned char>(c);
    ascii = ascii && b < 0x80;
    plain = plain && b >= 0x20 && b < 0x80 && c != '"' && c != '\\';
  }
  if (plain) {
    out->push_back('"');
    out->append(text);
    out->push_back('"');
    return;
  }
  if (!ascii) {
    out->append(DumpJson(json(std::string(text))));
    return;
  }
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char c : text) {
    unsigned char b = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (b < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[b >> 4]);
          out->push_back(kHex[b & 15]);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

void AppendTime(UnixSeconds t, std::string* out) {
  char buffer[32];
  out->push_back('"');
  out->append(buffer, FormatIso8601(t, buffer));
  out->push_back('"');
}

}  // namespace

void AppendIncidentJson(const IncidentStore& store, uint32_t row, std::string* out) {
  // Members in the order nlohmann::json writes them: sorted by name.
  const MessageCounts& counts = store.counts(row);
  char code[48];
  out->append("{\"code\":\"");
  out->append(code, store.FormatCode(row, code));
  out->append("\",\"create\":");
  AppendTime(store.created(row), out);
  out->append(",\"failed\":");
  out->append(std::to_string(counts.failed));
  out->append(",\"id\":");
  AppendJsonString(store.id(row), out);
  out->append(",\"identified\":");
  out->append(std::to_string(counts.identified));
  out->append(",\"modified\":");
  AppendTime(store.modified(row), out);
  out->append(",\"reason\":");
  AppendJsonString(store.reason(row), out);
  out->append(",\"removed\":");
  out->append(std::to_string(counts.removed));
  out->append(",\"restored\":");
  out->append(std::to_string(counts.restored));
  std::string_view restores = store.restores(row);
  if (!restores.empty()) {
    out->append(",\"restores\":");
    AppendJsonString(restores, out);
  }
  std::string_view identifier = store.identifier(row);
  bool is_hash = ClassifyIdentifier(identifier) != IdentifierKind::kMessageId;
  out->append(",\"searchCriteria\":{\"end\":");
  AppendTime(store.window_end(row), out);
  out->append(is_hash ? ",\"fileHash\":" : ",\"from\":");
  if (is_hash) {
    AppendJsonString(identifier, out);
    out->append(",\"from\":");
  }
  AppendJsonString(store.from(row), out);
  if (!is_hash) {
    out->append(",\"messageId\":");
    AppendJsonString(identifier, out);
  }
  out->append(",\"start\":");
  AppendTime(store.window_start(row), out);
  out->append(",\"to\":");
  AppendJsonString(store.to(row), out);
  out->append("},\"type\":\"");
  out->append(ApiName(store.type(row)));
  out->append("\"}");
}

std::string EncodeIncident(const Incident& incident) {
  return DumpJson(ToJson(incident));
}

Result<Incident> DecodeIncident(std::string_view json_text) {
  return DecodeText<Incident>(json_text);
}

std::string EncodeMessageRows(const std::vector<MessageRow>& rows) {
  return DumpJson(ToJson(rows));
}

Result<std::vector<MessageRow>> DecodeMessageRows(std::string_view json_text) {
  return DecodeText<std::vector<MessageRow>>(json_text);
}

std::string EncodeSnapshot(const Snapshot& snapshot) {
  return DumpJson(ToJson(snapshot));
}

// A snapshot of a million incidents is about 400 MB of JSON, and a parsed
// nlohmann::json document of it takes several times that, more than a
// 32-bit WebAssembly heap can hold. So each element of `incidents` is
// decoded as soon as the parser completes it and then dropped from the
// document; memory stays near the text plus the decoded incidents.
Result<Snapshot> DecodeSnapshot(std::string_view json_text) {
  std::vector<Incident> incidents;
  Status incident_error = Status::Ok();
  std::string member;  // the top-level member being parsed
  bool in_incidents = false;
  size_t index = 0;  // of the next element of `incidents`
  json::parser_callback_t callback = [&](int depth, json::parse_event_t event, json& parsed) {
    using Event = json::parse_event_t;
    if (depth == 1 && event == Event::key) {
      member = parsed.is_string() ? parsed.get<std::string>() : std::string();
    } else if (depth == 1 && event == Event::array_start) {
      in_incidents = member == "incidents";
    } else if (depth == 1 && event == Event::array_end) {
      in_incidents = false;
    } else if (depth == 2 && in_incidents &&
               (event == Event::object_end || event == Event::array_end || event == Event::value)) {
      if (incident_error.ok()) {
        Incident incident;
        Status status = CatchJsonErrors(
            "an incident", [&] { return DecodeIncidentFields(parsed, &incident); });
        if (status.ok()) {
          incidents.push_back(std::move(incident));
        } else {
          incident_error = status.WithFieldPrefix("incidents[" + std::to_string(index) + "]");
        }
      }
      ++index;
      return false;
    }
    return true;
  };

  json value;
  try {
    value = json::parse(json_text.begin(), json_text.end(), callback);
  } catch (const json::parse_error&) {
    // The same text through ParseJson gives the error in its usual words.
    return ParseJson(json_text).status();
  }
  if (value.is_object()) {
    Status version = CheckSchemaVersion(value);
    if (!version.ok())
      return version;
  }
  if (!incident_error.ok())
    return incident_error;
  Snapshot snapshot;
  Status status = CatchJsonErrors("a snapshot", [&] { return DecodeSnapshotFields(value, &snapshot); });
  if (!status.ok())
    return status;
  // The document's `incidents` array is empty now: its elements are here.
  snapshot.incidents = std::move(incidents);
  return snapshot;
}

// The members are written in the order DumpJson gives them (alphabetical),
// so the result matches EncodeSnapshot exactly.
std::string EncodeStoreSnapshot(const IncidentStore& store, const std::string& cursor,
                                UnixSeconds generated) {
  std::string out = "{\"cursor\":";
  out += DumpJson(json(cursor));
  out += ",\"delta\":false,\"generated\":";
  out += DumpJson(json(FormatIso8601(generated)));
  out += ",\"incidents\":[";
  for (uint32_t row = 0; row < store.size(); ++row) {
    if (row != 0) out += ',';
    AppendIncidentJson(store, row, &out);
  }
  out += "],\"purged\":[],\"schemaVersion\":";
  out += std::to_string(kSnapshotSchemaVersion);
  out += '}';
  return out;
}

}  // namespace reclaim
