// Remediation: create, remove identified copies, restore, threat-intel
// verdicts and the jobs that carry the moves out.
#include "shared/json_values.h"
#include "sync-server/http/router.h"
#include "sync-server/mail/hashing.h"

namespace reclaim {

nlohmann::json JobJson(const JobInfo& job) {
  nlohmann::json out = {{"id", job.id},
                        {"kind", ApiName(job.kind)},
                        {"incidentId", job.incident_id},
                        {"state", ApiName(job.state)},
                        {"total", job.total},
                        {"done", job.done},
                        {"created", FormatIso8601(job.created)}};
  if (job.finished != 0) out["finished"] = FormatIso8601(job.finished);
  if (!job.error.empty()) out["error"] = job.error;
  return out;
}

namespace {

// 202 with the incident and the job when copies are to be moved, 201 when
// the incident is complete already (Notify Only, or nothing to move).
void SendRemediation(Router& router, httplib::Response& response,
                     const RemediationResult& result) {
  nlohmann::json body = {{"incident", ToJson(result.incident)}};
  if (!result.job_id.empty()) {
    std::optional<JobInfo> job = router.app().jobs().Get(result.job_id);
    if (job) body["job"] = JobJson(*job);
  }
  SendJson(response, body, result.job_id.empty() ? 201 : 202);
}

Result<RemediationRequest> ReadRequest(const nlohmann::json& body, std::string* action) {
  RemediationRequest request;
  Status s = RequiredString(body, "identifier", &request.identifier);
  if (s.ok()) s = RequiredString(body, "reason", &request.reason);
  if (s.ok()) s = OptionalString(body, "from", &request.from);
  if (s.ok()) s = OptionalString(body, "to", &request.to);
  if (s.ok()) s = OptionalTime(body, "start", &request.start);
  if (s.ok()) s = OptionalTime(body, "end", &request.end);
  if (s.ok()) s = OptionalString(body, "action", action);
  if (!s.ok()) return s;
  if (action->empty()) *action = "remove";
  if (*action == "remove") {
    request.type = IncidentType::kManual;
  } else if (*action == "notify_only") {
    request.type = IncidentType::kNotifyOnly;
  } else {
    return Status::Invalid("action", "unknown action '" + *action + "': use remove or notify_only");
  }
  return request;
}

void CreateRemediation(Router& router, const httplib::Request& http, httplib::Response& response,
                       const Caller& caller) {
  Result<nlohmann::json> body =
      ParseBody(http, {"identifier", "reason", "from", "to", "start", "end", "action"});
  if (!body.ok()) return SendError(response, body.status());
  std::string action;
  Result<RemediationRequest> request = ReadRequest(*body, &action);
  if (!request.ok()) return SendError(response, request.status());
  Result<RemediationResult> result =
      router.app().Remediate(*request, request->type != IncidentType::kNotifyOnly);
  if (!result.ok()) return SendError(response, result.status());
  router.Audit(caller, "remediation.create", FormatIncidentCode(result->incident.code),
               action + " " + result->incident.criteria.identifier);
  SendRemediation(router, response, *result);
}

void ClawBack(Router& router, const httplib::Request& http, httplib::Response& response,
              const Caller& caller) {
  Result<nlohmann::json> body = ParseBody(http, {"messageId", "recipients", "reason"});
  if (!body.ok()) return SendError(response, body.status());
  RemediationRequest request;
  request.type = IncidentType::kMepClawback;
  Status s = RequiredString(*body, "messageId", &request.identifier);
  if (s.ok()) s = OptionalString(*body, "reason", &request.reason);
  if (s.ok() && (!body->contains("recipients") || !body->at("recipients").is_array())) {
    s = Status::Invalid("recipients", "recipients must be a list of addresses");
  }
  if (s.ok()) {
    for (const nlohmann::json& item : body->at("recipients")) {
      if (!item.is_string()) {
        s = Status::Invalid("recipients", "recipients must be a list of addresses");
        break;
      }
      request.recipients.push_back(item.get<std::string>());
    }
  }
  if (!s.ok()) return SendError(response, s);
  if (request.reason.empty()) request.reason = "Misaddressed message pulled back";
  request.start = 0;  // a clawback finds the message whatever its age
  Result<RemediationResult> result = router.app().Remediate(request, true);
  if (!result.ok()) return SendError(response, result.status());
  router.Audit(caller, "remediation.clawback", FormatIncidentCode(result->incident.code),
               request.identifier);
  SendRemediation(router, response, *result);
}

void RemoveMessages(Router& router, const httplib::Request& http, httplib::Response& response,
                    const Caller& caller) {
  Result<nlohmann::json> body = http.body.empty() ? Result<nlohmann::json>(nlohmann::json::object())
                                                  : ParseBody(http, {"messages"});
  if (!body.ok()) return SendError(response, body.status());
  std::vector<int64_t> rows;
  if (Status s = OptionalIds(*body, "messages", &rows); !s.ok()) return SendError(response, s);
  std::string id = http.matches[1];
  Result<std::string> job = router.app().RemoveIdentified(id, rows);
  if (!job.ok()) return SendError(response, job.status());
  router.Audit(caller, "incident.remove", id,
               rows.empty() ? "all identified messages" : std::to_string(rows.size()) + " messages");
  SendJson(response, {{"job", JobJson(*router.app().jobs().Get(*job))}}, 202);
}

void RestoreMessages(Router& router, const httplib::Request& http, httplib::Response& response,
                     const Caller& caller) {
  Result<nlohmann::json> body = http.body.empty() ? Result<nlohmann::json>(nlohmann::json::object())
                                                  : ParseBody(http, {"messages", "reason"});
  if (!body.ok()) return SendError(response, body.status());
  std::vector<int64_t> rows;
  std::string reason;
  Status s = OptionalIds(*body, "messages", &rows);
  if (s.ok()) s = OptionalString(*body, "reason", &reason);
  if (!s.ok()) return SendError(response, s);
  std::string id = http.matches[1];
  Result<RemediationResult> result = router.app().Restore(id, rows, reason);
  if (!result.ok()) return SendError(response, result.status());
  router.Audit(caller, "incident.restore", id, FormatIncidentCode(result->incident.code));
  SendRemediation(router, response, *result);
}

void PostVerdicts(Router& router, const httplib::Request& http, httplib::Response& response,
                  const Caller& caller) {
  Result<nlohmann::json> body = ParseBody(http, {"hashes", "reason"});
  if (!body.ok()) return SendError(response, body.status());
  std::string reason;
  if (Status s = OptionalString(*body, "reason", &reason); !s.ok()) return SendError(response, s);
  if (!body->contains("hashes") || !body->at("hashes").is_array() || body->at("hashes").empty() ||
      body->at("hashes").size() > 100) {
    return SendError(response, Status::Invalid("hashes", "hashes must be a list of 1 to 100"
                                                         " SHA-256 or MD5 digests"));
  }
  nlohmann::json results = nlohmann::json::array();
  for (const nlohmann::json& item : body->at("hashes")) {
    std::string hash = item.is_string() ? item.get<std::string>() : std::string();
    if (ClassifyIdentifier(hash) == IdentifierKind::kMessageId) {
      return SendError(response, Status::Invalid("hashes", "invalid hash " + DumpJson(item) +
                                                               ": use 64 or 32 hex digits"));
    }
    if (LowerAscii(hash) == kEmptySha256 || LowerAscii(hash) == kEmptyMd5) {
      return SendError(response,
                       Status::Invalid("hashes", DumpJson(item) + " is the hash of an empty file,"
                                                 " which matches every empty attachment: leave"
                                                 " it out of the verdicts"));
    }
  }
  for (const nlohmann::json& item : body->at("hashes")) {
    std::string hash = item.get<std::string>();
    Result<std::optional<RemediationResult>> verdict = router.app().ThreatVerdict(hash, reason);
    nlohmann::json entry = {{"hash", hash}};
    if (!verdict.ok()) {
      entry["error"] = verdict.status().message();
    } else if (*verdict) {
      entry["incident"] = ToJson((*verdict)->incident);
      if (!(*verdict)->job_id.empty()) entry["jobId"] = (*verdict)->job_id;
      router.Audit(caller, "threat.verdict", FormatIncidentCode((*verdict)->incident.code), hash);
    }
    results.push_back(entry);
  }
  SendJson(response, {{"mode", ApiName(router.app().mode())}, {"results", results}});
}

}  // namespace

void AddRemediationRoutes(Router& router) {
  router.Add("POST", "/api/v1/remediations", Role::kRemediator,
             [&router](const httplib::Request& q, httplib::Response& r, const Caller& c) {
               CreateRemediation(router, q, r, c);
             });
  router.Add("POST", "/api/v1/clawbacks", Role::kRemediator,
             [&router](const httplib::Request& q, httplib::Response& r, const Caller& c) {
               ClawBack(router, q, r, c);
             });
  router.Add("POST", R"(/api/v1/incidents/([A-Za-z0-9-]+)/remove)", Role::kRemediator,
             [&router](const httplib::Request& q, httplib::Response& r, const Caller& c) {
               RemoveMessages(router, q, r, c);
             });
  router.Add("POST", R"(/api/v1/incidents/([A-Za-z0-9-]+)/restore)", Role::kRemediator,
             [&router](const httplib::Request& q, httplib::Response& r, const Caller& c) {
               RestoreMessages(router, q, r, c);
             });
  router.Add("POST", "/api/v1/threat-intel/hashes", Role::kRemediator,
             [&router](const httplib::Request& q, httplib::Response& r, const Caller& c) {
               PostVerdicts(router, q, r, c);
             });
  router.Add("GET", "/api/v1/jobs", Role::kViewer,
             [&router](const httplib::Request&, httplib::Response& r, const Caller&) {
               nlohmann::json jobs = nlohmann::json::array();
               for (const JobInfo& job : router.app().jobs().List()) jobs.push_back(JobJson(job));
               SendJson(r, {{"jobs", jobs}});
             });
  router.Add("GET", R"(/api/v1/jobs/([A-Za-z0-9-]+))", Role::kViewer,
             [&router](const httplib::Request& q, httplib::Response& r, const Caller&) {
               std::optional<JobInfo> job = router.app().jobs().Get(q.matches[1]);
               if (!job) {
                 return SendError(r, Status::NotFound("id", "job '" + std::string(q.matches[1]) +
                                                                "' not found"));
               }
               SendJson(r, JobJson(*job));
             });
  router.Add("POST", R"(/api/v1/jobs/([A-Za-z0-9-]+)/cancel)", Role::kRemediator,
             [&router](const httplib::Request& q, httplib::Response& r, const Caller& c) {
               std::string id = q.matches[1];
               if (!router.app().jobs().Cancel(id)) {
                 return SendError(r, Status::Conflict("id", "job '" + id +
                                                                "' is unknown or already finished"));
               }
               router.Audit(c, "job.cancel", id);
               SendJson(r, JobJson(*router.app().jobs().Get(id)), 202);
             });
}

}  // namespace reclaim
