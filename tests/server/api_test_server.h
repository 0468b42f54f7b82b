// A running native API server for integration tests.
//
// The fixture creates a temporary data folder whose `mail/` contains Maildir
// mailboxes for example.com and example.org. It opens the App on a clock the
// test sets and creates one token per role. It serves the API on 127.0.0.1,
// on a port the kernel picks, from its own thread. The destructor stops the
// server and the jobs and removes the folder.
#pragma once

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sync-server/app/app.h"
#include "sync-server/auth/tokens.h"
#include "sync-server/http/api_server.h"
#include "tests/server/maildir_org.h"

namespace reclaim::testing {

// Where the fixture's clock starts: 2026-12-04T15:55:54Z.
inline constexpr UnixSeconds kApiStart = 1796399754;

// One HTTP response, or the transport error that replaced it.
struct ApiResponse {
  int status = 0;     // 0 when no response arrived, and `error` is set
  std::string error;  // transport error
  std::string body;
  httplib::Headers headers;
  nlohmann::json json;  // the parsed body, or null when the body is not JSON

  std::string Header(const std::string& name) const {
    auto found = headers.find(name);
    return found == headers.end() ? std::string() : found->second;
  }
};

// The names of an object's members, to compare a response's shape exactly.
inline std::set<std::string> MemberNames(const nlohmann::json& object) {
  std::set<std::string> names;
  if (!object.is_object())
    return names;
  for (auto it = object.begin(); it != object.end(); ++it)
    names.insert(it.key());
  return names;
}

// Percent-encodes every byte outside A-Z, a-z, 0-9 and -_.~ for a URL query
// string. The tests keep their own encoder so that the server's decoding is
// checked against an independent one.
inline std::string UrlEncode(const std::string& text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.' || c == '~';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// `name=value&...`, each part encoded with UrlEncode.
inline std::string QueryString(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty())
      out += '&';
    out += UrlEncode(name) + "=" + UrlEncode(value);
  }
  return out;
}

class ApiTestServer {
 public:
  ApiTestServer() {
    for (const char* domain : {"example.com", "example.org"}) {
      std::filesystem::create_directories(org_.mail_root() + "/" + domain);
    }
    ServerConfig config = DefaultConfig(org_.root());
    Result<std::unique_ptr<App>> opened =
        App::Open(config, [clock = &clock_] { return clock->load(); });
    INFO("App::Open: " << opened.status().field() << " " << opened.status().message());
    REQUIRE(opened.ok());
    app_ = std::move(*opened);

    const std::pair<Role, const char*> roles[] = {{Role::kViewer, "test-viewer"},
                                                  {Role::kRemediator, "test-remediator"},
                                                  {Role::kAdmin, "test-admin"}};
    for (const auto& [role, name] : roles) {
      TokenInfo info;
      secrets_[role] = CreateToken(name, role, &info);
      tokens_[role] = info;
    }

    server_ = std::make_unique<ApiServer>(app_.get());
    Result<int> bound = server_->Bind("127.0.0.1", 0);
    REQUIRE(bound.ok());
    port_ = *bound;
    thread_ = std::thread([this] { server_->Run(); });

    // Tests start once the server has served a request.
    bool ready = false;
    for (int attempt = 0; attempt < 1000 && !ready; ++attempt) {
      ready = Send("GET", "/healthz", "", "").status == 200;
      if (!ready)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!ready)
      Shutdown();
    REQUIRE_MESSAGE(ready, "the API server did not answer /healthz within 10 s");
  }

  ~ApiTestServer() { Shutdown(); }

  ApiTestServer(const ApiTestServer&) = delete;
  ApiTestServer& operator=(const ApiTestServer&) = delete;

  MaildirOrg& org() { return org_; }
  App& app() { return *app_; }
  ApiServer& api_server() { return *server_; }
  int port() const { return port_; }

  UnixSeconds Now() const { return clock_.load(); }
  void SetNow(UnixSeconds now) { clock_ = now; }
  void Advance(UnixSeconds seconds) { clock_ += seconds; }

  // The secret and the record of the fixture's token for `role`.
  const std::string& Secret(Role role) const { return secrets_.at(role); }
  const TokenInfo& Token(Role role) const { return tokens_.at(role); }

  // Creates another token and returns its secret.
  std::string CreateToken(const std::string& name, Role role, TokenInfo* info = nullptr) {
    Result<std::string> secret =
        app_->WithDatabase([&](Database&, IncidentRepository&, TokenStore& tokens) {
          return tokens.Create(name, role, Now(), info);
        });
    REQUIRE(secret.ok());
    return *secret;
  }

  void RevokeToken(const std::string& id) {
    Status revoked = app_->WithDatabase(
        [&](Database&, IncidentRepository&, TokenStore& tokens) { return tokens.Revoke(id); });
    REQUIRE(revoked.ok());
  }

  // Sends a request with `Authorization: Bearer <secret>` (none when the
  // secret is empty) and, for a non-empty body, a JSON content type.
  ApiResponse Send(const std::string& method, const std::string& path, const std::string& body,
                   const std::string& secret) {
    httplib::Client client("127.0.0.1", port_);
    client.set_connection_timeout(5, 0);
    client.set_read_timeout(30, 0);
    client.set_write_timeout(30, 0);
    httplib::Headers headers;
    if (!secret.empty())
      headers.emplace("Authorization", "Bearer " + secret);
    httplib::Result result =
        method == "GET"    ? client.Get(path, headers)
        : method == "POST" ? client.Post(path, headers, body, "application/json")
        : method == "PUT"  ? client.Put(path, headers, body, "application/json")
                           : client.Delete(path, headers, body, "application/json");
    ApiResponse response;
    if (!result) {
      response.error = httplib::to_string(result.error());
      return response;
    }
    response.status = result->status;
    response.body = result->body;
    response.headers = result->headers;
    if (response.Header("Content-Type").rfind("application/json", 0) == 0) {
      response.json = nlohmann::json::parse(response.body, nullptr, false);
      if (response.json.is_discarded())
        response.json = nullptr;
    }
    return response;
  }

  ApiResponse Get(const std::string& path, Role role) {
    return Send("GET", path, "", Secret(role));
  }
  ApiResponse Post(const std::string& path, const std::string& body, Role role) {
    return Send("POST", path, body, Secret(role));
  }
  ApiResponse Post(const std::string& path, const nlohmann::json& body, Role role) {
    return Send("POST", path, body.dump(), Secret(role));
  }
  ApiResponse Put(const std::string& path, const nlohmann::json& body, Role role) {
    return Send("PUT", path, body.dump(), Secret(role));
  }

  // Polls GET /api/v1/jobs/{id} until the job has finished, for at most
  // 30 s, and returns the job.
  nlohmann::json WaitForJob(const std::string& id) {
    nlohmann::json job;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      ApiResponse response = Get("/api/v1/jobs/" + id, Role::kViewer);
      REQUIRE(response.status == 200);
      job = response.json;
      std::string state = job.value("state", "");
      if (state != "queued" && state != "running")
        return job;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL("job " << id << " did not finish within 30 s: " << job.dump());
    return job;
  }

  // Reads the delivered mail into the index through POST /api/v1/index.
  void Index() {
    ApiResponse response = Post("/api/v1/index", std::string(), Role::kRemediator);
    REQUIRE(response.status == 202);
    nlohmann::json job = WaitForJob(response.json.at("jobId").get<std::string>());
    REQUIRE(job.at("state") == "succeeded");
  }

 private:
  void Shutdown() {
    if (thread_.joinable()) {
      server_->Stop();
      thread_.join();
    }
    server_.reset();
    app_.reset();
  }

  MaildirOrg org_;  // first member, so the folder is removed last
  std::atomic<UnixSeconds> clock_{kApiStart};
  std::unique_ptr<App> app_;
  std::map<Role, std::string> secrets_;
  std::map<Role, TokenInfo> tokens_;
  std::unique_ptr<ApiServer> server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace reclaim::testing
