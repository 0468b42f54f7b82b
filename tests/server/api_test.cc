// Integration tests of the native HTTP API (/api/v1, /healthz, /metrics) and
// of the reclaim-server command line, against real Maildir folders, a real
// SQLite file and servers started on 127.0.0.1.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "shared/incident_store.h"
#include "shared/query.h"
#include "shared/query_params.h"
#include "tests/server/api_test_server.h"
#include "tests/server/maildir_org.h"

extern char** environ;

// Vectors and sets of strings print their elements when a check fails.
namespace doctest {
template <>
struct StringMaker<std::vector<std::string>> {
  static String convert(const std::vector<std::string>& values) {
    std::string text = "[";
    for (const std::string& value : values)
      text += (text.size() > 1 ? ", " : "") + value;
    return (text + "]").c_str();
  }
};
template <>
struct StringMaker<std::set<std::string>> {
  static String convert(const std::set<std::string>& values) {
    std::string text = "{";
    for (const std::string& value : values)
      text += (text.size() > 1 ? ", " : "") + value;
    return (text + "}").c_str();
  }
};
}  // namespace doctest

using namespace reclaim;
using nlohmann::json;
using reclaim::testing::ApiResponse;
using reclaim::testing::ApiTestServer;
using reclaim::testing::InvoiceMessage;
using reclaim::testing::kApiStart;
using reclaim::testing::kInvoiceMd5;
using reclaim::testing::kInvoiceSha256;
using reclaim::testing::MaildirOrg;
using reclaim::testing::MemberNames;
using reclaim::testing::QueryString;

namespace {

constexpr UnixSeconds kHour = 3600;
constexpr UnixSeconds kDay = 86400;

using Names = std::set<std::string>;
using Params = std::vector<std::pair<std::string, std::string>>;

// ISO 8601 UTC text, written with strftime so that expected times do not
// come from the formatter under test.
std::string IsoUtc(UnixSeconds seconds) {
  time_t time = static_cast<time_t>(seconds);
  std::tm parts{};
  gmtime_r(&time, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

// An RFC 5322 Date header value.
std::string MailDate(UnixSeconds seconds) {
  time_t time = static_cast<time_t>(seconds);
  std::tm parts{};
  gmtime_r(&time, &parts);
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char text[64];
  std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[parts.tm_wday],
                parts.tm_mday, kMonths[parts.tm_mon], parts.tm_year + 1900, parts.tm_hour,
                parts.tm_min, parts.tm_sec);
  return text;
}

// A plain-text message.
std::string TextMail(const std::string& message_id, const std::string& from, const std::string& to,
                     const std::string& subject, UnixSeconds date) {
  return "From: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject +
         "\r\nDate: " + MailDate(date) + "\r\nMessage-ID: " + message_id +
         "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
         "Please confirm your details at the link below.\r\n";
}

bool StartsWith(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

bool IsHex(const std::string& text, size_t length) {
  return text.size() == length && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Checks the error shape {"error": {"status", "code", "field", "message"}}.
void CheckError(const ApiResponse& response, int status, const std::string& code,
                const std::string& field) {
  CHECK(response.status == status);
  REQUIRE(response.json.is_object());
  CHECK(MemberNames(response.json) == Names{"error"});
  const json& error = response.json.at("error");
  CHECK(MemberNames(error) == Names{"status", "code", "field", "message"});
  CHECK(error.value("status", 0) == status);
  CHECK(error.value("code", "") == code);
  CHECK(error.value("field", "") == field);
  CHECK_FALSE(error.value("message", "").empty());
}

// A small organisation. The payroll phish reaches alice (unread, in new/),
// bob (read, in cur/) and erin (read, in her Archive folder) and also names
// zed@partner.example, whose domain has no connection. The invoice with the
// PDF attachment reaches carol and erin.
constexpr const char* kPayrollId = "<payroll.2291@phish.example>";
constexpr const char* kPayrollFrom = "Payroll <payroll@phish.example>";
constexpr const char* kPayrollSender = "payroll@phish.example";  // the address of From
constexpr const char* kPayrollSubject = "Update your payroll details";
constexpr UnixSeconds kPayrollDate = kApiStart - 2 * kDay;
constexpr const char* kNoConnectionText = "No connections are configured for the mailbox.";

struct SmallOrg {
  std::string alice_file;  // relative to each user's Maildir
  std::string bob_file;
  std::string erin_file;
  std::string carol_invoice;
  std::string erin_invoice;
};

SmallOrg DeliverSmallOrg(MaildirOrg& org) {
  for (const char* user : {"alice", "bob", "carol"})
    org.AddUser(user, "example.com");
  org.AddUser("erin", "example.org");
  std::string payroll =
      TextMail(kPayrollId, kPayrollFrom,
               "alice@example.com, bob@example.com, erin@example.org, zed@partner.example",
               kPayrollSubject, kPayrollDate);
  SmallOrg files;
  files.alice_file = org.Deliver("alice", "example.com", payroll);
  files.bob_file = org.Deliver("bob", "example.com", payroll, "S");
  files.erin_file = org.Deliver("erin", "example.org", payroll, "S", "Archive");
  std::string invoice =
      InvoiceMessage("<inv4471@invoices.example.net>", "carol@example.com, erin@example.org");
  files.carol_invoice = org.Deliver("carol", "example.com", invoice);
  files.erin_invoice = org.Deliver("erin", "example.org", invoice, "S");
  return files;
}

// Where the payroll copy of `local@domain` is now, relative to its Maildir.
std::string PayrollFile(MaildirOrg& org, const std::string& local, const std::string& domain) {
  std::vector<std::string> found = org.FilesContaining(local, domain, "payroll.2291@");
  REQUIRE(found.size() == 1);
  return found[0];
}

// The payroll incident as the API must show it right after identification
// at `created`, without its id.
json PayrollIncident(const std::string& code, const std::string& type, const std::string& reason,
                     UnixSeconds created) {
  return {{"code", code},
          {"type", type},
          {"create", IsoUtc(created)},
          {"modified", IsoUtc(created)},
          {"reason", reason},
          {"identified", 4},
          {"removed", 0},
          {"failed", 1},
          {"restored", 0},
          {"searchCriteria",
           {{"messageId", kPayrollId},
            {"from", ""},
            {"to", ""},
            {"start", IsoUtc(created - 30 * kDay)},
            {"end", IsoUtc(created)}}}};
}

// Checks an incident against `expected`, which omits the opaque id.
void CheckIncident(const json& actual, const json& expected) {
  INFO("incident " << actual.dump());
  REQUIRE(actual.is_object());
  Names names = MemberNames(expected);
  names.insert("id");
  CHECK(MemberNames(actual) == names);
  CHECK(IsHex(actual.value("id", ""), 24));
  for (auto it = expected.begin(); it != expected.end(); ++it) {
    INFO("member " << it.key());
    CHECK(actual.value(it.key(), json()) == it.value());
  }
}

// Checks a finished job's exact shape.
void CheckFinishedJob(const json& job, const std::string& kind, const std::string& incident_id,
                      const std::string& state, int total, UnixSeconds created,
                      UnixSeconds finished) {
  INFO("job " << job.dump());
  CHECK(MemberNames(job) ==
        Names{"id", "kind", "incidentId", "state", "total", "done", "created", "finished"});
  CHECK(StartsWith(job.value("id", ""), "job-"));
  CHECK(job.value("kind", "") == kind);
  CHECK(job.value("incidentId", "") == incident_id);
  CHECK(job.value("state", "") == state);
  CHECK(job.value("total", -1) == total);
  CHECK(job.value("done", -1) == total);
  CHECK(job.value("created", "") == IsoUtc(created));
  CHECK(job.value("finished", "") == IsoUtc(finished));
}

// Checks a job right after it was queued. Its progress races with the
// worker, so only the fixed members are compared.
void CheckNewJob(const json& job, const std::string& kind, const std::string& incident_id,
                 UnixSeconds created) {
  INFO("job " << job.dump());
  Names allowed{"id", "kind", "incidentId", "state", "total", "done", "created", "finished"};
  for (const std::string& name : MemberNames(job)) {
    INFO("member " << name);
    CHECK(allowed.count(name) == 1);
  }
  CHECK(StartsWith(job.value("id", ""), "job-"));
  CHECK(job.value("kind", "") == kind);
  CHECK(job.value("incidentId", "") == incident_id);
  CHECK(job.value("created", "") == IsoUtc(created));
  std::string state = job.value("state", "");
  CHECK((state == "queued" || state == "running" || state == "succeeded"));
}

// The payroll message rows of an incident, by recipient.
std::map<std::string, json> RowsByRecipient(const json& incident) {
  std::map<std::string, json> rows;
  for (const json& row : incident.at("messages"))
    rows[row.at("recipient")] = row;
  return rows;
}

void CheckPayrollRow(const json& row, const std::string& recipient, const std::string& folder,
                     const std::string& moved_to, const std::string& status,
                     const json& last_action) {
  INFO("row " << row.dump());
  CHECK(MemberNames(row) == Names{"id", "recipient", "sender", "subject", "delivered", "mailbox",
                                  "folder", "movedTo", "status", "failureReason", "lastAction"});
  CHECK_FALSE(row.value("id", "").empty());
  CHECK(row.value("recipient", "") == recipient);
  CHECK(row.value("sender", "") == kPayrollSender);
  CHECK(row.value("subject", "") == kPayrollSubject);
  CHECK(row.value("delivered", "") == IsoUtc(kPayrollDate));
  CHECK(row.value("mailbox", "") == recipient);
  CHECK(row.value("folder", "") == folder);
  CHECK(row.value("movedTo", "") == moved_to);
  CHECK(row.value("status", "") == status);
  CHECK(row.value("failureReason", "x") == "");
  CHECK(row.at("lastAction") == last_action);
}

void CheckPartnerRow(const json& row, UnixSeconds created) {
  INFO("row " << row.dump());
  CHECK(row.value("recipient", "") == "zed@partner.example");
  CHECK(row.value("sender", "x") == "");
  CHECK(row.value("subject", "x") == "");
  CHECK(row.value("delivered", "") == "1970-01-01T00:00:00Z");
  CHECK(row.value("mailbox", "") == "zed@partner.example");
  CHECK(row.value("folder", "x") == "");
  CHECK(row.value("movedTo", "x") == "");
  CHECK(row.value("status", "") == "failed");
  CHECK(row.value("failureReason", "") == kNoConnectionText);
  CHECK(row.value("lastAction", "") == IsoUtc(created));
}

json Remediation(const std::string& identifier, const std::string& reason,
                 const std::string& action) {
  json body = {{"identifier", identifier}, {"reason", reason}};
  if (!action.empty())
    body["action"] = action;
  return body;
}

// Creates a remediation, waits for its job if it has one, and returns the
// response body.
json Remediate(ApiTestServer& server, const json& body, Role role = Role::kRemediator) {
  ApiResponse response = server.Post("/api/v1/remediations", body, role);
  INFO("request " << body.dump() << " response " << response.body);
  REQUIRE((response.status == 201 || response.status == 202));
  if (response.json.contains("job")) {
    server.WaitForJob(response.json["job"]["id"].get<std::string>());
  }
  return response.json;
}

json GetIncident(ApiTestServer& server, const std::string& id) {
  ApiResponse response = server.Get("/api/v1/incidents/" + id, Role::kViewer);
  INFO("incident " << id << " response " << response.body);
  REQUIRE(response.status == 200);
  return response.json;
}

// Blocks the job runner with a job that waits until released (or
// cancelled), so that later jobs stay queued.
class JobBlocker {
 public:
  explicit JobBlocker(ApiTestServer& server) : server_(server), state_(std::make_shared<State>()) {
    id_ = server.app().jobs().Submit(JobKind::kIndex, "", [state = state_](JobControl* control) {
      state->started = true;
      while (!state->released && !control->cancel) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      return Status::Ok();
    });
    for (int i = 0; i < 2000 && !state_->started; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    REQUIRE(state_->started);
  }
  // The job ends within a few milliseconds; Release() waits for it.
  ~JobBlocker() { state_->released = true; }

  // Lets the job finish and waits until it has.
  void Release() {
    state_->released = true;
    server_.WaitForJob(id_);
  }
  const std::string& id() const { return id_; }

 private:
  struct State {
    std::atomic<bool> started{false};
    std::atomic<bool> released{false};
  };
  ApiTestServer& server_;
  std::shared_ptr<State> state_;
  std::string id_;
};

}  // namespace

// ---------------------------------------------------------------------------
// Health, metrics, session and settings

TEST_CASE("api health and metrics") {
  ApiTestServer server;
  ApiResponse health = server.Send("GET", "/healthz", "", "");
  CHECK(health.status == 200);
  CHECK(StartsWith(health.Header("Content-Type"), "application/json"));
  CHECK(health.json == json{{"status", "ok"}});

  ApiResponse metrics = server.Send("GET", "/metrics", "", "");
  CHECK(metrics.status == 200);
  CHECK(metrics.Header("Content-Type") == "text/plain; version=0.0.4");
  for (const char* line :
       {"# TYPE reclaim_incidents gauge\nreclaim_incidents 0\n",
        "# TYPE reclaim_http_requests_total counter\n", "# TYPE reclaim_jobs gauge\n",
        "reclaim_jobs{state=\"running\"} 0\n", "reclaim_jobs{state=\"queued\"} 0\n"}) {
    INFO("line " << line);
    CHECK(metrics.body.find(line) != std::string::npos);
  }
  // The counters are per process, so other tests' requests count too.
  std::smatch ok;
  REQUIRE(std::regex_search(metrics.body, ok,
                            std::regex("reclaim_http_requests_total\\{status=\"200\"\\} (\\d+)")));
  CHECK(std::stoll(ok[1]) >= 1);

  DeliverSmallOrg(server.org());
  server.Index();
  Remediate(server, Remediation(kPayrollId, "Payroll phish", "notify_only"));
  {
    JobBlocker blocker(server);
    metrics = server.Send("GET", "/metrics", "", "");
    CHECK(metrics.body.find("reclaim_incidents 1\n") != std::string::npos);
    CHECK(metrics.body.find("reclaim_jobs{state=\"running\"} 1\n") != std::string::npos);
    blocker.Release();
  }
  metrics = server.Send("GET", "/metrics", "", "");
  CHECK(metrics.body.find("reclaim_jobs{state=\"running\"} 0\n") != std::string::npos);
}

TEST_CASE("api session and settings") {
  ApiTestServer server;
  const std::pair<Role, const char*> roles[] = {
      {Role::kViewer, "viewer"}, {Role::kRemediator, "remediator"}, {Role::kAdmin, "admin"}};
  for (const auto& [role, name] : roles) {
    INFO("role " << name);
    ApiResponse session = server.Get("/api/v1/session", role);
    CHECK(session.status == 200);
    CHECK(session.json == json{{"tokenId", server.Token(role).id},
                               {"name", std::string("test-") + name},
                               {"role", name},
                               {"organisation", "ACME"}});
  }

  json defaults = {{"organisation", "ACME"},
                   {"mode", "automatic"},
                   {"retentionDays", 365},
                   {"holdFolder", "Reclaim-Hold"}};
  ApiResponse settings = server.Get("/api/v1/settings", Role::kViewer);
  CHECK(settings.status == 200);
  CHECK(settings.json == defaults);

  ApiResponse unchanged = server.Put("/api/v1/settings", json::object(), Role::kAdmin);
  CHECK(unchanged.status == 200);
  CHECK(unchanged.json == defaults);

  json changed = defaults;
  changed["mode"] = "notify_only";
  changed["retentionDays"] = 30;
  ApiResponse put = server.Put("/api/v1/settings",
                               json{{"mode", "notify_only"}, {"retentionDays", 30}}, Role::kAdmin);
  CHECK(put.status == 200);
  CHECK(put.json == changed);
  CHECK(server.Get("/api/v1/settings", Role::kViewer).json == changed);
  CHECK(server.app().mode() == RemediationMode::kNotifyOnly);
  CHECK(server.app().retention_days() == 30);

  // A rejected value changes nothing, not even the valid member beside it.
  ApiResponse rejected = server.Put(
      "/api/v1/settings", json{{"mode", "automatic"}, {"retentionDays", 0}}, Role::kAdmin);
  CheckError(rejected, 400, "invalid_argument", "retentionDays");
  CHECK(server.Get("/api/v1/settings", Role::kViewer).json == changed);

  for (int days : {1, 3650}) {
    INFO("retentionDays " << days);
    ApiResponse edge = server.Put("/api/v1/settings", json{{"retentionDays", days}}, Role::kAdmin);
    CHECK(edge.status == 200);
    CHECK(edge.json.value("retentionDays", 0) == days);
  }
}

TEST_CASE("api server stop before run") {
  ApiTestServer server;
  // Attempt 0 calls Stop() before Run(), and the other 20 let them race. A
  // lost stop leaves Run() listening, so the test calls Stop() again after
  // 5 s to end the thread, and reports the failure.
  for (int attempt = 0; attempt < 21; ++attempt) {
    INFO("attempt " << attempt << (attempt == 0 ? " (stop before run)" : " (racing)"));
    ApiServer second(&server.app());
    REQUIRE(second.Bind("127.0.0.1", 0).ok());
    if (attempt == 0)
      second.Stop();
    std::atomic<bool> returned{false};
    std::thread runner([&] {
      second.Run();
      returned = true;
    });
    if (attempt > 0)
      second.Stop();
    for (int i = 0; i < 500 && !returned; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    bool stopped = returned;
    if (!stopped)
      second.Stop();
    runner.join();
    CHECK(stopped);
  }
}

TEST_CASE("api server port already in use") {
  // A second server on a port another one listens on must fail to bind:
  // with SO_REUSEPORT both would accept, each with its own database.
  ApiTestServer server;
  ApiServer second(&server.app());
  Result<int> bound = second.Bind("127.0.0.1", server.port());
  REQUIRE_FALSE(bound.ok());
  CHECK(bound.status().message().find(std::to_string(server.port())) != std::string::npos);
  CHECK(bound.status().message().find("in use") != std::string::npos);
}

// Sends `request` as it is over a new connection and returns what the
// server sends back until it closes the connection or 10 s pass.
std::string SendRaw(int port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  REQUIRE(send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size()));
  std::string reply;
  char buffer[4096];
  for (ssize_t n; (n = recv(fd, buffer, sizeof buffer, 0)) > 0;)
    reply.append(buffer, static_cast<size_t>(n));
  close(fd);
  return reply;
}

TEST_CASE("api POST without Content-Length") {
  // `curl -X POST` without -d sends neither Content-Length nor
  // Transfer-Encoding; such a request has an empty body.
  ApiTestServer server;
  std::string reply = SendRaw(server.port(),
                              "POST /api/v1/index HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "Authorization: Bearer " + server.Secret(Role::kAdmin) +
                                  "\r\nConnection: close\r\n\r\n");
  INFO("reply: " << reply);
  CHECK(reply.rfind("HTTP/1.1 202", 0) == 0);
  CHECK(reply.find("\"jobId\"") != std::string::npos);
}

// ---------------------------------------------------------------------------
// Incidents, remediation, removal and restore

TEST_CASE("api remove and restore move files") {
  ApiTestServer server;
  MaildirOrg& org = server.org();
  SmallOrg files = DeliverSmallOrg(org);
  server.Index();

  // Notify Only: 201, the incident alone, nothing moved.
  const UnixSeconds created = server.Now();
  ApiResponse notify =
      server.Post("/api/v1/remediations", Remediation(kPayrollId, "Payroll phish", "notify_only"),
                  Role::kRemediator);
  CHECK(notify.status == 201);
  REQUIRE(notify.json.is_object());
  CHECK(MemberNames(notify.json) == Names{"incident"});
  CheckIncident(notify.json["incident"],
                PayrollIncident("TR-ACME-00001-N", "notify_only", "Payroll phish", created));
  const std::string id = notify.json["incident"].value("id", "");
  CHECK(PayrollFile(org, "alice", "example.com") == files.alice_file);

  // The incident with its messages, by id and by code.
  json incident = GetIncident(server, id);
  CHECK(incident == GetIncident(server, "TR-ACME-00001-N"));
  json listed = incident;
  listed.erase("messages");
  CHECK(listed == notify.json["incident"]);
  REQUIRE(incident.at("messages").size() == 4);
  std::vector<std::string> order;
  for (const json& row : incident["messages"])
    order.push_back(row.value("recipient", ""));
  CHECK(order == std::vector<std::string>{"alice@example.com", "bob@example.com",
                                          "erin@example.org", "zed@partner.example"});
  std::map<std::string, json> rows = RowsByRecipient(incident);
  CheckPayrollRow(rows["alice@example.com"], "alice@example.com", "INBOX", "", "identified",
                  nullptr);
  CheckPayrollRow(rows["bob@example.com"], "bob@example.com", "INBOX", "", "identified", nullptr);
  CheckPayrollRow(rows["erin@example.org"], "erin@example.org", "Archive", "", "identified",
                  nullptr);
  CheckPartnerRow(rows["zed@partner.example"], created);

  // Remove one chosen copy: alice's file goes to the hold folder.
  server.Advance(60);
  const UnixSeconds first_move = server.Now();
  json alice_row_id = rows["alice@example.com"]["id"];
  ApiResponse alice_only =
      server.Post("/api/v1/incidents/" + id + "/remove",
                  json{{"messages", json::array({alice_row_id})}}, Role::kRemediator);
  CHECK(alice_only.status == 202);
  CHECK(MemberNames(alice_only.json) == Names{"job"});
  CheckNewJob(alice_only.json["job"], "remove", id, first_move);
  json job = server.WaitForJob(alice_only.json["job"].value("id", ""));
  CheckFinishedJob(job, "remove", id, "succeeded", 1, first_move, first_move);
  std::string alice_held = PayrollFile(org, "alice", "example.com");
  CHECK(StartsWith(alice_held, ".Reclaim-Hold/new/"));
  CHECK_FALSE(
      std::filesystem::exists(org.UserDir("alice", "example.com") + "/" + files.alice_file));
  CHECK(PayrollFile(org, "bob", "example.com") == files.bob_file);
  incident = GetIncident(server, id);
  CHECK(incident.value("removed", -1) == 1);
  CHECK(incident.value("identified", -1) == 4);
  CHECK(incident.value("modified", "") == IsoUtc(first_move));
  rows = RowsByRecipient(incident);
  CheckPayrollRow(rows["alice@example.com"], "alice@example.com", "INBOX", "Reclaim-Hold",
                  "removed", IsoUtc(first_move));
  CheckPayrollRow(rows["bob@example.com"], "bob@example.com", "INBOX", "", "identified", nullptr);

  // Remove the rest with an empty body: bob's and erin's copies.
  server.Advance(60);
  const UnixSeconds second_move = server.Now();
  ApiResponse rest = server.Send("POST", "/api/v1/incidents/TR-ACME-00001-N/remove", "",
                                 server.Secret(Role::kRemediator));
  CHECK(rest.status == 202);
  job = server.WaitForJob(rest.json["job"].value("id", ""));
  CheckFinishedJob(job, "remove", id, "succeeded", 2, second_move, second_move);
  std::string bob_held = PayrollFile(org, "bob", "example.com");
  std::string erin_held = PayrollFile(org, "erin", "example.org");
  CHECK(StartsWith(bob_held, ".Reclaim-Hold/cur/"));
  CHECK(bob_held.substr(bob_held.size() - 4) == ":2,S");
  CHECK(StartsWith(erin_held, ".Reclaim-Hold/cur/"));
  incident = GetIncident(server, id);
  CHECK(incident.value("identified", -1) == 4);
  CHECK(incident.value("removed", -1) == 3);
  CHECK(incident.value("failed", -1) == 1);
  CHECK(incident.value("restored", -1) == 0);
  rows = RowsByRecipient(incident);
  CheckPayrollRow(rows["erin@example.org"], "erin@example.org", "Archive", "Reclaim-Hold",
                  "removed", IsoUtc(second_move));

  // Restore: a Restore incident, and every copy back where it was.
  server.Advance(60);
  const UnixSeconds restored_at = server.Now();
  ApiResponse restore = server.Post("/api/v1/incidents/" + id + "/restore",
                                    json{{"reason", "False positive"}}, Role::kRemediator);
  CHECK(restore.status == 202);
  CHECK(MemberNames(restore.json) == Names{"incident", "job"});
  json restore_incident = restore.json["incident"];
  json expected = PayrollIncident("TR-ACME-00002-R", "restore", "False positive", restored_at);
  expected["identified"] = 3;
  expected["failed"] = 0;
  expected["searchCriteria"]["start"] = IsoUtc(created - 30 * kDay);
  expected["searchCriteria"]["end"] = IsoUtc(created);
  expected["restores"] = "TR-ACME-00001-N";
  CheckIncident(restore_incident, expected);
  const std::string restore_id = restore_incident.value("id", "");
  CheckNewJob(restore.json["job"], "restore", restore_id, restored_at);
  job = server.WaitForJob(restore.json["job"].value("id", ""));
  CheckFinishedJob(job, "restore", restore_id, "succeeded", 3, restored_at, restored_at);

  // Each copy is back under its unique name, which keeps the tag of the
  // last move.
  CHECK(StartsWith(PayrollFile(org, "alice", "example.com"), files.alice_file + ",RECLAIM="));
  std::string bob_back = PayrollFile(org, "bob", "example.com");
  CHECK(StartsWith(bob_back, "cur/"));
  CHECK(bob_back.substr(bob_back.size() - 4) == ":2,S");
  std::string erin_back = PayrollFile(org, "erin", "example.org");
  CHECK(StartsWith(erin_back, ".Archive/cur/"));
  CHECK(erin_back.substr(erin_back.size() - 4) == ":2,S");

  json restored = GetIncident(server, restore_id);
  CHECK(restored.value("identified", -1) == 3);
  CHECK(restored.value("restored", -1) == 3);
  CHECK(restored.value("removed", -1) == 0);
  CHECK(restored.value("failed", -1) == 0);
  for (const json& row : restored["messages"]) {
    INFO("restore row " << row.dump());
    CHECK(row.value("status", "") == "restored");
    CHECK(row.value("lastAction", "") == IsoUtc(restored_at));
  }
  json original = GetIncident(server, id);
  CHECK(original.value("identified", -1) == 4);
  CHECK(original.value("restored", -1) == 3);
  CHECK(original.value("removed", -1) == 0);
  CHECK(original.value("failed", -1) == 1);
  CHECK(original.value("modified", "") == IsoUtc(restored_at));

  // Nothing is left to restore, and a restore incident cannot be removed.
  CheckError(server.Post("/api/v1/incidents/" + id + "/restore", json::object(), Role::kRemediator),
             409, "conflict", "messages");
  CheckError(
      server.Post("/api/v1/incidents/" + restore_id + "/remove", json::object(), Role::kRemediator),
      409, "conflict", "id");

  // Remove at once: 202 with the job, copies in the hold folder afterwards.
  server.Advance(60);
  const UnixSeconds manual_at = server.Now();
  ApiResponse manual =
      server.Post("/api/v1/remediations", Remediation(kPayrollId, "Payroll phish, second wave", ""),
                  Role::kRemediator);
  CHECK(manual.status == 202);
  CHECK(MemberNames(manual.json) == Names{"incident", "job"});
  CheckIncident(manual.json["incident"], PayrollIncident("TR-ACME-00003-M", "manual",
                                                         "Payroll phish, second wave", manual_at));
  const std::string manual_id = manual.json["incident"].value("id", "");
  CheckNewJob(manual.json["job"], "remove", manual_id, manual_at);
  server.WaitForJob(manual.json["job"].value("id", ""));
  CHECK(StartsWith(PayrollFile(org, "alice", "example.com"), ".Reclaim-Hold/new/"));
  CHECK(StartsWith(PayrollFile(org, "erin", "example.org"), ".Reclaim-Hold/cur/"));
  json manual_incident = GetIncident(server, manual_id);
  CHECK(manual_incident.value("removed", -1) == 3);
  CHECK(manual_incident.value("failed", -1) == 1);

  // Nothing left to find: the incident has no rows and no job.
  ApiResponse empty =
      server.Post("/api/v1/remediations", Remediation(kPayrollId, "Payroll phish, third look", ""),
                  Role::kRemediator);
  CHECK(empty.status == 201);
  CHECK(MemberNames(empty.json) == Names{"incident"});
  CHECK(empty.json["incident"].value("identified", -1) == 0);
}

TEST_CASE("api incident list and exports") {
  ApiTestServer server;
  DeliverSmallOrg(server.org());
  server.Index();
  const UnixSeconds first = server.Now();
  json notify = Remediate(server, Remediation(kPayrollId, "Payroll phish", "notify_only"));
  server.Advance(kHour);
  json by_hash = Remediate(server, json{{"identifier", kInvoiceSha256},
                                        {"reason", "=HYPERLINK(\"x\")"},
                                        {"from", "billing@invoices.example.net"},
                                        {"action", "notify_only"}});
  CHECK(by_hash["incident"].value("identified", -1) == 2);
  CHECK(by_hash["incident"]["searchCriteria"].value("fileHash", "") == kInvoiceSha256);
  CHECK(by_hash["incident"]["searchCriteria"].value("from", "") == "billing@invoices.example.net");

  ApiResponse list = server.Get("/api/v1/incidents", Role::kViewer);
  CHECK(list.status == 200);
  CHECK(MemberNames(list.json) == Names{"total", "page", "pageSize", "incidents"});
  CHECK(list.json.value("total", -1) == 2);
  CHECK(list.json.value("page", -1) == 1);
  CHECK(list.json.value("pageSize", -1) == 50);
  REQUIRE(list.json["incidents"].size() == 2);
  CHECK(list.json["incidents"][0] == by_hash["incident"]);  // newest first
  CHECK(list.json["incidents"][1] == notify["incident"]);

  // Queue export: BOM, header, quoted text, plain numbers, neutralised formula.
  ApiResponse csv = server.Get("/api/v1/incidents/export", Role::kViewer);
  CHECK(csv.status == 200);
  CHECK(csv.Header("Content-Type") == "text/csv; charset=utf-8");
  CHECK(csv.Header("Content-Disposition") == "attachment; filename=\"incidents.csv\"");
  std::string header =
      "\xEF\xBB\xBF\"Incident ID\",\"Type\",\"Date Created\",\"Last Updated\","
      "\"File Hash / Message ID\",\"Reason\",\"Identified Messages\",\"Removed Messages\","
      "\"Failed Messages\",\"Restored Messages\"\r\n";
  std::string hash_row = "\"TR-ACME-00002-N\",\"Notify Only\",\"" + IsoUtc(first + kHour) +
                         "\",\"" + IsoUtc(first + kHour) + "\",\"" + kInvoiceSha256 +
                         "\",\"'=HYPERLINK(\"\"x\"\")\",2,0,0,0\r\n";
  std::string payroll_row = "\"TR-ACME-00001-N\",\"Notify Only\",\"" + IsoUtc(first) + "\",\"" +
                            IsoUtc(first) + "\",\"" + kPayrollId +
                            "\",\"Payroll phish\",4,0,1,0\r\n";
  CHECK(csv.body == header + hash_row + payroll_row);

  // Raw export of chosen columns for scripts, filtered like the queue.
  ApiResponse raw = server.Get(
      "/api/v1/incidents/export?columns=code,reason&bom=false&raw=true&field=reason&text=hyper",
      Role::kViewer);
  CHECK(raw.status == 200);
  CHECK(raw.body ==
        "\"Incident ID\",\"Reason\"\r\n\"TR-ACME-00002-N\",\"=HYPERLINK(\"\"x\"\")\"\r\n");

  // One incident's messages.
  const std::string id = notify["incident"].value("id", "");
  ApiResponse messages = server.Get(
      "/api/v1/incidents/" + id + "/messages/export?columns=recipient,folder,status,failureReason",
      Role::kViewer);
  CHECK(messages.status == 200);
  CHECK(messages.Header("Content-Type") == "text/csv; charset=utf-8");
  CHECK(messages.Header("Content-Disposition") == "attachment; filename=\"TR-ACME-00001-N.csv\"");
  CHECK(messages.body ==
        "\xEF\xBB\xBF\"Recipient\",\"Folder\",\"Status\",\"Failure Reason\"\r\n"
        "\"alice@example.com\",\"INBOX\",\"Identified\",\"\"\r\n"
        "\"bob@example.com\",\"INBOX\",\"Identified\",\"\"\r\n"
        "\"erin@example.org\",\"Archive\",\"Identified\",\"\"\r\n"
        "\"zed@partner.example\",\"\",\"Failed\",\"No connections are configured for the "
        "mailbox.\"\r\n");
  ApiResponse all_columns =
      server.Get("/api/v1/incidents/TR-ACME-00001-N/messages/export?bom=false", Role::kViewer);
  CHECK(all_columns.status == 200);
  CHECK(StartsWith(all_columns.body,
                   "\"Recipient\",\"Sender\",\"Subject\",\"Delivered\",\"Mailbox\",\"Folder\","
                   "\"Moved To\",\"Status\",\"Failure Reason\",\"Last Action\"\r\n"
                   "\"alice@example.com\",\"payroll@phish.example\","
                   "\"Update your payroll details\",\"" +
                       IsoUtc(kPayrollDate) +
                       "\",\"alice@example.com\",\"INBOX\",\"\","
                       "\"Identified\",\"\",\"\"\r\n"));
}

TEST_CASE("api clawback and threat verdicts") {
  ApiTestServer server;
  MaildirOrg& org = server.org();
  SmallOrg files = DeliverSmallOrg(org);
  server.Index();

  // A clawback pulls the message back from the chosen recipient only,
  // whatever its age.
  const UnixSeconds clawback_at = server.Now();
  ApiResponse clawback =
      server.Post("/api/v1/clawbacks",
                  json{{"messageId", kPayrollId}, {"recipients", json::array({"bob@example.com"})}},
                  Role::kRemediator);
  CHECK(clawback.status == 202);
  CHECK(MemberNames(clawback.json) == Names{"incident", "job"});
  json expected = PayrollIncident("TR-ACME-00001-C", "mep_clawback",
                                  "Misaddressed message pulled back", clawback_at);
  expected["identified"] = 1;
  expected["failed"] = 0;
  expected["searchCriteria"]["start"] = "1970-01-01T00:00:00Z";
  CheckIncident(clawback.json["incident"], expected);
  const std::string clawback_id = clawback.json["incident"].value("id", "");
  json job = server.WaitForJob(clawback.json["job"].value("id", ""));
  CheckFinishedJob(job, "remove", clawback_id, "succeeded", 1, clawback_at, clawback_at);
  CHECK(StartsWith(PayrollFile(org, "bob", "example.com"), ".Reclaim-Hold/cur/"));
  CHECK(PayrollFile(org, "alice", "example.com") == files.alice_file);

  // In Notify Only mode the verdict opens a Notify Only incident and moves
  // nothing. A digest without delivered copies opens none.
  REQUIRE(server.Put("/api/v1/settings", json{{"mode", "notify_only"}}, Role::kAdmin).status ==
          200);
  server.Advance(kHour);
  const UnixSeconds notify_at = server.Now();
  const std::string unknown(64, 'a');
  ApiResponse notify =
      server.Post("/api/v1/threat-intel/hashes",
                  json{{"hashes", json::array({kInvoiceMd5, unknown})}, {"reason", "Feed verdict"}},
                  Role::kRemediator);
  CHECK(notify.status == 200);
  CHECK(MemberNames(notify.json) == Names{"mode", "results"});
  CHECK(notify.json.value("mode", "") == "notify_only");
  REQUIRE(notify.json["results"].size() == 2);
  json first = notify.json["results"][0];
  CHECK(MemberNames(first) == Names{"hash", "incident"});
  CHECK(first.value("hash", "") == kInvoiceMd5);
  CheckIncident(first["incident"], json{{"code", "TR-ACME-00002-N"},
                                        {"type", "notify_only"},
                                        {"create", IsoUtc(notify_at)},
                                        {"modified", IsoUtc(notify_at)},
                                        {"reason", "Feed verdict"},
                                        {"identified", 2},
                                        {"removed", 0},
                                        {"failed", 0},
                                        {"restored", 0},
                                        {"searchCriteria",
                                         {{"fileHash", kInvoiceMd5},
                                          {"from", ""},
                                          {"to", ""},
                                          {"start", IsoUtc(notify_at - 30 * kDay)},
                                          {"end", IsoUtc(notify_at)}}}});
  CHECK(notify.json["results"][1] == json{{"hash", unknown}});
  CHECK(org.FilesContaining("carol", "example.com", "inv4471@") ==
        std::vector<std::string>{files.carol_invoice});

  // Automatic mode: the verdict removes the copies.
  REQUIRE(server.Put("/api/v1/settings", json{{"mode", "automatic"}}, Role::kAdmin).status == 200);
  server.Advance(kHour);
  const UnixSeconds automatic_at = server.Now();
  ApiResponse automatic =
      server.Post("/api/v1/threat-intel/hashes",
                  json{{"hashes", json::array({std::string(kInvoiceSha256)})}}, Role::kRemediator);
  CHECK(automatic.status == 200);
  CHECK(automatic.json.value("mode", "") == "automatic");
  REQUIRE(automatic.json["results"].size() == 1);
  json verdict = automatic.json["results"][0];
  CHECK(MemberNames(verdict) == Names{"hash", "incident", "jobId"});
  CHECK(verdict["incident"].value("code", "") == "TR-ACME-00003-A");
  CHECK(verdict["incident"].value("reason", "") ==
        "Malicious file hash reported by threat intelligence");
  CHECK(verdict["incident"].value("create", "") == IsoUtc(automatic_at));
  json removal = server.WaitForJob(verdict.value("jobId", ""));
  CheckFinishedJob(removal, "remove", verdict["incident"].value("id", ""), "succeeded", 2,
                   automatic_at, automatic_at);
  std::vector<std::string> carol = org.FilesContaining("carol", "example.com", "inv4471@");
  REQUIRE(carol.size() == 1);
  CHECK(StartsWith(carol[0], ".Reclaim-Hold/new/"));

  // No delivered copy is left, so the same verdict opens nothing.
  ApiResponse again =
      server.Post("/api/v1/threat-intel/hashes",
                  json{{"hashes", json::array({std::string(kInvoiceSha256)})}}, Role::kRemediator);
  CHECK(again.status == 200);
  CHECK(again.json["results"] == json::array({json{{"hash", kInvoiceSha256}}}));
}

TEST_CASE("api jobs list and cancel") {
  ApiTestServer server;
  MaildirOrg& org = server.org();
  SmallOrg files = DeliverSmallOrg(org);
  server.Index();

  std::string remove_job;
  std::string incident_id;
  {
    JobBlocker blocker(server);
    server.Advance(60);
    const UnixSeconds queued_at = server.Now();
    ApiResponse created = server.Post(
        "/api/v1/remediations", Remediation(kPayrollId, "Payroll phish", ""), Role::kRemediator);
    REQUIRE(created.status == 202);
    incident_id = created.json["incident"].value("id", "");
    json queued = created.json["job"];
    remove_job = queued.value("id", "");
    CHECK(queued == json{{"id", remove_job},
                         {"kind", "remove"},
                         {"incidentId", incident_id},
                         {"state", "queued"},
                         {"total", 0},
                         {"done", 0},
                         {"created", IsoUtc(queued_at)}});

    ApiResponse list = server.Get("/api/v1/jobs", Role::kViewer);
    CHECK(list.status == 200);
    CHECK(MemberNames(list.json) == Names{"jobs"});
    REQUIRE(list.json["jobs"].size() == 3);  // newest first: remove, blocker, index
    CHECK(list.json["jobs"][0] == queued);
    CHECK(list.json["jobs"][1].value("id", "") == blocker.id());
    CHECK(list.json["jobs"][1].value("state", "") == "running");
    CHECK(list.json["jobs"][1].value("kind", "") == "index");
    CHECK(list.json["jobs"][1].value("incidentId", "x") == "");
    CHECK(list.json["jobs"][2].value("kind", "") == "index");
    CHECK(list.json["jobs"][2].value("state", "") == "succeeded");

    ApiResponse fetched = server.Get("/api/v1/jobs/" + remove_job, Role::kViewer);
    CHECK(fetched.status == 200);
    CHECK(fetched.json == queued);

    ApiResponse cancel =
        server.Post("/api/v1/jobs/" + remove_job + "/cancel", std::string(), Role::kRemediator);
    CHECK(cancel.status == 202);
    CHECK(cancel.json == queued);  // still queued until the worker reaches it
  }
  json cancelled = server.WaitForJob(remove_job);
  CHECK(cancelled.value("state", "") == "cancelled");
  CHECK(cancelled.value("total", -1) == 0);
  CHECK(cancelled.contains("finished"));
  CHECK(GetIncident(server, incident_id).value("removed", -1) == 0);
  CHECK(PayrollFile(org, "alice", "example.com") == files.alice_file);

  CheckError(
      server.Post("/api/v1/jobs/" + remove_job + "/cancel", std::string(), Role::kRemediator), 409,
      "conflict", "id");
  CheckError(server.Post("/api/v1/jobs/job-000000000000/cancel", std::string(), Role::kRemediator),
             409, "conflict", "id");
  CheckError(server.Get("/api/v1/jobs/job-000000000000", Role::kViewer), 404, "not_found", "id");
}

// ---------------------------------------------------------------------------
// Authentication and roles

TEST_CASE("api auth matrix") {
  ApiTestServer server;
  MaildirOrg& org = server.org();
  DeliverSmallOrg(org);
  server.Index();
  json notify = Remediate(server, Remediation(kPayrollId, "Payroll phish", "notify_only"));
  json removed = Remediate(server, Remediation(kInvoiceSha256, "Invoice malware", ""));
  const std::string notify_id = notify["incident"].value("id", "");
  const std::string removed_id = removed["incident"].value("id", "");

  TokenInfo revoked_info;
  const std::string revoked = server.CreateToken("revoked-admin", Role::kAdmin, &revoked_info);
  server.RevokeToken(revoked_info.id);

  // Later jobs queue behind the blocker, so the cancel row finds its job
  // still queued.
  JobBlocker blocker(server);
  struct Route {
    std::string method;
    std::string path;
    std::string body;
    Role role;
    int success;
  };
  const std::vector<Route> routes = {
      {"POST", "/api/v1/remediations",
       Remediation(kPayrollId, "Payroll phish", "notify_only").dump(), Role::kRemediator, 201},
      {"POST", "/api/v1/clawbacks",
       json{{"messageId", kPayrollId}, {"recipients", {"alice@example.com"}}}.dump(),
       Role::kRemediator, 202},
      {"POST", "/api/v1/incidents/" + notify_id + "/remove", "{}", Role::kRemediator, 202},
      {"POST", "/api/v1/incidents/" + removed_id + "/restore", "{}", Role::kRemediator, 202},
      {"POST", "/api/v1/threat-intel/hashes", json{{"hashes", {std::string(64, 'b')}}}.dump(),
       Role::kRemediator, 200},
      {"POST", "/api/v1/jobs/" + blocker.id() + "/cancel", "", Role::kRemediator, 202},
      {"PUT", "/api/v1/settings", json{{"retentionDays", 200}}.dump(), Role::kAdmin, 200},
      {"POST", "/api/v1/index", "", Role::kRemediator, 202},
  };
  for (const Route& route : routes) {
    INFO("route " << route.method << " " << route.path << " body " << route.body);

    ApiResponse none = server.Send(route.method, route.path, route.body, "");
    CheckError(none, 401, "unauthenticated", "Authorization");
    CHECK(none.Header("WWW-Authenticate") == "Bearer");

    ApiResponse unknown =
        server.Send(route.method, route.path, route.body, "rcl_" + std::string(48, '0'));
    CheckError(unknown, 401, "unauthenticated", "Authorization");
    CHECK(unknown.Header("WWW-Authenticate") == "Bearer");

    ApiResponse revoked_response = server.Send(route.method, route.path, route.body, revoked);
    CheckError(revoked_response, 401, "unauthenticated", "Authorization");
    CHECK(revoked_response.Header("WWW-Authenticate") == "Bearer");

    for (Role weaker : {Role::kViewer, Role::kRemediator}) {
      if (weaker >= route.role)
        continue;
      INFO("weaker role " << ApiName(weaker));
      ApiResponse forbidden =
          server.Send(route.method, route.path, route.body, server.Secret(weaker));
      CheckError(forbidden, 403, "forbidden", "Authorization");
      CHECK(forbidden.Header("WWW-Authenticate").empty());
    }

    ApiResponse allowed =
        server.Send(route.method, route.path, route.body, server.Secret(route.role));
    INFO("response " << allowed.body);
    CHECK(allowed.status == route.success);
  }

  // Another header scheme, a Bearer without a secret, and an admin-only read.
  httplib::Client client("127.0.0.1", server.port());
  httplib::Result basic = client.Get("/api/v1/session", {{"Authorization", "Basic dXNlcjpwYXNz"}});
  REQUIRE(basic);
  CHECK(basic->status == 401);
  CHECK(basic->get_header_value("WWW-Authenticate") == "Bearer");
  httplib::Result empty = client.Get("/api/v1/session", {{"Authorization", "Bearer "}});
  REQUIRE(empty);
  CHECK(empty->status == 401);
  // The scheme name is case-insensitive.
  for (const char* scheme : {"bearer ", "BEARER "}) {
    INFO("scheme '" << scheme << "'");
    httplib::Result cased = client.Get(
        "/api/v1/session",
        {{"Authorization", std::string(scheme) + server.Secret(Role::kViewer)}});
    REQUIRE(cased);
    CHECK(cased->status == 200);
  }
  for (const char* path :
       {"/api/v1/incidents", "/api/v1/incidents/export", "/api/v1/sync", "/api/v1/session",
        "/api/v1/settings", "/api/v1/jobs", "/api/v1/audit"}) {
    INFO("path " << path);
    CheckError(server.Send("GET", path, "", ""), 401, "unauthenticated", "Authorization");
  }
  CheckError(server.Get("/api/v1/audit", Role::kViewer), 403, "forbidden", "Authorization");
  CheckError(server.Get("/api/v1/audit", Role::kRemediator), 403, "forbidden", "Authorization");
  CHECK(server.Get("/api/v1/audit", Role::kAdmin).status == 200);

  // Rejected requests changed nothing. The audit log has the first index,
  // the two seeding remediations and one entry per allowed mutation, except
  // the verdict, whose digest has no copies.
  blocker.Release();
  REQUIRE(server.app().jobs().WaitIdle(30000));
  ApiResponse audit = server.Get("/api/v1/audit", Role::kAdmin);
  std::vector<std::string> actions;
  for (const json& entry : audit.json["entries"])
    actions.push_back(entry.value("action", ""));
  CHECK(actions == std::vector<std::string>{
                       "index.rescan", "settings.retention", "job.cancel", "incident.restore",
                       "incident.remove", "remediation.clawback", "remediation.create",
                       "remediation.create", "remediation.create", "index.rescan"});
  CHECK(server.Get("/api/v1/settings", Role::kViewer).json.value("retentionDays", 0) == 200);
}

// ---------------------------------------------------------------------------
// Bad input

TEST_CASE("api bad input table") {
  ApiTestServer server;
  DeliverSmallOrg(server.org());
  server.Index();
  json notify = Remediate(server, Remediation(kPayrollId, "Payroll phish", "notify_only"));
  json removed = Remediate(server, Remediation(kInvoiceSha256, "Invoice malware", ""));
  const std::string removed_id = removed["incident"].value("id", "");
  ApiResponse restore = server.Post("/api/v1/incidents/" + removed_id + "/restore", json::object(),
                                    Role::kRemediator);
  REQUIRE(restore.status == 202);
  server.WaitForJob(restore.json["job"].value("id", ""));
  const std::string notify_id = notify["incident"].value("id", "");
  const std::string restore_id = restore.json["incident"].value("id", "");

  const std::string payroll = kPayrollId;
  const std::string huge(1024 * 1024 + 10, 'a');
  const std::string deep(200000, '[');
  struct Case {
    const char* name;
    std::string method;
    std::string path;
    std::string body;
    Role role;
    int status;
    std::string code;
    std::string field;
  };
  auto invalid = [](const char* name, std::string method, std::string path, std::string body,
                    Role role, std::string field) {
    return Case{name, std::move(method),  std::move(path), std::move(body), role,
                400,  "invalid_argument", std::move(field)};
  };
  const Role kR = Role::kRemediator;
  const Role kA = Role::kAdmin;
  const Role kV = Role::kViewer;
  const std::string rem = "/api/v1/remediations";
  const std::string n_remove = "/api/v1/incidents/" + notify_id + "/remove";
  const std::string n_restore = "/api/v1/incidents/" + notify_id + "/restore";
  const std::string list = "/api/v1/incidents?";
  std::vector<Case> cases = {
      // Bodies that are not a JSON object.
      invalid("missing body", "POST", rem, "", kR, "body"),
      invalid("malformed JSON", "POST", rem, "{\"identifier\": ", kR, "body"),
      invalid("trailing garbage", "POST", rem, "{} x", kR, "body"),
      invalid("array body", "POST", rem, "[1, 2]", kR, "body"),
      invalid("string body", "POST", rem, "\"remove\"", kR, "body"),
      invalid("invalid UTF-8", "POST", rem, "{\"identifier\": \"\xff\xfe\", \"reason\": \"x\"}", kR,
              "body"),
      invalid("deep nesting", "POST", rem, deep, kR, "body"),
      invalid("key twice", "POST", rem,
              "{\"identifier\": \"<a@b.example>\", \"reason\": \"x\", \"reason\": \"y\"}", kR,
              "reason"),
      invalid("malformed settings", "PUT", "/api/v1/settings", "{mode: automatic}", kA, "body"),
      invalid("malformed verdicts", "POST", "/api/v1/threat-intel/hashes", "{\"hashes\": [", kR,
              "body"),
      invalid("malformed remove", "POST", n_remove, "{\"messages\": [1,]}", kR, "body"),
      {"huge body", "POST", rem, "{\"identifier\": \"" + huge + "\", \"reason\": \"x\"}", kR, 413,
       "payload_too_large", "body"},
      // Missing, empty and mistyped members.
      invalid("missing identifier", "POST", rem, R"({"reason": "x"})", kR, "identifier"),
      invalid("empty identifier", "POST", rem, R"({"identifier": "", "reason": "x"})", kR,
              "identifier"),
      invalid("blank identifier", "POST", rem, R"({"identifier": "  ", "reason": "x"})", kR,
              "identifier"),
      invalid("missing reason", "POST", rem, json{{"identifier", payroll}}.dump(), kR, "reason"),
      invalid("blank reason", "POST", rem, json{{"identifier", payroll}, {"reason", " \t "}}.dump(),
              kR, "reason"),
      invalid("truncated hash", "POST", rem,
              json{{"identifier", std::string(63, 'a')}, {"reason", "x"}}.dump(), kR,
              "identifier"),
      invalid("empty-file verdict", "POST", "/api/v1/threat-intel/hashes",
              R"({"hashes": ["d41d8cd98f00b204e9800998ecf8427e"]})", kR, "hashes"),
      invalid("numeric identifier", "POST", rem, R"({"identifier": 5, "reason": "x"})", kR,
              "identifier"),
      invalid("list reason", "POST", rem, json{{"identifier", payroll}, {"reason", {"x"}}}.dump(),
              kR, "reason"),
      invalid("null reason", "POST", rem, json{{"identifier", payroll}, {"reason", nullptr}}.dump(),
              kR, "reason"),
      invalid("numeric start", "POST", rem,
              json{{"identifier", payroll}, {"reason", "x"}, {"start", 12}}.dump(), kR, "start"),
      invalid("unparsable start", "POST", rem,
              json{{"identifier", payroll}, {"reason", "x"}, {"start", "yesterday"}}.dump(), kR,
              "start"),
      invalid("object from", "POST", rem,
              json{{"identifier", payroll}, {"reason", "x"}, {"from", json::object()}}.dump(), kR,
              "from"),
      invalid("invalid to address", "POST", rem,
              json{{"identifier", payroll}, {"reason", "x"}, {"to", "bob"}}.dump(), kR, "to"),
      invalid("boolean action", "POST", rem,
              json{{"identifier", payroll}, {"reason", "x"}, {"action", true}}.dump(), kR,
              "action"),
      invalid("unknown action", "POST", rem,
              json{{"identifier", payroll}, {"reason", "x"}, {"action", "delete"}}.dump(), kR,
              "action"),
      invalid("reason too long", "POST", rem,
              json{{"identifier", payroll}, {"reason", std::string(1001, 'r')}}.dump(), kR,
              "reason"),
      invalid(
          "empty-file hash", "POST", rem,
          json{{"identifier", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
               {"reason", "x"}}
              .dump(),
          kR, "identifier"),
      invalid("messages not a list", "POST", n_remove, R"({"messages": "all"})", kR, "messages"),
      invalid("fractional message id", "POST", n_remove, R"({"messages": [1.5]})", kR, "messages"),
      invalid("word message id", "POST", n_remove, R"({"messages": ["first"]})", kR, "messages"),
      invalid("overlong message id", "POST", n_remove, R"({"messages": ["123456789012345678901"]})",
              kR, "messages"),
      invalid("restore reason number", "POST", n_restore, R"({"reason": 7})", kR, "reason"),
      invalid("recipients not a list", "POST", "/api/v1/clawbacks",
              json{{"messageId", payroll}, {"recipients", "bob@example.com"}}.dump(), kR,
              "recipients"),
      invalid("recipient not a string", "POST", "/api/v1/clawbacks",
              json{{"messageId", payroll}, {"recipients", {5}}}.dump(), kR, "recipients"),
      invalid("missing recipients", "POST", "/api/v1/clawbacks",
              json{{"messageId", payroll}}.dump(), kR, "recipients"),
      invalid("empty recipients", "POST", "/api/v1/clawbacks",
              json{{"messageId", payroll}, {"recipients", json::array()}}.dump(), kR, "recipients"),
      invalid("missing message id", "POST", "/api/v1/clawbacks",
              json{{"recipients", {"bob@example.com"}}}.dump(), kR, "messageId"),
      invalid("hashes not a list", "POST", "/api/v1/threat-intel/hashes", R"({"hashes": "abc"})",
              kR, "hashes"),
      invalid("no hashes", "POST", "/api/v1/threat-intel/hashes", R"({"hashes": []})", kR,
              "hashes"),
      invalid("101 hashes", "POST", "/api/v1/threat-intel/hashes",
              json{{"hashes", std::vector<std::string>(101, std::string(64, 'c'))}}.dump(), kR,
              "hashes"),
      invalid("hash not hex", "POST", "/api/v1/threat-intel/hashes",
              R"({"hashes": ["not-a-digest"]})", kR, "hashes"),
      invalid("hash not a string", "POST", "/api/v1/threat-intel/hashes", R"({"hashes": [5]})", kR,
              "hashes"),
      invalid("string retention", "PUT", "/api/v1/settings", R"({"retentionDays": "30"})", kA,
              "retentionDays"),
      invalid("fractional retention", "PUT", "/api/v1/settings", R"({"retentionDays": 1.5})", kA,
              "retentionDays"),
      invalid("retention 0", "PUT", "/api/v1/settings", R"({"retentionDays": 0})", kA,
              "retentionDays"),
      invalid("retention 3651", "PUT", "/api/v1/settings", R"({"retentionDays": 3651})", kA,
              "retentionDays"),
      invalid("retention beyond int64", "PUT", "/api/v1/settings",
              R"({"retentionDays": 18446744073709551615})", kA, "retentionDays"),
      invalid("unknown mode", "PUT", "/api/v1/settings", R"({"mode": "sometimes"})", kA, "mode"),
      invalid("numeric mode", "PUT", "/api/v1/settings", R"({"mode": 5})", kA, "mode"),
      // Unknown members.
      invalid("unknown remediation member", "POST", rem,
              json{{"identifier", payroll}, {"reason", "x"}, {"severity", "high"}}.dump(), kR,
              "severity"),
      invalid("unknown remove member", "POST", n_remove, R"({"rows": [1]})", kR, "rows"),
      invalid("unknown restore member", "POST", n_restore, R"({"message": [1]})", kR, "message"),
      invalid("unknown clawback member", "POST", "/api/v1/clawbacks",
              json{{"messageID", payroll}, {"recipients", {"bob@example.com"}}}.dump(), kR,
              "messageID"),
      invalid("unknown verdict member", "POST", "/api/v1/threat-intel/hashes",
              json{{"hash", std::string(64, 'c')}}.dump(), kR, "hash"),
      invalid("unknown settings member", "PUT", "/api/v1/settings", R"({"organisation": "X"})", kA,
              "organisation"),
      // Control characters.
      invalid("control character in reason", "POST", rem,
              json{{"identifier", payroll}, {"reason", "Phish\x01"}}.dump(), kR, "reason"),
      invalid("line break in identifier", "POST", rem,
              json{{"identifier", payroll + "\n"}, {"reason", "x"}}.dump(), kR, "identifier"),
      invalid("carriage return in from", "POST", rem,
              json{{"identifier", payroll}, {"reason", "x"}, {"from", "a@b.example\r"}}.dump(), kR,
              "from"),
      invalid("NUL in restore reason", "POST", n_restore, R"({"reason": "a\u0000b"})", kR,
              "reason"),
      invalid(
          "escape in clawback reason", "POST", "/api/v1/clawbacks",
          json{{"messageId", payroll}, {"recipients", {"bob@example.com"}}, {"reason", "\x1b[2J"}}
              .dump(),
          kR, "reason"),
      // Date ranges.
      invalid("inverted remediation window", "POST", rem,
              json{{"identifier", payroll},
                   {"reason", "x"},
                   {"start", "2026-12-01T00:00:00Z"},
                   {"end", "2026-11-01T00:00:00Z"}}
                  .dump(),
              kR, "end"),
      invalid("inverted query range", "GET",
              list + "start=2026-12-04T00:00:00Z&end=2026-12-03T00:00:00Z", "", kV, "end"),
      invalid("custom range without start", "GET", list + "range=custom&end=2026-12-03", "", kV,
              "start"),
      invalid("custom range without end", "GET", list + "range=custom&start=2026-12-03", "", kV,
              "end"),
      invalid("preset with start", "GET", list + "range=last_7_days&start=2026-12-01", "", kV,
              "range"),
      invalid("unknown range", "GET", list + "range=yesterday", "", kV, "range"),
      invalid("unparsable end", "GET", list + "start=2026-12-01&end=soon", "", kV, "end"),
      // Paging and sorting.
      invalid("pageSize 49", "GET", list + "pageSize=49", "", kV, "pageSize"),
      invalid("pageSize 301", "GET", list + "pageSize=301", "", kV, "pageSize"),
      invalid("pageSize word", "GET", list + "pageSize=fifty", "", kV, "pageSize"),
      invalid("pageSize overflow", "GET", list + "pageSize=99999999999", "", kV, "pageSize"),
      invalid("page 0", "GET", list + "page=0", "", kV, "page"),
      invalid("negative page", "GET", list + "page=-1", "", kV, "page"),
      invalid("unknown sort", "GET", list + "sort=colour", "", kV, "sort"),
      invalid("unknown direction", "GET", list + "direction=up", "", kV, "direction"),
      invalid("unknown search field", "GET", list + "field=subject", "", kV, "field"),
      invalid("search text too long", "GET", list + "text=" + std::string(513, 't'), "", kV,
              "text"),
      // Types.
      invalid("unknown type", "GET", list + "types=manual,bogus", "", kV, "types"),
      invalid("display name type", "GET", list + "types=Manual", "", kV, "types"),
      invalid("trailing comma type", "GET", list + "types=manual,", "", kV, "types"),
      invalid("export unknown type", "GET", "/api/v1/incidents/export?types=phish", "", kV,
              "types"),
      // Unknown query parameters.
      invalid("unknown list parameter", "GET", list + "colour=red", "", kV, "colour"),
      invalid("unknown export parameter", "GET", "/api/v1/incidents/export?colour=red", "", kV,
              "colour"),
      invalid("unknown sync parameter", "GET", "/api/v1/sync?cursor=c1", "", kV, "cursor"),
      invalid("export columns", "GET", "/api/v1/incidents/export?columns=code,colour", "", kV,
              "columns"),
      invalid("export bom", "GET", "/api/v1/incidents/export?bom=yes", "", kV, "bom"),
      invalid("export raw", "GET", "/api/v1/incidents/export?raw=1", "", kV, "raw"),
      invalid("message export columns", "GET",
              "/api/v1/incidents/" + notify_id + "/messages/export?columns=subject,size", "", kV,
              "columns"),
      // Sync cursors.
      invalid("cursor word", "GET", "/api/v1/sync?since=abc", "", kV, "since"),
      invalid("cursor prefix only", "GET", "/api/v1/sync?since=c", "", kV, "since"),
      invalid("cursor without prefix", "GET", "/api/v1/sync?since=12", "", kV, "since"),
      invalid("negative cursor", "GET", "/api/v1/sync?since=c-1", "", kV, "since"),
      invalid("cursor 20 digits", "GET", "/api/v1/sync?since=c" + std::string(20, '1'), "", kV,
              "since"),
      invalid("cursor beyond int64", "GET", "/api/v1/sync?since=c9999999999999999999", "", kV,
              "since"),
      invalid("cursor ahead", "GET", "/api/v1/sync?since=c999999", "", kV, "since"),
      // Unknown records and routes.
      {"unknown incident", "GET", "/api/v1/incidents/0123456789abcdef01234567", "", kV, 404,
       "not_found", "id"},
      {"unknown incident code", "GET", "/api/v1/incidents/TR-ACME-09999-M", "", kV, 404,
       "not_found", "id"},
      {"unknown incident messages", "GET", "/api/v1/incidents/nope/messages/export", "", kV, 404,
       "not_found", "id"},
      {"remove unknown incident", "POST", "/api/v1/incidents/nope/remove", "{}", kR, 404,
       "not_found", "id"},
      {"restore unknown incident", "POST", "/api/v1/incidents/nope/restore", "{}", kR, 404,
       "not_found", "id"},
      {"restore unknown message", "POST", "/api/v1/incidents/" + removed_id + "/restore",
       R"({"messages": [999999]})", kR, 404, "not_found", "messages"},
      {"remove unknown message", "POST", n_remove, R"({"messages": [999999]})", kR, 404,
       "not_found", "messages"},
      {"unknown job", "GET", "/api/v1/jobs/job-nope", "", kV, 404, "not_found", "id"},
      {"unknown route", "GET", "/api/v1/nothing", "", kV, 404, "not_found", "path"},
      {"wrong method", "GET", rem, "", kV, 404, "not_found", "path"},
      // Conflicts with the record's state.
      {"restore without removed copies", "POST", n_restore, "{}", kR, 409, "conflict", "messages"},
      {"remove a restore incident", "POST", "/api/v1/incidents/" + restore_id + "/remove", "{}", kR,
       409, "conflict", "id"},
  };

  for (const Case& c : cases) {
    INFO("case '" << c.name << "': " << c.method << " " << c.path.substr(0, 200) << " body "
                  << c.body.substr(0, 200));
    ApiResponse response = server.Send(c.method, c.path, c.body, server.Secret(c.role));
    INFO("response " << response.status << " " << response.error << " "
                     << response.body.substr(0, 500));
    CHECK(response.status < 500);
    CheckError(response, c.status, c.code, c.field);
  }

  // None of the rejected requests created an incident: the two seeding
  // remediations and the restore are all there is.
  ApiResponse all = server.Get("/api/v1/incidents", Role::kViewer);
  CHECK(all.json.value("total", -1) == 3);
}

// ---------------------------------------------------------------------------
// The same query through the API and through the shared engine

namespace {

struct Seeded {
  std::string code;
  std::string type;
  UnixSeconds created = 0;
};

constexpr const char* kReasons[] = {"Phishing wave", "Credential lure", "Invoice fraud",
                                    "CEO impersonation", "Malware link"};
constexpr const char* kUsers[][2] = {{"alice", "example.com"}, {"bob", "example.com"},
                                     {"carol", "example.com"}, {"dave", "example.com"},
                                     {"erin", "example.org"},  {"frank", "example.org"}};

std::string WaveId(int wave) {
  return "<wave-" + std::to_string(wave) + "@phish.example>";
}

// Ten phishing waves, each to some of the six users and every fourth also
// to a partner domain without a connection, plus the invoice to carol and
// frank.
void DeliverWaves(MaildirOrg& org) {
  for (const auto& user : kUsers)
    org.AddUser(user[0], user[1]);
  for (int wave = 0; wave < 10; ++wave) {
    std::vector<int> users;
    for (int k = 0; k < 6; ++k) {
      if ((k + wave) % 3 != 0)
        users.push_back(k);
    }
    std::string to;
    for (int k : users)
      to += std::string(to.empty() ? "" : ", ") + kUsers[k][0] + "@" + kUsers[k][1];
    if (wave % 4 == 0)
      to += ", zed@partner.example";
    std::string raw = TextMail(WaveId(wave), "sender" + std::to_string(wave % 3) + "@phish.example",
                               to, "Wave " + std::to_string(wave), kApiStart - (wave + 1) * kHour);
    for (int k : users)
      org.Deliver(kUsers[k][0], kUsers[k][1], raw, wave % 2 ? "S" : "");
  }
  std::string invoice =
      InvoiceMessage("<inv4471@invoices.example.net>", "carol@example.com, frank@example.org");
  org.Deliver("carol", "example.com", invoice);
  org.Deliver("frank", "example.org", invoice, "S");
}

Seeded Record(const json& incident) {
  return Seeded{incident.value("code", ""), incident.value("type", ""), 0};
}

// Runs real remediations of every type and returns the incidents in
// creation order with the clock time each was created at.
std::vector<Seeded> SeedIncidents(ApiTestServer& server) {
  std::vector<Seeded> seeded;
  auto add = [&](const json& response) {
    Seeded record = Record(response.at("incident"));
    record.created = server.Now();
    seeded.push_back(record);
    return response.at("incident");
  };

  // Five rounds of Notify Only, three days apart. Within a round some
  // incidents share a second, so ties are broken by code.
  std::vector<std::string> partial;
  for (int round = 0; round < 5; ++round) {
    for (int wave = 0; wave < 10; ++wave) {
      json body = Remediation(WaveId(wave), kReasons[(wave * 3 + round) % 5], "notify_only");
      if ((wave + round) % 7 == 0)
        body["to"] = wave % 3 == 0 ? "bob@example.com" : "alice@example.com";
      json incident = add(Remediate(server, body));
      if (round == 0 && wave >= 6 && wave <= 8)
        partial.push_back(incident.value("id", ""));
      if (wave % 3 != 0)
        server.Advance(97);
    }
    server.Advance(3 * kDay);
  }

  // Remove one copy of three Notify Only incidents: Last Updated and the
  // removed counts change, the incidents keep their type.
  for (const std::string& id : partial) {
    json incident = GetIncident(server, id);
    json row = incident.at("messages").at(0);
    ApiResponse response = server.Post("/api/v1/incidents/" + id + "/remove",
                                       json{{"messages", {row.at("id")}}}, Role::kRemediator);
    REQUIRE(response.status == 202);
    server.WaitForJob(response.json["job"].value("id", ""));
    server.Advance(61);
  }

  // Manual removals of waves 0 to 3, then restores of waves 0 and 1.
  std::vector<std::string> manual;
  for (int wave = 0; wave < 4; ++wave) {
    json incident = add(Remediate(server, Remediation(WaveId(wave), kReasons[wave], "")));
    manual.push_back(incident.value("id", ""));
    server.Advance(300);
  }
  for (int wave = 0; wave < 2; ++wave) {
    ApiResponse response =
        server.Post("/api/v1/incidents/" + manual[wave] + "/restore",
                    json{{"reason", "Released after review"}}, Role::kRemediator);
    REQUIRE(response.status == 202);
    server.WaitForJob(response.json["job"].value("id", ""));
    add(response.json);
    server.Advance(300);
  }

  // A clawback from alice, a Notify Only verdict on the MD5 and an
  // automatic verdict on the SHA-256.
  ApiResponse clawback = server.Post("/api/v1/clawbacks",
                                     json{{"messageId", WaveId(5)},
                                          {"recipients", {"alice@example.com"}},
                                          {"reason", "Misaddressed"}},
                                     Role::kRemediator);
  REQUIRE(clawback.status == 202);
  server.WaitForJob(clawback.json["job"].value("id", ""));
  add(clawback.json);
  server.Advance(300);

  for (const auto& [digest, mode] :
       {std::pair<std::string, std::string>{kInvoiceMd5, "notify_only"},
        {kInvoiceSha256, "automatic"}}) {
    REQUIRE(server.Put("/api/v1/settings", json{{"mode", mode}}, Role::kAdmin).status == 200);
    ApiResponse verdict =
        server.Post("/api/v1/threat-intel/hashes", json{{"hashes", {digest}}}, Role::kRemediator);
    REQUIRE(verdict.status == 200);
    json result = verdict.json["results"][0];
    REQUIRE(result.contains("incident"));
    if (result.contains("jobId"))
      server.WaitForJob(result.value("jobId", ""));
    add(json{{"incident", result["incident"]}});
    server.Advance(300);
  }
  return seeded;
}

// The codes of one API page.
std::vector<std::string> PageCodes(const json& page) {
  std::vector<std::string> codes;
  for (const json& incident : page.at("incidents"))
    codes.push_back(incident.value("code", ""));
  return codes;
}

std::string Describe(const Params& params) {
  std::string text;
  for (const auto& [name, value] : params)
    text += (text.empty() ? "" : "&") + name + "=" + value;
  return text.empty() ? "(defaults)" : text;
}

}  // namespace

TEST_CASE("api query matches shared engine") {
  ApiTestServer server;
  DeliverWaves(server.org());
  server.Index();
  const std::vector<Seeded> seeded = SeedIncidents(server);
  REQUIRE(seeded.size() == 59);

  // The engine's store, loaded from the database beside the API.
  IncidentStore store;
  Result<std::vector<Incident>> all = server.app().WithDatabase(
      [](Database&, IncidentRepository& repository, TokenStore&) { return repository.All(); });
  REQUIRE(all.ok());
  REQUIRE(all->size() == seeded.size());
  REQUIRE(store.Upsert(*all).ok());

  // Independent expectations from the seeding record: codes number the
  // incidents in creation order, and creation times never go back, so the
  // default order (newest first, ties by code) is the reverse.
  for (size_t i = 0; i < seeded.size(); ++i) {
    INFO("seeded " << i << " " << seeded[i].code);
    char letter = seeded[i].code.back();
    std::string expected_prefix = "TR-ACME-" + std::string(5 - std::to_string(i + 1).size(), '0') +
                                  std::to_string(i + 1) + "-";
    CHECK(StartsWith(seeded[i].code, expected_prefix));
    CHECK(std::string("MARNC").find(letter) != std::string::npos);
  }
  std::vector<std::string> newest_first;
  for (auto it = seeded.rbegin(); it != seeded.rend(); ++it)
    newest_first.push_back(it->code);
  ApiResponse defaults = server.Get("/api/v1/incidents?pageSize=300", Role::kViewer);
  REQUIRE(defaults.status == 200);
  CHECK(PageCodes(defaults.json) == newest_first);
  std::map<std::string, int> per_type;
  for (const Seeded& s : seeded)
    ++per_type[s.type];
  CHECK(per_type == std::map<std::string, int>{{"automatic", 1},
                                               {"manual", 4},
                                               {"mep_clawback", 1},
                                               {"notify_only", 51},
                                               {"restore", 2}});
  for (const auto& [type, count] : per_type) {
    INFO("type " << type);
    ApiResponse page = server.Get("/api/v1/incidents?types=" + type, Role::kViewer);
    CHECK(page.json.value("total", -1) == count);
  }
  std::vector<std::string> by_code;
  for (const Seeded& s : seeded)
    by_code.push_back(s.code);
  CHECK(
      PageCodes(server.Get("/api/v1/incidents?sort=code&direction=asc&pageSize=300", Role::kViewer)
                    .json) == by_code);

  // A custom range from the 12th to the 40th incident's creation, both
  // inclusive.
  const std::string range_start = IsoUtc(seeded[11].created);
  const std::string range_end = IsoUtc(seeded[39].created);
  size_t in_range = 0;
  for (const Seeded& s : seeded) {
    in_range += s.created >= seeded[11].created && s.created <= seeded[39].created;
  }
  ApiResponse ranged =
      server.Get("/api/v1/incidents?" + QueryString({{"start", range_start}, {"end", range_end}}),
                 Role::kViewer);
  CHECK(ranged.json.value("total", -1) == static_cast<int>(in_range));

  std::vector<Params> table = {
      {},
      {{"types", "manual"}},
      {{"types", "notify_only,restore"}, {"pageSize", "300"}},
      {{"types", "mep_clawback,automatic"}, {"direction", "asc"}},
      {{"types", ""}},
      {{"text", "lure"}},
      {{"text", "WAVE-3"}},
      {{"text", "phish.example"}, {"sort", "reason"}, {"pageSize", "300"}},
      {{"field", "code"}, {"text", "TR-ACME-0001"}},
      {{"field", "code"}, {"text", "-r"}},
      {{"field", "reason"}, {"text", "FRAUD"}, {"sort", "modified"}},
      {{"field", "reason"}, {"text", "wave-3"}},
      {{"text", "no such text"}},
      {{"text", kInvoiceMd5}},
      {{"range", "last_24_hours"}},
      {{"range", "last_7_days"}, {"sort", "identified"}},
      {{"range", "last_30_days"}, {"pageSize", "300"}},
      {{"range", "last_90_days"}, {"direction", "asc"}},
      {{"range", "last_year"}, {"sort", "failed"}, {"direction", "asc"}},
      {{"range", "custom"}, {"start", range_start}, {"end", range_end}, {"pageSize", "300"}},
      {{"start", range_start}, {"end", range_end}, {"sort", "reason"}, {"direction", "asc"}},
      {{"start", "2026-12-07"}, {"end", "2026-12-13"}, {"pageSize", "300"}},
      {{"start", "2026-12-07T12:00:00+01:00"}, {"end", "2026-12-10T00:00:00-0530"}},
      {{"pageSize", "50"}, {"page", "2"}},
      {{"pageSize", "50"}, {"page", "3"}},
      {{"page", "9"}},
      {{"sort", "failed"}, {"direction", "asc"}, {"pageSize", "50"}, {"page", "2"}},
      {{"sort", "removed"}, {"pageSize", "51"}, {"page", "2"}},
      {{"types", "notify_only"},
       {"text", "wave"},
       {"range", "last_7_days"},
       {"sort", "modified"},
       {"direction", "asc"},
       {"pageSize", "50"}},
  };
  for (int column = 0; column < kIncidentColumnCount; ++column) {
    std::string name(ApiName(static_cast<IncidentColumn>(column)));
    for (const char* direction : {"asc", "desc"}) {
      table.push_back({{"sort", name}, {"direction", direction}, {"pageSize", "300"}});
    }
    table.push_back({{"sort", name}, {"pageSize", "50"}, {"page", "2"}});
  }

  // Five parameter sets have an empty page: no types, text that is
  // nowhere, a reason search for an identifier, and pages 3 and 9 of 59
  // incidents.
  int empty_pages = 0;
  for (const Params& params : table) {
    INFO("query " << Describe(params));
    ApiResponse response = server.Get("/api/v1/incidents?" + QueryString(params), Role::kViewer);
    INFO("response " << response.body.substr(0, 300));
    REQUIRE(response.status == 200);

    Result<QueryForm> form = QueryFormFromParams(params, server.Now());
    REQUIRE(form.ok());
    Result<QueryPage> page = RunQuery(store, form->query);
    REQUIRE(page.ok());
    std::vector<std::string> expected;
    for (uint32_t row : page->rows)
      expected.push_back(FormatIncidentCode(store.Get(row).code));

    CHECK(PageCodes(response.json) == expected);
    empty_pages += expected.empty();
    CHECK(response.json.value("total", -1) == static_cast<int>(page->total));
    CHECK(response.json.value("page", -1) == form->query.page);
    CHECK(response.json.value("pageSize", -1) == form->query.page_size);
  }

  CHECK(empty_pages == 5);

  // Every listed incident is the one GET /api/v1/incidents/{id} returns.
  for (const json& incident : defaults.json["incidents"]) {
    INFO("incident " << incident.value("code", ""));
    json single = GetIncident(server, incident.value("id", ""));
    single.erase("messages");
    CHECK(single == incident);
  }
}

// ---------------------------------------------------------------------------
// Delta sync

namespace {

json Sync(ApiTestServer& server, const std::string& since) {
  ApiResponse response =
      server.Get(since.empty() ? "/api/v1/sync" : "/api/v1/sync?since=" + since, Role::kViewer);
  INFO("sync since '" << since << "': " << response.body.substr(0, 500));
  REQUIRE(response.status == 200);
  CHECK(MemberNames(response.json) ==
        Names{"schemaVersion", "cursor", "generated", "delta", "incidents", "purged"});
  CHECK(response.json.value("schemaVersion", 0) == 1);
  CHECK(response.json.value("generated", "") == IsoUtc(server.Now()));
  CHECK(response.json.value("delta", !since.empty()) == !since.empty());
  CHECK(std::regex_match(response.json.value("cursor", ""), std::regex("c[0-9]+")));
  return response.json;
}

std::vector<std::string> SyncCodes(const json& snapshot) {
  std::vector<std::string> codes;
  for (const json& incident : snapshot.at("incidents"))
    codes.push_back(incident.value("code", ""));
  return codes;
}

std::vector<std::string> Sorted(std::vector<std::string> values) {
  std::sort(values.begin(), values.end());
  return values;
}

}  // namespace

TEST_CASE("api delta sync") {
  ApiTestServer server;
  DeliverSmallOrg(server.org());
  server.Index();
  const UnixSeconds start = server.Now();
  json a = Remediate(server, Remediation(kPayrollId, "Payroll phish", "notify_only"))["incident"];
  json b =
      Remediate(server, Remediation(kInvoiceMd5, "Invoice malware", "notify_only"))["incident"];

  // A full snapshot without a cursor.
  json full = Sync(server, "");
  CHECK(SyncCodes(full) == std::vector<std::string>{"TR-ACME-00001-N", "TR-ACME-00002-N"});
  CHECK(full["incidents"][0] == a);
  CHECK(full["incidents"][1] == b);
  CHECK(full["purged"] == json::array());
  const std::string c0 = full.value("cursor", "");

  // Nothing changed: an empty delta with the same cursor.
  json quiet = Sync(server, c0);
  CHECK(quiet["incidents"] == json::array());
  CHECK(quiet["purged"] == json::array());
  CHECK(quiet.value("cursor", "") == c0);

  // A new incident.
  server.Advance(kHour);
  json c =
      Remediate(server, Remediation(kPayrollId, "Payroll phish, again", "notify_only"))["incident"];
  json created = Sync(server, c0);
  CHECK(SyncCodes(created) == std::vector<std::string>{"TR-ACME-00003-N"});
  CHECK(created["incidents"][0] == c);
  CHECK(created["purged"] == json::array());
  const std::string c1 = created.value("cursor", "");
  CHECK(c1 != c0);

  // A remove job changes the counts of the first incident only.
  server.Advance(kHour);
  ApiResponse removal = server.Post("/api/v1/incidents/" + a.value("id", "") + "/remove",
                                    json::object(), Role::kRemediator);
  REQUIRE(removal.status == 202);
  server.WaitForJob(removal.json["job"].value("id", ""));
  json updated = Sync(server, c1);
  CHECK(SyncCodes(updated) == std::vector<std::string>{"TR-ACME-00001-N"});
  CHECK(updated["incidents"][0].value("removed", -1) == 3);
  CHECK(updated["incidents"][0].value("modified", "") == IsoUtc(server.Now()));
  CHECK(updated["purged"] == json::array());
  const std::string c2 = updated.value("cursor", "");
  CHECK(c2 != c1);
  // A delta from the older cursor contains both changes, each incident once.
  CHECK(SyncCodes(Sync(server, c0)) ==
        std::vector<std::string>{"TR-ACME-00003-N", "TR-ACME-00001-N"});

  // One more incident a day and a half later. Then a retention of one day
  // purges the three older ones.
  server.SetNow(start + kDay + 12 * kHour);
  json d =
      Remediate(server, Remediation(kPayrollId, "Payroll phish, late", "notify_only"))["incident"];
  json late = Sync(server, c2);
  CHECK(SyncCodes(late) == std::vector<std::string>{"TR-ACME-00004-N"});
  const std::string c3 = late.value("cursor", "");

  REQUIRE(server.app().SetRetentionDays(1).ok());
  server.SetNow(start + 2 * kDay);
  Result<std::vector<std::string>> purged = server.app().PurgeExpired();
  REQUIRE(purged.ok());
  const std::vector<std::string> purged_codes = {"TR-ACME-00001-N", "TR-ACME-00002-N",
                                                 "TR-ACME-00003-N"};
  CHECK(Sorted(*purged) == purged_codes);

  json after_purge = Sync(server, c3);
  CHECK(after_purge["incidents"] == json::array());
  CHECK(Sorted(after_purge["purged"].get<std::vector<std::string>>()) == purged_codes);
  const std::string c4 = after_purge.value("cursor", "");
  CHECK(c4 != c3);
  json from_c2 = Sync(server, c2);
  CHECK(SyncCodes(from_c2) == std::vector<std::string>{"TR-ACME-00004-N"});
  CHECK(Sorted(from_c2["purged"].get<std::vector<std::string>>()) == purged_codes);
  CHECK(Sync(server, c4)["purged"] == json::array());

  // The full snapshot and the queue have only the survivor.
  json survivor = Sync(server, "");
  CHECK(SyncCodes(survivor) == std::vector<std::string>{"TR-ACME-00004-N"});
  CHECK(survivor["incidents"][0] == d);
  CHECK(survivor["purged"] == json::array());
  CHECK(survivor.value("cursor", "") == c4);
  ApiResponse queue = server.Get("/api/v1/incidents", Role::kViewer);
  CHECK(queue.json.value("total", -1) == 1);
  CHECK(PageCodes(queue.json) == std::vector<std::string>{"TR-ACME-00004-N"});

  // A cursor beyond the server's newest change is rejected.
  const int64_t latest = std::stoll(c4.substr(1));
  for (int64_t ahead : {latest + 1, latest + 1000}) {
    std::string cursor = "c" + std::to_string(ahead);
    INFO("cursor " << cursor);
    CheckError(server.Get("/api/v1/sync?since=" + cursor, Role::kViewer), 400, "invalid_argument",
               "since");
  }
}

// ---------------------------------------------------------------------------
// Audit log

TEST_CASE("api audit log") {
  ApiTestServer server;
  DeliverSmallOrg(server.org());
  server.Index();  // index.rescan by test-remediator
  const TokenInfo& remediator = server.Token(Role::kRemediator);
  const TokenInfo& admin = server.Token(Role::kAdmin);
  struct Expected {
    std::string time;
    std::string token_id;
    std::string token_name;
    std::string action;
    std::string target;
    std::string detail;
  };
  std::vector<Expected> expected;
  json first_log = server.Get("/api/v1/audit", Role::kAdmin).json;
  REQUIRE(first_log["entries"].size() == 1);
  expected.push_back({IsoUtc(server.Now()), remediator.id, remediator.name, "index.rescan",
                      first_log["entries"][0].value("target", ""), ""});
  CHECK(StartsWith(expected[0].target, "job-"));

  server.Advance(60);
  json notify = Remediate(server, Remediation(kPayrollId, "Payroll phish", "notify_only"));
  expected.push_back({IsoUtc(server.Now()), remediator.id, remediator.name, "remediation.create",
                      "TR-ACME-00001-N", std::string("notify_only ") + kPayrollId});

  server.Advance(60);
  json manual = Remediate(server, Remediation(kInvoiceSha256, "Invoice malware", ""), Role::kAdmin);
  expected.push_back({IsoUtc(server.Now()), admin.id, admin.name, "remediation.create",
                      "TR-ACME-00002-M", std::string("remove ") + kInvoiceSha256});

  server.Advance(60);
  const std::string notify_code = "TR-ACME-00001-N";
  json rows = GetIncident(server, notify_code)["messages"];
  ApiResponse remove = server.Post("/api/v1/incidents/" + notify_code + "/remove",
                                   json{{"messages", {rows[0]["id"]}}}, Role::kRemediator);
  REQUIRE(remove.status == 202);
  server.WaitForJob(remove.json["job"].value("id", ""));
  expected.push_back({IsoUtc(server.Now()), remediator.id, remediator.name, "incident.remove",
                      notify_code, "1 messages"});

  server.Advance(60);
  const std::string manual_id = manual["incident"].value("id", "");
  ApiResponse restore =
      server.Post("/api/v1/incidents/" + manual_id + "/restore", json::object(), Role::kAdmin);
  REQUIRE(restore.status == 202);
  server.WaitForJob(restore.json["job"].value("id", ""));
  expected.push_back({IsoUtc(server.Now()), admin.id, admin.name, "incident.restore", manual_id,
                      "TR-ACME-00003-R"});

  server.Advance(60);
  ApiResponse clawback = server.Post(
      "/api/v1/clawbacks", json{{"messageId", kPayrollId}, {"recipients", {"bob@example.com"}}},
      Role::kRemediator);
  REQUIRE(clawback.status == 202);
  server.WaitForJob(clawback.json["job"].value("id", ""));
  expected.push_back({IsoUtc(server.Now()), remediator.id, remediator.name, "remediation.clawback",
                      "TR-ACME-00004-C", kPayrollId});

  server.Advance(60);
  ApiResponse verdict =
      server.Post("/api/v1/threat-intel/hashes", json{{"hashes", {std::string(kInvoiceSha256)}}},
                  Role::kRemediator);
  REQUIRE(verdict.status == 200);
  server.WaitForJob(verdict.json["results"][0].value("jobId", ""));
  expected.push_back({IsoUtc(server.Now()), remediator.id, remediator.name, "threat.verdict",
                      "TR-ACME-00005-A", kInvoiceSha256});

  server.Advance(60);
  std::string cancelled_job;
  {
    JobBlocker blocker(server);
    ApiResponse queued = server.Post("/api/v1/incidents/" + notify_code + "/remove", json::object(),
                                     Role::kRemediator);
    REQUIRE(queued.status == 202);
    expected.push_back({IsoUtc(server.Now()), remediator.id, remediator.name, "incident.remove",
                        notify_code, "all identified messages"});
    cancelled_job = queued.json["job"].value("id", "");
    REQUIRE(server.Post("/api/v1/jobs/" + cancelled_job + "/cancel", std::string(), Role::kAdmin)
                .status == 202);
    expected.push_back(
        {IsoUtc(server.Now()), admin.id, admin.name, "job.cancel", cancelled_job, ""});
  }

  server.Advance(60);
  REQUIRE(server
              .Put("/api/v1/settings", json{{"mode", "notify_only"}, {"retentionDays", 90}},
                   Role::kAdmin)
              .status == 200);
  expected.push_back(
      {IsoUtc(server.Now()), admin.id, admin.name, "settings.mode", "mode", "notify_only"});
  expected.push_back(
      {IsoUtc(server.Now()), admin.id, admin.name, "settings.retention", "retentionDays", "90"});

  // Reads and rejected requests leave no entry.
  server.Get("/api/v1/incidents", Role::kAdmin);
  server.Post("/api/v1/remediations", json{{"reason", "no identifier"}}, Role::kAdmin);
  server.Put("/api/v1/settings", json{{"mode", "automatic"}}, Role::kViewer);

  ApiResponse log = server.Get("/api/v1/audit", Role::kAdmin);
  REQUIRE(log.status == 200);
  CHECK(MemberNames(log.json) == Names{"entries"});
  const json& entries = log.json["entries"];
  REQUIRE(entries.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const Expected& want = expected[expected.size() - 1 - i];  // newest first
    const json& entry = entries[i];
    INFO("entry " << i << ": " << entry.dump());
    CHECK(MemberNames(entry) ==
          Names{"time", "tokenId", "tokenName", "action", "target", "detail", "remote"});
    CHECK(entry.value("time", "") == want.time);
    CHECK(entry.value("tokenId", "") == want.token_id);
    CHECK(entry.value("tokenName", "") == want.token_name);
    CHECK(entry.value("action", "") == want.action);
    CHECK(entry.value("target", "") == want.target);
    CHECK(entry.value("detail", "") == want.detail);
    CHECK(entry.value("remote", "") == "127.0.0.1");
  }
}

// ---------------------------------------------------------------------------
// The reclaim-server command line

namespace {

struct CommandResult {
  int exit_code = -1;  // 128 + signal number when killed by a signal
  std::string out;
  std::string err;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Starts reclaim-server with `args`, standard output and error written to
// the files `out_path` and `err_path`.
pid_t SpawnServer(const std::vector<std::string>& args, const std::string& out_path,
                  const std::string& err_path) {
  std::vector<std::string> argv_text = {RECLAIM_SERVER_BINARY};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_text)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  pid_t pid = -1;
  int error = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE_MESSAGE(error == 0, "cannot start " << std::string(argv[0]) << ": "
                                              << std::string(std::strerror(error)));
  return pid;
}

// Waits at most `timeout` for `pid` to exit, and kills it when the time is
// up. Returns the exit code (128 + signal when killed), or none on timeout.
std::optional<int> WaitForExit(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid)
      break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Runs reclaim-server to completion, for at most 60 s.
CommandResult RunServer(const std::string& scratch, const std::vector<std::string>& args) {
  const std::string out_path = scratch + "/stdout.txt";
  const std::string err_path = scratch + "/stderr.txt";
  pid_t pid = SpawnServer(args, out_path, err_path);
  std::optional<int> code = WaitForExit(pid, std::chrono::seconds(60));
  REQUIRE_MESSAGE(code.has_value(), "reclaim-server did not exit within 60 s");
  return CommandResult{*code, ReadFile(out_path), ReadFile(err_path)};
}

std::string Describe(const CommandResult& result) {
  return "exit " + std::to_string(result.exit_code) + "\nstdout:\n" + result.out.substr(0, 2000) +
         "\nstderr:\n" + result.err.substr(0, 2000);
}

// The last line of a command's standard error: the error message, after
// any log lines.
std::string LastLine(const std::string& text) {
  size_t end = text.size();
  while (end > 0 && text[end - 1] == '\n')
    --end;
  size_t start = text.rfind('\n', end == 0 ? 0 : end - 1);
  return text.substr(start == std::string::npos ? 0 : start + 1,
                     end - (start == std::string::npos ? 0 : start + 1));
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

// A scratch folder beside the data folder, so that command output files do
// not land in the data folder.
struct Scratch {
  Scratch() {
    char pattern[] = "/tmp/reclaim-cli-XXXXXX";
    path = mkdtemp(pattern);
  }
  ~Scratch() { std::filesystem::remove_all(path); }
  std::string path;
};

}  // namespace

TEST_CASE("api command line help") {
  Scratch scratch;
  const std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> commands = {
      {{"--help"},
       {"serve", "token", "index", "remediate", "restore", "export", "--config", "--data-dir"}},
      {{"serve", "--help"}, {"--address", "--port"}},
      {{"token", "--help"}, {"create", "list", "revoke"}},
      {{"token", "create", "--help"}, {"name", "--role"}},
      {{"token", "list", "--help"}, {"List tokens"}},
      {{"token", "revoke", "--help"}, {"id"}},
      {{"index", "--help"}, {"index"}},
      {{"remediate", "--help"},
       {"identifier", "--reason", "--from", "--to", "--start", "--end", "--notify-only"}},
      {{"restore", "--help"}, {"incident", "--reason"}},
      {{"export", "--help"}, {"--query", "--output"}},
  };
  for (const auto& [args, words] : commands) {
    std::string command;
    for (const std::string& arg : args)
      command += arg + " ";
    INFO("reclaim-server " << command);
    CommandResult result = RunServer(scratch.path, args);
    INFO(Describe(result));
    CHECK(result.exit_code == 0);
    CHECK(result.out.find("Usage") != std::string::npos);
    for (const std::string& word : words) {
      INFO("word " << word);
      CHECK(result.out.find(word) != std::string::npos);
    }
  }

  // Parse errors exit with a non-zero code and a message on standard error.
  const std::vector<std::vector<std::string>> wrong = {
      {},
      {"launch"},
      {"token"},
      {"token", "create"},
      {"token", "create", "ops", "--role", "root"},
      {"remediate", "<a@b.example>"},
      {"serve", "--port", "70000"},
  };
  for (const std::vector<std::string>& args : wrong) {
    std::string command;
    for (const std::string& arg : args)
      command += arg + " ";
    INFO("reclaim-server " << command);
    CommandResult result = RunServer(scratch.path, args);
    INFO(Describe(result));
    CHECK(result.exit_code != 0);
    CHECK(result.exit_code < 128);
    CHECK_FALSE(result.err.empty());
  }

  // A configuration file names its own data folder, so --data-dir beside
  // it is rejected rather than ignored, and nothing is created.
  const std::string config = scratch.path + "/reclaim.json";
  std::ofstream(config) << "{\"dataDir\": \"" << scratch.path << "/from-file\"}";
  const std::string unused = scratch.path + "/from-option";
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--config", config, "--data-dir", unused, "index"},
        std::vector<std::string>{"--data-dir", unused, "--config", config, "token", "list"}}) {
    CommandResult both = RunServer(scratch.path, args);
    INFO(Describe(both));
    CHECK(both.exit_code != 0);
    CHECK(both.exit_code < 128);
    CHECK(both.err.find("excludes") != std::string::npos);
    CHECK(both.err.find("--config") != std::string::npos);
    CHECK(both.err.find("--data-dir") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(unused));
    CHECK_FALSE(std::filesystem::exists(scratch.path + "/from-file"));
  }
}

TEST_CASE("api command line refuses a data folder in use") {
  Scratch scratch;
  const std::string data = scratch.path + "/data";
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--data-dir", data});
    return RunServer(scratch.path, args);
  };
  {
    // This process owns the folder, as a running server would.
    Result<std::unique_ptr<App>> owner = App::Open(DefaultConfig(data), [] { return UnixSeconds{1796399754}; });
    REQUIRE(owner.ok());
    Result<std::unique_ptr<App>> second = App::Open(DefaultConfig(data), [] { return UnixSeconds{1796399754}; });
    REQUIRE_FALSE(second.ok());
    CHECK(second.status().code() == StatusCode::kUnavailable);

    const std::string in_use = "reclaim-server: data folder '" + data +
                               "' is in use by another reclaim-server (process " +
                               std::to_string(getpid()) + "): stop it first";
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"index"},
          std::vector<std::string>{"remediate", "<busy@phish.example>", "--reason", "Phishing"},
          std::vector<std::string>{"restore", "TR-ACME-00001-M"}}) {
      CommandResult rejected = run(args);
      INFO(Describe(rejected));
      CHECK(rejected.exit_code == 1);
      CHECK(StartsWith(LastLine(rejected.err), in_use));
    }
    // Reading incidents and managing tokens go on beside the owner.
    CommandResult created = run({"token", "create", "beside-server", "--role", "viewer"});
    INFO(Describe(created));
    CHECK(created.exit_code == 0);
    CHECK(run({"token", "list"}).exit_code == 0);
    CHECK(run({"export"}).exit_code == 0);
  }
  // Once the owner is gone, the folder is free.
  std::filesystem::create_directories(data + "/mail");
  CommandResult indexed = run({"index"});
  INFO(Describe(indexed));
  CHECK(indexed.exit_code == 0);
}

TEST_CASE("api command line tokens") {
  Scratch scratch;
  const std::string data = scratch.path + "/data";
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--data-dir", data});
    return RunServer(scratch.path, args);
  };

  CommandResult created = run({"token", "create", "soar-playbook", "--role", "remediator"});
  INFO(Describe(created));
  REQUIRE(created.exit_code == 0);
  std::smatch parts;
  REQUIRE(std::regex_match(created.out, parts,
                           std::regex("token ([0-9a-f]{12}) \\(soar-playbook, role remediator\\):\n"
                                      "(rcl_[0-9a-f]{48})\n")));
  const std::string id = parts[1];
  const std::string secret = parts[2];

  CommandResult viewer = run({"token", "create", "dashboard"});
  REQUIRE(viewer.exit_code == 0);
  CHECK(viewer.out.find("(dashboard, role viewer)") != std::string::npos);

  // Tokens created in the same second are listed in id order, so the
  // lines are matched by name.
  struct Listed {
    std::string id;
    std::string role;
    bool revoked = false;
  };
  auto list = [&] {
    CommandResult listed = run({"token", "list"});
    INFO(Describe(listed));
    CHECK(listed.exit_code == 0);
    CHECK(listed.out.find(secret) == std::string::npos);
    std::regex line(
        "([0-9a-f]{12})  (\\w+) *  (\\S+) *  "
        "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ(  revoked)?");
    std::map<std::string, Listed> tokens;
    for (const std::string& text : Lines(listed.out)) {
      INFO("line " << text);
      std::smatch match;
      CHECK(std::regex_match(text, match, line));
      tokens[match[3]] = Listed{match[1], match[2], match[4].matched};
    }
    return tokens;
  };
  std::map<std::string, Listed> tokens = list();
  REQUIRE(tokens.size() == 2);
  CHECK(tokens["soar-playbook"].id == id);
  CHECK(tokens["soar-playbook"].role == "remediator");
  CHECK_FALSE(tokens["soar-playbook"].revoked);
  CHECK(tokens["dashboard"].role == "viewer");
  CHECK_FALSE(tokens["dashboard"].revoked);

  CommandResult revoked = run({"token", "revoke", id});
  CHECK(revoked.exit_code == 0);
  CHECK(revoked.out == "token " + id + " revoked\n");
  tokens = list();
  REQUIRE(tokens.size() == 2);
  CHECK(tokens["soar-playbook"].revoked);
  CHECK_FALSE(tokens["dashboard"].revoked);

  CommandResult unknown = run({"token", "revoke", "000000000000"});
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.out.empty());
  CHECK(StartsWith(LastLine(unknown.err), "reclaim-server: id: token '000000000000' not found"));

  CommandResult too_long = run({"token", "create", std::string(101, 'n')});
  CHECK(too_long.exit_code == 1);
  CHECK(StartsWith(LastLine(too_long.err), "reclaim-server: name: "));
}

TEST_CASE("api command line remediation") {
  Scratch scratch;
  MaildirOrg org;  // its root is the data folder: mail/ and reclaim.db
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--data-dir", org.root()});
    return RunServer(scratch.path, args);
  };
  // The command line runs on the wall clock, so the mail is dated an hour
  // before now to fall in the default 30-day window.
  const UnixSeconds sent = static_cast<UnixSeconds>(std::time(nullptr)) - kHour;
  org.AddUser("alice", "example.com");
  org.AddUser("bob", "example.com");
  org.AddUser("erin", "example.org");
  const std::string phish_id = "<cli.phish@phish.example>";
  std::string phish = TextMail(phish_id, kPayrollFrom,
                               "alice@example.com, bob@example.com, erin@example.org,"
                               " zed@partner.example",
                               kPayrollSubject, sent);
  std::string alice_file = org.Deliver("alice", "example.com", phish);
  org.Deliver("bob", "example.com", phish, "S");
  org.Deliver("erin", "example.org", phish);
  org.Deliver("alice", "example.com",
              TextMail("<news.1@lists.example>", "News <news@lists.example>", "alice@example.com",
                       "Weekly news", sent));

  CommandResult indexed = run({"index"});
  INFO(Describe(indexed));
  CHECK(indexed.exit_code == 0);
  // How many folders count as unchanged depends on how long ago their
  // directories last changed (Maildir folder versions wait 2 s), so only
  // the rest of the line is compared.
  CHECK(StartsWith(indexed.out, "3 mailboxes, 4 messages added, 0 gone, 0 unreadable, "));
  CHECK(StartsWith(run({"index"}).out, "3 mailboxes, 0 messages added, 0 gone, 0 unreadable, "));

  CommandResult removed = run({"remediate", phish_id, "--reason", "Credential phish"});
  INFO(Describe(removed));
  CHECK(removed.exit_code == 0);
  CHECK(removed.out == "TR-ACME-00001-M: 4 identified, 3 removed, 1 failed\n");
  std::vector<std::string> alice_in_hold =
      org.FilesContaining("alice", "example.com", "cli.phish@");
  REQUIRE(alice_in_hold.size() == 1);
  CHECK(StartsWith(alice_in_hold[0], ".Reclaim-Hold/new/"));
  CHECK(StartsWith(org.FilesContaining("bob", "example.com", "cli.phish@").at(0),
                   ".Reclaim-Hold/cur/"));

  CommandResult notify = run({"remediate", "<news.1@lists.example>", "--reason", "Spam check",
                              "--to", "alice@example.com", "--notify-only"});
  INFO(Describe(notify));
  CHECK(notify.exit_code == 0);
  CHECK(notify.out == "TR-ACME-00002-N: 1 identified, 0 removed, 0 failed\n");
  CHECK(org.FilesContaining("alice", "example.com", "news.1@").at(0).rfind("new/", 0) == 0);

  CommandResult bad_start =
      run({"remediate", phish_id, "--reason", "x", "--start", "last tuesday"});
  CHECK(bad_start.exit_code == 1);
  CHECK(StartsWith(LastLine(bad_start.err), "reclaim-server: start: "));
  CommandResult no_copies =
      run({"remediate", phish_id, "--reason", "x", "--from", "other@phish.example"});
  CHECK(no_copies.exit_code == 0);
  CHECK(no_copies.out == "TR-ACME-00003-M: 0 identified, 0 removed, 0 failed\n");

  CommandResult restored = run({"restore", "TR-ACME-00001-M", "--reason", "False positive"});
  INFO(Describe(restored));
  CHECK(restored.exit_code == 0);
  CHECK(restored.out == "TR-ACME-00004-R: 3 restored, 0 failed\n");
  // Back in new/ under its unique name. The Maildir connector keeps the tag
  // of the last move in the name.
  std::vector<std::string> back = org.FilesContaining("alice", "example.com", "cli.phish@");
  REQUIRE(back.size() == 1);
  CHECK(StartsWith(back[0], alice_file + ",RECLAIM="));
  CommandResult again = run({"restore", "TR-ACME-00001-M"});
  CHECK(again.exit_code == 1);
  CHECK(StartsWith(LastLine(again.err), "reclaim-server: messages: "));
  CommandResult missing = run({"restore", "TR-ACME-00099-M"});
  CHECK(missing.exit_code == 1);
  CHECK(StartsWith(LastLine(missing.err), "reclaim-server: id: "));

  // Export: the queue newest first, with the byte order mark.
  CommandResult exported = run({"export"});
  INFO(Describe(exported));
  CHECK(exported.exit_code == 0);
  std::vector<std::string> rows = Lines(exported.out);
  REQUIRE(rows.size() == 5);
  CHECK(rows[0] ==
        "\xEF\xBB\xBF\"Incident ID\",\"Type\",\"Date Created\",\"Last Updated\","
        "\"File Hash / Message ID\",\"Reason\",\"Identified Messages\",\"Removed Messages\","
        "\"Failed Messages\",\"Restored Messages\"\r");
  const std::vector<std::string> codes = {"TR-ACME-00004-R", "TR-ACME-00003-M", "TR-ACME-00002-N",
                                          "TR-ACME-00001-M"};
  for (size_t i = 0; i < codes.size(); ++i) {
    INFO("row " << rows[i + 1]);
    CHECK(StartsWith(rows[i + 1], "\"" + codes[i] + "\","));
  }
  CHECK(rows[4].substr(rows[4].size() - 9) == ",4,0,1,3\r");

  CommandResult restores = run({"export", "--query", "types=restore&field=reason&text=false"});
  CHECK(restores.exit_code == 0);
  rows = Lines(restores.out);
  REQUIRE(rows.size() == 2);
  CHECK(StartsWith(rows[1], "\"TR-ACME-00004-R\",\"Restore\","));

  const std::string output = scratch.path + "/queue.csv";
  CommandResult to_file = run({"export", "--query", "types=restore", "--output", output});
  CHECK(to_file.exit_code == 0);
  CHECK(to_file.out.empty());
  CHECK(ReadFile(output) == run({"export", "--query", "types=restore"}).out);

  // An output file that cannot be written is an error, not a silent success.
  const std::string unwritable = scratch.path + "/no-such-folder/queue.csv";
  CommandResult not_written = run({"export", "--output", unwritable});
  CHECK(not_written.exit_code == 1);
  CHECK(StartsWith(LastLine(not_written.err), "reclaim-server: output: cannot write " + unwritable));
  CommandResult full_disk = run({"export", "--output", "/dev/full"});
  CHECK(full_disk.exit_code == 1);
  CHECK(StartsWith(LastLine(full_disk.err), "reclaim-server: output: cannot write /dev/full"));

  CommandResult bad_query = run({"export", "--query", "pageSize=49"});
  CHECK(bad_query.exit_code == 1);
  CHECK(bad_query.out.empty());
  CHECK(StartsWith(LastLine(bad_query.err), "reclaim-server: pageSize: "));
  CommandResult bad_escape = run({"export", "--query", "text=%zz"});
  CHECK(bad_escape.exit_code == 1);
  CHECK(StartsWith(LastLine(bad_escape.err), "reclaim-server: query: "));
}

TEST_CASE("api command line serve") {
  Scratch scratch;
  MaildirOrg org;
  org.AddUser("alice", "example.com");
  CommandResult token = RunServer(
      scratch.path, {"--data-dir", org.root(), "token", "create", "ops", "--role", "admin"});
  REQUIRE(token.exit_code == 0);
  std::vector<std::string> token_lines = Lines(token.out);
  REQUIRE(token_lines.size() == 2);
  const std::string secret = token_lines[1];

  const std::string out_path = scratch.path + "/serve-stdout.txt";
  const std::string err_path = scratch.path + "/serve-stderr.txt";
  pid_t pid = SpawnServer({"--data-dir", org.root(), "serve", "--port", "0"}, out_path, err_path);

  // The first line of standard output names the listening address.
  std::smatch address;
  std::string out;
  const std::regex listening("Reclaim is listening on http://127\\.0\\.0\\.1:(\\d+)\n");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!std::regex_search(out, address, listening) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    out = ReadFile(out_path);
  }
  bool started = std::regex_search(out, address, listening);
  if (!started) {
    kill(pid, SIGKILL);
    WaitForExit(pid, std::chrono::seconds(5));
  }
  INFO("stdout:\n" << out << "\nstderr:\n" << ReadFile(err_path));
  REQUIRE(started);
  CHECK(out == address[0].str());  // logs go to standard error
  const int port = std::stoi(address[1]);

  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(10, 0);
  httplib::Result health = client.Get("/healthz");
  bool healthy = health && health->status == 200 && health->body == "{\"status\":\"ok\"}";
  httplib::Result session = client.Get("/api/v1/session", {{"Authorization", "Bearer " + secret}});
  bool authenticated = session && session->status == 200 &&
                       session->body.find("\"name\":\"ops\"") != std::string::npos;

  kill(pid, SIGTERM);
  std::optional<int> code = WaitForExit(pid, std::chrono::seconds(15));
  CHECK(healthy);
  CHECK(authenticated);
  REQUIRE_MESSAGE(code.has_value(), "reclaim-server did not stop within 15 s of SIGTERM");
  CHECK(*code == 0);
  std::string log = ReadFile(err_path);
  CHECK(log.find("signal 15 received, stopping") != std::string::npos);
  CHECK(log.find("stopped listening") != std::string::npos);
}
