#include "sync-server/demo/demo.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "sync-server/demo/demo_history.h"
#include "sync-server/demo/demo_mail.h"
#include "sync-server/index/message_index.h"
#include "sync-server/mail/mime_parser.h"
#include "sync-server/mailbox/connector_registry.h"
#include "sync-server/store/incident_repository.h"

namespace reclaim {
namespace {

namespace fs = std::filesystem;

const ConnectionConfig* DemoConnection(const ServerConfig& config) {
  for (const ConnectionConfig& connection : config.connections) {
    if (connection.kind != ConnectionKind::kMaildir)
      continue;
    const std::vector<std::string>& domains = connection.domains;
    if (std::count(domains.begin(), domains.end(), "example.com") == 1 &&
        std::count(domains.begin(), domains.end(), "example.org") == 1) {
      return &connection;
    }
  }
  return nullptr;
}

Status NotWritable(const std::string& path, const std::error_code& error) {
  return Status::Unavailable("cannot write '" + path + "': " + error.message() +
                             ": give a writable data folder with --data-dir, or fix the"
                             " folder's owner and permissions");
}

Result<std::string> ReadMarker(Database* db) {
  Result<Statement> st = db->Prepare("SELECT value FROM settings WHERE key=?");
  if (!st.ok())
    return st.status();
  st->Bind(1, std::string_view(kDemoSettingKey));
  std::string value = st->Step() ? st->Text(0) : std::string();
  if (!st->status().ok())
    return st->status();
  return value;
}

Result<int64_t> CountRows(Database* db, const char* sql) {
  Result<Statement> st = db->Prepare(sql);
  if (!st.ok())
    return st.status();
  int64_t count = st->Step() ? st->Int(0) : 0;
  if (!st->status().ok())
    return st->status();
  return count;
}

// True when some `<root>/<domain>/<user>/cur` exists.
bool HasMailbox(const std::string& root) {
  std::error_code error;
  for (fs::directory_iterator domain(root, error), end; !error && domain != end;
       domain.increment(error)) {
    std::error_code inner;
    for (fs::directory_iterator user(domain->path(), inner); !inner && user != end;
         user.increment(inner)) {
      if (fs::is_directory(user->path() / "cur", inner))
        return true;
    }
  }
  return false;
}

// Delivers copies into Maildir folders as a delivery agent does: the file
// is written in tmp/ and renamed into new/ (unread) or cur/ (with flags).
// Names are `reclaim-demo.<seed>.<n>,S=<size>`, so a rerun after a failed
// run skips the copies it already delivered.
class Deliverer {
 public:
  Deliverer(std::string root, uint64_t seed) : root_(std::move(root)), seed_(seed) {}

  Status CreateMailbox(const std::string& address) { return CreateFolder(MailboxDir(address)); }

  Status Deliver(const demo::Copy& copy, const std::string& raw) {
    std::string dir = MailboxDir(copy.mailbox);
    if (copy.folder != "INBOX") {
      dir += "/." + copy.folder;
      if (Status s = CreateFolder(dir); !s.ok())
        return s;
      std::ofstream(dir + "/maildirfolder").flush();
    }
    std::string unique = "reclaim-demo." + std::to_string(seed_) + "." + std::to_string(++count_);
    if (Delivered(dir).count(unique) != 0)
      return Status::Ok();

    std::string content = copy.headers + raw;
    std::string base = unique + ",S=" + std::to_string(content.size());
    std::string tmp = dir + "/tmp/" + base;
    std::string target =
        copy.flags.empty() ? dir + "/new/" + base : dir + "/cur/" + base + ":2," + copy.flags;
    {
      std::ofstream out(tmp, std::ios::binary);
      out << content;
      out.close();
      if (!out)
        return NotWritable(tmp, std::make_error_code(std::errc::io_error));
    }
    std::error_code error;
    fs::rename(tmp, target, error);
    if (error)
      return NotWritable(target, error);
    ++written_;
    return Status::Ok();
  }

  int written() const { return written_; }

 private:
  std::string MailboxDir(const std::string& address) const {
    size_t at = address.find('@');
    return root_ + "/" + address.substr(at + 1) + "/" + address.substr(0, at);
  }

  static Status CreateFolder(const std::string& dir) {
    for (const char* sub : {"cur", "new", "tmp"}) {
      std::error_code error;
      fs::create_directories(dir + "/" + sub, error);
      if (error)
        return NotWritable(dir + "/" + sub, error);
    }
    return Status::Ok();
  }

  // The unique parts of the demo files already in `dir`'s new/ and cur/.
  const std::set<std::string>& Delivered(const std::string& dir) {
    auto [found, added] = delivered_.emplace(dir, std::set<std::string>());
    if (!added)
      return found->second;
    for (const char* sub : {"new", "cur"}) {
      std::error_code error;
      for (fs::directory_iterator it(dir + "/" + sub, error), end; !error && it != end;
           it.increment(error)) {
        std::string name = it->path().filename().string();
        if (name.rfind("reclaim-demo.", 0) == 0)
          found->second.insert(name.substr(0, name.find(',')));
      }
    }
    return found->second;
  }

  std::string root_;
  uint64_t seed_;
  int count_ = 0;
  int written_ = 0;
  std::map<std::string, std::set<std::string>> delivered_;
};

Result<int> IndexDemoMail(const ServerConfig& config, Database* db, UnixSeconds now) {
  ConnectorRegistry registry;
  if (Status s = BuildConnectors(config, &registry); !s.ok())
    return s;
  MessageIndex index(db);
  int added = 0;
  for (Connector* connector : registry.All()) {
    IndexStats stats = IndexConnector(*connector, &index, now);
    if (!stats.errors.empty()) {
      return Status::Internal("indexing the demo mailboxes of connection '" + connector->name() +
                              "' failed: " + stats.errors.front());
    }
    added += stats.added;
  }
  return added;
}

DemoThreat ThreatSummary(const demo::Message& message) {
  DemoThreat threat;
  threat.name = message.threat_name;
  threat.message_id = message.message_id;
  threat.attachment_sha256 = message.attachment_sha256;
  threat.unconnected_recipients = message.unconnected_recipients;
  for (const demo::Copy& copy : message.copies)
    threat.mailboxes.push_back(copy.mailbox);
  return threat;
}

}  // namespace

Result<bool> IsFreshDataFolder(const ServerConfig& config) {
  for (const ConnectionConfig& connection : config.connections) {
    if (connection.kind == ConnectionKind::kMaildir && HasMailbox(connection.root))
      return false;
  }
  std::string path = (fs::path(config.data_dir) / "reclaim.db").string();
  std::error_code error;
  if (!fs::exists(path, error))
    return true;
  Result<std::unique_ptr<Database>> db = Database::Open(path);
  if (!db.ok())
    return db.status();
  Result<std::string> marker = ReadMarker(db->get());
  if (!marker.ok())
    return marker.status();
  Result<int64_t> incidents = CountRows(db->get(), "SELECT COUNT(*) FROM incidents");
  if (!incidents.ok())
    return incidents.status();
  Result<int64_t> messages = CountRows(db->get(), "SELECT COUNT(*) FROM messages");
  if (!messages.ok())
    return messages.status();
  return marker->empty() && *incidents == 0 && *messages == 0;
}

Result<DemoSummary> CreateDemoOrganisation(const ServerConfig& config, const DemoOptions& options,
                                           UnixSeconds now) {
  auto started = std::chrono::steady_clock::now();
  const ConnectionConfig* connection = DemoConnection(config);
  if (connection == nullptr) {
    return Status::Invalid("config",
                           "the demo needs a Maildir connection for example.com and"
                           " example.org: start with --data-dir and no --config");
  }

  // Everything is generated before anything is written, so a bad .eml
  // folder leaves the data folder as it was.
  DemoSummary summary;
  InitMimeParser();
  std::mt19937_64 random(options.seed);
  std::vector<demo::Message> messages = demo::GenerateOrdinaryMail(random, now);
  summary.ordinary_messages = static_cast<int>(messages.size());
  std::vector<demo::Message> threats;
  if (options.eml_dir.empty()) {
    threats = demo::GenerateThreats(random, now);
  } else {
    Result<std::vector<demo::Message>> loaded = demo::LoadEmlThreats(options.eml_dir, options.seed);
    if (!loaded.ok())
      return loaded.status();
    threats = std::move(*loaded);
  }
  summary.threats = static_cast<int>(threats.size());
  for (const demo::Message& threat : threats)
    summary.threat_list.push_back(ThreatSummary(threat));
  messages.insert(messages.end(), threats.begin(), threats.end());

  std::error_code error;
  fs::create_directories(config.data_dir, error);
  if (error)
    return NotWritable(config.data_dir, error);
  std::string path = (fs::path(config.data_dir) / "reclaim.db").string();
  Result<std::unique_ptr<Database>> opened = Database::Open(path);
  if (!opened.ok())
    return opened.status();
  Database* db = opened->get();
  Result<std::string> marker = ReadMarker(db);
  if (!marker.ok())
    return marker.status();
  if (!marker->empty()) {
    spdlog::info("demo: already created at {}, nothing to do", *marker);
    return DemoSummary();
  }

  Deliverer deliverer(connection->root, options.seed);
  std::vector<std::string> users = demo::DemoUsers();
  for (const std::string& user : users) {
    if (Status s = deliverer.CreateMailbox(user); !s.ok())
      return s;
  }
  summary.users = static_cast<int>(users.size());
  for (const demo::Message& message : messages) {
    for (const demo::Copy& copy : message.copies) {
      if (Status s = deliverer.Deliver(copy, message.raw); !s.ok())
        return s;
    }
  }
  summary.delivered_copies = deliverer.written();

  Result<int> indexed = IndexDemoMail(config, db, now);
  if (!indexed.ok())
    return indexed.status();
  summary.indexed = *indexed;

  // The history and the marker commit together: a failed run leaves no
  // marker and no incidents, and the next run writes both.
  Database::Transaction transaction(db);
  if (!transaction.status().ok())
    return transaction.status();
  IncidentRepository repository(db, config.organisation, RandomId);
  demo::HistorySettings history;
  history.users = users;
  history.partners = demo::PartnerUsers();
  history.connection = connection->name;
  history.hold_folder = config.hold_folder;
  history.now = now;
  Result<int> incidents = demo::WriteHistory(&repository, random, history);
  if (!incidents.ok())
    return incidents.status();
  summary.incidents = *incidents;
  Result<Statement> mark = db->Prepare("INSERT INTO settings(key, value) VALUES(?, ?)");
  if (!mark.ok())
    return mark.status();
  mark->Bind(1, std::string_view(kDemoSettingKey)).Bind(2, FormatIso8601(now));
  if (Status s = mark->Run(); !s.ok())
    return s;
  if (Status s = transaction.Commit(); !s.ok())
    return s;

  summary.created = true;
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  spdlog::info(
      "demo: created {} users, {} ordinary messages, {} malicious messages, {} copies,"
      " {} indexed, {} incidents in {} ms",
      summary.users, summary.ordinary_messages, summary.threats, summary.delivered_copies,
      summary.indexed, summary.incidents, elapsed.count());
  return summary;
}

}  // namespace reclaim
