#include "wasm-client/state/api_types.h"

#include <doctest/doctest.h>

using namespace reclaim;
using namespace reclaim::client;

TEST_CASE("message detail decodes the server shape") {
  const char* body = R"({
    "incident": {"id": "i1", "code": "TR-ACME-00001-M"},
    "message": {"id": "5", "from": "Billing <b@x.example>", "fromAddress": "b@x.example",
                "recipients": ["a@example.com", "c@example.com"], "subject": "Invoice",
                "date": "2025-12-01T10:00:00Z", "messageId": "<m@x>", "size": 2048,
                "delivered": "2025-12-01T10:00:05Z", "mailbox": "a@example.com",
                "folder": "INBOX", "present": true},
    "attachments": [{"filename": "a.pdf", "contentType": "application/pdf", "size": 10,
                     "sha256": "ab", "md5": "cd"},
                    {"filename": "broken", "contentType": "x", "size": 0,
                     "sha256": null, "md5": null}],
    "body": {"available": true, "text": "Pay now", "truncated": false},
    "recipients": [{"id": "5", "recipient": "a@example.com", "sender": "b@x.example",
                    "subject": "Invoice", "delivered": "2025-12-01T10:00:05Z",
                    "mailbox": "a@example.com", "folder": "INBOX", "movedTo": "",
                    "status": "identified", "failureReason": "", "lastAction": null}],
    "history": [{"incidentId": "i1", "incidentCode": "TR-ACME-00001-M", "type": "manual",
                 "rowId": "5", "status": "identified", "time": "2025-12-01T11:00:00Z",
                 "folder": "INBOX", "movedTo": "", "failureReason": ""}]})";
  Result<MessageDetail> detail = DecodeMessageDetail(body);
  REQUIRE(detail.ok());
  CHECK(detail->incident_code == "TR-ACME-00001-M");
  CHECK(detail->recipients.size() == 2);
  CHECK(detail->size == 2048);
  REQUIRE(detail->attachments.size() == 2);
  CHECK(detail->attachments[0].sha256 == "ab");
  CHECK(detail->attachments[1].md5.empty());
  CHECK(detail->body_text == "Pay now");
  REQUIRE(detail->recipient_rows.size() == 1);
  CHECK(detail->recipient_rows[0].status == MessageStatus::kIdentified);
  REQUIRE(detail->history.size() == 1);
  CHECK(detail->history[0].time == ParseIso8601("2025-12-01T11:00:00Z", "t").value());
}

TEST_CASE("message detail errors name the member") {
  Result<MessageDetail> detail = DecodeMessageDetail(R"({"attachments": [{"filename": 3}]})");
  REQUIRE_FALSE(detail.ok());
  CHECK(detail.status().field() == "attachments[0].filename");
  CHECK_FALSE(DecodeMessageDetail("[1]").ok());
}

TEST_CASE("job progress") {
  Result<JobStatus> job = DecodeJob(R"({"id":"job-1","state":"running","total":4,"done":1})");
  REQUIRE(job.ok());
  CHECK(job->Progress() == doctest::Approx(0.25));
  CHECK_FALSE(job->finished());
  CHECK_FALSE(DecodeJob(R"({"state":"running"})").ok());
  CHECK(DecodeJob(R"({"id":"j","state":"failed","total":0,"done":0})")->Progress() == 1.0f);
}

TEST_CASE("unreachable differs from refused") {
  HttpResponse none;
  none.transport_error = "timed out";
  ServerError unreachable = ClassifyResponse(none);
  CHECK(unreachable.kind == ErrorKind::kUnreachable);
  CHECK(unreachable.Display() == "Server unreachable (timed out)");

  HttpResponse refused;
  refused.reached = true;
  refused.status = 403;
  refused.body = R"({"error":{"status":403,"code":"forbidden","field":"Authorization",
                    "message":"role viewer is below remediator"}})";
  ServerError error = ClassifyResponse(refused);
  CHECK(error.kind == ErrorKind::kRefused);
  CHECK(error.field == "Authorization");
  CHECK(error.Display() == "Server refused (role viewer is below remediator)");
}
