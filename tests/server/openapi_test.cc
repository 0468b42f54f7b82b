// Checks docs/openapi.json against the server: the document lists exactly
// the routes the router registers, and every response of a real server
// (status, content type and body) is one the document declares.
#include <doctest/doctest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/server/api_test_server.h"
#include "tests/server/json_schema.h"
#include "tests/server/maildir_org.h"

using namespace reclaim;
using nlohmann::json;
using reclaim::testing::ApiResponse;
using reclaim::testing::ApiTestServer;
using reclaim::testing::InvoiceMessage;
using reclaim::testing::IsRfc3339DateTime;
using reclaim::testing::kInvoiceSha256;
using reclaim::testing::SchemaValidator;

namespace {

const char* const kMethods[] = {"get", "post", "put", "delete"};

json LoadDocument() {
  const std::string path = std::string(RECLAIM_DOCS) + "/openapi.json";
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  std::stringstream text;
  text << in.rdbuf();
  json document = json::parse(text.str(), nullptr, false);
  REQUIRE_MESSAGE(!document.is_discarded(), path << " is not valid JSON");
  return document;
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// "/api/v1/jobs/([A-Za-z0-9-]+)/cancel" -> "/api/v1/jobs/{}/cancel", with
// the groups' expressions in `groups`.
std::string RouterTemplate(const std::string& pattern, std::vector<std::string>* groups) {
  std::string out;
  size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] != '(') {
      out += pattern[i++];
      continue;
    }
    int depth = 0;
    size_t start = i;
    for (; i < pattern.size(); ++i) {
      if (pattern[i] == '(')
        ++depth;
      if (pattern[i] == ')' && --depth == 0)
        break;
    }
    groups->push_back(pattern.substr(start + 1, i - start - 1));
    out += "{}";
    ++i;
  }
  return out;
}

// "/api/v1/jobs/{id}/cancel" -> "/api/v1/jobs/{}/cancel", with the
// parameter names in `names`.
std::string DocumentTemplate(const std::string& path, std::vector<std::string>* names) {
  std::string out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] != '{') {
      out += path[i++];
      continue;
    }
    size_t close = path.find('}', i);
    names->push_back(path.substr(i + 1, close - i - 1));
    out += "{}";
    i = close + 1;
  }
  return out;
}

// The operation's path parameter named `name`, or null.
json PathParameter(const json& operation, const std::string& name) {
  for (const json& parameter : operation.value("parameters", json::array())) {
    if (parameter.value("in", "") == "path" && parameter.value("name", "") == name) {
      return parameter;
    }
  }
  return nullptr;
}

std::string StripAnchors(std::string pattern) {
  if (!pattern.empty() && pattern.front() == '^')
    pattern.erase(0, 1);
  if (!pattern.empty() && pattern.back() == '$')
    pattern.pop_back();
  return pattern;
}

// Sends requests to the test server and checks each response against the
// document, recording which statuses each operation gave.
class CheckedClient {
 public:
  CheckedClient(ApiTestServer& server, const json& document)
      : server_(server), document_(document), validator_(document) {}

  ApiResponse Send(const std::string& method, const std::string& target, const std::string& body,
                   const std::string& secret) {
    ApiResponse response = server_.Send(method, target, body, secret);
    Check(method, target, body, response);
    return response;
  }
  ApiResponse Send(const std::string& method, const std::string& target, const json& body,
                   Role role) {
    return Send(method, target, body.dump(), server_.Secret(role));
  }
  ApiResponse Get(const std::string& target, Role role) {
    return Send("GET", target, std::string(), server_.Secret(role));
  }

  // Polls the job through GET /api/v1/jobs/{id} until it has ended.
  json WaitForJob(const std::string& id) {
    for (int attempt = 0; attempt < 3000; ++attempt) {
      ApiResponse response = Get("/api/v1/jobs/" + id, Role::kViewer);
      REQUIRE(response.status == 200);
      const std::string state = response.json.value("state", "");
      if (state != "queued" && state != "running")
        return response.json;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL("job " << id << " did not end within 30 s");
    return nullptr;
  }

  // Statuses seen per operation, keyed "GET /api/v1/jobs/{id}".
  const std::map<std::string, std::set<int>>& seen() const { return seen_; }

 private:
  // The document path whose template matches `path` for `method`. Literal
  // segments win over parameters, as in the router, where
  // /api/v1/incidents/export is registered before /api/v1/incidents/{id}.
  std::string FindPath(const std::string& method, const std::string& path) const {
    std::string best;
    size_t best_parameters = 0;
    for (auto it = document_.at("paths").begin(); it != document_.at("paths").end(); ++it) {
      if (!it.value().contains(method))
        continue;
      std::vector<std::string> names;
      std::string expression = DocumentTemplate(it.key(), &names);
      const json& operation = it.value().at(method);
      std::string regex;
      size_t name = 0;
      for (size_t i = 0; i < expression.size(); ++i) {
        if (expression.compare(i, 2, "{}") == 0) {
          json parameter = PathParameter(operation, names[name++]);
          regex += "(" + StripAnchors(parameter["schema"].value("pattern", "[^/]+")) + ")";
          ++i;
        } else if (std::string("\\^$.|?*+()[]{}").find(expression[i]) != std::string::npos) {
          regex += std::string("\\") + expression[i];
        } else {
          regex += expression[i];
        }
      }
      if (!std::regex_match(path, std::regex(regex)))
        continue;
      if (best.empty() || names.size() < best_parameters) {
        best = it.key();
        best_parameters = names.size();
      }
    }
    return best;
  }

  // The response object for `status`, with a $ref to components followed.
  json ResponseFor(const json& operation, int status) const {
    const json& responses = operation.at("responses");
    const std::string key = std::to_string(status);
    if (!responses.contains(key))
      return nullptr;
    json response = responses.at(key);
    if (response.contains("$ref")) {
      const std::string reference = response.at("$ref").get<std::string>();
      const std::string prefix = "#/components/responses/";
      REQUIRE(reference.rfind(prefix, 0) == 0);
      response = document_.at("components").at("responses").at(reference.substr(prefix.size()));
    }
    return response;
  }

  void Check(const std::string& method, const std::string& target, const std::string& body,
             const ApiResponse& response) {
    INFO(method << " " << target << " body " << body.substr(0, 200));
    INFO("status " << response.status << " response " << response.body.substr(0, 2000));
    REQUIRE(response.status != 0);
    const std::string path = target.substr(0, target.find('?'));
    const std::string lower = Lower(method);
    const std::string document_path = FindPath(lower, path);
    REQUIRE_MESSAGE(!document_path.empty(), "no operation in the document matches");
    const json& operation = document_.at("paths").at(document_path).at(lower);
    seen_[method + " " + document_path].insert(response.status);

    // Failed checks return, so that one run reports every drifting route.
    json declared = ResponseFor(operation, response.status);
    CHECK_MESSAGE(declared.is_object(), "status " << response.status << " is not declared for "
                                                  << method << " " << document_path);
    if (!declared.is_object())
      return;
    const std::string content_type = response.Header("Content-Type");
    const std::string media_type = content_type.substr(0, content_type.find(';'));
    REQUIRE_MESSAGE(declared.contains("content"), "the declared response has no content");
    CHECK_MESSAGE(declared.at("content").contains(media_type),
                  "content type '" << content_type << "' is not declared");
    if (!declared.at("content").contains(media_type))
      return;
    const json& schema = declared.at("content").at(media_type).at("schema");
    if (media_type == "application/json") {
      REQUIRE_MESSAGE(response.json.is_structured(), "the body is not a JSON object or array");
      std::vector<std::string> errors = validator_.Validate(response.json, schema);
      std::string list;
      for (const std::string& error : errors)
        list += "\n  " + error;
      CHECK_MESSAGE(errors.empty(), "the body does not match the schema:" << list);
    } else {
      CHECK(schema.value("type", "") == "string");
    }
    if (declared.contains("headers") && declared.at("headers").contains("WWW-Authenticate")) {
      CHECK(response.Header("WWW-Authenticate") == "Bearer");
    }
  }

  ApiTestServer& server_;
  const json& document_;
  SchemaValidator validator_;
  std::map<std::string, std::set<int>> seen_;
};

// A job that holds the job runner until released, so that jobs queued
// after it stay queued.
class BlockingJob {
 public:
  explicit BlockingJob(App& app) : released_(std::make_shared<std::atomic<bool>>(false)) {
    auto started = std::make_shared<std::atomic<bool>>(false);
    id_ = app.jobs().Submit(JobKind::kIndex, "",
                            [started, released = released_](JobControl* control) {
                              *started = true;
                              while (!*released && !control->cancel) {
                                std::this_thread::sleep_for(std::chrono::milliseconds(5));
                              }
                              return Status::Ok();
                            });
    for (int i = 0; i < 2000 && !*started; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    REQUIRE(*started);
  }
  ~BlockingJob() { *released_ = true; }
  void Release() { *released_ = true; }

 private:
  std::shared_ptr<std::atomic<bool>> released_;
  std::string id_;
};

// The id of the first message row of `incident` with `status`.
std::string RowWithStatus(const json& incident, const std::string& status) {
  for (const json& row : incident.at("messages")) {
    if (row.value("status", "") == status)
      return row.value("id", "");
  }
  FAIL("incident " << incident.value("code", "") << " has no " << status << " row");
  return {};
}

}  // namespace

TEST_CASE("schema validator rejects drift") {
  const json document = {
      {"components",
       {{"schemas",
         {{"Thing",
           {{"type", "object"},
            {"properties",
             {{"name", {{"type", "string"}, {"pattern", "^[a-z]+$"}}},
              {"count", {{"type", "integer"}, {"minimum", 0}, {"maximum", 9}}},
              {"when", {{"type", "string"}, {"format", "date-time"}, {"nullable", true}}},
              {"kind", {{"type", "string"}, {"enum", {"a", "b"}}}},
              {"tags", {{"type", "array"}, {"items", {{"type", "string"}}}, {"maxItems", 2}}},
              {"either",
               {{"oneOf", {{{"type", "integer"}}, {{"type", "integer"}, {"minimum", 5}}}}}}}},
            {"required", {"name"}},
            {"additionalProperties", false}}}}}}}};
  const json schema = {{"$ref", "#/components/schemas/Thing"}};
  SchemaValidator validator(document);
  CHECK(validator.Validate({{"name", "abc"}}, schema).empty());
  CHECK(validator
            .Validate({{"name", "abc"},
                       {"count", 3},
                       {"when", "2026-12-04T15:55:54Z"},
                       {"kind", "b"},
                       {"tags", {"x", "y"}},
                       {"either", 2}},
                      schema)
            .empty());
  CHECK(validator.Validate({{"name", "abc"}, {"when", nullptr}}, schema).empty());

  struct Case {
    const char* what;
    json value;
  };
  const Case rejected[] = {
      {"missing required member", {{"count", 1}}},
      {"undeclared member", {{"name", "abc"}, {"extra", 1}}},
      {"wrong type", {{"name", 5}}},
      {"pattern mismatch", {{"name", "ABC"}}},
      {"integer as text", {{"name", "abc"}, {"count", "3"}}},
      {"fraction for integer", {{"name", "abc"}, {"count", 1.5}}},
      {"below minimum", {{"name", "abc"}, {"count", -1}}},
      {"above maximum", {{"name", "abc"}, {"count", 10}}},
      {"date without time", {{"name", "abc"}, {"when", "2026-12-04"}}},
      {"date-time with bad day", {{"name", "abc"}, {"when", "2026-02-30T00:00:00Z"}}},
      {"date-time offset without colon", {{"name", "abc"}, {"when", "2026-12-04T15:55:54+0000"}}},
      {"value outside enum", {{"name", "abc"}, {"kind", "c"}}},
      {"too many items", {{"name", "abc"}, {"tags", {"x", "y", "z"}}}},
      {"item of wrong type", {{"name", "abc"}, {"tags", {1}}}},
      {"oneOf matching two choices", {{"name", "abc"}, {"either", 7}}},
      {"oneOf matching none", {{"name", "abc"}, {"either", "x"}}},
      {"not an object", json::array()},
  };
  for (const Case& test : rejected) {
    INFO(test.what << ": " << test.value.dump());
    CHECK_FALSE(validator.Validate(test.value, schema).empty());
  }

  // A keyword the validator does not check is an error, not a silent pass.
  CHECK_FALSE(validator.Validate("abc", {{"type", "string"}, {"maxLength", 2}}).empty());
  CHECK_FALSE(validator.Validate("abc", {{"$ref", "#/components/schemas/Missing"}}).empty());

  CHECK(IsRfc3339DateTime("2024-02-29T23:59:60Z"));
  CHECK(IsRfc3339DateTime("2026-12-04T15:55:54.25+05:30"));
  CHECK_FALSE(IsRfc3339DateTime("2023-02-29T00:00:00Z"));
  CHECK_FALSE(IsRfc3339DateTime("2026-12-04T24:00:00Z"));
  CHECK_FALSE(IsRfc3339DateTime("2026-12-04 15:55:54Z"));
}

TEST_CASE("openapi document lists every route") {
  const json document = LoadDocument();
  CHECK(document.value("openapi", "") == "3.0.3");
  ApiTestServer server;

  // Each registered route, as "METHOD template", with its role and the
  // expressions of its path parameters.
  struct Registered {
    std::optional<Role> role;
    std::vector<std::string> groups;
  };
  std::map<std::string, Registered> registered;
  for (const RouteInfo& route : server.api_server().Routes()) {
    Registered entry{route.role, {}};
    std::string key = route.method + " " + RouterTemplate(route.pattern, &entry.groups);
    INFO("route " << key);
    CHECK(registered.count(key) == 0);
    registered[key] = entry;
  }
  REQUIRE_FALSE(registered.empty());

  std::set<std::string> documented;
  std::set<std::string> operation_ids;
  for (auto path = document.at("paths").begin(); path != document.at("paths").end(); ++path) {
    for (const char* method : kMethods) {
      if (!path.value().contains(method))
        continue;
      const json& operation = path.value().at(method);
      std::vector<std::string> names;
      std::string key = std::string(method) + " " + DocumentTemplate(path.key(), &names);
      std::transform(key.begin(), key.begin() + key.find(' '), key.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      INFO("operation " << key << " (" << path.key() << ")");
      documented.insert(key);
      CHECK(operation_ids.insert(operation.value("operationId", "")).second);
      auto found = registered.find(key);
      if (found == registered.end())
        continue;

      // The role and the path parameters agree with the router.
      const std::optional<Role>& role = found->second.role;
      CHECK(operation.value("x-reclaim-role", "") ==
            (role ? std::string(ApiName(*role)) : std::string()));
      CHECK(operation.at("security").empty() == !role.has_value());
      REQUIRE(names.size() == found->second.groups.size());
      for (size_t i = 0; i < names.size(); ++i) {
        json parameter = PathParameter(operation, names[i]);
        INFO("path parameter " << names[i]);
        REQUIRE(parameter.is_object());
        CHECK(parameter.value("required", false));
        CHECK(StripAnchors(parameter["schema"].value("pattern", "")) == found->second.groups[i]);
      }

      // Every route under /api/ can reject the token and fail inside.
      const json& responses = operation.at("responses");
      if (path.key().rfind("/api/", 0) == 0) {
        CHECK(responses.contains("401"));
        CHECK(responses.contains("500"));
        CHECK(responses.contains("503"));
        CHECK(responses.contains("403") == (role && *role != Role::kViewer));
      }
      const bool takes_body = std::string(method) == "post" || std::string(method) == "put";
      CHECK(responses.contains("413") == takes_body);
    }
  }

  std::set<std::string> registered_keys;
  for (const auto& [key, entry] : registered)
    registered_keys.insert(key);
  std::vector<std::string> undocumented;
  std::set_difference(registered_keys.begin(), registered_keys.end(), documented.begin(),
                      documented.end(), std::back_inserter(undocumented));
  std::vector<std::string> unregistered;
  std::set_difference(documented.begin(), documented.end(), registered_keys.begin(),
                      registered_keys.end(), std::back_inserter(unregistered));
  CHECK_MESSAGE(undocumented.empty(),
                "routes missing from docs/openapi.json: " << json(undocumented).dump());
  CHECK_MESSAGE(unregistered.empty(),
                "documented routes the router lacks: " << json(unregistered).dump());
}

TEST_CASE("api responses match openapi document") {
  const json document = LoadDocument();
  ApiTestServer server;
  CheckedClient api(server, document);
  testing::MaildirOrg& org = server.org();

  // Mail: the invoice reaches alice and bob and names zed, whose domain has
  // no connection; two notes reach carol.
  for (const char* user : {"alice", "bob", "carol"})
    org.AddUser(user, "example.com");
  const std::string invoice = InvoiceMessage(
      "<inv1@invoices.example.net>", "alice@example.com, bob@example.com, zed@partner.example");
  org.Deliver("alice", "example.com", invoice);
  org.Deliver("bob", "example.com", invoice);
  for (const char* id : {"<note7@partner.example>", "<note8@partner.example>"}) {
    org.Deliver("carol", "example.com",
                std::string("From: a@partner.example\r\nTo: carol@example.com\r\nSubject: Hi\r\n"
                            "Date: Mon, 30 Nov 2026 09:00:00 +0000\r\nMessage-ID: ") +
                    id + "\r\n\r\nHello\r\n");
  }

  SUBCASE("every operation") {
    // Service routes.
    api.Send("GET", "/healthz", "", "");
    api.Send("GET", "/metrics", "", "");

    // Index the mail.
    ApiResponse index = api.Send("POST", "/api/v1/index", "", server.Secret(Role::kRemediator));
    REQUIRE(index.status == 202);
    CHECK(api.WaitForJob(index.json.value("jobId", "")).value("state", "") == "succeeded");

    // Remediations: Notify Only (201), remove (202), and bad input.
    ApiResponse notify = api.Send("POST", "/api/v1/remediations",
                                  json{{"identifier", kInvoiceSha256},
                                       {"reason", "Invoice malware"},
                                       {"action", "notify_only"}},
                                  Role::kRemediator);
    REQUIRE(notify.status == 201);
    const std::string notify_id = notify.json["incident"].value("id", "");
    ApiResponse second = api.Send("POST", "/api/v1/remediations",
                                  json{{"identifier", "<inv1@invoices.example.net>"},
                                       {"reason", "Invoice phish"},
                                       {"action", "notify_only"}},
                                  Role::kRemediator);
    REQUIRE(second.status == 201);
    const std::string second_id = second.json["incident"].value("id", "");
    ApiResponse removal = api.Send("POST", "/api/v1/remediations",
                                   json{{"identifier", "<note7@partner.example>"},
                                        {"reason", "Phish"},
                                        {"to", "carol@example.com"}},
                                   Role::kRemediator);
    REQUIRE(removal.status == 202);
    const std::string removal_id = removal.json["incident"].value("id", "");
    CHECK(api.WaitForJob(removal.json["job"].value("id", "")).value("state", "") == "succeeded");
    api.Send("POST", "/api/v1/remediations", json{{"identifier", kInvoiceSha256}},
             Role::kRemediator);
    api.Send("POST", "/api/v1/remediations",
             json{{"identifier", "x"}, {"reason", "r"}, {"extra", 1}}, Role::kRemediator);
    api.Send("POST", "/api/v1/remediations", "{not json", server.Secret(Role::kRemediator));
    ApiResponse missing_copy = api.Send("POST", "/api/v1/remediations",
                                        json{{"identifier", "<inv1@invoices.example.net>"},
                                             {"reason", "Gone"},
                                             {"to", "dave@example.com"},
                                             {"action", "notify_only"}},
                                        Role::kRemediator);
    REQUIRE(missing_copy.status == 201);
    const std::string missing_id = missing_copy.json["incident"].value("id", "");

    // Clawbacks.
    ApiResponse clawback = api.Send(
        "POST", "/api/v1/clawbacks",
        json{{"messageId", "<note7@partner.example>"}, {"recipients", {"nobody@example.com"}}},
        Role::kRemediator);
    CHECK(clawback.status == 201);
    ApiResponse pulled = api.Send(
        "POST", "/api/v1/clawbacks",
        json{{"messageId", "<note8@partner.example>"}, {"recipients", {"carol@example.com"}}},
        Role::kRemediator);
    REQUIRE(pulled.status == 202);
    api.WaitForJob(pulled.json["job"].value("id", ""));
    api.Send("POST", "/api/v1/clawbacks", json{{"messageId", "<x@y>"}}, Role::kRemediator);

    // The queue and its exports.
    api.Get("/api/v1/incidents", Role::kViewer);
    api.Get("/api/v1/incidents?types=manual,notify_only&sort=reason&direction=asc&pageSize=50",
            Role::kViewer);
    api.Get("/api/v1/incidents?page=9", Role::kViewer);
    api.Get("/api/v1/incidents?pageSize=49", Role::kViewer);
    api.Get("/api/v1/incidents?colour=red", Role::kViewer);
    api.Get("/api/v1/incidents/export", Role::kViewer);
    api.Get("/api/v1/incidents/export?columns=code,reason&bom=false", Role::kViewer);
    api.Get("/api/v1/incidents/export?columns=nope", Role::kViewer);

    // One incident, its message export and its messages.
    ApiResponse incident = api.Get("/api/v1/incidents/" + notify_id, Role::kViewer);
    REQUIRE(incident.status == 200);
    api.Get("/api/v1/incidents/TR-NOPE-00001-M", Role::kViewer);
    api.Get("/api/v1/incidents/" + notify_id + "/messages/export", Role::kViewer);
    api.Get("/api/v1/incidents/" + notify_id + "/messages/export?bom=maybe", Role::kViewer);
    api.Get("/api/v1/incidents/unknown-id/messages/export", Role::kViewer);
    const std::string identified_row = RowWithStatus(incident.json, "identified");
    const std::string messages = "/api/v1/incidents/" + notify_id + "/messages/";
    CHECK(api.Get(messages + identified_row, Role::kViewer).status == 200);
    api.Get(messages + "999999", Role::kViewer);
    // zed's row failed without a copy, so it has no details to show.
    const std::string failed_row = RowWithStatus(incident.json, "failed");
    CHECK(api.Get(messages + failed_row, Role::kViewer).status == 409);

    // One copy: remove, remove again, restore, bad bodies.
    api.Send("POST", messages + identified_row + "/remove", json{{"why", 1}}, Role::kRemediator);
    ApiResponse removed_one = api.Send("POST", messages + identified_row + "/remove", "",
                                       server.Secret(Role::kRemediator));
    REQUIRE(removed_one.status == 202);
    api.WaitForJob(removed_one.json["job"].value("id", ""));
    api.Send("POST", messages + identified_row + "/remove", "", server.Secret(Role::kRemediator));
    api.Send("POST", messages + "999999/remove", "", server.Secret(Role::kRemediator));
    api.Send("POST", messages + identified_row + "/restore", json{{"reason", 5}},
             Role::kRemediator);
    ApiResponse restored_one = api.Send("POST", messages + identified_row + "/restore",
                                        json{{"reason", "Released"}}, Role::kRemediator);
    REQUIRE(restored_one.status == 202);
    api.WaitForJob(restored_one.json["job"].value("id", ""));
    api.Send("POST", messages + identified_row + "/restore", "", server.Secret(Role::kRemediator));
    api.Send("POST", messages + "999999/restore", "", server.Secret(Role::kRemediator));
    api.Get(messages + identified_row, Role::kViewer);

    // Whole incidents: remove bob's copy, restore it, and the errors. The
    // single-copy steps above used alice's copy only.
    ApiResponse second_incident = api.Get("/api/v1/incidents/" + second_id, Role::kViewer);
    REQUIRE(second_incident.status == 200);
    std::string bob_row;
    for (const json& row : second_incident.json.at("messages")) {
      if (row.value("recipient", "") == "bob@example.com")
        bob_row = row.value("id", "");
    }
    REQUIRE_FALSE(bob_row.empty());
    ApiResponse remove_bob = api.Send("POST", "/api/v1/incidents/" + second_id + "/remove",
                                      json{{"messages", {std::stoll(bob_row)}}}, Role::kRemediator);
    REQUIRE(remove_bob.status == 202);
    CHECK(api.WaitForJob(remove_bob.json["job"].value("id", "")).value("state", "") == "succeeded");
    api.Send("POST", "/api/v1/incidents/" + second_id + "/remove", json{{"messages", "all"}},
             Role::kRemediator);
    api.Send("POST", "/api/v1/incidents/" + second_id + "/remove", json{{"messages", {"99999"}}},
             Role::kRemediator);
    api.Send("POST", "/api/v1/incidents/TR-NOPE-00001-M/remove", "",
             server.Secret(Role::kRemediator));
    ApiResponse restore_all = api.Send("POST", "/api/v1/incidents/" + second_id + "/restore", "",
                                       server.Secret(Role::kRemediator));
    REQUIRE(restore_all.status == 202);
    api.WaitForJob(restore_all.json["job"].value("id", ""));
    const std::string restore_id = restore_all.json["incident"].value("id", "");
    api.Send("POST", "/api/v1/incidents/" + restore_id + "/remove", "",
             server.Secret(Role::kRemediator));
    api.Send("POST", "/api/v1/incidents/" + missing_id + "/restore", "",
             server.Secret(Role::kRemediator));
    api.Send("POST", "/api/v1/incidents/" + second_id + "/restore", json{{"messages", {true}}},
             Role::kRemediator);
    api.Send("POST", "/api/v1/incidents/TR-NOPE-00001-M/restore", "",
             server.Secret(Role::kRemediator));
    api.Get("/api/v1/incidents/" + removal_id, Role::kViewer);

    // Threat-intel verdicts, then the same digests through the Mimecast
    // search.
    ApiResponse verdicts =
        api.Send("POST", "/api/v1/threat-intel/hashes",
                 json{{"hashes", {kInvoiceSha256, std::string(64, 'b')}}, {"reason", "Feed"}},
                 Role::kRemediator);
    CHECK(verdicts.status == 200);
    for (const json& result : verdicts.json.value("results", json::array())) {
      if (result.contains("jobId"))
        api.WaitForJob(result.value("jobId", ""));
    }
    api.Send("POST", "/api/v1/threat-intel/hashes", json{{"hashes", {"abc"}}}, Role::kRemediator);

    // Jobs: list, one, unknown, cancel a queued one and an ended one.
    ApiResponse jobs = api.Get("/api/v1/jobs", Role::kViewer);
    REQUIRE(jobs.status == 200);
    REQUIRE_FALSE(jobs.json["jobs"].empty());
    const std::string ended_job = jobs.json["jobs"][0].value("id", "");
    api.Get("/api/v1/jobs/job-000000000000", Role::kViewer);
    api.Send("POST", "/api/v1/jobs/" + ended_job + "/cancel", "", server.Secret(Role::kRemediator));
    {
      BlockingJob blocker(server.app());
      ApiResponse queued = api.Send("POST", "/api/v1/index", "", server.Secret(Role::kRemediator));
      REQUIRE(queued.status == 202);
      const std::string queued_id = queued.json.value("jobId", "");
      CHECK(api.Send("POST", "/api/v1/jobs/" + queued_id + "/cancel", "",
                     server.Secret(Role::kRemediator))
                .status == 202);
      blocker.Release();
      CHECK(api.WaitForJob(queued_id).value("state", "") == "cancelled");
    }

    // Sync: full, delta, bad cursor and an unknown parameter.
    ApiResponse full = api.Get("/api/v1/sync", Role::kViewer);
    REQUIRE(full.status == 200);
    api.Get("/api/v1/sync?since=" + full.json.value("cursor", ""), Role::kViewer);
    api.Get("/api/v1/sync?since=zzz", Role::kViewer);
    api.Get("/api/v1/sync?limit=3", Role::kViewer);

    // Session, settings and the audit log.
    api.Get("/api/v1/session", Role::kAdmin);
    api.Get("/api/v1/settings", Role::kViewer);
    api.Send("PUT", "/api/v1/settings", json{{"mode", "notify_only"}, {"retentionDays", 90}},
             Role::kAdmin);
    api.Send("PUT", "/api/v1/settings", json{{"retentionDays", 0}}, Role::kAdmin);
    api.Send("PUT", "/api/v1/settings", json{{"mode", "sometimes"}}, Role::kAdmin);
    api.Get("/api/v1/audit", Role::kAdmin);

    // Mimecast-compatible routes: items that succeed and fail, and
    // envelopes that cannot be read.
    const std::string ttp = "/api/ttp/remediation/";
    ApiResponse created = api.Send(
        "POST", ttp + "create",
        json{{"data",
              {{{"hashOrMessageId", "<note7@partner.example>"}, {"reason", "Phish"}},
               {{"hashOrMessageId", "not-a-hash"}, {"reason", "x"}, {"searchBy", "hash"}}}}},
        Role::kRemediator);
    REQUIRE(created.status == 200);
    REQUIRE(created.json["data"].size() == 1);
    const std::string created_code = created.json["data"][0].value("code", "");
    api.Send("POST", ttp + "create", json{{"data", json::array()}}, Role::kRemediator);
    api.Send("POST", ttp + "get-incident",
             json{{"data", {{{"id", created_code}}, {{"id", "TR-NOPE-00001-M"}}, {{"who", 1}}}}},
             Role::kViewer);
    api.Send("POST", ttp + "get-incident", "[1]", server.Secret(Role::kViewer));
    ApiResponse found = api.Send(
        "POST", ttp + "find-incidents",
        json{{"meta", {{"pagination", {{"pageSize", 1}}}}},
             {"data",
              {{{"searchBy", {{"fieldName", "file_hash"}, {"value", "8b08"}}},
                {"filterBy", {{{"fieldName", "type"}, {"value", "manual,notify_only,automatic"}}}},
                {"oldestFirst", true}},
               {{"searchBy", {{"fieldName", "colour"}, {"value", "red"}}}}}}},
        Role::kViewer);
    CHECK(found.status == 200);
    api.Send("POST", ttp + "find-incidents",
             json{{"meta", {{"pagination", {{"pageToken", "x"}}}}}, {"data", {json::object()}}},
             Role::kViewer);
    api.Send("POST", ttp + "search-hash",
             json{{"data",
                   {{{"hashes", {kInvoiceSha256, "zz", std::string(32, 'c')}}}, {{"hashes", 3}}}}},
             Role::kViewer);
    api.Send("POST", ttp + "search-hash", "", server.Secret(Role::kViewer));

    // Every operation without a token, with too low a role, and with a
    // body over 1 MiB. Path parameters take values that exist.
    const std::map<std::string, std::string> values = {{"{id}", notify_id},
                                                       {"{messageRowId}", identified_row}};
    const std::string too_large(1100 * 1024, ' ');
    for (auto path = document.at("paths").begin(); path != document.at("paths").end(); ++path) {
      std::string target = path.key();
      for (const auto& [name, value] : values) {
        for (size_t at = target.find(name); at != std::string::npos; at = target.find(name)) {
          target.replace(at, name.size(), value);
        }
      }
      if (target.find("/jobs/") != std::string::npos) {
        target.replace(target.find(notify_id), notify_id.size(), ended_job);
      }
      for (const char* method : kMethods) {
        if (!path.value().contains(method))
          continue;
        const json& operation = path.value().at(method);
        std::string upper = Lower(method);
        std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
        INFO(upper << " " << target);
        if (operation.contains("x-reclaim-role")) {
          CHECK(api.Send(upper, target, "", "").status == 401);
          CHECK(api.Send(upper, target, "", "rcl_" + std::string(48, '0')).status == 401);
          if (operation.value("x-reclaim-role", "") != "viewer") {
            CHECK(api.Send(upper, target, "", server.Secret(Role::kViewer)).status == 403);
          }
        }
        if (upper == "POST" || upper == "PUT") {
          CHECK(api.Send(upper, target, too_large, server.Secret(Role::kAdmin)).status == 413);
        }
      }
    }

    // Every status each operation declares was seen, except 500, which
    // needs a bug, and 503, which needs a failing database (one route gets
    // it in its own test case below).
    for (auto path = document.at("paths").begin(); path != document.at("paths").end(); ++path) {
      for (const char* method : kMethods) {
        if (!path.value().contains(method))
          continue;
        std::string key = Lower(method);
        std::transform(key.begin(), key.end(), key.begin(), ::toupper);
        key += " " + path.key();
        auto seen = api.seen().find(key);
        const std::set<int> statuses = seen == api.seen().end() ? std::set<int>() : seen->second;
        for (auto response = path.value().at(method).at("responses").begin();
             response != path.value().at(method).at("responses").end(); ++response) {
          const int status = std::stoi(response.key());
          if (status == 500 || status == 503)
            continue;
          INFO("operation " << key);
          CHECK_MESSAGE(statuses.count(status) == 1, "declared status " << status << " never seen");
        }
      }
    }
  }
}

TEST_CASE("api busy database answers 503") {
  const json document = LoadDocument();
  ApiTestServer server;
  CheckedClient api(server, document);

  // Another connection takes the write lock, as a second server or a
  // command on the same data folder would, and keeps it past the server's
  // wait for it.
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open((server.org().root() + "/reclaim.db").c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  const std::string body =
      R"({"identifier": "<busy@phish.example>", "reason": "Phishing", "action": "notify_only"})";
  ApiResponse busy = api.Send("POST", "/api/v1/remediations", body,
                              server.Secret(Role::kRemediator));
  CHECK(busy.status == 503);
  CHECK(busy.json["error"]["code"] == "unavailable");
  const std::string message = busy.json["error"].value("message", "");
  CHECK(message.find("write lock") != std::string::npos);
  CHECK(message.find("try again") != std::string::npos);
  // Reads go on while the lock is held, because the database is in WAL mode.
  CHECK(api.Send("GET", "/api/v1/incidents", "", server.Secret(Role::kViewer)).status == 200);

  // Once the lock is gone, the same request succeeds.
  REQUIRE(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(other);
  ApiResponse created = api.Send("POST", "/api/v1/remediations", body,
                                 server.Secret(Role::kRemediator));
  CHECK(created.status == 201);
  CHECK(api.seen().at("POST /api/v1/remediations").count(503) == 1);
}

TEST_CASE("api revoked token rejected at once") {
  ApiTestServer server;
  TokenInfo info;
  const std::string secret = server.CreateToken("soon-revoked", Role::kViewer, &info);

  // Many requests, so the token is in the server's token cache on every
  // reader it uses.
  for (int i = 0; i < 20; ++i) {
    REQUIRE(server.Send("GET", "/api/v1/session", "", secret).status == 200);
  }
  server.RevokeToken(info.id);
  for (int i = 0; i < 20; ++i) {
    INFO("request " << i << " after the revocation");
    ApiResponse response = server.Send("GET", "/api/v1/session", "", secret);
    CHECK(response.status == 401);
  }
  // Other tokens keep working.
  CHECK(server.Get("/api/v1/session", Role::kViewer).status == 200);

  // A revocation from the command line, another process with its own
  // database connection, counts from the next request too.
  TokenInfo cli_info;
  const std::string cli_secret = server.CreateToken("revoked-by-cli", Role::kAdmin, &cli_info);
  for (int i = 0; i < 20; ++i) {
    REQUIRE(server.Send("GET", "/api/v1/audit", "", cli_secret).status == 200);
  }
  const std::string command = std::string(RECLAIM_SERVER_BINARY) + " --data-dir " +
                              server.org().root() + " token revoke " + cli_info.id +
                              " > /dev/null 2>&1";
  REQUIRE(std::system(command.c_str()) == 0);
  for (int i = 0; i < 20; ++i) {
    INFO("request " << i << " after the command line revocation");
    CHECK(server.Send("GET", "/api/v1/audit", "", cli_secret).status == 401);
  }
  CHECK(server.Get("/api/v1/audit", Role::kAdmin).status == 200);
}
