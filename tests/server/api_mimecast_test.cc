// The Mimecast-compatible remediation endpoints, against the real server
// over HTTP with Maildir mailboxes on disk.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "sync-server/mail/hashing.h"
#include "tests/server/api_harness.h"

using namespace reclaim;
using nlohmann::json;
using reclaim::testing::ApiHarness;
using reclaim::testing::InvoiceMessage;
using reclaim::testing::kInvoiceMd5;
using reclaim::testing::kInvoiceSha256;
using reclaim::testing::kNow;

namespace {

// The invoice messages carry Date: 2026-11-30T09:00:00Z, inside this window.
constexpr const char* kStart = "2026-11-01T00:00:00+0000";
constexpr const char* kEnd = "2026-12-04T23:59:59+0000";
constexpr const char* kCreated = "2026-12-04T15:55:54+0000";  // the harness clock

constexpr const char* kCreatePath = "/api/ttp/remediation/create";
constexpr const char* kGetPath = "/api/ttp/remediation/get-incident";
constexpr const char* kFindPath = "/api/ttp/remediation/find-incidents";
constexpr const char* kSearchHashPath = "/api/ttp/remediation/search-hash";

// {"data": [items...]}. The parameter is a std::vector, because a braced
// list of one json value would copy that value instead of making an array.
std::string Envelope(const std::vector<json>& items) {
  return json{{"data", items}}.dump();
}

bool StartsWith(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

// The id of the job that works on `incident_id`, from the job list.
std::string JobFor(const ApiHarness& api, const std::string& incident_id) {
  httplib::Response response = api.Get("/api/v1/jobs", api.viewer);
  REQUIRE(response.status == 200);
  json body = ApiHarness::Json(response);
  for (const json& job : body.at("jobs")) {
    if (job.at("incidentId") == incident_id)
      return job.at("id").get<std::string>();
  }
  FAIL("no job for incident " << incident_id << " in " << response.body);
  return {};
}

std::vector<std::string> CodesOf(const json& incidents) {
  std::vector<std::string> codes;
  for (const json& incident : incidents)
    codes.push_back(incident.at("code").get<std::string>());
  return codes;
}

void CheckEnvelopeError(const httplib::Response& response, const std::string& code) {
  CHECK(response.status == 400);
  json body = ApiHarness::Json(response);
  CHECK(body.at("meta") == json{{"status", 400}});
  CHECK(body.at("data") == json::array());
  REQUIRE(body.at("fail").size() == 1);
  CHECK_FALSE(body.at("fail")[0].contains("key"));
  REQUIRE(body.at("fail")[0].at("errors").size() == 1);
  CHECK(body.at("fail")[0].at("errors")[0].at("code") == code);
  CHECK(body.at("fail")[0].at("errors")[0].at("retryable") == false);
}

}  // namespace

TEST_CASE("api mimecast create removes copies by hash") {
  ApiHarness api;
  api.org.AddUser("alice", "example.com");
  api.org.AddUser("bob", "example.com");
  std::string raw =
      InvoiceMessage("<inv1@invoices.example.net>", "alice@example.com, bob@example.com");
  api.org.Deliver("alice", "example.com", raw);
  api.org.Deliver("bob", "example.com", raw);
  api.Index();

  json item = {{"hashOrMessageId", kInvoiceSha256},
               {"reason", "Invoice phishing wave"},
               {"searchBy", "hash"},
               {"start", kStart},
               {"end", kEnd}};
  httplib::Response response = api.Post(kCreatePath, Envelope({item}), api.remediator);
  REQUIRE(response.status == 200);
  json body = ApiHarness::Json(response);
  CHECK(body.at("meta") == json{{"status", 200}});
  CHECK(body.at("fail") == json::array());
  REQUIRE(body.at("data").size() == 1);
  json incident = body.at("data")[0];
  std::string id = incident.at("id").get<std::string>();
  CHECK(id.size() == 24);
  CHECK(incident.at("code") == "TR-ACME-00001-M");
  CHECK(incident.at("type") == "manual");
  CHECK(incident.at("reason") == "Invoice phishing wave");
  CHECK(incident.at("create") == kCreated);
  CHECK(incident.at("modified") == kCreated);
  CHECK(incident.at("identified") == 2);
  CHECK(incident.at("successful") == 0);
  CHECK(incident.at("failed") == 0);
  CHECK(incident.at("restored") == 0);
  CHECK(incident.at("searchCriteria") ==
        json{{"fileHash", kInvoiceSha256}, {"start", kStart}, {"end", kEnd}});
  CHECK(incident.size() == 11);

  // The removal runs as a job; once it is done, both copies are on disk in
  // the hold folder and nowhere else.
  CHECK(api.WaitForJob(JobFor(api, id)) == "succeeded");
  for (const char* user : {"alice", "bob"}) {
    INFO("mailbox " << std::string(user));
    std::vector<std::string> files = api.org.FilesContaining(user, "example.com", "inv1@");
    REQUIRE(files.size() == 1);
    CHECK(StartsWith(files[0], ".Reclaim-Hold/new/"));
  }

  // get-incident finds it by id and by code, with the counts after the job.
  json by_id = {{"id", id}};
  json by_code = {{"id", "TR-ACME-00001-M"}};
  response = api.Post(kGetPath, Envelope({by_id, by_code}), api.viewer);
  REQUIRE(response.status == 200);
  body = ApiHarness::Json(response);
  CHECK(body.at("fail") == json::array());
  REQUIRE(body.at("data").size() == 2);
  for (const json& found : body.at("data")) {
    CHECK(found.at("id") == id);
    CHECK(found.at("successful") == 2);
    CHECK(found.at("identified") == 2);
    CHECK(found.at("failed") == 0);
  }

  // Every create is audited with the caller's token.
  Result<std::vector<AuditEntry>> audit = api.app->WithDatabase(
      [](Database&, IncidentRepository&, TokenStore& tokens) { return tokens.AuditLog(10); });
  REQUIRE(audit.ok());
  REQUIRE(audit->size() == 1);
  CHECK(audit->front().action == "remediation.create");
  CHECK(audit->front().target == "TR-ACME-00001-M");
  CHECK(audit->front().token_name == "soar-remediator");
  CHECK(audit->front().detail ==
        std::string("remove ") + kInvoiceSha256 + " through /api/ttp/remediation/create");
}

TEST_CASE("api mimecast create reports bad items in fail") {
  ApiHarness api;
  api.org.AddUser("alice", "example.com");
  api.org.Deliver("alice", "example.com",
                  InvoiceMessage("<inv2@invoices.example.net>", "alice@example.com"));
  api.Index();

  json by_message_id = {{"hashOrMessageId", "<inv2@invoices.example.net>"},
                        {"reason", "Reported by the user"},
                        {"searchBy", "messageId"},
                        {"start", kStart},
                        {"end", kEnd}};
  json empty_file = {{"hashOrMessageId", std::string(kEmptySha256)},
                     {"reason", "Empty attachment"},
                     {"searchBy", "hash"}};
  json no_reason = {{"hashOrMessageId", kInvoiceSha256}, {"searchBy", "hash"}};
  json bad_search_by = {
      {"hashOrMessageId", kInvoiceSha256}, {"reason", "Phishing"}, {"searchBy", "subject"}};
  json not_a_hash = {{"hashOrMessageId", "inv2@invoices.example.net"},
                     {"reason", "Phishing"},
                     {"searchBy", "hash"}};
  json bad_start = {{"hashOrMessageId", kInvoiceMd5},
                    {"reason", "Phishing"},
                    {"searchBy", "hash"},
                    {"start", "yesterday"}};
  std::vector<json> items = {by_message_id, empty_file, no_reason,
                             bad_search_by, not_a_hash, bad_start};
  httplib::Response response = api.Post(kCreatePath, Envelope(items), api.remediator);

  // The envelope was fine, so the status is 200 and the good item ran.
  REQUIRE(response.status == 200);
  json body = ApiHarness::Json(response);
  CHECK(body.at("meta") == json{{"status", 200}});
  REQUIRE(body.at("data").size() == 1);
  CHECK(body.at("data")[0].at("code") == "TR-ACME-00001-M");
  CHECK(body.at("data")[0].at("identified") == 1);
  CHECK(body.at("data")[0].at("searchCriteria") ==
        json{{"messageId", "<inv2@invoices.example.net>"}, {"start", kStart}, {"end", kEnd}});

  struct Expected {
    const json* key;
    std::string code;
    std::string message;
  };
  std::vector<Expected> expected = {
      {&empty_file, "err_validation_empty_file_hash",
       std::string("'") + std::string(kEmptySha256) +
           "' is the hash of an empty file, which matches every empty attachment: use the hash"
           " of a non-empty attachment, or the Message-ID"},
      {&no_reason, "err_validation_missing_reason",
       "missing reason: say why the message is remediated"},
      {&bad_search_by, "err_validation_invalid_search_by",
       "unknown searchBy 'subject': use hash or messageId"},
      {&not_a_hash, "err_validation_invalid_hash_or_message_id",
       "'inv2@invoices.example.net' is not a SHA-256 (64 hex digits) or MD5 (32 hex digits): fix"
       " the hash, or set searchBy to messageId for a Message-ID"},
      {&bad_start, "err_validation_invalid_start", ""},
  };
  const json& fail = body.at("fail");
  REQUIRE(fail.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("failure " << i << ": " << fail[i].dump());
    CHECK(fail[i].at("key") == *expected[i].key);
    REQUIRE(fail[i].at("errors").size() == 1);
    const json& error = fail[i].at("errors")[0];
    CHECK(error.at("code") == expected[i].code);
    CHECK(error.at("retryable") == false);
    if (!expected[i].message.empty())
      CHECK(error.at("message") == expected[i].message);
  }
  CHECK(fail[4].at("errors")[0].at("message").get<std::string>().find("yesterday") !=
        std::string::npos);

  // Only the good item created an incident.
  CHECK(api.app->ReadStore([](const IncidentStore& store) { return store.size(); }) == 1);
}

TEST_CASE("api mimecast malformed envelope gets 400") {
  ApiHarness api;
  CheckEnvelopeError(api.Post(kCreatePath, "{\"data\": [", api.remediator),
                     "err_validation_malformed_json");
  CheckEnvelopeError(api.Post(kGetPath, "{}", api.viewer), "err_validation_missing_data");
  CheckEnvelopeError(api.Post(kGetPath, R"({"data": {"id": "x"}})", api.viewer),
                     "err_validation_invalid_data");
  CheckEnvelopeError(api.Post(kGetPath, R"({"data": []})", api.viewer),
                     "err_validation_invalid_data");
  CheckEnvelopeError(api.Post(kFindPath, R"({"data": [{}], "query": 1})", api.viewer),
                     "err_validation_unknown_field");
  CheckEnvelopeError(api.Post(kSearchHashPath, "[]", api.viewer), "err_validation_invalid_body");
  CheckEnvelopeError(
      api.Post(kFindPath, R"({"meta": {"pagination": {"pageSize": 0}}, "data": [{}]})", api.viewer),
      "err_validation_invalid_page_size");

  httplib::Response response = api.Post(kCreatePath, "{\"data\": [", api.remediator);
  json error = ApiHarness::Json(response).at("fail")[0].at("errors")[0];
  CHECK(StartsWith(error.at("message").get<std::string>(), "malformed JSON: "));
}

TEST_CASE("api mimecast routes check the token role") {
  ApiHarness api;
  json item = {{"hashOrMessageId", kInvoiceSha256}, {"reason", "Phishing"}, {"searchBy", "hash"}};

  httplib::Response response = api.Post(kCreatePath, Envelope({item}), "");
  CHECK(response.status == 401);
  CHECK(ApiHarness::Json(response).at("error").at("code") == "unauthenticated");

  response = api.Post(kCreatePath, Envelope({item}), "not-a-real-token");
  CHECK(response.status == 401);

  response = api.Post(kCreatePath, Envelope({item}), api.viewer);
  CHECK(response.status == 403);
  CHECK(ApiHarness::Json(response).at("error").at("code") == "forbidden");
  CHECK(api.app->ReadStore([](const IncidentStore& store) { return store.size(); }) == 0);

  for (const char* path : {kGetPath, kFindPath, kSearchHashPath}) {
    INFO("path " << std::string(path));
    CHECK(api.Post(path, Envelope({json::object()}), "").status == 401);
    CHECK(api.Post(path, Envelope({json::object()}), api.viewer).status == 200);
  }
}

TEST_CASE("api mimecast get-incident reports unknown ids") {
  ApiHarness api;
  httplib::Response response =
      api.Post(kGetPath, Envelope({{{"id", "TR-ACME-00042-M"}}, {{"code", "x"}}}), api.viewer);
  REQUIRE(response.status == 200);
  json body = ApiHarness::Json(response);
  CHECK(body.at("data") == json::array());
  REQUIRE(body.at("fail").size() == 2);
  CHECK(body.at("fail")[0].at("key") == json{{"id", "TR-ACME-00042-M"}});
  CHECK(body.at("fail")[0].at("errors")[0].at("code") == "err_validation_not_found");
  CHECK(body.at("fail")[0].at("errors")[0].at("message") ==
        "incident 'TR-ACME-00042-M' not found: give its id or its code (TR-...)");
  CHECK(body.at("fail")[1].at("errors")[0].at("code") == "err_validation_unknown_field");
  CHECK(body.at("fail")[1].at("errors")[0].at("message") == "unknown field 'code': use id");
}

TEST_CASE("api mimecast find-incidents searches and filters") {
  ApiHarness api;
  auto remediate = [&](IncidentType type, const std::string& identifier,
                       const std::string& reason) {
    RemediationRequest request;
    request.type = type;
    request.identifier = identifier;
    request.reason = reason;
    Result<RemediationResult> result = api.app->Remediate(request, false);
    REQUIRE(result.ok());
  };
  remediate(IncidentType::kManual, kInvoiceSha256, "Invoice phishing wave");
  remediate(IncidentType::kNotifyOnly, "<payroll7@hr.example.net>", "Fake payroll notice");
  remediate(IncidentType::kAutomatic, kInvoiceMd5, "Malicious file from threat feed");

  auto find = [&](const json& item, const json& meta = json()) {
    json request = {{"data", json::array({item})}};
    if (!meta.is_null())
      request["meta"] = meta;
    httplib::Response response = api.Post(kFindPath, request.dump(), api.viewer);
    REQUIRE(response.status == 200);
    return ApiHarness::Json(response);
  };
  auto codes = [&](const json& item) {
    json body = find(item);
    INFO("response " << body.dump());
    REQUIRE(body.at("fail") == json::array());
    REQUIRE(body.at("data").size() == 1);
    return CodesOf(body.at("data")[0].at("incidents"));
  };
  using Codes = std::vector<std::string>;
  const std::string m1 = "TR-ACME-00001-M";
  const std::string n2 = "TR-ACME-00002-N";
  const std::string a3 = "TR-ACME-00003-A";

  // Newest first, ties in Date Created broken by code.
  json all = {{"start", kStart}, {"end", kEnd}};
  CHECK(codes(all) == Codes{a3, n2, m1});
  CHECK(codes({{"start", kStart}, {"end", kEnd}, {"oldestFirst", true}}) == Codes{m1, n2, a3});
  CHECK(codes({{"start", kStart}, {"end", "2026-12-03T00:00:00+0000"}}) == Codes{});
  CHECK(codes(json::object()) == Codes{a3, n2, m1});

  json reason = {{"start", kStart},
                 {"end", kEnd},
                 {"searchBy", {{{"fieldName", "reason"}, {"value", "payroll"}}}}};
  CHECK(codes(reason) == Codes{n2});
  json code = {{"searchBy", {{{"fieldName", "code"}, {"value", "00003"}}}}};
  CHECK(codes(code) == Codes{a3});
  json any_field = {{"searchBy", {{{"fieldName", "all"}, {"value", "hr.example.net"}}}}};
  CHECK(codes(any_field) == Codes{n2});

  // file_hash matches part of a hash identifier, never a Message-ID.
  json sha_part = {{"searchBy", {{{"fieldName", "file_hash"}, {"value", "8B08C7D3"}}}}};
  CHECK(codes(sha_part) == Codes{m1});
  json md5_part = {{"searchBy", {{{"fieldName", "file_hash"}, {"value", "96b6ed64"}}}}};
  CHECK(codes(md5_part) == Codes{a3});
  json not_hash = {{"searchBy", {{{"fieldName", "file_hash"}, {"value", "payroll7"}}}}};
  CHECK(codes(not_hash) == Codes{});

  // Several searches must all match.
  json both = {{"searchBy",
                {{{"fieldName", "reason"}, {"value", "phishing"}},
                 {{"fieldName", "file_hash"}, {"value", "8b08"}}}}};
  CHECK(codes(both) == Codes{m1});
  json neither = {{"searchBy",
                   {{{"fieldName", "reason"}, {"value", "payroll"}},
                    {{"fieldName", "file_hash"}, {"value", "8b08"}}}}};
  CHECK(codes(neither) == Codes{});

  // Type filters: one type, a comma-separated list, several entries, and
  // one object in place of an array.
  json manual = {{"filterBy", {{{"fieldName", "type"}, {"value", "manual"}}}}};
  CHECK(codes(manual) == Codes{m1});
  json listed = {{"filterBy", {{{"fieldName", "type"}, {"value", "automatic,notify_only"}}}}};
  CHECK(codes(listed) == Codes{a3, n2});
  json entries = {{"filterBy",
                   {{{"fieldName", "type"}, {"value", "manual"}},
                    {{"fieldName", "type"}, {"value", "automatic"}}}}};
  CHECK(codes(entries) == Codes{a3, m1});
  json object = {{"filterBy", {{"fieldName", "type"}, {"value", "restore"}}}};
  CHECK(codes(object) == Codes{});

  // Every incident carries the fields of the create response.
  json body = find(code);
  json incident = body.at("data")[0].at("incidents")[0];
  CHECK(incident.at("type") == "automatic");
  CHECK(incident.at("reason") == "Malicious file from threat feed");
  CHECK(incident.at("successful") == 0);
  CHECK(incident.at("searchCriteria").at("fileHash") == kInvoiceMd5);
  CHECK(body.at("meta").at("pagination") == json{{"pageSize", 100}, {"totalCount", 1}});

  // Pages: `next` is the token of the following page, absent on the last.
  body = find(all, {{"pagination", {{"pageSize", 2}}}});
  CHECK(CodesOf(body.at("data")[0].at("incidents")) == Codes{a3, n2});
  CHECK(body.at("meta") ==
        json{{"status", 200}, {"pagination", {{"pageSize", 2}, {"totalCount", 3}, {"next", "2"}}}});
  body = find(all, {{"pagination", {{"pageSize", 2}, {"pageToken", "2"}}}});
  CHECK(CodesOf(body.at("data")[0].at("incidents")) == Codes{m1});
  CHECK(body.at("meta").at("pagination") == json{{"pageSize", 2}, {"totalCount", 3}});

  // Bad items fail one by one.
  json bad_field = {{"searchBy", {{{"fieldName", "subject"}, {"value", "x"}}}}};
  json bad_type = {{"filterBy", {{{"fieldName", "type"}, {"value", "manual,urgent"}}}}};
  json reversed = {{"start", kEnd}, {"end", kStart}};
  httplib::Response response =
      api.Post(kFindPath, Envelope({bad_field, bad_type, reversed, all}), api.viewer);
  REQUIRE(response.status == 200);
  body = ApiHarness::Json(response);
  REQUIRE(body.at("data").size() == 1);
  CHECK(CodesOf(body.at("data")[0].at("incidents")) == Codes{a3, n2, m1});
  REQUIRE(body.at("fail").size() == 3);
  CHECK(body.at("fail")[0].at("key") == bad_field);
  CHECK(body.at("fail")[0].at("errors")[0].at("code") == "err_validation_invalid_search_by");
  CHECK(body.at("fail")[0].at("errors")[0].at("message") ==
        "unknown searchBy fieldName 'subject': use all, code, file_hash or reason");
  CHECK(body.at("fail")[1].at("errors")[0].at("code") == "err_validation_invalid_filter_by");
  CHECK(body.at("fail")[1].at("errors")[0].at("message") ==
        "unknown incident type 'urgent' in filterBy: use manual, automatic, restore, notify_only"
        " or mep_clawback");
  CHECK(body.at("fail")[2].at("errors")[0].at("code") == "err_validation_invalid_end");
}

TEST_CASE("api mimecast search-hash reports delivered copies") {
  ApiHarness api;
  api.org.AddUser("alice", "example.com");
  api.org.Deliver("alice", "example.com",
                  InvoiceMessage("<inv3@invoices.example.net>", "alice@example.com"));
  api.Index();

  std::string upper_sha = kInvoiceSha256;
  std::transform(upper_sha.begin(), upper_sha.end(), upper_sha.begin(), ::toupper);
  const std::string unknown(64, 'a');
  json hashes = {upper_sha, kInvoiceMd5, unknown, "not-a-hash", std::string(kEmptyMd5), 42};
  httplib::Response response =
      api.Post(kSearchHashPath, Envelope({{{"hashes", hashes}}}), api.viewer);
  REQUIRE(response.status == 200);
  json body = ApiHarness::Json(response);
  CHECK(body.at("fail") == json::array());
  REQUIRE(body.at("data").size() == 1);
  CHECK(body.at("data")[0].at("hashStatus") == json{{{"hash", upper_sha}, {"detected", true}},
                                                    {{"hash", kInvoiceMd5}, {"detected", true}},
                                                    {{"hash", unknown}, {"detected", false}}});
  const json& failed = body.at("data")[0].at("failedHashes");
  REQUIRE(failed.size() == 3);
  CHECK(failed[0] == json{{"hash", "not-a-hash"},
                          {"code", "err_validation_invalid_hash"},
                          {"message",
                           "'not-a-hash' is not a SHA-256 (64 hex digits) or MD5 (32"
                           " hex digits): fix the digest"}});
  CHECK(failed[1].at("hash") == std::string(kEmptyMd5));
  CHECK(failed[1].at("code") == "err_validation_empty_file_hash");
  CHECK(failed[2].at("hash") == "42");
  CHECK(failed[2].at("code") == "err_validation_invalid_hash");

  // A copy moved to the hold folder is no longer delivered.
  RemediationRequest request;
  request.identifier = kInvoiceSha256;
  request.reason = "Invoice phishing wave";
  request.start = kNow - 30 * kSecondsPerDay;
  Result<RemediationResult> result = api.app->Remediate(request, true);
  REQUIRE(result.ok());
  CHECK(api.WaitForJob(result->job_id) == "succeeded");
  response = api.Post(kSearchHashPath, Envelope({{{"hashes", {kInvoiceSha256}}}}), api.viewer);
  body = ApiHarness::Json(response);
  CHECK(body.at("data")[0].at("hashStatus") ==
        json{{{"hash", kInvoiceSha256}, {"detected", false}}});

  // Item-level limits.
  json too_many = json::array();
  for (int i = 0; i < 101; ++i)
    too_many.push_back(unknown);
  response = api.Post(kSearchHashPath,
                      Envelope({{{"hashes", too_many}}, {{"hashes", json::array()}}}), api.viewer);
  body = ApiHarness::Json(response);
  CHECK(body.at("data") == json::array());
  REQUIRE(body.at("fail").size() == 2);
  CHECK(body.at("fail")[0].at("errors")[0].at("code") == "err_validation_too_many_hashes");
  CHECK(body.at("fail")[1].at("errors")[0].at("code") == "err_validation_missing_hashes");
}
