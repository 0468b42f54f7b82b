#include "sync-server/index/message_index.h"

#include <doctest/doctest.h>

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

}  // namespace
}  // namespace reclaim
