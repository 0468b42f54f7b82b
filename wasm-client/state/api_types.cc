#include "wasm-client/state/api_types.h"

#include <array>
#include <nlohmann/json.hpp>

#include "shared/json_values.h"

namespace reclaim::client {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, kRequestKindCount> kRequestKindNames = {
    "session", "sync", "incident", "message", "remove", "restore", "remediation", "job"};
static_assert(kRequestKindNames.size() == kRequestKindCount);

// Reads a string member; a missing or null member leaves `out` empty.
Status ReadString(const json& object, const char* key, std::string* out) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null())
    return Status::Ok();
  if (!it->is_string())
    return Status::Invalid(key, std::string(key) + " is not a string");
  *out = it->get<std::string>();
  return Status::Ok();
}

Status ReadTime(const json& object, const char* key, UnixSeconds* out) {
  std::string text;
  if (Status s = ReadString(object, key, &text); !s.ok())
    return s;
  if (text.empty())
    return Status::Ok();
  Result<UnixSeconds> time = ParseIso8601(text, key);
  if (!time.ok())
    return time.status();
  *out = *time;
  return Status::Ok();
}

template <typename T>
Status ReadUnsigned(const json& object, const char* key, T* out) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null())
    return Status::Ok();
  if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<int64_t>() >= 0))
    return Status::Invalid(key, std::string(key) + " is not a count");
  *out = it->get<T>();
  return Status::Ok();
}

Status ReadBool(const json& object, const char* key, bool* out) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null())
    return Status::Ok();
  if (!it->is_boolean())
    return Status::Invalid(key, std::string(key) + " is not a boolean");
  *out = it->get<bool>();
  return Status::Ok();
}

Result<json> ParseObject(std::string_view text) {
  Result<json> value = ParseJson(text);
  if (!value.ok())
    return value.status();
  if (!value->is_object())
    return Status::Invalid("body", "the response is not a JSON object");
  return value;
}

Status JobFromJson(const json& value, JobStatus* job) {
  if (!value.is_object())
    return Status::Invalid("job", "job is not an object");
  Status s = ReadString(value, "id", &job->id);
  if (s.ok())
    s = ReadString(value, "kind", &job->kind);
  if (s.ok())
    s = ReadString(value, "incidentId", &job->incident_id);
  if (s.ok())
    s = ReadString(value, "state", &job->state);
  if (s.ok())
    s = ReadUnsigned(value, "total", &job->total);
  if (s.ok())
    s = ReadUnsigned(value, "done", &job->done);
  if (s.ok())
    s = ReadString(value, "error", &job->error);
  if (s.ok() && job->id.empty())
    s = Status::Invalid("id", "the job has no id");
  return s.ok() ? s : s.WithFieldPrefix("job");
}

Status AttachmentFromJson(const json& value, AttachmentInfo* out) {
  Status s = ReadString(value, "filename", &out->filename);
  if (s.ok())
    s = ReadString(value, "contentType", &out->content_type);
  if (s.ok())
    s = ReadUnsigned(value, "size", &out->size);
  if (s.ok())
    s = ReadString(value, "sha256", &out->sha256);
  if (s.ok())
    s = ReadString(value, "md5", &out->md5);
  return s;
}

Status EventFromJson(const json& value, MessageEvent* out) {
  Status s = ReadString(value, "incidentCode", &out->incident_code);
  if (s.ok())
    s = ReadString(value, "type", &out->type);
  if (s.ok())
    s = ReadString(value, "status", &out->status);
  if (s.ok())
    s = ReadTime(value, "time", &out->time);
  if (s.ok())
    s = ReadString(value, "folder", &out->folder);
  if (s.ok())
    s = ReadString(value, "movedTo", &out->moved_to);
  if (s.ok())
    s = ReadString(value, "failureReason", &out->failure_reason);
  return s;
}

Status SummaryFromJson(const json& value, MessageDetail* out) {
  Status s = ReadString(value, "from", &out->from);
  if (s.ok())
    s = ReadString(value, "fromAddress", &out->from_address);
  if (s.ok())
    s = ReadString(value, "subject", &out->subject);
  if (s.ok())
    s = ReadTime(value, "date", &out->date);
  if (s.ok())
    s = ReadString(value, "messageId", &out->message_id);
  if (s.ok())
    s = ReadUnsigned(value, "size", &out->size);
  if (s.ok())
    s = ReadTime(value, "delivered", &out->delivered);
  if (s.ok())
    s = ReadString(value, "mailbox", &out->mailbox);
  if (s.ok())
    s = ReadString(value, "folder", &out->folder);
  if (s.ok())
    s = ReadBool(value, "present", &out->present);
  auto recipients = value.find("recipients");
  if (s.ok() && recipients != value.end() && recipients->is_array()) {
    for (const json& address : *recipients)
      if (address.is_string())
        out->recipients.push_back(address.get<std::string>());
  }
  return s;
}

// Decodes each element of the array member `key` with `decode`; errors name
// the element as `key[i]`.
template <typename T, typename Decode>
Status ReadArray(const json& object, const char* key, std::vector<T>* out, Decode decode) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null())
    return Status::Ok();
  if (!it->is_array())
    return Status::Invalid(key, std::string(key) + " is not an array");
  for (size_t i = 0; i < it->size(); ++i) {
    T item;
    if (Status s = decode((*it)[i], &item); !s.ok())
      return s.WithFieldPrefix(std::string(key) + "[" + std::to_string(i) + "]");
    out->push_back(std::move(item));
  }
  return Status::Ok();
}

}  // namespace

std::string_view DisplayName(RequestKind kind) {
  return kRequestKindNames[static_cast<size_t>(kind)];
}

std::string ServerError::Display() const {
  switch (kind) {
    case ErrorKind::kNone:
      return {};
    case ErrorKind::kUnreachable:
      return message.empty() ? "Server unreachable" : "Server unreachable (" + message + ")";
    case ErrorKind::kRefused:
      return "Server refused (" + message + ")";
  }
  return {};
}

ServerError ClassifyResponse(const HttpResponse& response) {
  ServerError error;
  if (!response.reached) {
    error.kind = ErrorKind::kUnreachable;
    error.message = response.transport_error;
    return error;
  }
  if (response.status >= 200 && response.status < 300)
    return error;

  error.kind = ErrorKind::kRefused;
  error.status = response.status;
  Result<json> body = ParseJson(response.body);
  if (body.ok() && body->is_object() && body->contains("error") && (*body)["error"].is_object()) {
    const json& detail = (*body)["error"];
    (void)ReadString(detail, "field", &error.field);
    (void)ReadString(detail, "message", &error.message);
  }
  if (error.message.empty()) {
    constexpr size_t kShownBytes = 120;
    error.message = "HTTP " + std::to_string(response.status);
    if (!response.body.empty())
      error.message += ": " + response.body.substr(0, kShownBytes);
  }
  return error;
}

float JobStatus::Progress() const {
  if (finished())
    return 1.0f;
  if (total == 0)
    return 0.0f;
  return static_cast<float>(done) / static_cast<float>(total);
}

Result<JobStatus> DecodeJob(std::string_view text) {
  Result<json> value = ParseObject(text);
  if (!value.ok())
    return value.status();
  JobStatus job;
  if (Status s = JobFromJson(*value, &job); !s.ok())
    return s;
  return job;
}

Result<IncidentDetail> DecodeIncidentDetail(std::string_view text) {
  Result<json> value = ParseObject(text);
  if (!value.ok())
    return value.status();
  IncidentDetail detail;
  json messages = json::array();
  if (auto it = value->find("messages"); it != value->end()) {
    messages = std::move(*it);
    value->erase("messages");
  }
  if (Status s = FromJson(*value, &detail.incident); !s.ok())
    return s;
  if (Status s = FromJson(messages, &detail.messages); !s.ok())
    return s.WithFieldPrefix("messages");
  return detail;
}

Result<MutationResult> DecodeMutationResult(std::string_view text) {
  Result<json> value = ParseObject(text);
  if (!value.ok())
    return value.status();
  MutationResult result;
  if (auto it = value->find("incident"); it != value->end()) {
    if (Status s = FromJson(*it, &result.incident); !s.ok())
      return s.WithFieldPrefix("incident");
    result.has_incident = true;
  }
  if (auto it = value->find("job"); it != value->end()) {
    if (Status s = JobFromJson(*it, &result.job); !s.ok())
      return s;
    result.has_job = true;
  }
  return result;
}

Result<MessageDetail> DecodeMessageDetail(std::string_view text) {
  Result<json> value = ParseObject(text);
  if (!value.ok())
    return value.status();
  MessageDetail detail;
  Status s;
  if (auto it = value->find("incident"); it != value->end() && it->is_object())
    s = ReadString(*it, "code", &detail.incident_code);
  if (auto it = value->find("message"); s.ok() && it != value->end() && it->is_object())
    s = SummaryFromJson(*it, &detail);
  if (s.ok())
    s = ReadArray(*value, "attachments", &detail.attachments, AttachmentFromJson);
  if (auto it = value->find("body"); s.ok() && it != value->end() && it->is_object()) {
    s = ReadBool(*it, "available", &detail.body_available);
    if (s.ok())
      s = ReadString(*it, "text", &detail.body_text);
    if (s.ok())
      s = ReadBool(*it, "truncated", &detail.body_truncated);
    if (s.ok())
      s = ReadString(*it, "error", &detail.body_error);
  }
  if (s.ok()) {
    s = ReadArray(*value, "recipients", &detail.recipient_rows,
                  [](const json& row, MessageRow* out) { return FromJson(row, out); });
  }
  if (s.ok())
    s = ReadArray(*value, "history", &detail.history, EventFromJson);
  if (!s.ok())
    return s;
  return detail;
}

Result<SessionInfo> DecodeSession(std::string_view text) {
  Result<json> value = ParseObject(text);
  if (!value.ok())
    return value.status();
  SessionInfo session;
  Status s = ReadString(*value, "name", &session.token_name);
  if (s.ok())
    s = ReadString(*value, "role", &session.role);
  if (s.ok())
    s = ReadString(*value, "organisation", &session.organisation);
  if (!s.ok())
    return s;
  return session;
}

}  // namespace reclaim::client
