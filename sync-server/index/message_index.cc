#include "sync-server/index/message_index.h"

#include <algorithm>
#include <memory>

#include "shared/message_id.h"
#include "sync-server/mail/hashing.h"
#include "sync-server/mail/mime_parser.h"

namespace reclaim {
namespace {

constexpr const char* kSelectColumns =
    "SELECT m.id, m.connection, m.mailbox, m.folder, m.uid_validity, m.uid, m.file, m.flags,"
    " COALESCE(m.message_id, ''), COALESCE(m.synthetic_key, ''), m.sender, m.subject, m.date,"
    " m.size, m.raw_sha256, m.present, m.delivered FROM messages m";

std::string_view OriginName(AttachmentOrigin origin) {
  switch (origin) {
    case AttachmentOrigin::kMimePart:
      return "mime";
    case AttachmentOrigin::kUuencodedInBody:
      return "uuencode";
    case AttachmentOrigin::kEmbeddedMessage:
      return "message";
  }
  return "mime";
}

AttachmentOrigin OriginFromName(std::string_view name) {
  if (name == "uuencode") return AttachmentOrigin::kUuencodedInBody;
  if (name == "message") return AttachmentOrigin::kEmbeddedMessage;
  return AttachmentOrigin::kMimePart;
}

// The MessageIdKey of an id stored in normalised form.
std::string KeyOf(const std::string& id) {
  Result<MessageId> parsed = NormalizeMessageId(id);
  return parsed.ok() ? MessageIdKey(*parsed) : id;
}

// Returns Sha256Hex(raw). A message without a usable Message-ID has the
// digest in its synthetic key ("sha256:<hex>", see parsed_message.h), so
// it is taken from there instead of hashing the message a second time.
std::string RawSha256(const ParsedMessage& parsed, std::string_view raw) {
  constexpr std::string_view kPrefix = "sha256:";
  const std::string_view key = parsed.synthetic_key;
  if (key.size() > kPrefix.size() && key.substr(0, kPrefix.size()) == kPrefix)
    return std::string(key.substr(kPrefix.size()));
  return Sha256Hex(raw);
}

std::string JoinWarnings(const std::vector<std::string>& warnings) {
  std::string out;
  for (const std::string& warning : warnings) {
    if (!out.empty()) out += "\n";
    out += warning;
  }
  return out;
}

}  // namespace

std::string MessageIndex::LocationKey(const StoredLocation& location) {
  if (!location.file.empty()) return location.file;
  return std::to_string(location.uid_validity) + ":" + std::to_string(location.uid);
}

Result<int64_t> MessageIndex::Record(const std::string& connection, const std::string& mailbox,
                                     const StoredLocation& location, const ParsedMessage& message,
                                     const std::string& raw_sha256, UnixSeconds now) {
  Database::Transaction transaction(db_);
  if (!transaction.status().ok()) return transaction.status();

  // Replace any earlier record of this location with the new parse.
  Result<Statement> remove = db_->Prepare(
      "DELETE FROM messages WHERE connection=?1 AND mailbox=?2 AND folder=?3 AND"
      " uid_validity=?4 AND uid=?5 AND file=?6");
  if (!remove.ok()) return remove.status();
  remove->Bind(1, connection).Bind(2, mailbox).Bind(3, location.folder);
  remove->Bind(4, int64_t{location.uid_validity}).Bind(5, int64_t{location.uid}).Bind(6, location.file);
  if (Status s = remove->Run(); !s.ok()) return s;

  Result<Statement> insert = db_->Prepare(
      "INSERT INTO messages(connection, mailbox, folder, uid_validity, uid, file, flags,"
      " message_id, message_id_malformed, synthetic_key, sender, subject, date, size,"
      " raw_sha256, warnings, indexed_at, present, delivered)"
      " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,1,?18)");
  if (!insert.ok()) return insert.status();
  Statement& row = *insert;
  row.Bind(1, connection).Bind(2, mailbox).Bind(3, location.folder);
  row.Bind(4, int64_t{location.uid_validity}).Bind(5, int64_t{location.uid});
  row.Bind(6, location.file).Bind(7, location.flags);
  row.BindOptional(8, message.message_id).Bind(9, int64_t{message.message_id_malformed});
  row.BindOptional(10, message.synthetic_key).Bind(11, message.sender).Bind(12, message.subject);
  row.Bind(13, message.date).Bind(14, static_cast<int64_t>(message.size)).Bind(15, raw_sha256);
  row.Bind(16, JoinWarnings(message.warnings)).Bind(17, now);
  UnixSeconds delivered = location.delivered != 0 ? location.delivered
                          : message.date != 0     ? message.date
                                                  : now;
  row.Bind(18, delivered);
  if (Status s = row.Run(); !s.ok()) return s;
  int64_t id = db_->LastInsertId();

  // Lookup keys: primary id (or the synthetic key), aliases, embedded ids.
  Result<Statement> key = db_->Prepare("INSERT INTO message_keys(message, key, kind) VALUES(?,?,?)");
  if (!key.ok()) return key.status();
  auto add_key = [&](const std::string& value, std::string_view kind) {
    return key->Bind(1, id).Bind(2, value).Bind(3, kind).Run();
  };
  Status s = message.message_id.empty() ? add_key(message.synthetic_key, "synthetic")
                                        : add_key(KeyOf(message.message_id), "primary");
  for (const std::string& alias : message.alias_ids) {
    if (s.ok()) s = add_key(KeyOf(alias), "alias");
  }
  for (const std::string& contained : message.contained_ids) {
    if (s.ok()) s = add_key(KeyOf(contained), "contained");
  }
  if (!s.ok()) return s;

  Result<Statement> recipient =
      db_->Prepare("INSERT INTO message_recipients(message, address) VALUES(?,?)");
  if (!recipient.ok()) return recipient.status();
  for (const std::string& address : message.recipients) {
    if (Status r = recipient->Bind(1, id).Bind(2, address).Run(); !r.ok()) return r;
  }

  Result<Statement> attachment = db_->Prepare(
      "INSERT INTO attachments(message, filename, content_type, size, sha256, md5, depth, origin,"
      " undecodable) VALUES(?,?,?,?,?,?,?,?,?)");
  if (!attachment.ok()) return attachment.status();
  for (const Attachment& a : message.attachments) {
    Statement& st = *attachment;
    st.Bind(1, id).Bind(2, a.filename).Bind(3, a.content_type).Bind(4, static_cast<int64_t>(a.size));
    st.Bind(5, a.sha256).Bind(6, a.md5).Bind(7, int64_t{a.depth}).Bind(8, OriginName(a.origin));
    st.Bind(9, int64_t{a.undecodable});
    if (Status r = st.Run(); !r.ok()) return r;
  }

  if (Status c = transaction.Commit(); !c.ok()) return c;
  return id;
}

Status MessageIndex::MarkAbsent(int64_t id) {
  Result<Statement> st = db_->Prepare("UPDATE messages SET present=0 WHERE id=?");
  if (!st.ok()) return st.status();
  return st->Bind(1, id).Run();
}

Status MessageIndex::Relocate(int64_t id, const StoredLocation& location) {
  Result<Statement> st = db_->Prepare(
      "UPDATE messages SET folder=?2, uid_validity=?3, uid=?4, file=?5, flags=?6, present=1"
      " WHERE id=?1");
  if (!st.ok()) return st.status();
  st->Bind(1, id).Bind(2, location.folder).Bind(3, int64_t{location.uid_validity});
  st->Bind(4, int64_t{location.uid}).Bind(5, location.file).Bind(6, location.flags);
  return st->Run();
}

Result<std::vector<IndexedMessage>> MessageIndex::Load(Statement& rows) {
  std::vector<IndexedMessage> out;
  while (rows.Step()) {
    IndexedMessage m;
    m.id = rows.Int(0);
    m.connection = rows.Text(1);
    m.mailbox = rows.Text(2);
    m.location.folder = rows.Text(3);
    m.location.uid_validity = static_cast<uint32_t>(rows.Int(4));
    m.location.uid = static_cast<uint32_t>(rows.Int(5));
    m.location.file = rows.Text(6);
    m.location.flags = rows.Text(7);
    m.message_id = rows.Text(8);
    m.synthetic_key = rows.Text(9);
    m.sender = rows.Text(10);
    m.subject = rows.Text(11);
    m.date = rows.Int(12);
    m.size = static_cast<uint64_t>(rows.Int(13));
    m.raw_sha256 = rows.Text(14);
    m.present = rows.Int(15) != 0;
    m.delivered = rows.Int(16);
    out.push_back(std::move(m));
  }
  if (!rows.status().ok()) return rows.status();

  Result<Statement> recipients =
      db_->Prepare("SELECT address FROM message_recipients WHERE message=? ORDER BY rowid");
  if (!recipients.ok()) return recipients.status();
  for (IndexedMessage& m : out) {
    recipients->Bind(1, m.id);
    while (recipients->Step()) m.recipients.push_back(recipients->Text(0));
    recipients->Reset();
  }
  return out;
}

Result<IndexedMessage> MessageIndex::Get(int64_t id) {
  Result<Statement> st = db_->Prepare(std::string(kSelectColumns) + " WHERE m.id=?");
  if (!st.ok()) return st.status();
  st->Bind(1, id);
  Result<std::vector<IndexedMessage>> rows = Load(*st);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Status::NotFound("message", "no indexed message " + std::to_string(id));
  return std::move(rows->front());
}

Result<std::vector<Attachment>> MessageIndex::Attachments(int64_t id) {
  Result<Statement> st = db_->Prepare(
      "SELECT filename, content_type, size, sha256, md5, depth, origin, undecodable"
      " FROM attachments WHERE message=? ORDER BY rowid");
  if (!st.ok()) return st.status();
  st->Bind(1, id);
  std::vector<Attachment> out;
  while (st->Step()) {
    Attachment a;
    a.filename = st->Text(0);
    a.content_type = st->Text(1);
    a.size = static_cast<uint64_t>(st->Int(2));
    a.sha256 = st->Text(3);
    a.md5 = st->Text(4);
    a.depth = static_cast<int>(st->Int(5));
    a.origin = OriginFromName(st->Text(6));
    a.undecodable = st->Int(7) != 0;
    out.push_back(std::move(a));
  }
  if (!st->status().ok()) return st->status();
  return out;
}

Result<std::vector<IndexedMessage>> MessageIndex::FindByMessageKey(const std::string& key) {
  Result<Statement> st = db_->Prepare(
      std::string(kSelectColumns) +
      " WHERE m.present=1 AND m.id IN (SELECT message FROM message_keys WHERE key=?)"
      " ORDER BY m.mailbox, m.id");
  if (!st.ok()) return st.status();
  st->Bind(1, key);
  return Load(*st);
}

Result<std::vector<IndexedMessage>> MessageIndex::FindByAttachmentHash(const std::string& digest) {
  const char* column = digest.size() == 32 ? "md5" : "sha256";
  Result<Statement> st = db_->Prepare(
      std::string(kSelectColumns) + " WHERE m.present=1 AND m.id IN (SELECT message FROM" +
      " attachments WHERE " + column + "=?) ORDER BY m.mailbox, m.id");
  if (!st.ok()) return st.status();
  st->Bind(1, digest);
  return Load(*st);
}

Result<std::map<std::string, int64_t>> MessageIndex::KnownLocations(const std::string& connection,
                                                                    const std::string& mailbox,
                                                                    const std::string& folder) {
  Result<Statement> st = db_->Prepare(
      "SELECT id, uid_validity, uid, file FROM messages WHERE connection=? AND mailbox=? AND"
      " folder=? AND present=1");
  if (!st.ok()) return st.status();
  st->Bind(1, connection).Bind(2, mailbox).Bind(3, folder);
  std::map<std::string, int64_t> known;
  while (st->Step()) {
    StoredLocation location;
    location.uid_validity = static_cast<uint32_t>(st->Int(1));
    location.uid = static_cast<uint32_t>(st->Int(2));
    location.file = st->Text(3);
    known[LocationKey(location)] = st->Int(0);
  }
  if (!st->status().ok()) return st->status();
  return known;
}

Result<std::string> MessageIndex::StoredFolderVersion(const std::string& connection,
                                                      const std::string& mailbox,
                                                      const std::string& folder) {
  Result<Statement> st = db_->Prepare(
      "SELECT version FROM folder_versions WHERE connection=? AND mailbox=? AND folder=?");
  if (!st.ok()) return st.status();
  st->Bind(1, connection).Bind(2, mailbox).Bind(3, folder);
  std::string version;
  if (st->Step()) version = st->Text(0);
  if (!st->status().ok()) return st->status();
  return version;
}

Status MessageIndex::StoreFolderVersion(const std::string& connection, const std::string& mailbox,
                                        const std::string& folder, const std::string& version) {
  Result<Statement> st = db_->Prepare(
      "INSERT INTO folder_versions(connection, mailbox, folder, version) VALUES(?,?,?,?)"
      " ON CONFLICT(connection, mailbox, folder) DO UPDATE SET version=excluded.version");
  if (!st.ok()) return st.status();
  return st->Bind(1, connection).Bind(2, mailbox).Bind(3, folder).Bind(4, version).Run();
}

Result<int> MessageIndex::MarkOtherFoldersAbsent(const std::string& connection,
                                                 const std::string& mailbox,
                                                 const std::vector<std::string>& folders) {
  // The listed folders go into a temporary table, so that any number of
  // them fits one statement.
  if (Status s = db_->Exec("CREATE TEMP TABLE IF NOT EXISTS listed_folders(name TEXT PRIMARY KEY);"
                           "DELETE FROM listed_folders");
      !s.ok()) {
    return s;
  }
  Result<Statement> insert = db_->Prepare("INSERT OR IGNORE INTO listed_folders(name) VALUES(?)");
  if (!insert.ok()) return insert.status();
  for (const std::string& folder : folders) {
    insert->Reset();
    if (Status s = insert->Bind(1, folder).Run(); !s.ok()) return s;
  }
  Result<Statement> mark = db_->Prepare(
      "UPDATE messages SET present=0 WHERE connection=? AND mailbox=? AND present=1"
      " AND folder NOT IN (SELECT name FROM listed_folders)");
  if (!mark.ok()) return mark.status();
  if (Status s = mark->Bind(1, connection).Bind(2, mailbox).Run(); !s.ok()) return s;
  const int marked = db_->Changes();
  Result<Statement> forget = db_->Prepare(
      "DELETE FROM folder_versions WHERE connection=? AND mailbox=?"
      " AND folder NOT IN (SELECT name FROM listed_folders)");
  if (!forget.ok()) return forget.status();
  if (Status s = forget->Bind(1, connection).Bind(2, mailbox).Run(); !s.ok()) return s;
  return marked;
}

Status IndexMailbox(Connector& connector, const std::string& address, MessageIndex* index,
                    UnixSeconds now, IndexStats* stats) {
  Result<std::unique_ptr<MailboxSession>> session = connector.Open(address);
  if (!session.ok()) return session.status();
  Result<std::vector<std::string>> folders = (*session)->ListFolders();
  if (!folders.ok()) return folders.status();
  ++stats->mailboxes;

  // One buffer for every message read, so that its capacity is reused.
  std::string raw;
  ParseOptions parse_options;
  parse_options.text_body = false;  // the index does not store it
  for (const std::string& folder : *folders) {
    // The version is read before the listing, so a message that arrives
    // while the folder is read changes it for the next pass. A connector
    // that cannot tell returns empty, and the folder is listed.
    Result<std::string> version = (*session)->FolderVersion(folder);
    if (version.ok() && !version->empty()) {
      Result<std::string> stored = index->StoredFolderVersion(connector.name(), address, folder);
      if (!stored.ok()) return stored.status();
      if (*stored == *version) {
        ++stats->unchanged;
        continue;
      }
    }
    const int failed_before = stats->failed;
    Result<std::vector<StoredLocation>> listed = (*session)->ListMessages(folder);
    if (!listed.ok()) return listed.status();
    Result<std::map<std::string, int64_t>> known =
        index->KnownLocations(connector.name(), address, folder);
    if (!known.ok()) return known.status();

    // New locations are read and parsed; seen ones are left alone. Records
    // are committed in batches, because one commit per message would spend
    // most of the time waiting for the disk.
    std::vector<StoredLocation> fresh;
    for (const StoredLocation& location : *listed) {
      if (known->erase(MessageIndex::LocationKey(location)) == 0) fresh.push_back(location);
    }
    constexpr int kBatch = 500;
    int in_batch = 0;
    std::unique_ptr<Database::Transaction> batch;
    Status recorded;
    const auto ingest = [&](const StoredLocation& location, const Status& read,
                            const std::string& content) {
      if (!recorded.ok()) return;
      if (!read.ok()) {
        ++stats->failed;
        stats->errors.push_back(address + " " + folder + " " +
                                MessageIndex::LocationKey(location) + ": " + read.message());
        return;
      }
      ParsedMessage parsed = ParseMessage(content, parse_options);
      if (!batch) batch = std::make_unique<Database::Transaction>(index->database());
      Result<int64_t> id = index->Record(connector.name(), address, location, parsed,
                                         RawSha256(parsed, content), now);
      if (!id.ok()) {
        recorded = id.status();
        return;
      }
      ++stats->added;
      if (++in_batch == kBatch) {
        recorded = batch->Commit();
        batch.reset();
        in_batch = 0;
      }
    };
    if ((*session)->FetchesInBatches()) {
      // A few hundred messages per request bound the memory in flight.
      constexpr size_t kPerFetch = 256;
      for (size_t start = 0; start < fresh.size() && recorded.ok(); start += kPerFetch) {
        const std::vector<StoredLocation> part(
            fresh.begin() + static_cast<std::ptrdiff_t>(start),
            fresh.begin() + static_cast<std::ptrdiff_t>(std::min(fresh.size(), start + kPerFetch)));
        (*session)->FetchEach(part, [&](size_t i, Result<std::string> message) {
          const std::string empty;
          ingest(part[i], message.status(), message.ok() ? *message : empty);
        });
      }
    } else {
      for (const StoredLocation& location : fresh) {
        Status read = (*session)->FetchInto(location, &raw);
        ingest(location, read, raw);
        if (!recorded.ok()) break;
      }
    }
    if (!recorded.ok()) return recorded;
    if (batch) {
      if (Status s = batch->Commit(); !s.ok()) return s;
    }

    // What is left in `known` was indexed before and is no longer listed.
    for (const auto& [key, id] : *known) {
      if (Status s = index->MarkAbsent(id); !s.ok()) return s;
      ++stats->gone;
    }
    // A folder with a message that could not be read is listed again next
    // time, so the read is retried.
    if (version.ok() && !version->empty() && stats->failed == failed_before) {
      if (Status s = index->StoreFolderVersion(connector.name(), address, folder, *version);
          !s.ok()) {
        return s;
      }
    }
  }

  Result<int> vanished = index->MarkOtherFoldersAbsent(connector.name(), address, *folders);
  if (!vanished.ok()) return vanished.status();
  stats->gone += *vanished;
  return Status::Ok();
}

IndexStats IndexConnector(Connector& connector, MessageIndex* index, UnixSeconds now) {
  IndexStats stats;
  Result<std::vector<std::string>> mailboxes = connector.ListMailboxes();
  if (!mailboxes.ok()) {
    stats.errors.push_back(connector.name() + ": " + mailboxes.status().message());
    return stats;
  }
  for (const std::string& address : *mailboxes) {
    if (Status s = IndexMailbox(connector, address, index, now, &stats); !s.ok()) {
      stats.errors.push_back(address + ": " + s.message());
    }
  }
  return stats;
}

}  // namespace reclaim
