// The remove/restore engine against a real Dovecot on 127.0.0.1, reached
// through the IMAP connector with a master user. Mailbox contents are
// checked with doveadm, independently of the connector under test.
#include <doctest/doctest.h>

#include <map>
#include <set>
#include <sstream>

#include "shared/message_id.h"
#include "sync-server/index/message_index.h"
#include "sync-server/mail/mime_parser.h"
#include "sync-server/mailbox/imap_connector.h"
#include "sync-server/remediation/remediator.h"
#include "tests/server/dovecot_harness.h"
#include "tests/server/maildir_org.h"

using namespace reclaim;
using reclaim::testing::InvoiceMessage;
using reclaim::testing::kInvoiceSha256;

namespace {

constexpr UnixSeconds kNow = 1796399754;
const std::vector<std::string> kUsers = {"alice@example.com", "bob@example.com",
                                         "carol@example.com"};

struct ImapEngine {
  explicit ImapEngine(DovecotHarness* dovecot_in) : dovecot(dovecot_in) {
    InitMimeParser();
    char pattern[] = "/tmp/reclaim-imapdb-XXXXXX";
    dir = mkdtemp(pattern);
    db = std::move(*Database::Open(dir + "/reclaim.db"));
    ImapSettings settings;
    settings.name = "dovecot";
    settings.url = dovecot->url();
    settings.master_user = dovecot->master_user();
    settings.password = dovecot->master_password();
    settings.domains = {"example.com"};
    settings.mailboxes = kUsers;
    settings.timeout_seconds = 10;
    Result<std::unique_ptr<ImapConnector>> connector = ImapConnector::Create(settings);
    REQUIRE(connector.ok());
    REQUIRE(registry.Add(std::move(*connector), {"example.com"}).ok());
    repository = std::make_unique<IncidentRepository>(db.get(), "ACME", RandomId);
    RemediatorOptions options;
    options.clock = [] { return kNow; };
    remediator = std::make_unique<Remediator>(db.get(), &registry, repository.get(), options);
  }
  ~ImapEngine() { std::filesystem::remove_all(dir); }

  IndexStats Index() {
    MessageIndex index(db.get());
    IndexStats stats = IndexConnector(*registry.All().front(), &index, kNow);
    INFO("index errors: " << (stats.errors.empty() ? "" : stats.errors.front()));
    REQUIRE(stats.errors.empty());
    return stats;
  }

  // The mailboxes of the indexed copies of `message_id` that are present.
  std::multiset<std::string> IndexedCopies(const std::string& message_id) {
    MessageIndex index(db.get());
    Result<std::vector<IndexedMessage>> found =
        index.FindByMessageKey(MessageIdKey(*NormalizeMessageId(message_id)));
    REQUIRE(found.ok());
    std::multiset<std::string> where;
    for (const IndexedMessage& copy : *found) where.insert(copy.mailbox + " " + copy.location.folder);
    return where;
  }

  // How many folders the users' mailboxes have, from doveadm.
  int FolderCount() {
    int count = 0;
    for (const std::string& user : kUsers) {
      Result<std::string> out = dovecot->Doveadm({"mailbox", "list", "-u", user});
      REQUIRE(out.ok());
      std::istringstream lines(*out);
      for (std::string line; std::getline(lines, line);) count += line.empty() ? 0 : 1;
    }
    return count;
  }

  Incident Remove(const std::string& identifier) {
    RemediationRequest request;
    request.identifier = identifier;
    request.reason = "Phishing campaign";
    request.start = kNow - 3650 * kSecondsPerDay;
    Result<Incident> incident = remediator->Identify(request);
    INFO("identify: " << incident.status().message());
    REQUIRE(incident.ok());
    JobControl control;
    Status removed = remediator->Remove(incident->id, {}, &control);
    INFO("remove: " << removed.message());
    REQUIRE(removed.ok());
    return *repository->Get(incident->id);
  }

  std::map<std::string, MessageRow> Rows(const std::string& incident_id) {
    std::map<std::string, MessageRow> rows;
    Result<std::vector<StoredRow>> all = repository->Rows(incident_id);
    REQUIRE(all.ok());
    for (const StoredRow& row : *all) rows[row.view.recipient] = row.view;
    return rows;
  }

  // "folder flags" of each copy of `message_id` in `user`'s mailbox, from
  // doveadm.
  std::vector<std::string> Copies(const std::string& user, const std::string& message_id) {
    Result<std::string> out = dovecot->Doveadm(
        {"-f", "flow", "fetch", "-u", user, "mailbox flags", "header", "Message-ID", message_id});
    INFO("doveadm: " << out.status().message());
    REQUIRE(out.ok());
    std::vector<std::string> copies;
    std::istringstream lines(*out);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) copies.push_back(line);
    }
    return copies;
  }

  DovecotHarness* dovecot;
  std::string dir;
  std::unique_ptr<Database> db;
  ConnectorRegistry registry;
  std::unique_ptr<IncidentRepository> repository;
  std::unique_ptr<Remediator> remediator;
};

std::unique_ptr<DovecotHarness> StartDovecot() {
  std::string reason = DovecotHarness::UnavailableReason();
  if (!reason.empty()) return nullptr;
  Result<std::unique_ptr<DovecotHarness>> dovecot = DovecotHarness::Start();
  REQUIRE(dovecot.ok());
  for (const std::string& user : kUsers) REQUIRE((*dovecot)->AddUser(user, "pw").ok());
  return std::move(*dovecot);
}

}  // namespace

TEST_CASE("imap remove by hash and restore") {
  std::unique_ptr<DovecotHarness> dovecot = StartDovecot();
  if (!dovecot) {
    MESSAGE("skipped: " << DovecotHarness::UnavailableReason());
    return;
  }
  std::string id = "<inv.imap@invoices.example.net>";
  std::string phish = InvoiceMessage(
      id, "alice@example.com, bob@example.com, carol@example.com, ghost@example.com,"
          " zed@partner.example");
  REQUIRE(dovecot->Append("alice@example.com", "INBOX", phish, "\\Seen \\Flagged").ok());
  REQUIRE(dovecot->Append("bob@example.com", "INBOX", phish).ok());
  REQUIRE(dovecot->Append("carol@example.com", "Archive", phish, "\\Seen").ok());

  ImapEngine engine(dovecot.get());
  engine.Index();
  Incident incident = engine.Remove(kInvoiceSha256);
  CHECK(incident.counts.identified == 5);
  CHECK(incident.counts.removed == 3);
  CHECK(incident.counts.failed == 2);
  std::map<std::string, MessageRow> rows = engine.Rows(incident.id);
  CHECK(FailureDisplay(rows["ghost@example.com"]) == "No connection for the user.");
  CHECK(FailureDisplay(rows["zed@partner.example"]) ==
        "No connections are configured for the mailbox.");
  CHECK(rows["carol@example.com"].folder == "Archive");

  std::vector<std::string> alice = engine.Copies("alice@example.com", id);
  REQUIRE(alice.size() == 1);
  CHECK(alice[0].find("mailbox=Reclaim-Hold") != std::string::npos);
  CHECK(alice[0].find("\\Flagged") != std::string::npos);
  CHECK(alice[0].find("\\Seen") != std::string::npos);
  std::vector<std::string> carol = engine.Copies("carol@example.com", id);
  REQUIRE(carol.size() == 1);
  CHECK(carol[0].find("mailbox=Reclaim-Hold") != std::string::npos);

  Result<Incident> restore = engine.remediator->PrepareRestore(incident.id, {}, "");
  REQUIRE(restore.ok());
  JobControl control;
  REQUIRE(engine.remediator->Restore(restore->id, &control).ok());
  CHECK(engine.repository->Get(restore->id)->counts.restored == 3);
  alice = engine.Copies("alice@example.com", id);
  REQUIRE(alice.size() == 1);
  CHECK(alice[0].find("mailbox=INBOX") != std::string::npos);
  CHECK(alice[0].find("\\Flagged") != std::string::npos);
  carol = engine.Copies("carol@example.com", id);
  REQUIRE(carol.size() == 1);
  CHECK(carol[0].find("mailbox=Archive") != std::string::npos);
  std::vector<std::string> bob = engine.Copies("bob@example.com", id);
  REQUIRE(bob.size() == 1);
  CHECK(bob[0].find("mailbox=INBOX") != std::string::npos);
}

TEST_CASE("imap index skips unchanged folders and follows changes") {
  std::unique_ptr<DovecotHarness> dovecot = StartDovecot();
  if (!dovecot) {
    MESSAGE("skipped: " << DovecotHarness::UnavailableReason());
    return;
  }
  const std::string first = "<first.index@invoices.example.net>";
  const std::string second = "<second.index@invoices.example.net>";
  const std::string old = "<old.index@invoices.example.net>";
  REQUIRE(dovecot->Append("alice@example.com", "INBOX", InvoiceMessage(first, "alice@example.com")).ok());
  REQUIRE(dovecot->Append("alice@example.com", "Archive", InvoiceMessage(first, "alice@example.com")).ok());
  REQUIRE(dovecot->Append("alice@example.com", "Old", InvoiceMessage(old, "alice@example.com")).ok());
  REQUIRE(dovecot->Append("bob@example.com", "INBOX", InvoiceMessage(first, "bob@example.com")).ok());
  ImapEngine engine(dovecot.get());
  const int folders = engine.FolderCount();
  REQUIRE(folders >= 5);  // INBOX of each user, alice's Archive and Old

  IndexStats pass = engine.Index();
  CHECK(pass.added == 4);
  CHECK(pass.unchanged == 0);
  pass = engine.Index();
  CHECK(pass.added == 0);
  CHECK(pass.gone == 0);
  CHECK(pass.unchanged == folders);

  // A delivery changes its folder only.
  REQUIRE(dovecot->Append("bob@example.com", "INBOX", InvoiceMessage(second, "bob@example.com")).ok());
  pass = engine.Index();
  CHECK(pass.added == 1);
  CHECK(pass.unchanged == folders - 1);
  CHECK(engine.IndexedCopies(second) == std::multiset<std::string>{"bob@example.com INBOX"});

  // A copy deleted by the user.
  REQUIRE(dovecot->Doveadm({"expunge", "-u", "alice@example.com", "mailbox", "Archive", "all"}).ok());
  pass = engine.Index();
  CHECK(pass.added == 0);
  CHECK(pass.gone == 1);
  CHECK(pass.unchanged == folders - 1);
  CHECK(engine.IndexedCopies(first) ==
        std::multiset<std::string>{"alice@example.com INBOX", "bob@example.com INBOX"});

  // A folder deleted with its mail.
  REQUIRE(engine.IndexedCopies(old).size() == 1);
  Result<std::string> deleted =
      dovecot->Doveadm({"mailbox", "delete", "-u", "alice@example.com", "Old"});
  INFO("doveadm: " << deleted.status().message());
  REQUIRE(deleted.ok());
  REQUIRE(engine.FolderCount() == folders - 1);
  pass = engine.Index();
  CHECK(pass.gone == 1);
  CHECK(pass.unchanged == folders - 1);
  CHECK(engine.IndexedCopies(old).empty());

  // Reclaim's own moves leave the index consistent: the next pass finds
  // nothing new and nothing gone, although the folders changed.
  Incident incident = engine.Remove(first);
  CHECK(incident.counts.removed == 2);
  pass = engine.Index();
  CHECK(pass.added == 0);
  CHECK(pass.gone == 0);
  CHECK(engine.IndexedCopies(first) == std::multiset<std::string>{
                                           "alice@example.com Reclaim-Hold",
                                           "bob@example.com Reclaim-Hold"});
  pass = engine.Index();
  CHECK(pass.unchanged == engine.FolderCount());
}

TEST_CASE("imap failure reasons") {
  std::unique_ptr<DovecotHarness> dovecot = StartDovecot();
  if (!dovecot) {
    MESSAGE("skipped: " << DovecotHarness::UnavailableReason());
    return;
  }
  std::string no_recipient =
      "From: x@evil.example\r\nSubject: hi\r\nMessage-ID: <norcpt.imap@evil.example>\r\n\r\nb\r\n";
  REQUIRE(dovecot->Append("alice@example.com", "INBOX", no_recipient).ok());
  Result<uint32_t> gone_uid = dovecot->Append(
      "bob@example.com", "INBOX", InvoiceMessage("<gone.imap@example.net>", "bob@example.com"));
  REQUIRE(gone_uid.ok());
  REQUIRE(dovecot->Append("carol@example.com", "INBOX",
                          InvoiceMessage("<held.imap@example.net>", "carol@example.com"))
              .ok());
  REQUIRE(dovecot->Append("alice@example.com", "INBOX",
                          InvoiceMessage("<reset.imap@example.net>", "alice@example.com"), "\\Seen")
              .ok());
  ImapEngine engine(dovecot.get());
  engine.Index();

  SUBCASE("no recipient address") {
    Incident incident = engine.Remove("<norcpt.imap@evil.example>");
    CHECK(incident.counts.failed == 1);
    CHECK(FailureDisplay(engine.Rows(incident.id).begin()->second) ==
          "No recipient address was found on the email.");
    CHECK(engine.Copies("alice@example.com", "<norcpt.imap@evil.example>")[0].find(
              "mailbox=INBOX") != std::string::npos);
  }
  SUBCASE("copy deleted after indexing") {
    REQUIRE(dovecot
                ->Doveadm({"expunge", "-u", "bob@example.com", "mailbox", "INBOX", "uid",
                           std::to_string(*gone_uid)})
                .ok());
    Incident incident = engine.Remove("<gone.imap@example.net>");
    CHECK(FailureDisplay(engine.Rows(incident.id)["bob@example.com"]) ==
          "Message was not found in mailbox.");
    CHECK(incident.counts.removed == 0);
  }
  SUBCASE("held copy deleted before restore") {
    Incident incident = engine.Remove("<held.imap@example.net>");
    REQUIRE(incident.counts.removed == 1);
    REQUIRE(dovecot
                ->Doveadm({"expunge", "-u", "carol@example.com", "mailbox", "Reclaim-Hold", "all"})
                .ok());
    Result<Incident> restore = engine.remediator->PrepareRestore(incident.id, {}, "");
    REQUIRE(restore.ok());
    JobControl control;
    REQUIRE(engine.remediator->Restore(restore->id, &control).ok());
    CHECK(FailureDisplay(engine.Rows(restore->id)["carol@example.com"]) ==
          "Message was not restored.");
  }
  SUBCASE("UIDVALIDITY changed between index and action") {
    REQUIRE(dovecot
                ->Doveadm({"mailbox", "update", "-u", "alice@example.com", "--uid-validity",
                           "1000", "INBOX"})
                .ok());
    Incident incident = engine.Remove("<reset.imap@example.net>");
    CHECK(incident.counts.removed == 1);
    CHECK(incident.counts.failed == 0);
    std::vector<std::string> copies =
        engine.Copies("alice@example.com", "<reset.imap@example.net>");
    REQUIRE(copies.size() == 1);
    CHECK(copies[0].find("mailbox=Reclaim-Hold") != std::string::npos);
    CHECK(copies[0].find("\\Seen") != std::string::npos);
  }
}

// Several copies per mailbox in two folders: each mailbox's copies move with
// one MoveBatch() per folder, several mailboxes at once, and each copy goes
// back to its own folder with its flags.
TEST_CASE("imap batch remove and restore") {
  std::unique_ptr<DovecotHarness> dovecot = StartDovecot();
  if (!dovecot) {
    MESSAGE("skipped: " << DovecotHarness::UnavailableReason());
    return;
  }
  const std::string id = "<batch.imap@invoices.example.net>";
  for (const std::string& user : kUsers) {
    const std::string phish = InvoiceMessage(id, user);
    REQUIRE(dovecot->Append(user, "INBOX", phish, "\\Seen").ok());
    REQUIRE(dovecot->Append(user, "INBOX", phish, "\\Flagged").ok());
    REQUIRE(dovecot->Append(user, "INBOX", phish).ok());
    REQUIRE(dovecot->Append(user, "Archive", phish, "\\Seen").ok());
    REQUIRE(dovecot->Append(user, "Archive", phish, "\\Seen \\Flagged").ok());
  }

  ImapEngine engine(dovecot.get());
  engine.Index();
  Incident incident = engine.Remove(id);
  CHECK(incident.counts.identified == 15);
  CHECK(incident.counts.removed == 15);
  CHECK(incident.counts.failed == 0);
  for (const std::string& user : kUsers) {
    INFO("user " << user);
    std::vector<std::string> copies = engine.Copies(user, id);
    REQUIRE(copies.size() == 5);
    int flagged = 0;
    for (const std::string& copy : copies) {
      INFO("copy: " << copy);
      CHECK(copy.find("mailbox=Reclaim-Hold") != std::string::npos);
      CHECK(copy.find("$Reclaim") == std::string::npos);  // tags cleared after settling
      flagged += copy.find("\\Flagged") != std::string::npos ? 1 : 0;
    }
    CHECK(flagged == 2);
  }

  Result<Incident> restore = engine.remediator->PrepareRestore(incident.id, {}, "");
  REQUIRE(restore.ok());
  JobControl control;
  REQUIRE(engine.remediator->Restore(restore->id, &control).ok());
  CHECK(engine.repository->Get(restore->id)->counts.restored == 15);
  for (const std::string& user : kUsers) {
    INFO("user " << user);
    std::vector<std::string> copies = engine.Copies(user, id);
    REQUIRE(copies.size() == 5);
    std::multiset<std::string> placed;
    for (const std::string& copy : copies) {
      const bool in_archive = copy.find("mailbox=Archive") != std::string::npos;
      const bool flagged = copy.find("\\Flagged") != std::string::npos;
      const bool seen = copy.find("\\Seen") != std::string::npos;
      placed.insert(std::string(in_archive ? "Archive" : "INBOX") + (seen ? " seen" : "") +
                    (flagged ? " flagged" : ""));
    }
    CHECK(placed == std::multiset<std::string>{"INBOX seen", "INBOX flagged", "INBOX",
                                               "Archive seen", "Archive seen flagged"});
  }
}
