// The database schema and its migrations, applied in order by user_version.
#include <iterator>
#include <string>

#include "sync-server/store/database.h"

namespace reclaim {
namespace {

// Each entry upgrades the schema by one version. Never edit a released
// entry; append a new one.
constexpr const char* kMigrations[] = {
    // Version 1: index, incidents, journal, sync bookkeeping.
    R"sql(
CREATE TABLE settings(
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL);

CREATE TABLE counters(
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL);

-- One row per copy seen in a mailbox, keyed by its location.
CREATE TABLE messages(
  id INTEGER PRIMARY KEY,
  connection TEXT NOT NULL,
  mailbox TEXT NOT NULL,
  folder TEXT NOT NULL,
  uid_validity INTEGER NOT NULL DEFAULT 0,
  uid INTEGER NOT NULL DEFAULT 0,
  file TEXT NOT NULL DEFAULT '',
  flags TEXT NOT NULL DEFAULT '',
  message_id TEXT,
  message_id_malformed INTEGER NOT NULL DEFAULT 0,
  synthetic_key TEXT,
  sender TEXT NOT NULL DEFAULT '',
  subject TEXT NOT NULL DEFAULT '',
  date INTEGER NOT NULL DEFAULT 0,
  delivered INTEGER NOT NULL DEFAULT 0,
  size INTEGER NOT NULL DEFAULT 0,
  raw_sha256 TEXT NOT NULL,
  warnings TEXT NOT NULL DEFAULT '',
  indexed_at INTEGER NOT NULL,
  present INTEGER NOT NULL DEFAULT 1,
  UNIQUE(connection, mailbox, folder, uid_validity, uid, file));
CREATE INDEX messages_mailbox ON messages(connection, mailbox, folder);

-- Lookup keys of a message: its Message-ID, aliases and the ids of
-- messages embedded in it, each in MessageIdKey form.
CREATE TABLE message_keys(
  message INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  kind TEXT NOT NULL);
CREATE INDEX message_keys_key ON message_keys(key);
CREATE INDEX message_keys_message ON message_keys(message);

CREATE TABLE message_recipients(
  message INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  address TEXT NOT NULL);
CREATE INDEX message_recipients_message ON message_recipients(message);

CREATE TABLE attachments(
  message INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  filename TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  md5 TEXT NOT NULL,
  depth INTEGER NOT NULL,
  origin TEXT NOT NULL,
  undecodable INTEGER NOT NULL DEFAULT 0);
CREATE INDEX attachments_sha256 ON attachments(sha256);
CREATE INDEX attachments_md5 ON attachments(md5);
CREATE INDEX attachments_message ON attachments(message);

CREATE TABLE incidents(
  id TEXT PRIMARY KEY,
  sequence INTEGER NOT NULL UNIQUE,
  type TEXT NOT NULL,
  created INTEGER NOT NULL,
  modified INTEGER NOT NULL,
  reason TEXT NOT NULL,
  identifier TEXT NOT NULL,
  criteria_from TEXT NOT NULL DEFAULT '',
  criteria_to TEXT NOT NULL DEFAULT '',
  window_start INTEGER NOT NULL,
  window_end INTEGER NOT NULL,
  identified INTEGER NOT NULL DEFAULT 0,
  removed INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0,
  restored INTEGER NOT NULL DEFAULT 0,
  restores TEXT NOT NULL DEFAULT '',
  change INTEGER NOT NULL);
CREATE INDEX incidents_change ON incidents(change);
CREATE INDEX incidents_created ON incidents(created);

-- One row per recipient copy an incident acts on.
CREATE TABLE incident_messages(
  id INTEGER PRIMARY KEY,
  incident TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
  message INTEGER REFERENCES messages(id) ON DELETE SET NULL,
  recipient TEXT NOT NULL DEFAULT '',
  sender TEXT NOT NULL DEFAULT '',
  subject TEXT NOT NULL DEFAULT '',
  delivered INTEGER NOT NULL DEFAULT 0,
  connection TEXT NOT NULL DEFAULT '',
  mailbox TEXT NOT NULL DEFAULT '',
  folder TEXT NOT NULL DEFAULT '',
  moved_to TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  failure TEXT NOT NULL DEFAULT '',
  last_action INTEGER NOT NULL DEFAULT 0,
  loc_folder TEXT NOT NULL DEFAULT '',
  loc_uid_validity INTEGER NOT NULL DEFAULT 0,
  loc_uid INTEGER NOT NULL DEFAULT 0,
  loc_file TEXT NOT NULL DEFAULT '',
  loc_flags TEXT NOT NULL DEFAULT '',
  message_key TEXT NOT NULL DEFAULT '',
  raw_sha256 TEXT NOT NULL DEFAULT '',
  source_row INTEGER);
CREATE INDEX incident_messages_incident ON incident_messages(incident);
CREATE INDEX incident_messages_message ON incident_messages(message);

-- Intent of every move, written before the mailbox is touched and settled
-- after, so a restart can finish or undo each step.
CREATE TABLE journal(
  id INTEGER PRIMARY KEY,
  row INTEGER NOT NULL REFERENCES incident_messages(id) ON DELETE CASCADE,
  action TEXT NOT NULL,
  state TEXT NOT NULL,
  tag TEXT NOT NULL,
  from_folder TEXT NOT NULL,
  from_uid_validity INTEGER NOT NULL,
  from_uid INTEGER NOT NULL,
  from_file TEXT NOT NULL,
  to_folder TEXT NOT NULL,
  created INTEGER NOT NULL,
  finished INTEGER NOT NULL DEFAULT 0);
CREATE INDEX journal_state ON journal(state);

CREATE TABLE purged(
  code TEXT NOT NULL,
  change INTEGER NOT NULL);
CREATE INDEX purged_change ON purged(change);
)sql",
    // Version 2: API tokens, the audit log and server settings changed at
    // run time.
    R"sql(
CREATE TABLE tokens(
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created INTEGER NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0);

CREATE TABLE audit(
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  token TEXT NOT NULL,
  token_name TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  detail TEXT NOT NULL,
  remote TEXT NOT NULL);
)sql",
    // Version 3: what each folder looked like at its last complete index
    // pass (MailboxSession::FolderVersion), so unchanged folders are skipped.
    R"sql(
CREATE TABLE folder_versions(
  connection TEXT NOT NULL,
  mailbox TEXT NOT NULL,
  folder TEXT NOT NULL,
  version TEXT NOT NULL,
  PRIMARY KEY(connection, mailbox, folder));
)sql",
};

}  // namespace

Status ApplySchema(Database* db) {
  Result<Statement> version = db->Prepare("PRAGMA user_version");
  if (!version.ok()) return version.status();
  Statement& query = version.value();
  int64_t current = query.Step() ? query.Int(0) : 0;
  const int64_t latest = static_cast<int64_t>(std::size(kMigrations));
  if (current > latest) {
    return Status::Internal("database '" + db->path() + "' has schema version " +
                            std::to_string(current) + ", newer than this server's " +
                            std::to_string(latest) + ": run a newer Reclaim server");
  }
  for (int64_t v = current; v < latest; ++v) {
    Database::Transaction transaction(db);
    if (!transaction.status().ok()) return transaction.status();
    if (Status s = db->Exec(kMigrations[v]); !s.ok()) return s;
    if (Status s = db->Exec("PRAGMA user_version=" + std::to_string(v + 1)); !s.ok()) return s;
    if (Status s = transaction.Commit(); !s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace reclaim
