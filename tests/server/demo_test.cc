// The demo organisation generator, checked by reading what it wrote: the
// Maildir folders on disk and the SQLite database, queried directly.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "shared/incident.h"
#include "sync-server/demo/demo.h"
#include "sync-server/mail/hashing.h"
#include "sync-server/store/database.h"
#include "tests/server/maildir_org.h"
#include "tests/server/reference_base64.h"

using namespace reclaim;
using reclaim::testing::MaildirOrg;

namespace {

namespace fs = std::filesystem;

constexpr UnixSeconds kNow = 1796399754;  // 2026-12-04T15:55:54Z
constexpr UnixSeconds kYear = 365 * kSecondsPerDay;

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Mailboxes on disk: `<domain>/<user>` folders with cur/ and new/.
std::map<std::string, std::vector<std::string>> MailboxesOnDisk(const std::string& mail_root) {
  std::map<std::string, std::vector<std::string>> by_domain;
  for (const auto& domain : fs::directory_iterator(mail_root)) {
    for (const auto& user : fs::directory_iterator(domain.path())) {
      if (fs::is_directory(user.path() / "cur") && fs::is_directory(user.path() / "new")) {
        by_domain[domain.path().filename().string()].push_back(user.path().filename().string());
      }
    }
  }
  return by_domain;
}

// Every message file of one mailbox, as (path relative to the mailbox,
// content).
std::vector<std::pair<std::string, std::string>> MessageFiles(const fs::path& mailbox) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& entry : fs::recursive_directory_iterator(mailbox)) {
    std::string parent = entry.path().parent_path().filename().string();
    if (!entry.is_regular_file() || (parent != "cur" && parent != "new"))
      continue;
    files.emplace_back(fs::relative(entry.path(), mailbox).string(), ReadAll(entry.path()));
  }
  return files;
}

// The whole data folder: each file's path and content digest.
std::map<std::string, std::string> FolderDigest(const std::string& root) {
  std::map<std::string, std::string> digest;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file())
      continue;
    std::string name = entry.path().filename().string();
    // SQLite's own files change on open; the rows are compared instead.
    if (name.rfind("reclaim.db", 0) == 0)
      continue;
    digest[fs::relative(entry.path(), root).string()] = Sha256Hex(ReadAll(entry.path()));
  }
  return digest;
}

int64_t QueryInt(Database* db, const std::string& sql) {
  Result<Statement> st = db->Prepare(sql);
  REQUIRE(st.ok());
  REQUIRE(st->Step());
  return st->Int(0);
}

std::vector<std::string> QueryTexts(Database* db, const std::string& sql,
                                    const std::string& parameter = "") {
  Result<Statement> st = db->Prepare(sql);
  REQUIRE(st.ok());
  if (!parameter.empty())
    st->Bind(1, parameter);
  std::vector<std::string> out;
  while (st->Step())
    out.push_back(st->Text(0));
  REQUIRE(st->status().ok());
  return out;
}

// The decoded bytes of the first base64 attachment of a generated message.
std::string FirstAttachment(const std::string& raw) {
  size_t disposition = raw.find("Content-Disposition: attachment");
  if (disposition == std::string::npos)
    return "";
  size_t body = raw.find("\r\n\r\n", disposition);
  size_t end = raw.find("\r\n--", body);
  return reclaim::testing::DecodeBase64Reference(raw.substr(body + 4, end - body - 4));
}

std::string HeaderValue(const std::string& raw, const std::string& name) {
  std::string prefix = "\r\n" + name + ": ";
  size_t start = raw.find(prefix);
  if (start == std::string::npos)
    return "";
  start += prefix.size();
  return raw.substr(start, raw.find("\r\n", start) - start);
}

}  // namespace

TEST_CASE("demo organisation on disk and in the database") {
  MaildirOrg org;
  ServerConfig config = DefaultConfig(org.root());
  Result<bool> fresh = IsFreshDataFolder(config);
  REQUIRE(fresh.ok());
  CHECK(*fresh);

  Result<DemoSummary> summary = CreateDemoOrganisation(config, DemoOptions(), kNow);
  INFO(summary.status().message());
  REQUIRE(summary.ok());
  REQUIRE(summary->created);
  Result<std::unique_ptr<Database>> db = Database::Open(org.database());
  REQUIRE(db.ok());

  SUBCASE("users per domain") {
    std::map<std::string, std::vector<std::string>> disk = MailboxesOnDisk(org.mail_root());
    CHECK(disk.size() == 2);
    CHECK(disk.count(kDemoUnconnectedDomain) == 0);
    size_t total = 0;
    for (const auto& [domain, users] : disk) {
      INFO("domain " << domain);
      CHECK(users.size() >= 10);
      int64_t indexed = QueryInt(db->get(),
                                 "SELECT COUNT(DISTINCT mailbox) FROM messages WHERE"
                                 " mailbox LIKE '%@" +
                                     domain + "'");
      CHECK(indexed == static_cast<int64_t>(users.size()));
      total += users.size();
    }
    CHECK(total == static_cast<size_t>(summary->users));
    CHECK(total >= 25);
    CHECK(total <= 35);
  }

  SUBCASE("every copy is indexed") {
    size_t files = 0;
    for (const auto& [domain, users] : MailboxesOnDisk(org.mail_root())) {
      for (const std::string& user : users)
        files += MessageFiles(org.UserDir(user, domain)).size();
    }
    CHECK(files == static_cast<size_t>(summary->delivered_copies));
    CHECK(QueryInt(db->get(), "SELECT COUNT(*) FROM messages WHERE present=1") ==
          static_cast<int64_t>(files));
    CHECK(QueryInt(db->get(), "SELECT COUNT(DISTINCT message_id) FROM messages") ==
          summary->ordinary_messages + summary->threats);
    // Read and flagged copies are there for restore to keep.
    CHECK(QueryInt(db->get(), "SELECT COUNT(*) FROM messages WHERE flags='FS'") > 0);
    CHECK(QueryInt(db->get(), "SELECT COUNT(*) FROM messages WHERE flags=''") > 0);
    CHECK(QueryInt(db->get(), "SELECT COUNT(DISTINCT folder) FROM messages") >= 3);
    CHECK(QueryInt(db->get(), "SELECT COUNT(*) FROM attachments") > summary->threats);
  }

  SUBCASE("malicious messages sit in their recipients' mailboxes") {
    REQUIRE(summary->threat_list.size() >= 4);
    std::vector<std::string> all_users;
    for (const auto& [domain, users] : MailboxesOnDisk(org.mail_root())) {
      for (const std::string& user : users)
        all_users.push_back(user + "@" + domain);
    }
    for (const DemoThreat& threat : summary->threat_list) {
      INFO("threat " << threat.name << " " << threat.message_id);
      REQUIRE_FALSE(threat.message_id.empty());
      CHECK(threat.mailboxes.size() >= 1);
      std::set<std::string> expected(threat.mailboxes.begin(), threat.mailboxes.end());
      for (const std::string& address : all_users) {
        size_t at = address.find('@');
        int copies = 0;
        for (const auto& [path, content] :
             MessageFiles(org.UserDir(address.substr(0, at), address.substr(at + 1)))) {
          if (HeaderValue(content, "Message-ID") != threat.message_id)
            continue;
          ++copies;
          CHECK(path.find('.') != 0);  // INBOX, not a subfolder
          CHECK(HeaderValue("\r\n" + content, "Delivered-To") == address);
        }
        INFO("mailbox " << address);
        CHECK(copies == (expected.count(address) ? 1 : 0));
      }
      std::vector<std::string> indexed =
          QueryTexts(db->get(), "SELECT mailbox FROM messages WHERE message_id=? ORDER BY mailbox",
                     threat.message_id);
      CHECK(std::set<std::string>(indexed.begin(), indexed.end()) == expected);
      CHECK(indexed.size() == expected.size());
    }
  }

  SUBCASE("a forward keeps the attachment under a new message id") {
    std::map<std::string, std::set<std::string>> ids_by_hash;
    std::map<std::string, std::set<std::string>> mailboxes_by_hash;
    for (const DemoThreat& threat : summary->threat_list) {
      if (threat.attachment_sha256.empty())
        continue;
      ids_by_hash[threat.attachment_sha256].insert(threat.message_id);
      mailboxes_by_hash[threat.attachment_sha256].insert(threat.mailboxes.begin(),
                                                         threat.mailboxes.end());
      // The digest, recomputed from a copy on disk with this file's decoder.
      const std::string& first = threat.mailboxes.front();
      size_t at = first.find('@');
      bool checked = false;
      for (const auto& [path, content] :
           MessageFiles(org.UserDir(first.substr(0, at), first.substr(at + 1)))) {
        if (HeaderValue(content, "Message-ID") != threat.message_id)
          continue;
        CHECK(Sha256Hex(FirstAttachment(content)) == threat.attachment_sha256);
        checked = true;
      }
      CHECK(checked);
    }
    REQUIRE_FALSE(ids_by_hash.empty());
    bool forwarded = false;
    for (const auto& [hash, ids] : ids_by_hash) {
      forwarded = forwarded || ids.size() >= 2;
      std::vector<std::string> indexed = QueryTexts(
          db->get(),
          "SELECT DISTINCT m.mailbox FROM attachments a JOIN messages m ON m.id=a.message"
          " WHERE a.sha256=?",
          hash);
      INFO("attachment " << hash);
      CHECK(std::set<std::string>(indexed.begin(), indexed.end()) == mailboxes_by_hash[hash]);
    }
    CHECK(forwarded);
  }

  SUBCASE("partner domain is named but not connected") {
    bool named = false;
    for (const DemoThreat& threat : summary->threat_list) {
      for (const std::string& address : threat.unconnected_recipients) {
        named = true;
        CHECK(address.find(std::string("@") + kDemoUnconnectedDomain) != std::string::npos);
        CHECK(QueryInt(db->get(), "SELECT COUNT(*) FROM message_recipients WHERE address='" +
                                      address + "'") > 0);
      }
    }
    CHECK(named);
  }

  SUBCASE("incident history covers the year") {
    std::vector<std::string> types =
        QueryTexts(db->get(), "SELECT DISTINCT type FROM incidents ORDER BY type");
    std::set<std::string> seen(types.begin(), types.end());
    for (IncidentType type : kAllIncidentTypes) {
      INFO("type " << ApiName(type));
      CHECK(seen.count(std::string(ApiName(type))) == 1);
      CHECK(QueryInt(db->get(), "SELECT COUNT(*) FROM incidents WHERE type='" +
                                    std::string(ApiName(type)) + "'") >= 3);
    }
    CHECK(QueryInt(db->get(), "SELECT COUNT(*) FROM incidents") == summary->incidents);
    int64_t oldest = QueryInt(db->get(), "SELECT MIN(created) FROM incidents");
    int64_t newest = QueryInt(db->get(), "SELECT MAX(created) FROM incidents");
    // Within the default retention, so the first start keeps every one.
    CHECK(oldest > kNow - kYear);
    CHECK(oldest < kNow - 300 * kSecondsPerDay);
    CHECK(newest <= kNow);
    CHECK(newest > kNow - 14 * kSecondsPerDay);
    // Incidents fall in at least ten different months.
    CHECK(QueryInt(db->get(),
                   "SELECT COUNT(DISTINCT strftime('%Y-%m', created, 'unixepoch'))"
                   " FROM incidents") >= 10);
  }

  SUBCASE("incident counts match their rows") {
    CHECK(QueryInt(db->get(),
                   "SELECT COUNT(*) FROM incidents i WHERE"
                   " identified != (SELECT COUNT(*) FROM incident_messages WHERE incident=i.id)"
                   " OR removed != (SELECT COUNT(*) FROM incident_messages"
                   "   WHERE incident=i.id AND status='removed')"
                   " OR failed != (SELECT COUNT(*) FROM incident_messages"
                   "   WHERE incident=i.id AND status='failed')"
                   " OR restored != (SELECT COUNT(*) FROM incident_messages"
                   "   WHERE incident=i.id AND status='restored')") == 0);
    CHECK(QueryInt(db->get(),
                   "SELECT COUNT(*) FROM incident_messages WHERE failure="
                   "'No connections are configured for the mailbox.'") > 0);
    CHECK(QueryInt(db->get(),
                   "SELECT COUNT(*) FROM incident_messages WHERE failure="
                   "'Message was not found in mailbox.'") > 0);
    CHECK(QueryInt(db->get(), "SELECT COUNT(*) FROM journal WHERE state='done'") > 0);
    CHECK(QueryInt(db->get(), "SELECT COUNT(*) FROM journal WHERE state='intent'") == 0);
    // Each restore names an older incident whose restored rows it shares.
    CHECK(QueryInt(db->get(),
                   "SELECT COUNT(*) FROM incidents WHERE type='restore' AND restores=''") == 0);
    CHECK(QueryInt(db->get(),
                   "SELECT COUNT(*) FROM incident_messages r JOIN incident_messages o"
                   " ON o.id=r.source_row WHERE r.status='restored' AND o.status!='restored'") ==
          0);
    CHECK(QueryInt(db->get(), "SELECT COUNT(*) FROM incidents WHERE modified < created") == 0);
  }

  SUBCASE("second run changes nothing") {
    std::map<std::string, std::string> files_before = FolderDigest(org.root());
    const char* kTables[] = {"incidents", "incident_messages", "journal",
                             "messages",  "attachments",       "settings"};
    std::map<std::string, int64_t> rows_before;
    for (const char* table : kTables) {
      rows_before[table] = QueryInt(db->get(), std::string("SELECT COUNT(*) FROM ") + table);
    }
    int64_t change_before = QueryInt(db->get(), "SELECT value FROM counters WHERE name='change'");

    Result<bool> fresh_again = IsFreshDataFolder(config);
    REQUIRE(fresh_again.ok());
    CHECK_FALSE(*fresh_again);
    Result<DemoSummary> again = CreateDemoOrganisation(config, DemoOptions(), kNow + 3600);
    REQUIRE(again.ok());
    CHECK_FALSE(again->created);

    CHECK(FolderDigest(org.root()) == files_before);
    for (const char* table : kTables) {
      INFO("table " << table);
      CHECK(QueryInt(db->get(), std::string("SELECT COUNT(*) FROM ") + table) ==
            rows_before[table]);
    }
    CHECK(QueryInt(db->get(), "SELECT value FROM counters WHERE name='change'") == change_before);
  }
}

TEST_CASE("demo rejects an unreadable eml folder") {
  MaildirOrg org;
  ServerConfig config = DefaultConfig(org.root() + "/data");
  DemoOptions options;
  options.eml_dir = org.root() + "/no-such-folder";
  Result<DemoSummary> summary = CreateDemoOrganisation(config, options, kNow);
  REQUIRE_FALSE(summary.ok());
  CHECK(summary.status().code() == StatusCode::kInvalidArgument);
  CHECK(summary.status().message().find(options.eml_dir) != std::string::npos);
  // Nothing was written.
  CHECK_FALSE(fs::exists(config.data_dir));

  fs::create_directories(options.eml_dir);
  std::ofstream(options.eml_dir + "/notes.txt") << "not a message";
  summary = CreateDemoOrganisation(config, options, kNow);
  REQUIRE_FALSE(summary.ok());
  CHECK(summary.status().message().find("no .eml file") != std::string::npos);
  CHECK_FALSE(fs::exists(config.data_dir));
}

TEST_CASE("demo reports an unwritable data folder") {
  MaildirOrg org;
  std::string blocker = org.root() + "/a-file";
  std::ofstream(blocker) << "a file where the data folder should be";
  ServerConfig config = DefaultConfig(blocker + "/data");
  Result<DemoSummary> summary = CreateDemoOrganisation(config, DemoOptions(), kNow);
  REQUIRE_FALSE(summary.ok());
  CHECK(summary.status().code() == StatusCode::kUnavailable);
  CHECK(summary.status().message().find(config.data_dir) != std::string::npos);
  CHECK(summary.status().message().find("--data-dir") != std::string::npos);
}

TEST_CASE("demo needs the demo domains") {
  MaildirOrg org;
  ServerConfig config = DefaultConfig(org.root());
  config.connections.front().domains = {"example.com"};
  Result<DemoSummary> summary = CreateDemoOrganisation(config, DemoOptions(), kNow);
  REQUIRE_FALSE(summary.ok());
  CHECK(summary.status().field() == "config");
  CHECK(summary.status().message().find("--data-dir") != std::string::npos);
}

TEST_CASE("data folder with mailboxes is not fresh") {
  MaildirOrg org;
  ServerConfig config = DefaultConfig(org.root());
  Result<bool> empty = IsFreshDataFolder(config);
  REQUIRE(empty.ok());
  CHECK(*empty);
  org.AddUser("own.user", "example.com");
  Result<bool> with_mail = IsFreshDataFolder(config);
  REQUIRE(with_mail.ok());
  CHECK_FALSE(*with_mail);
}
