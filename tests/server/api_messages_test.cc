// Message details, and removal and restore of one message, against the real
// server over HTTP with Maildir mailboxes on disk; and the text body that
// the parser extracts for the details.
#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "sync-server/mail/mime_parser.h"
#include "tests/server/api_harness.h"

using namespace reclaim;
using nlohmann::json;
using reclaim::testing::ApiHarness;
using reclaim::testing::InvoiceMessage;
using reclaim::testing::kInvoiceMd5;
using reclaim::testing::kInvoiceSha256;
using reclaim::testing::kNow;

namespace {

constexpr const char* kNotArchived =
    "This message has not been archived yet. Try again in a few minutes.";

bool StartsWith(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

// Creates a Manual incident for `identifier` without moving anything.
Incident Identify(ApiHarness& api, const std::string& identifier) {
  RemediationRequest request;
  request.identifier = identifier;
  request.reason = "Invoice phishing wave";
  request.start = kNow - 30 * kSecondsPerDay;
  Result<RemediationResult> result = api.app->Remediate(request, false);
  REQUIRE(result.ok());
  CHECK(result->job_id.empty());
  return result->incident;
}

// The incident's message row ids by recipient, from the incident route.
std::map<std::string, std::string> RowIds(const ApiHarness& api, const std::string& incident_id) {
  httplib::Response response = api.Get("/api/v1/incidents/" + incident_id, api.viewer);
  REQUIRE(response.status == 200);
  std::map<std::string, std::string> ids;
  json body = ApiHarness::Json(response);
  INFO("incident: " << body.dump());
  for (const json& row : body.at("messages")) {
    ids[row.at("recipient").get<std::string>()] = row.at("id").get<std::string>();
  }
  return ids;
}

std::string MessagePath(const std::string& incident_id, const std::string& row_id) {
  return "/api/v1/incidents/" + incident_id + "/messages/" + row_id;
}

// A single-part HTML message in ISO-8859-1, quoted-printable.
std::string HtmlMessage(const std::string& message_id, const std::string& to) {
  return "From: IT Helpdesk <helpdesk@it-support.example.net>\r\n"
         "To: " +
         to +
         "\r\n"
         "Subject: Mailbox full\r\n"
         "Date: Mon, 30 Nov 2026 10:00:00 +0000\r\n"
         "Message-ID: " +
         message_id +
         "\r\n"
         "MIME-Version: 1.0\r\n"
         "Content-Type: text/html; charset=iso-8859-1\r\n"
         "Content-Transfer-Encoding: quoted-printable\r\n"
         "\r\n"
         "<html><head><title>Notice</title><style>p { color: red; }</style></head>\r\n"
         "<body><p>Your mailbox is <b>full</b>.</p>\r\n"
         "<p>Click&nbsp;<a href=3D\"https://it-support.example.net/\">here</a> &amp;\r\n"
         "   verify.<br>Caf=E9 &#8364;5</p><!-- tracking --></body></html>\r\n";
}

// multipart/alternative with a plain and an HTML part.
std::string AlternativeMessage(const std::string& message_id, const std::string& to) {
  return "From: billing@invoices.example.net\r\n"
         "To: " +
         to +
         "\r\n"
         "Subject: Statement\r\n"
         "Date: Mon, 30 Nov 2026 11:00:00 +0000\r\n"
         "Message-ID: " +
         message_id +
         "\r\n"
         "MIME-Version: 1.0\r\n"
         "Content-Type: multipart/alternative; boundary=\"alt\"\r\n"
         "\r\n"
         "--alt\r\n"
         "Content-Type: text/plain; charset=utf-8\r\n"
         "\r\n"
         "Your statement is ready.\r\n"
         "Line two.\r\n"
         "--alt\r\n"
         "Content-Type: text/html; charset=utf-8\r\n"
         "\r\n"
         "<p>Your statement is <i>ready</i>.</p>\r\n"
         "--alt--\r\n";
}

}  // namespace

TEST_CASE("api message details of an indexed copy") {
  ApiHarness api;
  api.org.AddUser("alice", "example.com");
  api.org.AddUser("bob", "example.com");
  // ghost@example.com has no mailbox, so its row has no indexed copy.
  std::string raw = InvoiceMessage("<inv1@invoices.example.net>",
                                   "alice@example.com, bob@example.com, ghost@example.com");
  api.org.Deliver("alice", "example.com", raw);
  api.org.Deliver("bob", "example.com", raw);
  api.Index();
  Incident incident = Identify(api, kInvoiceSha256);
  std::map<std::string, std::string> rows = RowIds(api, incident.id);
  REQUIRE(rows.size() == 3);

  httplib::Response response =
      api.Get(MessagePath(incident.id, rows["alice@example.com"]), api.viewer);
  REQUIRE(response.status == 200);
  json body = ApiHarness::Json(response);
  CHECK(body.at("incident") == json{{"id", incident.id}, {"code", "TR-ACME-00001-M"}});

  const json& message = body.at("message");
  CHECK(message.at("id") == rows["alice@example.com"]);
  CHECK(message.at("from") == "\"Billing\" <billing@invoices.example.net>");
  CHECK(message.at("fromAddress") == "billing@invoices.example.net");
  CHECK(message.at("recipients") ==
        json{"alice@example.com", "bob@example.com", "ghost@example.com"});
  CHECK(message.at("subject") == "Invoice 4471 overdue");
  CHECK(message.at("date") == "2026-11-30T09:00:00Z");
  CHECK(message.at("messageId") == "<inv1@invoices.example.net>");
  CHECK(message.at("size") == raw.size());
  CHECK(message.at("delivered") == "2026-11-30T09:00:00Z");
  CHECK(message.at("mailbox") == "alice@example.com");
  CHECK(message.at("folder") == "INBOX");
  CHECK(message.at("present") == true);

  CHECK(body.at("attachments") == json{{{"filename", "invoice.pdf"},
                                        {"contentType", "application/pdf"},
                                        {"size", 68},
                                        {"sha256", kInvoiceSha256},
                                        {"md5", kInvoiceMd5}}});
  CHECK(body.at("body") == json{{"available", true},
                                {"text", "Please pay the attached invoice today."},
                                {"truncated", false}});

  // The incident's rows for this message, the failed one included.
  const json& recipients = body.at("recipients");
  REQUIRE(recipients.size() == 3);
  std::map<std::string, json> by_recipient;
  for (const json& row : recipients)
    by_recipient[row.at("recipient").get<std::string>()] = row;
  CHECK(by_recipient["alice@example.com"].at("status") == "identified");
  CHECK(by_recipient["bob@example.com"].at("status") == "identified");
  CHECK(by_recipient["ghost@example.com"].at("status") == "failed");
  CHECK(by_recipient["ghost@example.com"].at("failureReason") == "No connection for the user.");

  CHECK(body.at("history") == json{{{"incidentId", incident.id},
                                    {"incidentCode", "TR-ACME-00001-M"},
                                    {"type", "manual"},
                                    {"rowId", rows["alice@example.com"]},
                                    {"status", "identified"},
                                    {"time", "2026-12-04T15:55:54Z"},
                                    {"folder", "INBOX"},
                                    {"movedTo", ""},
                                    {"failureReason", ""}}});

  // The same row by the incident's code.
  response = api.Get(MessagePath("TR-ACME-00001-M", rows["bob@example.com"]), api.viewer);
  REQUIRE(response.status == 200);
  CHECK(ApiHarness::Json(response).at("message").at("mailbox") == "bob@example.com");
}

TEST_CASE("api message details errors") {
  ApiHarness api;
  api.org.AddUser("alice", "example.com");
  api.org.Deliver(
      "alice", "example.com",
      InvoiceMessage("<inv2@invoices.example.net>", "alice@example.com, ghost@example.com"));
  api.Index();
  Incident first = Identify(api, kInvoiceSha256);
  Incident second = Identify(api, kInvoiceMd5);
  std::map<std::string, std::string> rows = RowIds(api, first.id);
  REQUIRE(rows.size() == 2);

  // A row without an indexed copy.
  httplib::Response response =
      api.Get(MessagePath(first.id, rows["ghost@example.com"]), api.viewer);
  CHECK(response.status == 409);
  json error = ApiHarness::Json(response).at("error");
  CHECK(error.at("message") == kNotArchived);
  CHECK(error.at("code") == "conflict");
  CHECK(error.at("field") == "messageRowId");

  // A row of another incident, an unknown row, an unknown incident.
  response = api.Get(MessagePath(second.id, rows["alice@example.com"]), api.viewer);
  CHECK(response.status == 404);
  CHECK(ApiHarness::Json(response).at("error").at("message") ==
        "message " + rows["alice@example.com"] +
            " is not part of incident TR-ACME-00002-M: use the ids from the incident's messages");
  CHECK(api.Get(MessagePath(first.id, "999999"), api.viewer).status == 404);
  CHECK(api.Get(MessagePath("TR-ACME-00042-M", "1"), api.viewer).status == 404);

  // Tokens.
  CHECK(api.Get(MessagePath(first.id, rows["alice@example.com"]), "").status == 401);
  std::string path = MessagePath(first.id, rows["alice@example.com"]);
  CHECK(api.Post(path + "/remove", "", "").status == 401);
  CHECK(api.Post(path + "/remove", "", api.viewer).status == 403);
  CHECK(api.Post(path + "/restore", "", api.viewer).status == 403);

  // Bodies: remove takes none, restore only a reason.
  response = api.Post(path + "/remove", R"({"force": true})", api.remediator);
  CHECK(response.status == 400);
  CHECK(ApiHarness::Json(response).at("error").at("field") == "force");
  response = api.Post(path + "/restore", R"({"reason": 7})", api.remediator);
  CHECK(response.status == 400);
  CHECK(ApiHarness::Json(response).at("error").at("field") == "reason");

  // Only identified rows are removed, only removed ones restored.
  response = api.Post(path + "/restore", "", api.remediator);
  CHECK(response.status == 409);
  CHECK(ApiHarness::Json(response).at("error").at("message") ==
        "message " + rows["alice@example.com"] +
            " of TR-ACME-00001-M is identified: only removed messages can be restored");
  response =
      api.Post(MessagePath(first.id, rows["ghost@example.com"]) + "/remove", "", api.remediator);
  CHECK(response.status == 409);
}

TEST_CASE("api message remove and restore of one copy") {
  ApiHarness api;
  api.org.AddUser("alice", "example.com");
  api.org.AddUser("bob", "example.com");
  std::string raw =
      InvoiceMessage("<inv3@invoices.example.net>", "alice@example.com, bob@example.com");
  api.org.Deliver("alice", "example.com", raw);
  api.org.Deliver("bob", "example.com", raw);
  api.Index();
  Incident incident = Identify(api, "<inv3@invoices.example.net>");
  std::map<std::string, std::string> rows = RowIds(api, incident.id);
  REQUIRE(rows.size() == 2);
  const std::string alice = MessagePath(incident.id, rows["alice@example.com"]);

  // Remove alice's copy only.
  httplib::Response response = api.Post(alice + "/remove", "", api.remediator);
  REQUIRE(response.status == 202);
  json job = ApiHarness::Json(response).at("job");
  CHECK(job.at("kind") == "remove");
  CHECK(job.at("incidentId") == incident.id);
  CHECK(api.WaitForJob(job.at("id").get<std::string>()) == "succeeded");

  std::vector<std::string> files = api.org.FilesContaining("alice", "example.com", "inv3@");
  REQUIRE(files.size() == 1);
  CHECK(StartsWith(files[0], ".Reclaim-Hold/new/"));
  files = api.org.FilesContaining("bob", "example.com", "inv3@");
  REQUIRE(files.size() == 1);
  CHECK(StartsWith(files[0], "new/"));

  response = api.Get(alice, api.viewer);
  REQUIRE(response.status == 200);
  json body = ApiHarness::Json(response);
  CHECK(body.at("message").at("folder") == "Reclaim-Hold");
  CHECK(body.at("body").at("text") == "Please pay the attached invoice today.");
  REQUIRE(body.at("history").size() == 1);
  CHECK(body.at("history")[0].at("status") == "removed");
  CHECK(body.at("history")[0].at("movedTo") == "Reclaim-Hold");

  response = api.Post(alice + "/remove", "", api.remediator);
  CHECK(response.status == 409);
  CHECK(ApiHarness::Json(response).at("error").at("message") ==
        "message " + rows["alice@example.com"] +
            " of TR-ACME-00001-M is removed: it is in the hold folder already");

  // Restore it: a Restore incident moves the copy back to the inbox.
  response = api.Post(alice + "/restore", R"({"reason": "False positive"})", api.remediator);
  REQUIRE(response.status == 202);
  body = ApiHarness::Json(response);
  CHECK(body.at("incident").at("code") == "TR-ACME-00002-R");
  CHECK(body.at("incident").at("reason") == "False positive");
  CHECK(body.at("incident").at("identified") == 1);
  CHECK(body.at("job").at("kind") == "restore");
  CHECK(api.WaitForJob(body.at("job").at("id").get<std::string>()) == "succeeded");

  files = api.org.FilesContaining("alice", "example.com", "inv3@");
  REQUIRE(files.size() == 1);
  CHECK(StartsWith(files[0], "new/"));

  // The history lists both incidents that acted on the copy.
  response = api.Get(alice, api.viewer);
  REQUIRE(response.status == 200);
  body = ApiHarness::Json(response);
  CHECK(body.at("message").at("folder") == "INBOX");
  const json& history = body.at("history");
  REQUIRE(history.size() == 2);
  CHECK(history[0].at("incidentCode") == "TR-ACME-00001-M");
  CHECK(history[0].at("status") == "restored");
  CHECK(history[1].at("incidentCode") == "TR-ACME-00002-R");
  CHECK(history[1].at("type") == "restore");
  CHECK(history[1].at("status") == "restored");
  CHECK(history[1].at("movedTo") == "INBOX");

  // Audit entries name the incident and the message.
  Result<std::vector<AuditEntry>> audit = api.app->WithDatabase(
      [](Database&, IncidentRepository&, TokenStore& tokens) { return tokens.AuditLog(10); });
  REQUIRE(audit.ok());
  REQUIRE(audit->size() == 2);
  CHECK(audit->at(0).action == "incident.restore");
  CHECK(audit->at(0).detail == "TR-ACME-00002-R for message " + rows["alice@example.com"]);
  CHECK(audit->at(1).action == "incident.remove");
  CHECK(audit->at(1).target == "TR-ACME-00001-M");
}

TEST_CASE("api message details body from HTML") {
  ApiHarness api;
  api.org.AddUser("carol", "example.com");
  api.org.Deliver("carol", "example.com",
                  HtmlMessage("<full1@it-support.example.net>", "carol@example.com"));
  api.org.Deliver("carol", "example.com",
                  AlternativeMessage("<stmt1@invoices.example.net>", "carol@example.com"));
  api.Index();

  Incident html = Identify(api, "<full1@it-support.example.net>");
  std::map<std::string, std::string> rows = RowIds(api, html.id);
  httplib::Response response = api.Get(MessagePath(html.id, rows["carol@example.com"]), api.viewer);
  REQUIRE(response.status == 200);
  json body = ApiHarness::Json(response);
  CHECK(body.at("body").at("text") ==
        "Your mailbox is full.\n\nClick here & verify.\nCaf\xC3\xA9 \xE2\x82\xAC"
        "5");
  CHECK(body.at("attachments") == json::array());
  CHECK(body.at("message").at("from") == "IT Helpdesk <helpdesk@it-support.example.net>");

  // With a plain alternative, the plain part is the body.
  Incident alternative = Identify(api, "<stmt1@invoices.example.net>");
  rows = RowIds(api, alternative.id);
  response = api.Get(MessagePath(alternative.id, rows["carol@example.com"]), api.viewer);
  REQUIRE(response.status == 200);
  CHECK(ApiHarness::Json(response).at("body").at("text") == "Your statement is ready.\nLine two.");

  // A copy that vanished from the mailbox keeps its indexed details.
  for (const std::string& file : api.org.FilesContaining("carol", "example.com", "stmt1@")) {
    std::filesystem::remove(api.org.UserDir("carol", "example.com") + "/" + file);
  }
  response = api.Get(MessagePath(alternative.id, rows["carol@example.com"]), api.viewer);
  REQUIRE(response.status == 200);
  body = ApiHarness::Json(response);
  CHECK(body.at("body").at("available") == false);
  CHECK_FALSE(body.at("body").at("error").get<std::string>().empty());
  CHECK(body.at("message").at("subject") == "Statement");
}

TEST_CASE("api message body parse capped at 256 KiB") {
  // One ASCII byte, then two-byte characters: the cap falls inside one.
  std::string text = "x";
  while (text.size() < 300 * 1024)
    text += "\xC3\xA9";
  std::string raw =
      "From: a@example.com\r\nTo: b@example.com\r\nSubject: Long\r\n"
      "Message-ID: <long@example.com>\r\nMIME-Version: 1.0\r\n"
      "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
      text + "\r\n";
  ParsedMessage parsed = ParseMessage(raw);
  CHECK(parsed.text_body_truncated);
  CHECK(parsed.text_body.size() == kMaxTextBodyBytes - 1);
  CHECK(parsed.text_body == text.substr(0, kMaxTextBodyBytes - 1));

  ParsedMessage small =
      ParseMessage("From: a@example.com\r\nSubject: Short\r\n\r\nline one\r\nline two\r\n\r\n");
  CHECK_FALSE(small.text_body_truncated);
  CHECK(small.text_body == "line one\nline two");
}
