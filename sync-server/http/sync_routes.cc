// Delta sync, the caller's session, settings, the audit log and rescans.
#include "shared/json_values.h"
#include "shared/retention.h"
#include "sync-server/http/router.h"

namespace reclaim {
namespace {

nlohmann::json SettingsJson(App& app) {
  return {{"organisation", app.config().organisation},
          {"mode", ApiName(app.mode())},
          {"retentionDays", app.retention_days()},
          {"holdFolder", app.config().hold_folder}};
}

void PutSettings(Router& router, const httplib::Request& http, httplib::Response& response,
                 const Caller& caller) {
  Result<nlohmann::json> body = ParseBody(http, {"mode", "retentionDays"});
  if (!body.ok()) return SendError(response, body.status());
  // Check everything before changing anything.
  std::optional<RemediationMode> mode;
  std::optional<int> retention;
  if (body->contains("mode")) {
    std::string text;
    if (Status s = OptionalString(*body, "mode", &text); !s.ok()) return SendError(response, s);
    if (text == "automatic") mode = RemediationMode::kAutomatic;
    if (text == "notify_only") mode = RemediationMode::kNotifyOnly;
    if (!mode) {
      return SendError(response, Status::Invalid("mode", "unknown mode '" + text +
                                                             "': use automatic or notify_only"));
    }
  }
  if (body->contains("retentionDays")) {
    const nlohmann::json& value = body->at("retentionDays");
    if (!value.is_number_integer()) {
      return SendError(response, Status::Invalid("retentionDays", "must be a whole number of days"));
    }
    int64_t days = value.get<int64_t>();
    if (Status s = ValidateRetentionDays(static_cast<int>(std::clamp<int64_t>(days, -1, 100000)));
        !s.ok()) {
      return SendError(response, s);
    }
    retention = static_cast<int>(days);
  }
  if (mode) {
    if (Status s = router.app().SetMode(*mode); !s.ok()) return SendError(response, s);
    router.Audit(caller, "settings.mode", "mode", std::string(ApiName(*mode)));
  }
  if (retention) {
    if (Status s = router.app().SetRetentionDays(*retention); !s.ok()) return SendError(response, s);
    router.Audit(caller, "settings.retention", "retentionDays", std::to_string(*retention));
  }
  SendJson(response, SettingsJson(router.app()));
}

}  // namespace

void AddSyncRoutes(Router& router) {
  router.Add("GET", "/api/v1/sync", Role::kViewer,
             [&router](const httplib::Request& q, httplib::Response& r, const Caller&) {
               for (const auto& [name, value] : q.params) {
                 if (name != "since") {
                   return SendError(r, Status::Invalid(name, "unknown query parameter '" + name +
                                                                 "': use since"));
                 }
               }
               Result<Snapshot> snapshot = router.app().SyncSince(q.get_param_value("since"));
               if (!snapshot.ok()) return SendError(r, snapshot.status());
               SendJson(r, ToJson(*snapshot));
             });
  router.Add("GET", "/api/v1/session", Role::kViewer,
             [&router](const httplib::Request&, httplib::Response& r, const Caller& c) {
               SendJson(r, {{"tokenId", c.token.id},
                            {"name", c.token.name},
                            {"role", ApiName(c.token.role)},
                            {"organisation", router.app().config().organisation}});
             });
  router.Add("GET", "/api/v1/settings", Role::kViewer,
             [&router](const httplib::Request&, httplib::Response& r, const Caller&) {
               SendJson(r, SettingsJson(router.app()));
             });
  router.Add("PUT", "/api/v1/settings", Role::kAdmin,
             [&router](const httplib::Request& q, httplib::Response& r, const Caller& c) {
               PutSettings(router, q, r, c);
             });
  router.Add("GET", "/api/v1/audit", Role::kAdmin,
             [&router](const httplib::Request&, httplib::Response& r, const Caller&) {
               Result<std::vector<AuditEntry>> log = router.app().WithDatabase(
                   [](Database&, IncidentRepository&, TokenStore& tokens) {
                     return tokens.AuditLog(1000);
                   });
               if (!log.ok()) return SendError(r, log.status());
               nlohmann::json entries = nlohmann::json::array();
               for (const AuditEntry& e : *log) {
                 entries.push_back({{"time", FormatIso8601(e.time)},
                                    {"tokenId", e.token_id},
                                    {"tokenName", e.token_name},
                                    {"action", e.action},
                                    {"target", e.target},
                                    {"detail", e.detail},
                                    {"remote", e.remote}});
               }
               SendJson(r, {{"entries", entries}});
             });
  router.Add("POST", "/api/v1/index", Role::kRemediator,
             [&router](const httplib::Request&, httplib::Response& r, const Caller& c) {
               App& app = router.app();
               std::string job = app.jobs().Submit(JobKind::kIndex, "", [&app](JobControl*) {
                 IndexStats stats = app.IndexNow();
                 return Status::Ok();
               });
               router.Audit(c, "index.rescan", job);
               SendJson(r, {{"jobId", job}}, 202);
             });
}

}  // namespace reclaim
