// Message details for the console: one copy's headers, attachments and text
// body, the incident's rows for that message, every action taken on the
// copy, and removal or restore of that one copy.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <utility>

#include "shared/json_values.h"
#include "sync-server/http/router.h"
#include "sync-server/index/message_index.h"
#include "sync-server/mail/mime_parser.h"

namespace reclaim {
namespace {

// The console shows this text as it is. A row has no indexed copy when the
// indexer has not read the copy yet, or when no mailbox held one (the
// row then failed).
constexpr const char* kNotArchivedMessage =
    "This message has not been archived yet. Try again in a few minutes.";

// The row id has at most 18 digits, so it always fits an int64_t.
constexpr const char* kMessagePath = R"(/api/v1/incidents/([A-Za-z0-9-]+)/messages/(\d{1,18}))";

struct HistoryEntry {
  StoredRow row;
  Incident incident;
};

struct MessageDetails {
  Incident incident;
  StoredRow row;
  IndexedMessage message;
  std::vector<Attachment> attachments;
  std::vector<StoredRow> related;  // the incident's rows for this message
  std::vector<HistoryEntry> history;
};

// Loads an incident (by id or code) and one of its rows.
Result<std::pair<Incident, StoredRow>> LoadRow(IncidentRepository& repository,
                                               const std::string& incident_id, int64_t row_id) {
  Result<Incident> incident = repository.Get(incident_id);
  if (!incident.ok())
    return incident.status();
  Result<StoredRow> row = repository.Row(row_id);
  if (!row.ok() && row.status().code() != StatusCode::kNotFound)
    return row.status();
  if (!row.ok() || row->incident_id != incident->id) {
    return Status::NotFound("messageRowId", "message " + std::to_string(row_id) +
                                                " is not part of incident " +
                                                FormatIncidentCode(incident->code) +
                                                ": use the ids from the incident's messages");
  }
  return std::make_pair(*incident, *row);
}

// The incident's rows for the message of `row`: copies with the same
// Message-ID key, and rows of addresses the message was sent to, such as
// recipients without a mailbox.
std::vector<StoredRow> RelatedRows(const std::vector<StoredRow>& rows, const StoredRow& row,
                                   const IndexedMessage& message) {
  std::vector<std::string> recipients;
  for (const std::string& address : message.recipients)
    recipients.push_back(LowerAscii(address));
  std::vector<StoredRow> related;
  for (const StoredRow& other : rows) {
    bool same_copy = other.row_id == row.row_id;
    bool same_message = !row.message_key.empty() && other.message_key == row.message_key;
    bool addressed = std::find(recipients.begin(), recipients.end(),
                               LowerAscii(other.view.recipient)) != recipients.end();
    if (same_copy || same_message || addressed)
      related.push_back(other);
  }
  return related;
}

// When a history row last changed: its last move, or its incident's
// creation while nothing was done yet.
UnixSeconds EventTime(const HistoryEntry& entry) {
  return entry.row.view.last_action != 0 ? entry.row.view.last_action : entry.incident.created;
}

Result<MessageDetails> LoadDetails(Database& db, IncidentRepository& repository,
                                   const std::string& incident_id, int64_t row_id) {
  Result<std::pair<Incident, StoredRow>> loaded = LoadRow(repository, incident_id, row_id);
  if (!loaded.ok())
    return loaded.status();
  MessageDetails details;
  details.incident = std::move(loaded->first);
  details.row = std::move(loaded->second);
  if (details.row.message == 0)
    return Status::Conflict("messageRowId", kNotArchivedMessage);

  MessageIndex index(&db);
  Result<IndexedMessage> message = index.Get(details.row.message);
  if (!message.ok())
    return message.status();
  details.message = std::move(*message);
  Result<std::vector<Attachment>> attachments = index.Attachments(details.row.message);
  if (!attachments.ok())
    return attachments.status();
  details.attachments = std::move(*attachments);

  Result<std::vector<StoredRow>> rows = repository.Rows(details.incident.id);
  if (!rows.ok())
    return rows.status();
  details.related = RelatedRows(*rows, details.row, details.message);

  Result<std::vector<StoredRow>> actions = repository.RowsForMessage(details.row.message);
  if (!actions.ok())
    return actions.status();
  std::map<std::string, Incident> incidents;
  for (StoredRow& action : *actions) {
    auto found = incidents.find(action.incident_id);
    if (found == incidents.end()) {
      Result<Incident> incident = repository.Get(action.incident_id);
      if (!incident.ok())
        return incident.status();
      found = incidents.emplace(action.incident_id, std::move(*incident)).first;
    }
    details.history.push_back({std::move(action), found->second});
  }
  std::stable_sort(
      details.history.begin(), details.history.end(),
      [](const HistoryEntry& a, const HistoryEntry& b) { return EventTime(a) < EventTime(b); });
  return details;
}

nlohmann::json TimeOrNull(UnixSeconds time) {
  return time == 0 ? nlohmann::json(nullptr) : nlohmann::json(FormatIso8601(time));
}

nlohmann::json SummaryJson(const MessageDetails& details, const ParsedMessage* parsed) {
  const IndexedMessage& message = details.message;
  // The index keeps the sender's address; the From header as written needs
  // the message itself.
  std::string from = parsed != nullptr && !parsed->sender_display.empty() ? parsed->sender_display
                                                                          : message.sender;
  return {{"id", details.row.view.id},
          {"from", from},
          {"fromAddress", message.sender},
          {"recipients", message.recipients},
          {"subject", message.subject},
          {"date", TimeOrNull(message.date)},
          {"messageId", message.message_id.empty() ? nlohmann::json(nullptr)
                                                   : nlohmann::json(message.message_id)},
          {"size", message.size},
          {"delivered", TimeOrNull(message.delivered)},
          {"mailbox", message.mailbox},
          {"folder", message.location.folder},
          {"present", message.present}};
}

nlohmann::json AttachmentJson(const Attachment& attachment) {
  auto digest = [&](const std::string& hex) {
    return attachment.undecodable ? nlohmann::json(nullptr) : nlohmann::json(hex);
  };
  return {{"filename", attachment.filename},
          {"contentType", attachment.content_type},
          {"size", attachment.size},
          {"sha256", digest(attachment.sha256)},
          {"md5", digest(attachment.md5)}};
}

nlohmann::json HistoryJson(const HistoryEntry& entry) {
  return {{"incidentId", entry.incident.id},
          {"incidentCode", FormatIncidentCode(entry.incident.code)},
          {"type", ApiName(entry.incident.code.type)},
          {"rowId", entry.row.view.id},
          {"status", ApiName(entry.row.view.status)},
          {"time", FormatIso8601(EventTime(entry))},
          {"folder", entry.row.view.folder},
          {"movedTo", entry.row.view.moved_to},
          {"failureReason", FailureDisplay(entry.row.view)}};
}

// `parsed` is null when the message could not be read, with `read_error`.
nlohmann::json DetailsJson(const MessageDetails& details, const ParsedMessage* parsed,
                           const Status& read_error) {
  nlohmann::json body = parsed != nullptr
                            ? nlohmann::json{{"available", true},
                                             {"text", parsed->text_body},
                                             {"truncated", parsed->text_body_truncated}}
                            : nlohmann::json{{"available", false}, {"error", read_error.message()}};
  nlohmann::json attachments = nlohmann::json::array();
  for (const Attachment& attachment : details.attachments) {
    attachments.push_back(AttachmentJson(attachment));
  }
  nlohmann::json recipients = nlohmann::json::array();
  for (const StoredRow& row : details.related)
    recipients.push_back(ToJson(row.view));
  nlohmann::json history = nlohmann::json::array();
  for (const HistoryEntry& entry : details.history)
    history.push_back(HistoryJson(entry));
  return {{"incident",
           {{"id", details.incident.id}, {"code", FormatIncidentCode(details.incident.code)}}},
          {"message", SummaryJson(details, parsed)},
          {"attachments", attachments},
          {"body", body},
          {"recipients", recipients},
          {"history", history}};
}

// Sends `status`, and logs it when the fault is not the caller's: a store
// that could not be reached, or a failure inside the server.
void SendFailure(httplib::Response& response, const Status& status, const std::string& action) {
  if (status.code() == StatusCode::kInternal || status.code() == StatusCode::kUnavailable) {
    spdlog::error("message routes: {} failed: {}", action, status.message());
  }
  SendError(response, status);
}

std::string Describe(const std::string& action, const std::string& incident_id, int64_t row_id) {
  return action + " of incident " + incident_id + " message " + std::to_string(row_id);
}

void GetMessage(Router& router, const httplib::Request& request, httplib::Response& response) {
  const std::string incident_id = request.matches[1];
  const int64_t row_id = std::stoll(request.matches[2]);
  App& app = router.app();
  Result<MessageDetails> details =
      app.WithDatabase([&](Database& db, IncidentRepository& repository, TokenStore&) {
        return LoadDetails(db, repository, incident_id, row_id);
      });
  if (!details.ok())
    return SendFailure(response, details.status(), Describe("details", incident_id, row_id));

  // The mailbox is read without the database lock, because an IMAP server
  // can take seconds to respond. A copy that cannot be read still has its
  // indexed details, so the response carries the error in `body` instead of
  // failing.
  const IndexedMessage& message = details->message;
  Result<std::string> raw = app.FetchMessage(message.connection, message.mailbox, message.location);
  if (!raw.ok()) {
    spdlog::warn(
        "message details: incident {} message {}: reading indexed copy {} from {} on {}"
        " failed: {}",
        details->incident.id, row_id, message.id, message.mailbox, message.connection,
        raw.status().message());
    return SendJson(response, DetailsJson(*details, nullptr, raw.status()));
  }
  ParsedMessage parsed = ParseMessage(*raw);
  SendJson(response, DetailsJson(*details, &parsed, Status::Ok()));
}

// Rejects any body but an empty one or an empty JSON object.
Status CheckNoBody(const httplib::Request& request) {
  if (request.body.empty())
    return Status::Ok();
  Result<nlohmann::json> body = ParseBody(request, {});
  if (!body.ok())
    return body.status();
  if (!body->empty()) {
    return Status::Invalid(body->begin().key(), "unknown field '" + body->begin().key() +
                                                    "': removing one message takes no body");
  }
  return Status::Ok();
}

Status JobMissing(const std::string& job_id, const std::string& code) {
  spdlog::error("message routes: job {} for incident {} vanished right after it was queued", job_id,
                code);
  return Status::Internal("the queued job could not be read back; the server log has the details");
}

void RemoveMessage(Router& router, const httplib::Request& request, httplib::Response& response,
                   const Caller& caller) {
  if (Status s = CheckNoBody(request); !s.ok())
    return SendError(response, s);
  const std::string incident_id = request.matches[1];
  const int64_t row_id = std::stoll(request.matches[2]);
  App& app = router.app();
  Result<std::pair<Incident, StoredRow>> loaded =
      app.WithDatabase([&](Database&, IncidentRepository& repository, TokenStore&) {
        return LoadRow(repository, incident_id, row_id);
      });
  if (!loaded.ok())
    return SendFailure(response, loaded.status(), Describe("loading", incident_id, row_id));
  const auto& [incident, row] = *loaded;
  const std::string code = FormatIncidentCode(incident.code);
  if (row.view.status != MessageStatus::kIdentified) {
    std::string fix = row.view.status == MessageStatus::kRemoved
                          ? ": it is in the hold folder already"
                          : ": only identified messages can be removed";
    return SendError(response, Status::Conflict("messageRowId",
                                                "message " + row.view.id + " of " + code + " is " +
                                                    std::string(ApiName(row.view.status)) + fix));
  }
  Result<std::string> job_id = app.RemoveIdentified(incident.id, {row_id});
  if (!job_id.ok())
    return SendFailure(response, job_id.status(), Describe("removal", incident_id, row_id));
  router.Audit(caller, "incident.remove", code, "message " + row.view.id);
  std::optional<JobInfo> job = app.jobs().Get(*job_id);
  if (!job)
    return SendError(response, JobMissing(*job_id, code));
  SendJson(response, {{"job", JobJson(*job)}}, 202);
}

void RestoreMessage(Router& router, const httplib::Request& request, httplib::Response& response,
                    const Caller& caller) {
  std::string reason;
  if (!request.body.empty()) {
    Result<nlohmann::json> body = ParseBody(request, {"reason"});
    if (!body.ok())
      return SendError(response, body.status());
    if (Status s = OptionalString(*body, "reason", &reason); !s.ok()) {
      return SendError(response, s);
    }
  }
  const std::string incident_id = request.matches[1];
  const int64_t row_id = std::stoll(request.matches[2]);
  App& app = router.app();
  Result<std::pair<Incident, StoredRow>> loaded =
      app.WithDatabase([&](Database&, IncidentRepository& repository, TokenStore&) {
        return LoadRow(repository, incident_id, row_id);
      });
  if (!loaded.ok())
    return SendFailure(response, loaded.status(), Describe("loading", incident_id, row_id));
  const auto& [incident, row] = *loaded;
  const std::string code = FormatIncidentCode(incident.code);
  if (row.view.status != MessageStatus::kRemoved) {
    return SendError(response, Status::Conflict("messageRowId",
                                                "message " + row.view.id + " of " + code + " is " +
                                                    std::string(ApiName(row.view.status)) +
                                                    ": only removed messages can be restored"));
  }
  Result<RemediationResult> result = app.Restore(incident.id, {row_id}, reason);
  if (!result.ok())
    return SendFailure(response, result.status(), Describe("restore", incident_id, row_id));
  const std::string restore_code = FormatIncidentCode(result->incident.code);
  router.Audit(caller, "incident.restore", code, restore_code + " for message " + row.view.id);
  std::optional<JobInfo> job = app.jobs().Get(result->job_id);
  if (!job)
    return SendError(response, JobMissing(result->job_id, restore_code));
  SendJson(response, {{"incident", ToJson(result->incident)}, {"job", JobJson(*job)}}, 202);
}

}  // namespace

void AddMessageRoutes(Router& router) {
  const std::string path = kMessagePath;
  router.Add("GET", path, Role::kViewer,
             [&router](const httplib::Request& q, httplib::Response& r, const Caller&) {
               GetMessage(router, q, r);
             });
  router.Add("POST", path + "/remove", Role::kRemediator,
             [&router](const httplib::Request& q, httplib::Response& r, const Caller& c) {
               RemoveMessage(router, q, r, c);
             });
  router.Add("POST", path + "/restore", Role::kRemediator,
             [&router](const httplib::Request& q, httplib::Response& r, const Caller& c) {
               RestoreMessage(router, q, r, c);
             });
}

}  // namespace reclaim
