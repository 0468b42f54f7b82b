// Records the console exchanges with the sync server (docs/api.md), and the
// split of failed requests into "unreachable" and "refused".
//
// Plain C++ with no Emscripten and no GL, so the tests build it natively.
// Decoders return an error naming the member at fault and never throw.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "shared/incident.h"
#include "shared/status.h"

namespace reclaim::client {

// What a request is for, so its response goes to the right handler.
enum class RequestKind : uint8_t {
  kSession,
  kSync,
  kIncident,
  kMessage,
  kRemove,
  kRestore,
  kRemediate,
  kJob,
};
constexpr int kRequestKindCount = 8;
std::string_view DisplayName(RequestKind kind);  // "sync", "incident", ...

// One request for the network module to send with the bearer token.
struct HttpRequest {
  RequestKind kind = RequestKind::kSession;
  std::string method = "GET";
  std::string path;     // starts with /api/v1/, query string included
  std::string body;     // JSON, empty for none
  uint64_t serial = 0;  // set by ClientState; matches the response to its request
};

// The outcome of one request as the network module reports it.
struct HttpResponse {
  bool reached = false;  // false: no HTTP response at all
  int status = 0;        // HTTP status when reached
  std::string body;
  std::string transport_error;  // why the server was not reached
};

// A failed request as the console shows it.
enum class ErrorKind : uint8_t { kNone, kUnreachable, kRefused };
struct ServerError {
  ErrorKind kind = ErrorKind::kNone;
  int status = 0;       // HTTP status for kRefused
  std::string field;    // the error body's `field`, may be empty
  std::string message;  // the error body's `message`, or the transport error

  bool ok() const { return kind == ErrorKind::kNone; }
  // "Server unreachable (...)" or "Server refused (<message>)".
  std::string Display() const;
};

// kNone for a 2xx response. A response outside 2xx is kRefused with the
// message of the server's error body (docs/api.md, "Errors"), or the status
// and the start of the body when the body is not that shape.
ServerError ClassifyResponse(const HttpResponse& response);

// A background job (remove, restore, index) with its progress.
struct JobStatus {
  std::string id;
  std::string kind;
  std::string incident_id;
  std::string state;  // queued, running, succeeded, failed, cancelled
  uint32_t total = 0;
  uint32_t done = 0;
  std::string error;

  bool finished() const { return state != "queued" && state != "running"; }
  // 0..1; a finished job counts as 1 whatever it did.
  float Progress() const;
};
Result<JobStatus> DecodeJob(std::string_view json);

// GET /api/v1/incidents/{id}: the incident and its message rows.
struct IncidentDetail {
  Incident incident;
  std::vector<MessageRow> messages;
};
Result<IncidentDetail> DecodeIncidentDetail(std::string_view json);

// POST /api/v1/remediations and /restore: the new incident, and the job when
// copies are to be moved (absent for a 201 without a job).
struct MutationResult {
  bool has_incident = false;
  Incident incident;
  bool has_job = false;
  JobStatus job;
};
Result<MutationResult> DecodeMutationResult(std::string_view json);

struct AttachmentInfo {
  std::string filename;
  std::string content_type;
  uint64_t size = 0;
  std::string sha256;  // empty when the attachment could not be decoded
  std::string md5;
};

struct MessageEvent {
  std::string incident_code;
  std::string type;    // incident type API name
  std::string status;  // message status API name
  UnixSeconds time = 0;
  std::string folder;
  std::string moved_to;
  std::string failure_reason;
};

// GET /api/v1/incidents/{id}/messages/{row}: one copy in full.
struct MessageDetail {
  std::string incident_code;
  std::string from;
  std::string from_address;
  std::vector<std::string> recipients;
  std::string subject;
  UnixSeconds date = 0;
  std::string message_id;
  uint64_t size = 0;
  UnixSeconds delivered = 0;
  std::string mailbox;
  std::string folder;
  bool present = false;
  std::vector<AttachmentInfo> attachments;
  bool body_available = false;
  std::string body_text;  // plain text, when available
  bool body_truncated = false;
  std::string body_error;  // why the body is not available
  std::vector<MessageRow> recipient_rows;
  std::vector<MessageEvent> history;
};
Result<MessageDetail> DecodeMessageDetail(std::string_view json);

// GET /api/v1/session.
struct SessionInfo {
  std::string token_name;
  std::string role;
  std::string organisation;
};
Result<SessionInfo> DecodeSession(std::string_view json);

}  // namespace reclaim::client
