// ClientState: login, sync, incident and message requests, remove, restore,
// remediation and job polling.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "shared/json_codec.h"
#include "shared/json_values.h"
#include "wasm-client/state/client_state.h"

namespace reclaim::client {
namespace {

constexpr UnixSeconds kJobPollSeconds = 1;

std::string IncidentPath(const std::string& code) {
  return "/api/v1/incidents/" + code;
}

}  // namespace

void ClientState::Queue(RequestKind kind, std::string method, std::string path, std::string body) {
  HttpRequest request;
  request.kind = kind;
  request.method = std::move(method);
  request.path = std::move(path);
  request.body = std::move(body);
  request.serial = next_serial_++;
  outbox_.push_back(std::move(request));
}

std::vector<HttpRequest> ClientState::TakeRequests() {
  std::vector<HttpRequest> requests;
  requests.swap(outbox_);
  return requests;
}

void ClientState::Login(std::string token) {
  // Tokens are pasted, often with a line break or spaces around them.
  token.erase(0, token.find_first_not_of(" \t\r\n"));
  token.erase(token.find_last_not_of(" \t\r\n") + 1);
  if (token.empty()) {
    last_error_ = "Enter an API token: reclaim-server token create <name> prints one";
    Log(last_error_, true);
    return;
  }
  prefs_.token = std::move(token);
  login_error_.clear();
  MarkPreferencesChanged();
  Log("Logging in");
  Queue(RequestKind::kSession, "GET", "/api/v1/session");
  login_serial_ = outbox_.back().serial;
  RequestSync();
}

void ClientState::Logout() {
  prefs_.token.clear();
  session_ = {};
  online_ = false;
  sync_state_ = SyncState::kNotSynced;
  MarkPreferencesChanged();
  Log("Logged out; the local copy stays available offline");
}

void ClientState::RequestSync() {
  if (!logged_in() || sync_in_flight_)
    return;
  sync_in_flight_ = true;
  last_sync_attempt_ = Now();
  sync_state_ = SyncState::kSyncing;
  std::string path = "/api/v1/sync";
  if (!cursor_.empty())
    path += "?since=" + cursor_;
  Queue(RequestKind::kSync, "GET", std::move(path));
}

void ClientState::Tick() {
  UnixSeconds now = Now();
  if (logged_in() && !sync_in_flight_ && now - last_sync_attempt_ >= kSyncIntervalSeconds)
    RequestSync();
  if (job_ && !job_->finished() && !job_poll_in_flight_ &&
      now - last_job_poll_ >= kJobPollSeconds) {
    job_poll_in_flight_ = true;
    last_job_poll_ = now;
    Queue(RequestKind::kJob, "GET", "/api/v1/jobs/" + job_->id);
  }
}

void ClientState::Fail(const ServerError& error, std::string_view what) {
  last_error_ = std::string(what) + ": " + error.Display();
  Log(last_error_, true);
}

void ClientState::ForgetRefusedToken(const ServerError& error, uint64_t serial) {
  if (serial < login_serial_)
    return;  // sent with a token that a later Login() replaced
  login_error_ = error.Display();
  if (!logged_in())
    return;  // the session and the sync both get 401 for the same token
  prefs_.token.clear();
  session_ = {};
  MarkPreferencesChanged();
  Log("The server refused the API token; log in with another one", true);
}

void ClientState::OnResponse(const HttpRequest& request, const HttpResponse& response) {
  online_ = response.reached;
  switch (request.kind) {
    case RequestKind::kSession:
      return OnSession(request, response);
    case RequestKind::kSync:
      return OnSync(request, response);
    case RequestKind::kIncident:
      return OnIncident(request, response);
    case RequestKind::kMessage:
      return OnMessage(request, response);
    case RequestKind::kRemove:
    case RequestKind::kRestore:
    case RequestKind::kRemediate:
      return OnMutation(request, response);
    case RequestKind::kJob:
      return OnJob(response);
  }
}

void ClientState::OnSession(const HttpRequest& request, const HttpResponse& response) {
  ServerError error = ClassifyResponse(response);
  if (!error.ok()) {
    Fail(error, "Login");
    if (error.kind == ErrorKind::kRefused && error.status == 401)
      ForgetRefusedToken(error, request.serial);
    return;
  }
  Result<SessionInfo> session = DecodeSession(response.body);
  if (!session.ok()) {
    Log("Session response not understood: " + session.status().message(), true);
    return;
  }
  session_ = std::move(*session);
  Log("Logged in as " + session_.token_name + " (" + session_.role + ")");
}

void ClientState::OnSync(const HttpRequest& request, const HttpResponse& response) {
  sync_in_flight_ = false;
  ServerError error = ClassifyResponse(response);
  if (!error.ok()) {
    // A cursor the server does not know (its database was replaced, or the
    // snapshot came from another server) needs a full sync.
    if (error.kind == ErrorKind::kRefused && error.status == 400 && error.field == "since") {
      Log("Sync cursor rejected (" + error.message + "); loading a full snapshot");
      cursor_.clear();
      RequestSync();
      return;
    }
    sync_state_ =
        error.kind == ErrorKind::kUnreachable ? SyncState::kUnreachable : SyncState::kRefused;
    Fail(error, "Sync");
    if (error.kind == ErrorKind::kRefused && error.status == 401)
      ForgetRefusedToken(error, request.serial);
    return;
  }

  Result<Snapshot> snapshot = DecodeSnapshot(response.body);
  if (!snapshot.ok()) {
    sync_state_ = SyncState::kRefused;
    last_error_ =
        "Sync response rejected: " + snapshot.status().field() + ": " + snapshot.status().message();
    Log(last_error_, true);
    return;
  }
  Status status;
  if (!snapshot->delta) {
    IncidentStore replacement;
    status = replacement.Upsert(snapshot->incidents);
    if (status.ok())
      store_ = std::move(replacement);
  } else {
    status = store_.Upsert(snapshot->incidents);
    if (status.ok())
      store_.Erase(snapshot->purged);
  }
  if (!status.ok()) {
    sync_state_ = SyncState::kRefused;
    last_error_ = "Sync data rejected: " + status.field() + ": " + status.message();
    Log(last_error_, true);
    return;
  }

  bool changed = !snapshot->delta || !snapshot->incidents.empty() || !snapshot->purged.empty() ||
                 snapshot->cursor != cursor_;
  cursor_ = snapshot->cursor;
  sync_state_ = SyncState::kSynced;
  last_sync_ = Now();
  last_error_.clear();
  if (changed) {
    snapshot_dirty_ = true;
    MarkQueryChanged();
    // The remediation's counts change while its job runs, and each sync
    // after that brings the incident as the server now has it.
    if (remediation_result_) {
      if (std::optional<uint32_t> row = store_.FindById(remediation_result_->id))
        remediation_result_ = store_.Get(*row);
    }
    Log(std::string(snapshot->delta ? "Delta sync: " : "Full sync: ") +
        std::to_string(snapshot->incidents.size()) + " incidents, " +
        std::to_string(snapshot->purged.size()) + " purged, " + std::to_string(store_.size()) +
        " in total");
  }
}

void ClientState::OpenIncident(std::string code) {
  open_incident_ = std::move(code);
  open_message_.reset();
  message_detail_.reset();
  incident_error_ = {};
  incident_detail_.reset();
  // Show the local copy at once (it has no message rows); the server's
  // response replaces it.
  if (std::optional<uint32_t> row = store_.FindByCode(*open_incident_)) {
    incident_detail_ = IncidentDetail{store_.Get(*row), {}};
    incident_messages_loaded_ = false;
  }
  if (!logged_in()) {
    incident_error_ = {ErrorKind::kUnreachable, 0, {}, "not logged in: messages need the server"};
    return;
  }
  Queue(RequestKind::kIncident, "GET", IncidentPath(*open_incident_));
  incident_serial_ = outbox_.back().serial;
}

void ClientState::CloseIncident() {
  open_incident_.reset();
  incident_detail_.reset();
  incident_error_ = {};
  // An error of the incident page's actions is about a page no longer shown.
  last_error_.clear();
  CloseMessage();
}

const IncidentDetail* ClientState::incident_detail() const {
  return incident_detail_ ? &*incident_detail_ : nullptr;
}

void ClientState::OnIncident(const HttpRequest& request, const HttpResponse& response) {
  if (request.serial != incident_serial_ || !open_incident_)
    return;
  ServerError error = ClassifyResponse(response);
  if (!error.ok()) {
    incident_error_ = error;
    return Fail(error, "Incident " + *open_incident_);
  }
  Result<IncidentDetail> detail = DecodeIncidentDetail(response.body);
  if (!detail.ok()) {
    incident_error_ = {ErrorKind::kRefused, response.status, detail.status().field(),
                       "response not understood: " + detail.status().message()};
    return Fail(incident_error_, "Incident " + *open_incident_);
  }
  incident_error_ = {};
  incident_detail_ = std::move(*detail);
  incident_messages_loaded_ = true;
  // Keep the queue in step with what the incident page shows.
  if (store_.Upsert(incident_detail_->incident).ok())
    MarkQueryChanged();
}

void ClientState::OpenMessage(std::string row_id) {
  if (!open_incident_)
    return;
  open_message_ = std::move(row_id);
  message_detail_.reset();
  message_error_.clear();
  if (!logged_in() || !online_) {
    message_error_ = "Message details need the server, which is unreachable";
    return;
  }
  Queue(RequestKind::kMessage, "GET",
        IncidentPath(*open_incident_) + "/messages/" + *open_message_);
  message_serial_ = outbox_.back().serial;
}

void ClientState::CloseMessage() {
  open_message_.reset();
  message_detail_.reset();
  message_error_.clear();
}

const MessageDetail* ClientState::message_detail() const {
  return message_detail_ ? &*message_detail_ : nullptr;
}

void ClientState::OnMessage(const HttpRequest& request, const HttpResponse& response) {
  if (request.serial != message_serial_ || !open_message_)
    return;
  ServerError error = ClassifyResponse(response);
  if (error.kind == ErrorKind::kRefused && error.status == 409) {
    message_error_ = kNotArchivedText;
    Log("Message " + *open_message_ + ": not archived yet");
    return;
  }
  if (!error.ok()) {
    message_error_ = error.Display();
    return Fail(error, "Message " + *open_message_);
  }
  Result<MessageDetail> detail = DecodeMessageDetail(response.body);
  if (!detail.ok()) {
    message_error_ = "Message details not understood: " + detail.status().field() + ": " +
                     detail.status().message();
    Log(message_error_, true);
    return;
  }
  message_detail_ = std::move(*detail);
}

Status ClientState::NeedServer(std::string_view action) {
  std::string message;
  if (!logged_in())
    message = std::string(action) + " needs the server: log in with an API token first";
  else if (!online_)
    message = std::string(action) +
              " needs the server, which is unreachable: the offline copy can be searched and"
              " exported but not changed";
  if (message.empty())
    return Status::Ok();
  last_error_ = message;
  Log(message, true);
  return Status::Unavailable(message);
}

Status ClientState::AskRemove() {
  if (Status s = NeedServer("Remove"); !s.ok())
    return s;
  const IncidentDetail* detail = incident_detail();
  if (detail == nullptr || !open_incident_)
    return Status::NotFound("incident", "no incident is open");
  Confirmation confirmation;
  confirmation.action = MailAction::kRemove;
  confirmation.incident_code = *open_incident_;
  confirmation.message_count = static_cast<size_t>(std::count_if(
      detail->messages.begin(), detail->messages.end(),
      [](const MessageRow& row) { return row.status == MessageStatus::kIdentified; }));
  if (confirmation.message_count == 0) {
    last_error_ = "Nothing to remove: " + *open_incident_ + " has no identified messages";
    Log(last_error_, true);
    return Status::Conflict("messages", last_error_);
  }
  confirmation_ = std::move(confirmation);
  return Status::Ok();
}

Status ClientState::AskRestore(std::vector<std::string> message_ids) {
  if (Status s = NeedServer("Restore"); !s.ok())
    return s;
  const IncidentDetail* detail = incident_detail();
  if (detail == nullptr || !open_incident_)
    return Status::NotFound("incident", "no incident is open");
  size_t count = 0;
  for (const MessageRow& row : detail->messages) {
    bool chosen = message_ids.empty() ||
                  std::find(message_ids.begin(), message_ids.end(), row.id) != message_ids.end();
    if (chosen && row.status == MessageStatus::kRemoved)
      ++count;
  }
  if (count == 0) {
    last_error_ =
        "Nothing to restore: none of the chosen messages of " + *open_incident_ + " is removed";
    Log(last_error_, true);
    return Status::Conflict("messages", last_error_);
  }
  confirmation_ =
      Confirmation{MailAction::kRestore, *open_incident_, std::move(message_ids), count};
  return Status::Ok();
}

void ClientState::CancelConfirmation() {
  confirmation_.reset();
}

void ClientState::Confirm() {
  if (!confirmation_)
    return;
  Confirmation confirmation = std::move(*confirmation_);
  confirmation_.reset();
  if (!NeedServer(confirmation.action == MailAction::kRemove ? "Remove" : "Restore").ok())
    return;
  nlohmann::json body = nlohmann::json::object();
  if (!confirmation.message_ids.empty())
    body["messages"] = confirmation.message_ids;
  std::string path = IncidentPath(confirmation.incident_code);
  if (confirmation.action == MailAction::kRemove) {
    Log("Removing " + std::to_string(confirmation.message_count) + " messages of " +
        confirmation.incident_code);
    Queue(RequestKind::kRemove, "POST", path + "/remove", DumpJson(body));
  } else {
    Log("Restoring " + std::to_string(confirmation.message_count) + " messages of " +
        confirmation.incident_code);
    Queue(RequestKind::kRestore, "POST", path + "/restore", DumpJson(body));
  }
}

Status ClientState::SubmitRemediation(const RemediationForm& form) {
  if (Status s = NeedServer("A new remediation"); !s.ok())
    return s;
  nlohmann::json body = {{"identifier", form.identifier}, {"reason", form.reason}};
  if (!form.from.empty())
    body["from"] = form.from;
  if (!form.to.empty())
    body["to"] = form.to;
  struct WindowEnd {
    const std::string& text;
    const char* member;
  };
  for (const WindowEnd& end : {WindowEnd{form.start, "start"}, WindowEnd{form.end, "end"}}) {
    if (end.text.empty())
      continue;
    Result<CivilTime> local = ParseLocalTime(end.text, end.member);
    if (!local.ok()) {
      last_error_ = local.status().message();
      return local.status();
    }
    body[end.member] = FormatIso8601(LocalToUtc(*zone_, *local));
  }
  if (form.notify_only)
    body["action"] = "notify_only";
  if (remediation_in_flight_) {
    return Status::Conflict("remediation",
                            "A remediation is already submitted; wait for the server's response");
  }
  remediation_result_.reset();
  Log("Submitting a remediation for " + form.identifier);
  Queue(RequestKind::kRemediate, "POST", "/api/v1/remediations", DumpJson(body));
  remediation_in_flight_ = true;
  return Status::Ok();
}

void ClientState::OnMutation(const HttpRequest& request, const HttpResponse& response) {
  std::string what = request.kind == RequestKind::kRemediate ? "Remediation"
                     : request.kind == RequestKind::kRemove  ? "Remove"
                                                             : "Restore";
  if (request.kind == RequestKind::kRemediate)
    remediation_in_flight_ = false;
  ServerError error = ClassifyResponse(response);
  if (!error.ok())
    return Fail(error, what);
  Result<MutationResult> result = DecodeMutationResult(response.body);
  if (!result.ok()) {
    last_error_ = what + " response not understood: " + result.status().message();
    Log(last_error_, true);
    return;
  }
  last_error_.clear();
  if (result->has_incident) {
    std::string code = FormatIncidentCode(result->incident.code);
    Log(what + ": incident " + code);
    if (request.kind == RequestKind::kRemediate)
      remediation_result_ = result->incident;
    if (store_.Upsert(result->incident).ok())
      MarkQueryChanged();
  }
  if (result->has_job)
    StartJob(result->job);
  RequestSync();
}

void ClientState::StartJob(const JobStatus& job) {
  job_ = job;
  last_job_poll_ = Now();
  Log("Job " + job.id + " (" + job.kind + ") " + job.state);
}

void ClientState::OnJob(const HttpResponse& response) {
  job_poll_in_flight_ = false;
  ServerError error = ClassifyResponse(response);
  if (!error.ok())
    return Fail(error, "Job progress");
  Result<JobStatus> job = DecodeJob(response.body);
  if (!job.ok()) {
    Log("Job response not understood: " + job.status().message(), true);
    return;
  }
  bool was_running = job_ && !job_->finished();
  job_ = std::move(*job);
  if (!was_running || !job_->finished())
    return;

  std::string summary = "Job " + job_->id + " " + job_->state + ": " + std::to_string(job_->done) +
                        " of " + std::to_string(job_->total) + " messages";
  if (!job_->error.empty())
    summary += " (" + job_->error + ")";
  Log(summary, job_->state != "succeeded");
  // Show the incident as the job left it.
  if (open_incident_) {
    Queue(RequestKind::kIncident, "GET", IncidentPath(*open_incident_));
    incident_serial_ = outbox_.back().serial;
  }
  RequestSync();
}

}  // namespace reclaim::client
