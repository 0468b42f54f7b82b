// Remediation killed with SIGKILL at random points: after each restart and
// recovery, every message must exist exactly once and the incident's counts
// must equal what is in the mailboxes.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include "sync-server/index/message_index.h"
#include "sync-server/mail/mime_parser.h"
#include "sync-server/mailbox/maildir_connector.h"
#include "sync-server/remediation/remediator.h"
#include "tests/server/kill_by_progress.h"
#include "tests/server/maildir_org.h"

using namespace reclaim;
using reclaim::testing::MaildirOrg;

namespace {

constexpr UnixSeconds kNow = 1796399754;
constexpr int kUsers = 2000;
constexpr int kKills = 20;

struct Process {
  explicit Process(const MaildirOrg& org) {
    db = std::move(*Database::Open(org.database()));
    MaildirSettings settings{"local", org.mail_root(), {"example.com"}};
    (void)registry.Add(std::make_unique<MaildirConnector>(settings), settings.domains);
    repository = std::make_unique<IncidentRepository>(db.get(), "ACME", RandomId);
    RemediatorOptions options;
    options.clock = [] { return kNow; };
    // Small batches give the kills many more states to land in.
    options.batch_size = 8;
    remediator = std::make_unique<Remediator>(db.get(), &registry, repository.get(), options);
  }
  std::unique_ptr<Database> db;
  ConnectorRegistry registry;
  std::unique_ptr<IncidentRepository> repository;
  std::unique_ptr<Remediator> remediator;
};

// What a restarted server does: recover open moves, then finish the job.
// `control` lives in memory shared with the parent, which reads its progress.
[[noreturn]] void RunChild(const MaildirOrg& org, const std::string& incident_id,
                           JobControl* control) {
  Process process(org);
  Status recovered = process.remediator->Recover();
  Status removed = process.remediator->Remove(incident_id, {}, control);
  _exit(recovered.ok() && removed.ok() ? 0 : 3);
}

}  // namespace

TEST_CASE("remediation survives SIGKILL") {
  InitMimeParser();
  MaildirOrg org;
  std::string message =
      "From: attacker@evil.example\r\nTo: undisclosed-recipients:;\r\n"
      "Delivered-To: placeholder\r\nSubject: Reset your password\r\n"
      "Message-ID: <crash.campaign@evil.example>\r\n\r\nClick here.\r\n";
  for (int i = 0; i < kUsers; ++i) {
    std::string user = "user" + std::to_string(i);
    org.AddUser(user, "example.com");
    std::string copy = message;
    copy.replace(copy.find("placeholder"), 11, user + "@example.com");
    org.Deliver(user, "example.com", copy, i % 3 == 0 ? "S" : "");
  }

  std::string incident_id;
  {
    Process process(org);
    MessageIndex index(process.db.get());
    IndexStats stats = IndexConnector(*process.registry.All().front(), &index, kNow);
    REQUIRE(stats.added == kUsers);
    RemediationRequest request;
    request.identifier = "<crash.campaign@evil.example>";
    request.reason = "Credential phishing";
    request.start = kNow - kSecondsPerDay * 365;
    Result<Incident> incident = process.remediator->Identify(request);
    REQUIRE(incident.ok());
    REQUIRE(incident->counts.identified == kUsers);
    incident_id = incident->id;
  }

  // Kill the job at random points, restarting it each time. The parent
  // waits for the child's progress counter rather than a fixed time, so the
  // kills land mid-job however loaded the machine is.
  void* shared = mmap(nullptr, sizeof(JobControl), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  REQUIRE(shared != MAP_FAILED);
  std::mt19937 random(20261204);
  int killed = 0;
  int killed_mid_job = 0;
  uint32_t removed_before = 0;
  for (int round = 0; round < kKills; ++round) {
    JobControl* control = new (shared) JobControl();
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) RunChild(org, incident_id, control);
    // Up to 64 copies per round: 20 rounds leave most of the 2,000 for the
    // last, uninterrupted run.
    const int target = 1 + static_cast<int>(random() % 64);
    const testing::KillOutcome outcome =
        testing::KillAfterProgress(child, *control, target, static_cast<int>(random() % 3000));
    if (outcome.killed) ++killed;
    const int status = outcome.status;
    Process process(org);
    uint32_t removed = process.repository->Get(incident_id)->counts.removed;
    if (WIFSIGNALED(status) && removed > removed_before && removed < kUsers) ++killed_mid_job;
    removed_before = removed;
  }
  MESSAGE("killed the job " << killed << " times, " << killed_mid_job << " of them mid-job");
  // Most kills must land while copies are being moved, or recovery is not
  // what this test exercises.
  CHECK(killed_mid_job >= kKills / 4);
  {
    // The killed runs must have made progress, or recovery was never tested.
    Process process(org);
    Incident partial = *process.repository->Get(incident_id);
    MESSAGE("removed before the last run: " << partial.counts.removed);
    CHECK(partial.counts.removed > 0);
  }

  // The last run goes to the end.
  JobControl* control = new (shared) JobControl();
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) RunChild(org, incident_id, control);
  int status = 0;
  waitpid(child, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);

  // Every message exists exactly once, in the hold folder.
  int held = 0;
  for (int i = 0; i < kUsers; ++i) {
    std::string user = "user" + std::to_string(i);
    std::vector<std::string> files =
        org.FilesContaining(user, "example.com", "crash.campaign@evil.example");
    INFO("user " << user);
    REQUIRE(files.size() == 1);
    if (files[0].rfind(".Reclaim-Hold/", 0) == 0) ++held;
    bool seen = files[0].find(":2,S") != std::string::npos;
    CHECK(seen == (i % 3 == 0));
  }
  Process process(org);
  Incident incident = *process.repository->Get(incident_id);
  CHECK(held == kUsers);
  CHECK(incident.counts.identified == kUsers);
  CHECK(incident.counts.removed == static_cast<uint32_t>(held));
  CHECK(incident.counts.failed == 0);
  CHECK(process.repository->UnfinishedMoves()->empty());
}
