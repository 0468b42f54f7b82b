// Benchmark of IMAP removal against `doveadm move` on one Dovecot.
//
// Starts a private Dovecot on 127.0.0.1 (tests/server/dovecot_harness.h) and
// creates three sets of users with the same mail: `k<i>@example.com` and
// `n<i>@example.com` for Reclaim and `d<i>@example.com` for doveadm. Each
// user gets `copies` copies of one campaign message (every fourth one in
// Archive, the rest in INBOX) and `unrelated` other messages, and every
// user has an empty Reclaim-Hold folder, as after an earlier incident. Both
// Reclaim sets are indexed, each into its own database, before the clock
// starts. Then, in the same run, it times:
//
//   kept     Identify + Remove by Message-ID through the IMAP connector that
//            indexed the set, which still keeps the logged-in connections
//            of the index pass (ImapSettings::idle_seconds), as when a
//            remediation follows an index pass.
//   new      the same on the second set through a new connector, which logs
//            in to every mailbox (one master login per mailbox).
//   doveadm  one `doveadm -c <conf> move -F <user list> Reclaim-Hold NOT
//            mailbox Reclaim-Hold header Message-ID <id>`: one process that
//            visits every user of the list, as an administrator would move
//            one message out of all mailboxes.
//
// Before printing, `doveadm search` must find every copy of all three sets
// in Reclaim-Hold and none elsewhere; otherwise the run fails.
//
// Dovecot runs with the harness's configuration, in which every IMAP login
// starts a new imap-login and a new imap process (Dovecot's default
// service_count = 1). With `reuse` as the fifth argument, the bench first
// switches Dovecot to reusing both kinds of process (service_count = 0 and
// a few processes started in advance, Dovecot's "high-performance" login
// mode), as large installations configure it. doveadm does not log in, so
// this changes only the Reclaim side.
//
// Needs root and the dovecot-imapd package. Exit status: 0 done, 1 a step
// failed, 2 invalid arguments or Dovecot unavailable.
//
// Usage: reclaim_imap_bench [users] [copies] [unrelated] [parallel] [fresh|reuse]
// Defaults: 100 users per set, 10 copies and 3 unrelated messages per user,
// the engine's default for RemediatorOptions::parallel_mailboxes, and fresh
// processes for each login.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "sync-server/index/message_index.h"
#include "sync-server/mail/mime_parser.h"
#include "sync-server/mailbox/imap_client.h"
#include "sync-server/mailbox/imap_connector.h"
#include "sync-server/remediation/remediator.h"
#include "tests/server/dovecot_harness.h"

namespace {

using namespace reclaim;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr char kCampaignId[] = "<invoice-7731.campaign@billing-notice.example>";
constexpr char kPassword[] = "bench-password";

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A phishing message of about 2 KB as one recipient receives it.
std::string CampaignMessage(const std::string& recipient) {
  std::string body;
  for (int line = 0; line < 20; ++line) {
    body +=
        "<p>Your invoice 7731 is overdue. Open the secure portal to avoid a late fee of "
        "EUR 49.00.</p>\r\n";
  }
  return "Return-Path: <billing@billing-notice.example>\r\n"
         "Delivered-To: " +
         recipient +
         "\r\n"
         "From: \"Accounts\" <billing@billing-notice.example>\r\n"
         "To: " +
         recipient +
         "\r\n"
         "Subject: Overdue invoice 7731\r\n"
         "Date: Fri, 04 Dec 2026 08:15:00 +0000\r\n"
         "Message-ID: " +
         kCampaignId +
         "\r\n"
         "MIME-Version: 1.0\r\n"
         "Content-Type: text/html; charset=utf-8\r\n"
         "\r\n" +
         body;
}

std::string UnrelatedMessage(const std::string& recipient, int user, int n) {
  const std::string id = std::to_string(user) + "." + std::to_string(n);
  return "From: colleague@example.com\r\nTo: " + recipient + "\r\nSubject: Notes " + id +
         "\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\nMessage-ID: <notes." + id +
         "@example.com>\r\n\r\nMeeting notes " + id + ".\r\n";
}

// Fills one mailbox over IMAP APPEND through one master login.
Status FillMailbox(const DovecotHarness& dovecot, const std::string& address, int user, int copies,
                   int unrelated) {
  ImapLogin login;
  login.url = dovecot.url() + "/";
  login.username = address + "*" + dovecot.master_user();
  login.password = dovecot.master_password();
  login.timeout_seconds = 30;
  login.max_response_bytes = 1 << 20;
  ImapClient client(login);
  const auto run = [&](ImapCommand command) -> Status {
    Result<ImapReply> reply = client.Execute(command);
    if (!reply.ok()) {
      return reply.status();
    }
    if (!reply->ok()) {
      return Status::Internal("'" + command.Describe() + "' for " + address +
                              " failed: " + reply->text);
    }
    return Status::Ok();
  };
  for (const char* folder : {"Archive", "Reclaim-Hold"}) {
    if (Status s = run(ImapCommand(std::string("CREATE ") + folder)); !s.ok()) {
      return s;
    }
  }
  const std::string campaign = CampaignMessage(address);
  for (int copy = 0; copy < copies; ++copy) {
    const std::string folder = copy % 4 == 3 ? "Archive" : "INBOX";
    const std::string flags = copy % 2 == 0 ? "(\\Seen) " : "() ";
    if (Status s = run(ImapCommand("APPEND " + folder + " " + flags).AppendLiteral(campaign));
        !s.ok()) {
      return s;
    }
  }
  for (int n = 0; n < unrelated; ++n) {
    const ImapCommand append =
        ImapCommand("APPEND INBOX () ").AppendLiteral(UnrelatedMessage(address, user, n));
    if (Status s = run(append); !s.ok()) {
      return s;
    }
  }
  return Status::Ok();
}

// Counts the campaign copies of the users in `user_file` whose folder is
// (`in_hold`) or is not Reclaim-Hold, with `doveadm search`, which prints
// one line per message.
Result<int> CountCopies(const DovecotHarness& dovecot, const std::string& user_file, bool in_hold) {
  std::vector<std::string> args = {"search", "-F", user_file};
  if (!in_hold) {
    args.push_back("NOT");
  }
  for (const char* word : {"mailbox", "Reclaim-Hold", "header", "Message-ID", kCampaignId}) {
    args.push_back(word);
  }
  Result<std::string> out = dovecot.Doveadm(args);
  if (!out.ok()) {
    return out.status();
  }
  int lines = 0;
  for (char c : *out) {
    lines += c == '\n' ? 1 : 0;
  }
  return lines;
}

// Checks that all `expected` copies of a set are in Reclaim-Hold and no
// other copy is left.
Status CheckAllHeld(const DovecotHarness& dovecot, const std::string& user_file, int expected,
                    const std::string& label) {
  Result<int> in_hold = CountCopies(dovecot, user_file, /*in_hold=*/true);
  Result<int> elsewhere = CountCopies(dovecot, user_file, /*in_hold=*/false);
  if (!in_hold.ok()) {
    return in_hold.status();
  }
  if (!elsewhere.ok()) {
    return elsewhere.status();
  }
  if (*in_hold != expected || *elsewhere != 0) {
    return Status::Internal(label + ": doveadm search finds " + std::to_string(*in_hold) +
                            " copies in Reclaim-Hold (expected " + std::to_string(expected) +
                            ") and " + std::to_string(*elsewhere) + " elsewhere (expected 0)");
  }
  return Status::Ok();
}

// Makes Dovecot reuse imap-login and imap processes across connections.
// Dovecot merges a service section that appears twice, so the settings are
// appended to the harness's configuration and loaded with `doveadm reload`.
Status ReuseLoginProcesses(const DovecotHarness& dovecot) {
  {
    std::ofstream config(dovecot.config_path(), std::ios::app);
    config << "service imap-login {\n  service_count = 0\n  process_min_avail = 2\n}\n"
           << "service imap {\n  service_count = 0\n  process_min_avail = 4\n}\n";
    config.close();
    if (!config) {
      return Status::Internal("cannot append to " + dovecot.config_path());
    }
  }
  Result<std::string> reloaded = dovecot.Doveadm({"reload"});
  if (!reloaded.ok()) {
    return reloaded.status();
  }
  // The master starts the new processes after the reload returns.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  return Status::Ok();
}

Status WriteUserFile(const std::string& path, const std::vector<std::string>& users) {
  std::ofstream file(path);
  for (const std::string& user : users) {
    file << user << "\n";
  }
  file.close();
  return file ? Status::Ok() : Status::Internal("cannot write user list " + path);
}

// Runs Identify + Remove for the campaign on the Reclaim set and returns the
// seconds it took.
Result<double> TimeReclaim(Database* db, ConnectorRegistry* registry, int expected,
                           size_t parallel) {
  IncidentRepository repository(db, "BENCH", RandomId);
  RemediatorOptions options;
  options.parallel_mailboxes = parallel;
  options.clock = [] { return static_cast<UnixSeconds>(std::time(nullptr)); };
  Remediator remediator(db, registry, &repository, options);
  RemediationRequest request;
  request.identifier = kCampaignId;
  request.reason = "Benchmark: overdue invoice phishing";

  const Clock::time_point start = Clock::now();
  Result<Incident> incident = remediator.Identify(request);
  if (!incident.ok()) {
    return incident.status();
  }
  JobControl control;
  Status removed = remediator.Remove(incident->id, {}, &control);
  const double seconds = Seconds(start);
  if (!removed.ok()) {
    return removed;
  }
  Result<Incident> done = repository.Get(incident->id);
  if (!done.ok()) {
    return done.status();
  }
  if (static_cast<int>(done->counts.removed) != expected || done->counts.failed != 0) {
    return Status::Internal("Reclaim removed " + std::to_string(done->counts.removed) +
                            " copies and failed " + std::to_string(done->counts.failed) +
                            "; expected " + std::to_string(expected) + " removed");
  }
  return seconds;
}

ImapSettings SettingsFor(const DovecotHarness& dovecot, const std::vector<std::string>& users) {
  ImapSettings settings;
  settings.name = "dovecot";
  settings.url = dovecot.url();
  settings.master_user = dovecot.master_user();
  settings.password = dovecot.master_password();
  settings.domains = {"example.com"};
  settings.mailboxes = users;
  return settings;
}

// One set of Reclaim users: its database and the connector that indexed it.
struct ReclaimSet {
  static Result<std::unique_ptr<ReclaimSet>> Index(const DovecotHarness& dovecot,
                                                   const std::string& db_path,
                                                   const std::vector<std::string>& users) {
    auto set = std::make_unique<ReclaimSet>();
    set->users = users;
    Result<std::unique_ptr<Database>> db = Database::Open(db_path);
    if (!db.ok()) {
      return db.status();
    }
    set->db = std::move(db).value();
    if (Status s = set->ReplaceConnector(dovecot); !s.ok()) {
      return s;
    }
    MessageIndex index(set->db.get());
    IndexStats stats = IndexConnector(*set->registry.All().front(), &index,
                                      static_cast<UnixSeconds>(std::time(nullptr)));
    if (!stats.errors.empty()) {
      return Status::Internal(stats.errors.front());
    }
    set->added = stats.added;
    return set;
  }

  // Puts a new connector, with no connection kept, in the registry.
  Status ReplaceConnector(const DovecotHarness& dovecot) {
    Result<std::unique_ptr<ImapConnector>> connector =
        ImapConnector::Create(SettingsFor(dovecot, users));
    if (!connector.ok()) {
      return connector.status();
    }
    registry = ConnectorRegistry();
    return registry.Add(std::move(*connector), {"example.com"});
  }

  std::vector<std::string> users;
  std::unique_ptr<Database> db;
  ConnectorRegistry registry;
  int added = 0;
};

int Fail(const Status& status, const std::string& step) {
  std::fprintf(stderr, "%s failed: %s\n", step.c_str(), status.message().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const int users = argc > 1 ? std::atoi(argv[1]) : 100;
  const int copies = argc > 2 ? std::atoi(argv[2]) : 10;
  const int unrelated = argc > 3 ? std::atoi(argv[3]) : 3;
  const int parallel =
      argc > 4 ? std::atoi(argv[4]) : static_cast<int>(RemediatorOptions().parallel_mailboxes);
  const std::string logins = argc > 5 ? argv[5] : "fresh";
  if (users <= 0 || copies <= 0 || unrelated < 0 || parallel <= 0 ||
      (logins != "fresh" && logins != "reuse")) {
    std::fprintf(stderr,
                 "usage: %s [users > 0] [copies > 0] [unrelated >= 0] [parallel mailboxes > 0] "
                 "[fresh|reuse]\n",
                 argv[0]);
    return 2;
  }
  const std::string unavailable = DovecotHarness::UnavailableReason();
  if (!unavailable.empty()) {
    std::fprintf(stderr, "cannot run: %s\n", unavailable.c_str());
    return 2;
  }
  InitMimeParser();
  Result<std::unique_ptr<DovecotHarness>> started = DovecotHarness::Start();
  if (!started.ok()) {
    std::fprintf(stderr, "cannot start Dovecot: %s\n", started.status().message().c_str());
    return 2;
  }
  DovecotHarness& dovecot = **started;
  if (logins == "reuse") {
    if (Status s = ReuseLoginProcesses(dovecot); !s.ok()) {
      return Fail(s, "switching Dovecot to reused login processes");
    }
  }
  char pattern[] = "/tmp/reclaim-imap-bench-XXXXXX";
  if (mkdtemp(pattern) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const fs::path work = pattern;
  struct RemoveOnExit {
    fs::path path;
    ~RemoveOnExit() {
      std::error_code ignored;
      fs::remove_all(path, ignored);
    }
  } cleanup{work};

  // Set-up: every set gets the same mail.
  std::vector<std::string> kept_users;
  std::vector<std::string> new_users;
  std::vector<std::string> doveadm_users;
  for (int i = 0; i < users; ++i) {
    kept_users.push_back("k" + std::to_string(i) + "@example.com");
    new_users.push_back("n" + std::to_string(i) + "@example.com");
    doveadm_users.push_back("d" + std::to_string(i) + "@example.com");
  }
  const std::vector<const std::vector<std::string>*> sets = {&kept_users, &new_users,
                                                             &doveadm_users};
  const Clock::time_point setup_start = Clock::now();
  // Every user is added before the first login, because Dovecot reads the
  // passwd-file again only when its modification time (in seconds) changes.
  for (const std::vector<std::string>* set : sets) {
    for (const std::string& address : *set) {
      if (Status s = dovecot.AddUser(address, kPassword); !s.ok()) {
        return Fail(s, "adding user " + address);
      }
    }
  }
  for (const std::vector<std::string>* set : sets) {
    for (int i = 0; i < users; ++i) {
      const std::string& address = (*set)[i];
      if (Status s = FillMailbox(dovecot, address, i, copies, unrelated); !s.ok()) {
        return Fail(s, "filling mailbox " + address);
      }
    }
  }
  const std::string kept_file = (work / "kept-users").string();
  const std::string new_file = (work / "new-users").string();
  const std::string doveadm_file = (work / "doveadm-users").string();
  for (const auto& [path, set] : {std::make_pair(kept_file, &kept_users),
                                  std::make_pair(new_file, &new_users),
                                  std::make_pair(doveadm_file, &doveadm_users)}) {
    if (Status s = WriteUserFile(path, *set); !s.ok()) {
      return Fail(s, "writing the user list");
    }
  }
  const int per_set = users * copies;
  std::printf("set-up        3 x %d users, %d campaign copies + %d other messages each: %.1f s\n",
              users, copies, unrelated, Seconds(setup_start));

  // Index both Reclaim sets, untimed: the index exists before an incident.
  std::unique_ptr<ReclaimSet> kept_set;
  std::unique_ptr<ReclaimSet> new_set;
  for (auto [target, set_users, name] :
       {std::make_tuple(&kept_set, &kept_users, "kept"), std::make_tuple(&new_set, &new_users, "new")}) {
    const Clock::time_point index_start = Clock::now();
    Result<std::unique_ptr<ReclaimSet>> indexed =
        ReclaimSet::Index(dovecot, (work / (std::string(name) + ".db")).string(), *set_users);
    if (!indexed.ok()) {
      return Fail(indexed.status(), std::string("indexing the ") + name + " set");
    }
    *target = std::move(indexed).value();
    std::printf("index         %d messages of the %s set in %.1f s\n", (*target)->added, name,
                Seconds(index_start));
  }
  // The second set's connector is replaced, so that its removal logs in to
  // every mailbox.
  if (Status s = new_set->ReplaceConnector(dovecot); !s.ok()) {
    return Fail(s, "replacing the connector of the new set");
  }

  Result<double> kept_seconds = TimeReclaim(kept_set->db.get(), &kept_set->registry, per_set,
                                            static_cast<size_t>(parallel));
  if (!kept_seconds.ok()) {
    return Fail(kept_seconds.status(), "Reclaim removal on kept connections");
  }
  Result<double> new_seconds = TimeReclaim(new_set->db.get(), &new_set->registry, per_set,
                                           static_cast<size_t>(parallel));
  if (!new_seconds.ok()) {
    return Fail(new_seconds.status(), "Reclaim removal with new logins");
  }

  // doveadm move: the same moves on the doveadm set.
  const Clock::time_point doveadm_start = Clock::now();
  Result<std::string> moved =
      dovecot.Doveadm({"move", "-F", doveadm_file, "Reclaim-Hold", "NOT", "mailbox", "Reclaim-Hold",
                       "header", "Message-ID", kCampaignId});
  const double doveadm_seconds = Seconds(doveadm_start);
  if (!moved.ok()) {
    return Fail(moved.status(), "doveadm move");
  }

  for (const auto& [path, label] : {std::make_pair(kept_file, "kept set"),
                                    std::make_pair(new_file, "new set"),
                                    std::make_pair(doveadm_file, "doveadm set")}) {
    if (Status s = CheckAllHeld(dovecot, path, per_set, label); !s.ok()) {
      return Fail(s, std::string("checking the ") + label);
    }
  }

  std::printf("Dovecot       %s login processes; Reclaim works on %d mailboxes at once\n",
              logins.c_str(), parallel);
  std::printf("Reclaim kept  %d copies in %d mailboxes, connections kept from the index pass: "
              "%.3f s, %.0f copies/s\n",
              per_set, users, *kept_seconds, per_set / *kept_seconds);
  std::printf("Reclaim new   %d copies in %d mailboxes, a new login per mailbox: %.3f s, "
              "%.0f copies/s\n",
              per_set, users, *new_seconds, per_set / *new_seconds);
  std::printf("doveadm move  %d copies in %d mailboxes: %.3f s, %.0f copies/s\n", per_set, users,
              doveadm_seconds, per_set / doveadm_seconds);
  std::printf("ratio kept/doveadm %.2f, new/doveadm %.2f (target <= 1.5)\n",
              *kept_seconds / doveadm_seconds, *new_seconds / doveadm_seconds);
  return 0;
}
