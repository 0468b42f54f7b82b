// The real HTTP server for API tests. An App with a fixed clock reads a
// MaildirOrg through a Maildir connection for example.com and example.org.
// It is served on a free port of 127.0.0.1 until the harness is destroyed,
// with a viewer and a remediator token.
#pragma once

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "shared/json_values.h"
#include "sync-server/app/app.h"
#include "sync-server/app/config.h"
#include "sync-server/http/api_server.h"
#include "tests/server/maildir_engine.h"
#include "tests/server/maildir_org.h"

namespace reclaim::testing {

class ApiHarness {
 public:
  ApiHarness() {
    // DefaultConfig reads mail from <data dir>/mail, which is where the
    // MaildirOrg delivers.
    ServerConfig config = DefaultConfig(org.root());
    Result<std::unique_ptr<App>> opened = App::Open(config, [] { return kNow; });
    REQUIRE(opened.ok());
    app = std::move(*opened);
    viewer = CreateToken("soar-viewer", Role::kViewer);
    remediator = CreateToken("soar-remediator", Role::kRemediator);
    server_ = std::make_unique<ApiServer>(app.get());
    Result<int> bound = server_->Bind("127.0.0.1", 0);
    REQUIRE(bound.ok());
    port_ = *bound;
    thread_ = std::thread([this] { server_->Run(); });

    // ApiServer::Stop() has no effect before the server listens, and then
    // the destructor would wait forever, so wait for the first response.
    httplib::Client client = Client();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!client.Get("/healthz") && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  ~ApiHarness() {
    server_->Stop();
    thread_.join();
  }

  ApiHarness(const ApiHarness&) = delete;
  ApiHarness& operator=(const ApiHarness&) = delete;

  void Index() {
    IndexStats stats = app->IndexNow();
    INFO("index errors: " << (stats.errors.empty() ? "" : stats.errors.front()));
    REQUIRE(stats.errors.empty());
  }

  httplib::Client Client() const {
    httplib::Client client("127.0.0.1", port_);
    client.set_connection_timeout(5);
    client.set_read_timeout(10);
    return client;
  }

  // Sends `body` with `token` (none when empty) and returns the response;
  // fails the test when no response arrives.
  httplib::Response Post(const std::string& path, const std::string& body,
                         const std::string& token) const {
    httplib::Client client = Client();
    httplib::Result result = client.Post(path, Headers(token), body, "application/json");
    REQUIRE_MESSAGE(result, "no response to POST " << path);
    return *result;
  }

  httplib::Response Get(const std::string& path, const std::string& token) const {
    httplib::Client client = Client();
    httplib::Result result = client.Get(path, Headers(token));
    REQUIRE_MESSAGE(result, "no response to GET " << path);
    return *result;
  }

  // Parses a JSON response body, failing the test on malformed JSON.
  static nlohmann::json Json(const httplib::Response& response) {
    Result<nlohmann::json> parsed = ParseJson(response.body);
    INFO("body: " << response.body);
    REQUIRE(parsed.ok());
    return *parsed;
  }

  // Polls a job until it leaves the queued and running states, for at most
  // 10 seconds, and returns its last state.
  std::string WaitForJob(const std::string& job_id) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::string state;
    while (std::chrono::steady_clock::now() < deadline) {
      httplib::Response response = Get("/api/v1/jobs/" + job_id, viewer);
      REQUIRE(response.status == 200);
      state = Json(response).at("state").get<std::string>();
      if (state != "queued" && state != "running")
        return state;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return state;
  }

  MaildirOrg org;
  std::unique_ptr<App> app;
  std::string viewer;      // token secret with the viewer role
  std::string remediator;  // token secret with the remediator role

 private:
  std::string CreateToken(const std::string& name, Role role) {
    Result<std::string> secret =
        app->WithDatabase([&](Database&, IncidentRepository&, TokenStore& tokens) {
          TokenInfo info;
          return tokens.Create(name, role, kNow, &info);
        });
    REQUIRE(secret.ok());
    return *secret;
  }

  static httplib::Headers Headers(const std::string& token) {
    httplib::Headers headers;
    if (!token.empty())
      headers.emplace("Authorization", "Bearer " + token);
    return headers;
  }

  std::unique_ptr<ApiServer> server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace reclaim::testing
