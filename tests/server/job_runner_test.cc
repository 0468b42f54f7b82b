#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "sync-server/jobs/job_runner.h"
#include "tests/server/maildir_engine.h"

using namespace reclaim;
using reclaim::testing::Engine;
using reclaim::testing::MaildirOrg;

namespace {

UnixSeconds FixedClock() { return 1796399754; }

}  // namespace

TEST_CASE("job runner states and errors") {
  JobRunner runner(FixedClock);
  std::string ok = runner.Submit(JobKind::kIndex, "", [](JobControl* control) {
    control->total = 3;
    control->done = 3;
    return Status::Ok();
  });
  std::string bad = runner.Submit(JobKind::kRemove, "inc1", [](JobControl*) {
    return Status::Unavailable("mail store down");
  });
  REQUIRE(runner.WaitIdle(5000));
  std::optional<JobInfo> first = runner.Get(ok);
  REQUIRE(first.has_value());
  CHECK(first->state == JobState::kSucceeded);
  CHECK(first->total == 3);
  CHECK(first->done == 3);
  CHECK(first->finished == FixedClock());
  std::optional<JobInfo> second = runner.Get(bad);
  REQUIRE(second.has_value());
  CHECK(second->state == JobState::kFailed);
  CHECK(second->error == "mail store down");
  CHECK(second->incident_id == "inc1");
  CHECK_FALSE(runner.Get("job-unknown").has_value());
  CHECK_FALSE(runner.Cancel(ok));  // finished jobs cannot be cancelled
  std::vector<JobInfo> listed = runner.List();
  REQUIRE(listed.size() == 2);
  CHECK(listed[0].id == bad);  // newest first
  CHECK(ApiName(JobState::kCancelled) == "cancelled");
  CHECK(ApiName(JobKind::kRestore) == "restore");
}

TEST_CASE("job runner cancels between copies") {
  MaildirOrg org;
  std::string id = "<cancel.campaign@evil.example>";
  for (int i = 0; i < 300; ++i) {
    std::string user = "u" + std::to_string(i);
    org.AddUser(user, "example.com");
    org.Deliver(user, "example.com",
                "From: a@evil.example\r\nTo: " + user + "@example.com\r\nMessage-ID: " + id +
                    "\r\nSubject: x\r\n\r\nbody\r\n");
  }
  Engine engine(&org);
  engine.Index();
  RemediationRequest request;
  request.identifier = id;
  request.reason = "Campaign";
  request.start = reclaim::testing::kNow - 365 * kSecondsPerDay;
  Result<Incident> incident = engine.remediator->Identify(request);
  REQUIRE(incident.ok());

  // The job waits at its first progress report until the test has asked
  // for cancellation, so the cancel lands between copies every time.
  std::atomic<bool> cancel_sent{false};
  JobRunner runner(FixedClock);
  std::string database = org.database();
  std::string mail_root = org.mail_root();
  std::string incident_id = incident->id;
  std::string job = runner.Submit(JobKind::kRemove, incident_id, [&](JobControl* control) {
    auto db = std::move(*Database::Open(database));
    ConnectorRegistry registry;
    MaildirSettings settings{"local", mail_root, {"example.com"}};
    (void)registry.Add(std::make_unique<MaildirConnector>(settings), settings.domains);
    IncidentRepository repository(db.get(), "ACME", RandomId);
    RemediatorOptions options;
    options.clock = FixedClock;
    options.batch_size = 10;
    Remediator remediator(db.get(), &registry, &repository, options);
    control->total = 300;
    while (!cancel_sent) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return remediator.Remove(incident_id, {}, control);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(runner.Get(job)->state == JobState::kRunning);
  CHECK(runner.Cancel(job));
  cancel_sent = true;
  REQUIRE(runner.WaitIdle(30000));
  std::optional<JobInfo> info = runner.Get(job);
  REQUIRE(info.has_value());
  CHECK(info->state == JobState::kCancelled);
  CHECK(info->total == 300);
  CHECK(info->done < 300);

  // What was done is consistent with the mailboxes: copies not reached
  // are still identified and still in the inbox.
  Incident after = *engine.repository->Get(incident_id);
  CHECK(after.counts.removed == static_cast<uint32_t>(info->done));
  int held = 0;
  for (int i = 0; i < 300; ++i) {
    std::vector<std::string> files =
        org.FilesContaining("u" + std::to_string(i), "example.com", "cancel.campaign@");
    REQUIRE(files.size() == 1);
    if (files[0].rfind(".Reclaim-Hold/", 0) == 0) ++held;
  }
  CHECK(held == info->done);
}
