// IMAP removal killed with SIGKILL at random points against a real Dovecot:
// after each kill and recovery, every copy must exist exactly once, and the
// incident's removed count must equal the copies in the hold folder.
//
// Each mailbox contains identical copies of the campaign (in INBOX and
// Archive) and copies that differ by an X-Copy header, so recovery must
// tell copies of one batch apart by content and claim each only once.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <new>
#include <random>
#include <sstream>
#include <thread>

#include "sync-server/index/message_index.h"
#include "sync-server/mail/mime_parser.h"
#include "sync-server/mailbox/imap_connector.h"
#include "sync-server/remediation/remediator.h"
#include "tests/server/dovecot_harness.h"
#include "tests/server/kill_by_progress.h"

using namespace reclaim;

namespace {

constexpr UnixSeconds kNow = 1796399754;
constexpr int kUsers = 12;
constexpr int kKills = 16;
constexpr char kMessageId[] = "<crash.imap.campaign@evil.example>";
constexpr char kHold[] = "Reclaim-Hold";

// One delivered copy: its folder, its X-Copy value (0 for the identical
// copies) and whether it is \Seen.
struct Delivery {
  const char* folder;
  int variant;
  bool seen;
};
const std::vector<Delivery> kDeliveries = {
    {"INBOX", 0, false},  {"INBOX", 0, true}, {"INBOX", 0, false},
    {"Archive", 0, true}, {"INBOX", 1, true}, {"Archive", 2, false},
};

std::string User(int i) {
  return "crash" + std::to_string(i) + "@example.com";
}

std::string Campaign(const std::string& user, int variant) {
  std::string message = "From: attacker@evil.example\r\nTo: " + user +
                        "\r\nSubject: Your mailbox is full\r\n"
                        "Date: Mon, 30 Nov 2026 09:00:00 +0000\r\n"
                        "Message-ID: " +
                        std::string(kMessageId) + "\r\n";
  if (variant != 0)
    message += "X-Copy: " + std::to_string(variant) + "\r\n";
  return message + "\r\nOpen the portal to keep your mail.\r\n";
}

struct Process {
  Process(const std::string& db_path, const DovecotHarness& dovecot, int users = kUsers) {
    db = std::move(*Database::Open(db_path));
    ImapSettings settings;
    settings.name = "dovecot";
    settings.url = dovecot.url();
    settings.master_user = dovecot.master_user();
    settings.password = dovecot.master_password();
    settings.domains = {"example.com"};
    for (int i = 0; i < users; ++i)
      settings.mailboxes.push_back(User(i));
    settings.timeout_seconds = 10;
    Result<std::unique_ptr<ImapConnector>> connector = ImapConnector::Create(settings);
    if (connector.ok())
      (void)registry.Add(std::move(*connector), {"example.com"});
    repository = std::make_unique<IncidentRepository>(db.get(), "ACME", RandomId);
    RemediatorOptions options;
    options.clock = [] { return kNow; };
    // Small batches split mailboxes across batches and give the kills many
    // more states to land in.
    options.batch_size = 4;
    options.parallel_mailboxes = 2;
    remediator = std::make_unique<Remediator>(db.get(), &registry, repository.get(), options);
  }
  std::unique_ptr<Database> db;
  ConnectorRegistry registry;
  std::unique_ptr<IncidentRepository> repository;
  std::unique_ptr<Remediator> remediator;
};

// What a restarted server does: recover open moves, then finish the job.
// `control` lives in memory shared with the parent, which reads its progress.
[[noreturn]] void RunChild(const std::string& db_path, const DovecotHarness& dovecot,
                           const std::string& incident_id, JobControl* control) {
  Process process(db_path, dovecot);
  Status recovered = process.remediator->Recover();
  Status removed = process.remediator->Remove(incident_id, {}, control);
  _exit(recovered.ok() && removed.ok() ? 0 : 3);
}

// A campaign copy as doveadm reports it.
struct Copy {
  std::string user;
  std::string folder;
  std::string flags;
  std::string variant;  // the X-Copy header, empty for the identical copies
};

// Lists every copy of the campaign in the mailboxes of the first `users`
// users with doveadm, which reads the mail store without the connector
// under test.
std::vector<Copy> CampaignCopies(const DovecotHarness& dovecot, int users = kUsers) {
  std::vector<Copy> copies;
  for (int i = 0; i < users; ++i) {
    Result<std::string> out =
        dovecot.Doveadm({"-f", "tab", "fetch", "-u", User(i), "mailbox flags hdr.x-copy", "header",
                         "Message-ID", kMessageId});
    INFO("doveadm fetch: " << out.status().message());
    REQUIRE(out.ok());
    std::istringstream lines(*out);
    std::string line;
    std::getline(lines, line);  // the column names
    while (std::getline(lines, line)) {
      if (line.empty())
        continue;
      std::vector<std::string> fields;
      std::istringstream cells(line);
      for (std::string cell; std::getline(cells, cell, '\t');)
        fields.push_back(cell);
      fields.resize(3);
      copies.push_back({User(i), fields[0], fields[1], fields[2]});
    }
  }
  return copies;
}

// Checks that each delivered copy of every user exists exactly once, in any
// folder, with its flags, and returns how many are in the hold folder.
int CheckEachCopyOnce(const DovecotHarness& dovecot) {
  std::map<std::string, std::vector<Copy>> by_user;
  for (Copy& copy : CampaignCopies(dovecot))
    by_user[copy.user].push_back(std::move(copy));
  int in_hold = 0;
  for (int i = 0; i < kUsers; ++i) {
    INFO("user " << User(i));
    const std::vector<Copy>& copies = by_user[User(i)];
    REQUIRE(copies.size() == kDeliveries.size());
    std::map<std::string, int> variants;
    for (const Copy& copy : copies) {
      ++variants[copy.variant];
      if (copy.folder == kHold)
        ++in_hold;
    }
    CHECK(variants[""] == 4);
    CHECK(variants["1"] == 1);
    CHECK(variants["2"] == 1);
    for (const Copy& copy : copies) {
      const bool seen = copy.flags.find("\\Seen") != std::string::npos;
      if (copy.variant == "1")
        CHECK(seen);
      if (copy.variant == "2")
        CHECK_FALSE(seen);
    }
  }
  return in_hold;
}

}  // namespace

TEST_CASE("IMAP removal survives SIGKILL") {
  const std::string unavailable = DovecotHarness::UnavailableReason();
  if (!unavailable.empty()) {
    MESSAGE("skipped: " << unavailable);
    return;
  }
  InitMimeParser();
  Result<std::unique_ptr<DovecotHarness>> started = DovecotHarness::Start();
  REQUIRE(started.ok());
  DovecotHarness& dovecot = **started;
  const int total = kUsers * static_cast<int>(kDeliveries.size());
  // All users before the first login: Dovecot reads its passwd-file again
  // only when the file's modification time, in seconds, changes.
  for (int i = 0; i < kUsers; ++i)
    REQUIRE(dovecot.AddUser(User(i), "pw").ok());
  for (int i = 0; i < kUsers; ++i) {
    for (const Delivery& delivery : kDeliveries) {
      Result<uint32_t> appended =
          dovecot.Append(User(i), delivery.folder, Campaign(User(i), delivery.variant),
                         delivery.seen ? "\\Seen" : "");
      INFO("append: " << appended.status().message());
      REQUIRE(appended.ok());
    }
    const std::string other = "From: friend@example.org\r\nTo: " + User(i) +
                              "\r\nSubject: Lunch\r\nMessage-ID: <lunch." + std::to_string(i) +
                              "@example.org>\r\n\r\nNoon?\r\n";
    REQUIRE(dovecot.Append(User(i), "INBOX", other).ok());
  }
  REQUIRE(dovecot.Doveadm({"mailbox", "create", "-u", User(0), kHold}).ok());

  char pattern[] = "/tmp/reclaim-imap-crash-XXXXXX";
  REQUIRE(mkdtemp(pattern) != nullptr);
  const std::string dir = pattern;
  const std::string db_path = dir + "/reclaim.db";
  std::string incident_id;
  {
    Process process(db_path, dovecot);
    MessageIndex index(process.db.get());
    IndexStats stats = IndexConnector(*process.registry.All().front(), &index, kNow);
    INFO("index errors: " << (stats.errors.empty() ? "" : stats.errors.front()));
    REQUIRE(stats.errors.empty());
    RemediationRequest request;
    request.identifier = kMessageId;
    request.reason = "Credential phishing";
    request.start = kNow - kSecondsPerDay * 365;
    Result<Incident> incident = process.remediator->Identify(request);
    REQUIRE(incident.ok());
    REQUIRE(incident->counts.identified == static_cast<uint32_t>(total));
    incident_id = incident->id;
  }

  // Kill the job at random points. The parent waits for the child's
  // progress counter to pass a few copies and then a random moment more.
  // So each kill lands inside one of the next batch's steps however fast or
  // loaded the machine is, and the 16 rounds spread over the whole job.
  // After each kill, recover as a restarted server would and compare the
  // incident with the mailboxes.
  void* shared = mmap(nullptr, sizeof(JobControl), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  REQUIRE(shared != MAP_FAILED);
  std::mt19937 random(20261204);
  int killed_mid_job = 0;
  uint32_t removed_before = 0;
  for (int round = 0; round < kKills; ++round) {
    JobControl* control = new (shared) JobControl();
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0)
      RunChild(db_path, dovecot, incident_id, control);
    const int target = 1 + static_cast<int>(random() % 4);
    const int status =
        testing::KillAfterProgress(child, *control, target, static_cast<int>(random() % 8000))
            .status;

    Process process(db_path, dovecot);
    REQUIRE(process.remediator->Recover().ok());
    CHECK(process.repository->UnfinishedMoves()->empty());
    const int in_hold = CheckEachCopyOnce(dovecot);
    const Incident incident = *process.repository->Get(incident_id);
    INFO("round " << round);
    CHECK(incident.counts.removed == static_cast<uint32_t>(in_hold));
    CHECK(incident.counts.failed == 0);
    if (WIFSIGNALED(status) && incident.counts.removed > removed_before &&
        incident.counts.removed < static_cast<uint32_t>(total)) {
      ++killed_mid_job;
    }
    removed_before = incident.counts.removed;
  }
  MESSAGE("killed the IMAP job " << kKills << " times, " << killed_mid_job << " of them mid-job");
  // Recovery is only exercised when kills land while copies move.
  CHECK(killed_mid_job >= kKills / 4);

  // The last run goes to the end.
  JobControl* control = new (shared) JobControl();
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0)
    RunChild(db_path, dovecot, incident_id, control);
  int status = 0;
  waitpid(child, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  munmap(shared, sizeof(JobControl));

  const int in_hold = CheckEachCopyOnce(dovecot);
  CHECK(in_hold == total);
  Process process(db_path, dovecot);
  const Incident incident = *process.repository->Get(incident_id);
  CHECK(incident.counts.identified == static_cast<uint32_t>(total));
  CHECK(incident.counts.removed == static_cast<uint32_t>(total));
  CHECK(incident.counts.failed == 0);
  CHECK(process.repository->UnfinishedMoves()->empty());
  std::filesystem::remove_all(dir);
}

// The state a kill leaves between the UID MOVE of one source folder and
// that of the next: both identical copies carry the batch's keyword, but
// only the INBOX copy was moved. Recovery must give the moved copy to the
// INBOX entry and run the Archive entry again, not the other way round.
TEST_CASE("IMAP recovery after a partly moved batch") {
  const std::string unavailable = DovecotHarness::UnavailableReason();
  if (!unavailable.empty()) {
    MESSAGE("skipped: " << unavailable);
    return;
  }
  InitMimeParser();
  Result<std::unique_ptr<DovecotHarness>> started = DovecotHarness::Start();
  REQUIRE(started.ok());
  DovecotHarness& dovecot = **started;
  const std::string user = User(0);
  REQUIRE(dovecot.AddUser(user, "pw").ok());
  REQUIRE(dovecot.Append(user, "INBOX", Campaign(user, 0)).ok());
  REQUIRE(dovecot.Append(user, "Archive", Campaign(user, 0), "\\Seen").ok());

  char pattern[] = "/tmp/reclaim-imap-crash-XXXXXX";
  REQUIRE(mkdtemp(pattern) != nullptr);
  const std::string dir = pattern;
  Process process(dir + "/reclaim.db", dovecot, 1);
  MessageIndex index(process.db.get());
  IndexStats stats = IndexConnector(*process.registry.All().front(), &index, kNow);
  REQUIRE(stats.errors.empty());
  RemediationRequest request;
  request.identifier = kMessageId;
  request.reason = "Credential phishing";
  request.start = kNow - kSecondsPerDay * 365;
  Result<Incident> incident = process.remediator->Identify(request);
  REQUIRE(incident.ok());
  REQUIRE(incident->counts.identified == 2);

  // Journal both moves as one batch, as Remediator::Remove() does.
  const std::string group = "PartlyMovedBatch";
  REQUIRE(group.size() == kMoveTagGroupLength);
  Result<std::vector<StoredRow>> rows = process.repository->Rows(incident->id);
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 2);
  StoredLocation inbox_copy;
  std::string inbox_tag;
  for (size_t i = 0; i < rows->size(); ++i) {
    const StoredRow& row = (*rows)[i];
    const std::string tag = group + std::to_string(i);
    REQUIRE(process.repository
                ->BeginMove(row.row_id, JournalAction::kRemove, row.location, kHold, tag, kNow)
                .ok());
    if (row.location.folder == "INBOX") {
      inbox_copy = row.location;
      inbox_tag = tag;
    }
  }
  REQUIRE(!inbox_tag.empty());

  // The batch's keyword reached both copies, but only INBOX was moved.
  REQUIRE(
      dovecot.Doveadm({"flags", "add", "-u", user, "$Reclaim" + group, "mailbox", "Archive", "ALL"})
          .ok());
  {
    Result<std::unique_ptr<MailboxSession>> session = process.registry.All().front()->Open(user);
    REQUIRE(session.ok());
    std::vector<Result<StoredLocation>> moved =
        (*session)->MoveBatch({{inbox_copy, inbox_tag}}, kHold);
    REQUIRE(moved.size() == 1);
    REQUIRE(moved[0].ok());
  }

  REQUIRE(process.remediator->Recover().ok());
  CHECK(process.repository->UnfinishedMoves()->empty());
  rows = process.repository->Rows(incident->id);
  REQUIRE(rows.ok());
  for (const StoredRow& row : *rows) {
    INFO("row of the copy in " << row.view.folder);
    if (row.view.folder == "INBOX") {
      CHECK(row.view.status == MessageStatus::kRemoved);
      CHECK(row.location.folder == kHold);
    } else {
      CHECK(row.view.status == MessageStatus::kIdentified);
      CHECK(row.location.folder == "Archive");
    }
  }
  Result<Incident> settled = process.repository->Get(incident->id);
  REQUIRE(settled.ok());
  CHECK(settled->counts.removed == 1);
  CHECK(settled->counts.failed == 0);
  std::map<std::string, int> folders;
  for (const Copy& copy : CampaignCopies(dovecot, 1))
    ++folders[copy.folder];
  CHECK(folders[kHold] == 1);
  CHECK(folders["Archive"] == 1);
  CHECK(folders.size() == 2);
  std::filesystem::remove_all(dir);
}
