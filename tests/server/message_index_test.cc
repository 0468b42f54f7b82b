#include "sync-server/index/message_index.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "sync-server/mail/hashing.h"
#include "sync-server/mail/mime_parser.h"
#include "sync-server/mailbox/maildir_connector.h"
#include "tests/server/maildir_org.h"

namespace reclaim {
namespace {

constexpr UnixSeconds kNow = 1796399754;  // 2026-12-04T15:55:54Z

std::string JoinLines(const std::vector<std::string>& lines) {
  std::string joined;
  for (const std::string& line : lines)
    joined += (joined.empty() ? "" : "\n") + line;
  return joined;
}

// Indexes `raws`, each delivered to alice@example.com, and checks each row
// against what ParseMessage returns for the same bytes.
void CheckIndexedAsParsed(const std::vector<std::string>& raws) {
  InitMimeParser();
  testing::MaildirOrg org;
  org.AddUser("alice", "example.com");
  for (const std::string& raw : raws)
    org.Deliver("alice", "example.com", raw);
  Result<std::unique_ptr<Database>> db = Database::Open(org.database());
  REQUIRE(db.ok());
  MaildirConnector connector(MaildirSettings{"local", org.mail_root(), {"example.com"}});
  MessageIndex index(db->get());

  const IndexStats stats = IndexConnector(connector, &index, kNow);
  REQUIRE(stats.errors.empty());
  REQUIRE(stats.added == static_cast<int>(raws.size()));

  // Deliver() names files in delivery order and the listing is sorted, so
  // row ids follow `raws`.
  Result<Statement> rows =
      (*db)->Prepare("SELECT raw_sha256, warnings, size FROM messages ORDER BY id");
  REQUIRE(rows.ok());
  for (const std::string& raw : raws) {
    REQUIRE(rows->Step());
    const ParsedMessage parsed = ParseMessage(raw);
    INFO("message: " << raw.substr(0, 60));
    CHECK(rows->Text(0) == Sha256Hex(raw));
    CHECK(rows->Text(1) == JoinLines(parsed.warnings));
    CHECK(rows->Int(2) == static_cast<int64_t>(raw.size()));
  }
  CHECK_FALSE(rows->Step());
}

TEST_CASE("IndexConnector stores the digest and warnings of ParseMessage") {
  CheckIndexedAsParsed({
      // A Message-ID: the digest is computed for the row.
      "Message-ID: <one@example.net>\r\nFrom: a@example.net\r\nTo: alice@example.com\r\n"
      "Subject: one\r\nDate: Mon, 30 Nov 2026 09:00:00 +0000\r\n\r\nBody\r\n",
      // No Message-ID: the digest comes from the synthetic key.
      "From: b@example.net\r\nTo: alice@example.com\r\nSubject: two\r\n\r\nBody\r\n",
      // Warnings about the text body, which the index parses without.
      "Message-ID: <three@example.net>\r\nFrom: c@example.net\r\nTo: alice@example.com\r\n"
      "Content-Type: text/html; charset=x-no-such\r\n\r\n<p>text</p>\r\n",
      // Empty file.
      "",
  });
}

// Sets the modification time of every new/ and cur/ directory below `root`
// one minute back, as if the last change to them were that old.
void AgeMaildirDirectories(const std::string& root) {
  timespec past[2]{};
  clock_gettime(CLOCK_REALTIME, &past[0]);
  past[0].tv_sec -= 60;
  past[1] = past[0];
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    const std::string name = entry.path().filename();
    if (entry.is_directory() && (name == "new" || name == "cur"))
      REQUIRE(utimensat(AT_FDCWD, entry.path().c_str(), past, 0) == 0);
  }
}

// The number of Maildir folders below `root`: the mailbox directories
// (INBOX) and their `.Name` subfolders, counted on disk.
int CountMaildirFolders(const std::string& root) {
  int folders = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (entry.is_directory() && entry.path().filename() == "cur")
      ++folders;
  }
  return folders;
}

TEST_CASE("Maildir index skips folders whose directories did not change") {
  InitMimeParser();
  testing::MaildirOrg org;
  org.AddUser("alice", "example.com");
  org.AddUser("bob", "example.com");
  const std::string raw =
      "From: a@example.org\r\nTo: alice@example.com\r\nSubject: s\r\n"
      "Message-ID: <skip@example.org>\r\n\r\nbody\r\n";
  org.Deliver("alice", "example.com", raw);
  org.Deliver("alice", "example.com", raw, "S", "Archive");
  org.Deliver("bob", "example.com", raw);
  Result<std::unique_ptr<Database>> db = Database::Open(org.database());
  REQUIRE(db.ok());
  MaildirConnector connector(MaildirSettings{"local", org.mail_root(), {"example.com"}});
  MessageIndex index(db->get());
  const int folders = CountMaildirFolders(org.mail_root());
  REQUIRE(folders == 3);

  // Directories changed within the last 2 s are listed again.
  IndexStats stats = IndexConnector(connector, &index, kNow);
  CHECK(stats.added == 3);
  stats = IndexConnector(connector, &index, kNow);
  CHECK(stats.unchanged == 0);
  CHECK(stats.added == 0);

  // Settled directories are skipped once their version is stored.
  AgeMaildirDirectories(org.mail_root());
  stats = IndexConnector(connector, &index, kNow);
  CHECK(stats.unchanged == 0);  // the versions are stored by this pass
  stats = IndexConnector(connector, &index, kNow);
  CHECK(stats.unchanged == folders);

  // A delivery, a deletion and a flag change each bring their folder back.
  org.Deliver("bob", "example.com", raw);
  stats = IndexConnector(connector, &index, kNow);
  CHECK(stats.added == 1);
  CHECK(stats.unchanged == folders - 1);
  AgeMaildirDirectories(org.mail_root());
  (void)IndexConnector(connector, &index, kNow);

  std::vector<std::string> archived = org.FilesContaining("alice", "example.com", "skip@");
  REQUIRE(archived.size() == 2);
  const std::string archive_file =
      archived[0].rfind(".Archive/", 0) == 0 ? archived[0] : archived[1];
  const std::string inbox_file = archived[0].rfind(".Archive/", 0) == 0 ? archived[1] : archived[0];
  const std::string alice = org.UserDir("alice", "example.com");
  std::filesystem::remove(alice + "/" + archive_file);
  stats = IndexConnector(connector, &index, kNow);
  CHECK(stats.gone == 1);
  CHECK(stats.unchanged == folders - 1);
  AgeMaildirDirectories(org.mail_root());
  (void)IndexConnector(connector, &index, kNow);

  // A mail client reads the INBOX copy: new/x becomes cur/x:2,S.
  const std::string base = inbox_file.substr(inbox_file.find('/') + 1);
  std::filesystem::rename(alice + "/" + inbox_file, alice + "/cur/" + base + ":2,S");
  stats = IndexConnector(connector, &index, kNow);
  CHECK(stats.unchanged == folders - 1);
  CHECK(stats.added == 1);
  CHECK(stats.gone == 1);
}

}  // namespace
}  // namespace reclaim
