// A ClientState with a settable clock and a fixed time zone, and helpers to
// answer its requests the way the sync server does.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "shared/json_codec.h"
#include "shared/json_values.h"
#include "wasm-client/state/client_state.h"

namespace reclaim::client::testing {

constexpr UnixSeconds kStart = 1764864000;  // 2025-12-04T16:00:00Z

inline Incident MakeIncident(uint32_t sequence, IncidentType type, UnixSeconds created,
                             const std::string& reason) {
  Incident incident;
  incident.id = "inc-" + std::to_string(sequence);
  incident.code = {"ACME", sequence, type};
  incident.created = created;
  incident.modified = created + 60;
  incident.reason = reason;
  incident.counts = {sequence % 4, sequence % 3, 0, 0};
  incident.criteria.identifier = "<m" + std::to_string(sequence) + "@example.com>";
  incident.criteria.start = created - 86400;
  incident.criteria.end = created;
  return incident;
}

// `count` incidents an hour apart going back from kStart, types in turn,
// every third reason mentioning an invoice.
inline std::vector<Incident> ManyIncidents(uint32_t count) {
  std::vector<Incident> incidents;
  for (uint32_t i = 1; i <= count; ++i) {
    IncidentType type = kAllIncidentTypes[i % kIncidentTypeCount];
    std::string reason = i % 3 == 0 ? "Phishing invoice " + std::to_string(i) : "Campaign";
    incidents.push_back(MakeIncident(i, type, kStart - static_cast<UnixSeconds>(i) * 3600, reason));
  }
  return incidents;
}

inline std::string SnapshotJson(const std::vector<Incident>& incidents, const std::string& cursor,
                                bool delta = false, std::vector<std::string> purged = {}) {
  Snapshot snapshot;
  snapshot.cursor = cursor;
  snapshot.generated = kStart;
  snapshot.delta = delta;
  snapshot.incidents = incidents;
  snapshot.purged = std::move(purged);
  return EncodeSnapshot(snapshot);
}

inline std::string ErrorJson(int status, const std::string& field, const std::string& message) {
  nlohmann::json body = {
      {"error", {{"status", status}, {"code", "x"}, {"field", field}, {"message", message}}}};
  return DumpJson(body);
}

inline HttpResponse Reply(int status, std::string body) {
  HttpResponse response;
  response.reached = true;
  response.status = status;
  response.body = std::move(body);
  return response;
}

inline HttpResponse Unreachable() {
  HttpResponse response;
  response.transport_error = "connection refused";
  return response;
}

struct Fixture {
  UnixSeconds now = kStart;
  std::shared_ptr<FixedTimeZone> zone = std::make_shared<FixedTimeZone>(0);
  ClientState state{[this] { return now; }, zone};
  std::vector<HttpRequest> pending;

  // Takes the queued requests and returns the first of `kind`, failing the
  // test when there is none.
  HttpRequest Expect(RequestKind kind) {
    for (HttpRequest& request : state.TakeRequests())
      pending.push_back(std::move(request));
    for (auto it = pending.begin(); it != pending.end(); ++it) {
      if (it->kind == kind) {
        HttpRequest found = *it;
        pending.erase(it);
        return found;
      }
    }
    FAIL("no " << DisplayName(kind) << " request queued");
    return {};
  }

  bool HasQueued(RequestKind kind) {
    for (HttpRequest& request : state.TakeRequests())
      pending.push_back(std::move(request));
    for (const HttpRequest& request : pending)
      if (request.kind == kind)
        return true;
    return false;
  }

  void Answer(RequestKind kind, const HttpResponse& response) {
    HttpRequest request = Expect(kind);
    state.OnResponse(request, response);
  }

  // Logs in and answers the session and a full sync with `incidents`.
  void LoginWith(const std::vector<Incident>& incidents, const std::string& cursor = "c1") {
    state.Login("rcl_test");
    Answer(RequestKind::kSession,
           Reply(200, R"({"tokenId":"t1","name":"t","role":"admin","organisation":"ACME"})"));
    Answer(RequestKind::kSync, Reply(200, SnapshotJson(incidents, cursor)));
  }

  nlohmann::json TestState() { return nlohmann::json::parse(state.TestStateJson()); }
};

}  // namespace reclaim::client::testing
