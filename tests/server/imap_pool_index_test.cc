// Kept IMAP connections and the incremental IMAP index under faults, against
// a real Dovecot on 127.0.0.1 started by DovecotHarness. The faults are
// server processes that stop replying, a per-user connection limit, mail
// written into the Maildir by another program, folders replaced between
// passes and messages the server cannot read. Mailbox contents are checked
// with doveadm, independently of the connector. The tests skip when Dovecot
// cannot run here.
#include <doctest/doctest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sync-server/index/message_index.h"
#include "sync-server/mail/mime_parser.h"
#include "sync-server/mailbox/imap_connector.h"
#include "tests/server/dovecot_harness.h"
#include "tests/server/imap_test_support.h"

namespace reclaim {
namespace {

namespace fs = std::filesystem;

constexpr char kAlice[] = "alice@example.test";
constexpr char kHold[] = "Reclaim-Hold";
constexpr char kMailUser[] = "reclaim-mail";
constexpr UnixSeconds kNow = 1796399754;

std::string Message(const std::string& message_id, const std::string& subject) {
  return "From: sender@outside.test\r\nTo: alice@example.test\r\nSubject: " + subject +
         "\r\nMessage-ID: " + message_id + "\r\n\r\nbody of " + subject + "\r\n";
}

// Returns a started Dovecot with user alice, or nullptr after a MESSAGE
// when Dovecot cannot run on this machine.
std::unique_ptr<DovecotHarness> StartDovecot() {
  return testing::StartDovecotWithUser(kAlice, "alice-password");
}

ImapSettings SettingsFor(const DovecotHarness& dovecot) {
  ImapSettings settings = testing::ImapSettingsFor(dovecot, {kAlice}, 2);
  settings.idle_seconds = 600;
  return settings;
}

std::unique_ptr<ImapConnector> MakeConnector(const ImapSettings& settings) {
  Result<std::unique_ptr<ImapConnector>> connector = ImapConnector::Create(settings);
  INFO(connector.status().message());
  REQUIRE(connector.ok());
  return std::move(connector).value();
}

std::unique_ptr<MailboxSession> Open(ImapConnector& connector, const std::string& address) {
  Result<std::unique_ptr<MailboxSession>> session = connector.Open(address);
  INFO(session.status().message());
  REQUIRE(session.ok());
  return std::move(session).value();
}

// "mailbox uid" of each copy of `message_id` in `user`'s mailbox, from
// doveadm.
std::vector<std::string> Copies(const DovecotHarness& dovecot, const std::string& user,
                                const std::string& message_id) {
  Result<std::string> out = dovecot.Doveadm(
      {"-f", "flow", "fetch", "-u", user, "mailbox uid", "header", "Message-ID", message_id});
  INFO("doveadm: " << out.status().message());
  REQUIRE(out.ok());
  std::vector<std::string> copies;
  std::istringstream lines(*out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty())
      copies.push_back(line);
  }
  return copies;
}

// The Maildir folder of `user`'s INBOX under the harness's mail location
// (maildir:<root>/mail/%u).
std::string InboxMaildir(const DovecotHarness& dovecot, const std::string& user) {
  return fs::path(dovecot.config_path()).parent_path().string() + "/mail/" + user;
}

// Writes `message` into `maildir`/new as a mail delivery agent that
// bypasses Dovecot would, owned by the mail user.
std::string DeliverToMaildir(const std::string& maildir, const std::string& name,
                             const std::string& message) {
  const std::string path = maildir + "/new/" + name;
  {
    std::ofstream out(path, std::ios::binary);
    out << message;
  }
  const passwd* mail_user = getpwnam(kMailUser);
  REQUIRE(mail_user != nullptr);
  REQUIRE(chown(path.c_str(), mail_user->pw_uid, mail_user->pw_gid) == 0);
  return path;
}

// A message index in a SQLite file of its own.
struct IndexFixture {
  IndexFixture() {
    InitMimeParser();
    char pattern[] = "/tmp/reclaim-pool-index-XXXXXX";
    dir = mkdtemp(pattern);
    Result<std::unique_ptr<Database>> opened = Database::Open(dir + "/reclaim.db");
    REQUIRE(opened.ok());
    db = std::move(opened).value();
  }
  ~IndexFixture() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }

  IndexStats Pass(Connector& connector) {
    MessageIndex index(db.get());
    IndexStats stats;
    Status indexed = IndexMailbox(connector, kAlice, &index, kNow, &stats);
    INFO(indexed.message());
    REQUIRE(indexed.ok());
    return stats;
  }

  // The folders of the present indexed copies of `message_id`.
  std::vector<std::string> IndexedFolders(const std::string& message_id) {
    Result<Statement> st =
        db->Prepare("SELECT folder FROM messages WHERE present=1 AND message_id=? ORDER BY folder");
    REQUIRE(st.ok());
    st->Bind(1, message_id);
    std::vector<std::string> folders;
    while (st->Step())
      folders.push_back(st->Text(0));
    REQUIRE(st->status().ok());
    return folders;
  }

  std::string dir;
  std::unique_ptr<Database> db;
};

TEST_CASE("IMAP batch move of a copy already tagged") {
  // The copy carries the group keyword of the batch before the move, as it
  // does when the connection dropped after the UID STORE of the keyword and
  // the session runs the step again.
  std::unique_ptr<DovecotHarness> dovecot = StartDovecot();
  if (!dovecot)
    return;
  const std::string group = "AbcdefghIjklmnop";
  REQUIRE(group.size() == kMoveTagGroupLength);
  Result<uint32_t> tagged =
      dovecot->Append(kAlice, "INBOX", Message("<tagged@x.test>", "tagged"), "$Reclaim" + group);
  REQUIRE(tagged.ok());
  REQUIRE(dovecot->Append(kAlice, "INBOX", Message("<plain@x.test>", "plain")).ok());
  std::unique_ptr<ImapConnector> connector = MakeConnector(SettingsFor(*dovecot));
  std::unique_ptr<MailboxSession> session = Open(*connector, kAlice);
  Result<std::vector<StoredLocation>> listed = session->ListMessages("INBOX");
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 2);

  std::vector<TaggedLocation> moves;
  for (size_t i = 0; i < listed->size(); ++i) {
    moves.push_back(TaggedLocation{(*listed)[i], group + std::to_string(i)});
  }
  std::vector<Result<StoredLocation>> moved = session->MoveBatch(moves, kHold);
  REQUIRE(moved.size() == 2);
  for (size_t i = 0; i < moved.size(); ++i) {
    INFO("copy " << i << ": " << moved[i].status().message());
    REQUIRE(moved[i].ok());
    CHECK(moved[i]->folder == kHold);
  }
  const std::vector<std::string> tagged_copies = Copies(*dovecot, kAlice, "<tagged@x.test>");
  REQUIRE(tagged_copies.size() == 1);
  CHECK(tagged_copies[0].find(std::string("mailbox=") + kHold) != std::string::npos);
  const std::vector<std::string> plain_copies = Copies(*dovecot, kAlice, "<plain@x.test>");
  REQUIRE(plain_copies.size() == 1);
  CHECK(plain_copies[0].find(std::string("mailbox=") + kHold) != std::string::npos);
}

TEST_CASE("IMAP login over the connection limit") {
  std::unique_ptr<DovecotHarness> dovecot = StartDovecot();
  if (!dovecot)
    return;
  {
    std::ofstream conf(dovecot->config_path(), std::ios::app);
    conf << "protocol imap {\n  mail_max_userip_connections = 1\n}\n";
  }
  Result<std::string> reloaded = dovecot->Doveadm({"reload"});
  INFO(reloaded.status().message());
  REQUIRE(reloaded.ok());
  std::unique_ptr<ImapConnector> connector = MakeConnector(SettingsFor(*dovecot));
  // The first session uses the one connection Dovecot allows. The reload
  // takes effect for logins shortly after doveadm returns.
  // The second connector keeps no connection, so each attempt logs in.
  std::unique_ptr<MailboxSession> first = Open(*connector, kAlice);
  REQUIRE(first->ListFolders().ok());
  ImapSettings keep_none = SettingsFor(*dovecot);
  keep_none.idle_seconds = 0;
  std::unique_ptr<ImapConnector> other = MakeConnector(keep_none);
  Result<std::unique_ptr<MailboxSession>> second = other->Open(kAlice);
  for (int attempt = 0; attempt < 50 && second.ok(); ++attempt) {
    second->reset();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    second = other->Open(kAlice);
  }
  REQUIRE_FALSE(second.ok());
  const std::string message = second.status().message();
  INFO(message);
  CHECK(second.status().code() == StatusCode::kUnavailable);
  CHECK(message.find("mail_max_userip_connections") != std::string::npos);
  CHECK(message.find("password") == std::string::npos);

  // A wrong master password still gets the advice to check it.
  ImapSettings wrong = SettingsFor(*dovecot);
  wrong.password = "wrong-password";
  Result<std::unique_ptr<MailboxSession>> rejected = MakeConnector(wrong)->Open(kAlice);
  REQUIRE_FALSE(rejected.ok());
  INFO(rejected.status().message());
  CHECK(rejected.status().code() == StatusCode::kUnavailable);
  CHECK(rejected.status().message().find("password") != std::string::npos);

  // Once the first session ends, its kept connection serves the next one.
  first.reset();
  std::unique_ptr<MailboxSession> third = Open(*connector, kAlice);
  CHECK(third->ListFolders().ok());
}

TEST_CASE("IMAP kept connection to a stopped server process") {
  // The process behind the kept connection neither replies nor closes, as
  // when its host froze. The session gives up on it after timeout_seconds
  // and logs in again.
  std::unique_ptr<DovecotHarness> dovecot = StartDovecot();
  if (!dovecot)
    return;
  REQUIRE(dovecot->Append(kAlice, "INBOX", Message("<stopped@x.test>", "stopped")).ok());
  std::unique_ptr<ImapConnector> connector = MakeConnector(SettingsFor(*dovecot));
  REQUIRE(Open(*connector, kAlice)->ListFolders().ok());
  const std::vector<pid_t> kept = testing::WaitForImapConnections(*dovecot, kAlice, 1);
  REQUIRE(kept.size() == 1);
  REQUIRE(kill(kept[0], SIGSTOP) == 0);

  std::unique_ptr<MailboxSession> session = Open(*connector, kAlice);
  CHECK(connector->reused_connections() == 1);
  Result<std::vector<StoredLocation>> listed = session->ListMessages("INBOX");
  session.reset();
  REQUIRE(kill(kept[0], SIGCONT) == 0);
  INFO(listed.status().message());
  REQUIRE(listed.ok());
  CHECK(listed->size() == 1);

  // The stopped process's connection was closed, and the new one is kept.
  CHECK(connector->idle_connections() == 1);
  const std::vector<pid_t> now = testing::WaitForImapConnections(*dovecot, kAlice, 1);
  REQUIRE(now.size() == 1);
  CHECK(now[0] != kept[0]);
  connector.reset();
  CHECK(testing::WaitForImapConnections(*dovecot, kAlice, 0).empty());
}

TEST_CASE("IMAP connector closes stopped kept connections") {
  std::unique_ptr<DovecotHarness> dovecot = StartDovecot();
  if (!dovecot)
    return;
  std::vector<std::string> users = {kAlice};
  for (int i = 0; i < 3; ++i) {
    users.push_back("user" + std::to_string(i) + "@example.test");
    REQUIRE(dovecot->AddUser(users.back(), "password").ok());
  }
  std::unique_ptr<ImapConnector> connector = MakeConnector(SettingsFor(*dovecot));
  for (const std::string& user : users) {
    REQUIRE(Open(*connector, user)->ListFolders().ok());
  }
  REQUIRE(connector->idle_connections() == users.size());

  std::vector<pid_t> stopped;
  for (const std::string& user : users) {
    const std::vector<pid_t> pids = testing::WaitForImapConnections(*dovecot, user, 1);
    REQUIRE(pids.size() == 1);
    REQUIRE(kill(pids[0], SIGSTOP) == 0);
    stopped.push_back(pids[0]);
  }

  // Closing the kept connections returns although no server process
  // replies.
  connector.reset();
  for (pid_t pid : stopped) {
    REQUIRE(kill(pid, SIGCONT) == 0);
  }

  for (const std::string& user : users) {
    INFO(user);
    CHECK(testing::WaitForImapConnections(*dovecot, user, 0).empty());
  }
}

TEST_CASE("IMAP parallel sessions of one mailbox") {
  std::unique_ptr<DovecotHarness> dovecot = StartDovecot();
  if (!dovecot)
    return;
  REQUIRE(dovecot->Append(kAlice, "INBOX", Message("<parallel@x.test>", "parallel")).ok());
  std::unique_ptr<ImapConnector> connector = MakeConnector(SettingsFor(*dovecot));
  constexpr int kThreads = 6;
  constexpr int kSessionsPerThread = 10;
  std::vector<std::vector<std::string>> errors(kThreads);
  std::vector<int> listed_counts(kThreads, 0);
  std::vector<std::thread> threads;

  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kSessionsPerThread; ++i) {
        Result<std::unique_ptr<MailboxSession>> session = connector->Open(kAlice);
        if (!session.ok()) {
          errors[t].push_back(session.status().message());
          continue;
        }
        Result<std::vector<StoredLocation>> listed = (*session)->ListMessages("INBOX");
        if (!listed.ok()) {
          errors[t].push_back(listed.status().message());
        } else if (listed->size() == 1) {
          ++listed_counts[t];
        }
      }
    });
  }
  for (std::thread& thread : threads)
    thread.join();

  for (int t = 0; t < kThreads; ++t) {
    INFO("thread " << t << ": " << (errors[t].empty() ? "" : errors[t].front()));
    CHECK(errors[t].empty());
    CHECK(listed_counts[t] == kSessionsPerThread);
  }
  // One connection per mailbox is kept, and every other one was closed.
  CHECK(connector->idle_connections() == 1);
  CHECK(testing::WaitForImapConnections(*dovecot, kAlice, 1).size() == 1);
}

TEST_CASE("IMAP index follows Maildir changes made outside Dovecot") {
  // A mail delivery agent that writes the Maildir itself, and a user's
  // tool that deletes files, change the folder without Dovecot's index
  // files. STATUS must still report the change.
  std::unique_ptr<DovecotHarness> dovecot = StartDovecot();
  if (!dovecot)
    return;
  REQUIRE(dovecot->Append(kAlice, "INBOX", Message("<first@x.test>", "first")).ok());
  IndexFixture fixture;
  std::unique_ptr<ImapConnector> connector = MakeConnector(SettingsFor(*dovecot));
  IndexStats pass = fixture.Pass(*connector);
  CHECK(pass.added == 1);
  pass = fixture.Pass(*connector);
  CHECK(pass.added == 0);
  CHECK(pass.unchanged >= 1);

  const std::string inbox = InboxMaildir(*dovecot, kAlice);
  DeliverToMaildir(inbox, "1796399800.M1P1.outside", Message("<second@x.test>", "second"));
  pass = fixture.Pass(*connector);
  CHECK(pass.added == 1);
  CHECK(fixture.IndexedFolders("<second@x.test>") == std::vector<std::string>{"INBOX"});

  int removed = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(inbox + "/cur")) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (text.str().find("<first@x.test>") != std::string::npos) {
      in.close();
      fs::remove(entry.path());
      ++removed;
    }
  }
  REQUIRE(removed == 1);
  pass = fixture.Pass(*connector);
  CHECK(pass.gone == 1);
  CHECK(fixture.IndexedFolders("<first@x.test>").empty());
  CHECK(fixture.IndexedFolders("<second@x.test>") == std::vector<std::string>{"INBOX"});
}

TEST_CASE("IMAP index after a folder is replaced or moved into") {
  std::unique_ptr<DovecotHarness> dovecot = StartDovecot();
  if (!dovecot)
    return;
  REQUIRE(dovecot->Append(kAlice, "Archive", Message("<archived@x.test>", "archived")).ok());
  REQUIRE(dovecot->Append(kAlice, "INBOX", Message("<moving@x.test>", "moving")).ok());
  IndexFixture fixture;
  std::unique_ptr<ImapConnector> connector = MakeConnector(SettingsFor(*dovecot));
  fixture.Pass(*connector);
  REQUIRE(fixture.IndexedFolders("<archived@x.test>") == std::vector<std::string>{"Archive"});

  // Deleted and created again at once with one message, so that the new
  // folder has the old one's UIDNEXT and message count.
  Result<std::string> deleted = dovecot->Doveadm({"mailbox", "delete", "-u", kAlice, "Archive"});
  INFO(deleted.status().message());
  REQUIRE(deleted.ok());
  REQUIRE(dovecot->Append(kAlice, "Archive", Message("<replacement@x.test>", "replacement")).ok());
  // The user moves a message from INBOX into Archive with a mail client.
  Result<std::string> moved = dovecot->Doveadm({"move", "-u", kAlice, "Archive", "mailbox", "INBOX",
                                                "header", "Message-ID", "<moving@x.test>"});
  INFO(moved.status().message());
  REQUIRE(moved.ok());

  IndexStats pass = fixture.Pass(*connector);
  CHECK(pass.added == 2);
  CHECK(pass.gone == 2);
  CHECK(fixture.IndexedFolders("<archived@x.test>").empty());
  CHECK(fixture.IndexedFolders("<replacement@x.test>") == std::vector<std::string>{"Archive"});
  CHECK(fixture.IndexedFolders("<moving@x.test>") == std::vector<std::string>{"Archive"});
}

TEST_CASE("IMAP index retries a message the server cannot read") {
  std::unique_ptr<DovecotHarness> dovecot = StartDovecot();
  if (!dovecot)
    return;
  REQUIRE(dovecot->Append(kAlice, "INBOX", Message("<readable@x.test>", "readable")).ok());
  IndexFixture fixture;
  std::unique_ptr<ImapConnector> connector = MakeConnector(SettingsFor(*dovecot));
  fixture.Pass(*connector);

  // A file that the mail user may not read: Dovecot lists it but fails
  // to fetch it.
  const std::string path =
      DeliverToMaildir(InboxMaildir(*dovecot, kAlice), "1796399900.M2P2.locked",
                       Message("<locked@x.test>", "locked"));
  REQUIRE(chown(path.c_str(), 0, 0) == 0);
  REQUIRE(chmod(path.c_str(), 0600) == 0);
  IndexStats pass = fixture.Pass(*connector);
  CHECK(pass.failed == 1);
  CHECK(pass.added == 0);
  pass = fixture.Pass(*connector);
  CHECK(pass.failed == 1);
  CHECK(pass.unchanged == 0);

  // Dovecot has moved the file from new/ to cur/ and added its flags to
  // the name.
  std::string current;
  for (const char* subfolder : {"/cur", "/new"}) {
    for (const fs::directory_entry& entry :
         fs::directory_iterator(InboxMaildir(*dovecot, kAlice) + subfolder)) {
      if (entry.path().filename().string().rfind("1796399900.M2P2.locked", 0) == 0) {
        current = entry.path().string();
      }
    }
  }
  INFO(path);
  REQUIRE(!current.empty());
  REQUIRE(chmod(current.c_str(), 0644) == 0);
  pass = fixture.Pass(*connector);
  CHECK(pass.failed == 0);
  CHECK(pass.added == 1);
  CHECK(fixture.IndexedFolders("<locked@x.test>") == std::vector<std::string>{"INBOX"});
}

}  // namespace
}  // namespace reclaim
