// The message index: every copy seen in every mailbox, with its lookup keys
// (Message-IDs), recipients and attachment hashes, stored in SQLite.
//
// A copy is keyed by its location (connection, mailbox, folder, IMAP
// UIDVALIDITY and UID or Maildir file), never by Message-ID: one message
// delivered to many users, or twice to one user, has many rows.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "shared/status.h"
#include "shared/time_util.h"
#include "sync-server/mail/parsed_message.h"
#include "sync-server/mailbox/connector.h"
#include "sync-server/store/database.h"

namespace reclaim {

struct IndexedMessage {
  int64_t id = 0;
  std::string connection;
  std::string mailbox;
  StoredLocation location;
  std::string message_id;  // normalised, empty when the message has none
  std::string synthetic_key;
  std::string sender;
  std::string subject;
  UnixSeconds date = 0;       // Date header
  UnixSeconds delivered = 0;  // store's delivery time, else the Date header, else indexing time
  uint64_t size = 0;
  std::string raw_sha256;
  std::vector<std::string> recipients;
  bool present = true;
};

class MessageIndex {
 public:
  // Uses `db` for every call; the caller keeps it alive. Not thread-safe.
  explicit MessageIndex(Database* db) : db_(db) {}

  // Stores a parsed copy at `location`, replacing what was stored for that
  // location. Returns the row id.
  Result<int64_t> Record(const std::string& connection, const std::string& mailbox,
                         const StoredLocation& location, const ParsedMessage& message,
                         const std::string& raw_sha256, UnixSeconds now);

  // Marks a copy as no longer at its location (deleted or moved by the user).
  Status MarkAbsent(int64_t id);

  // Points a row at its new location after Reclaim moved the copy.
  Status Relocate(int64_t id, const StoredLocation& location);

  Result<IndexedMessage> Get(int64_t id);

  // The attachments recorded for a copy, in the order the parser found them.
  Result<std::vector<Attachment>> Attachments(int64_t id);

  // Present copies whose Message-ID, alias or contained id has `key`
  // (MessageIdKey form), ordered by mailbox and row id.
  Result<std::vector<IndexedMessage>> FindByMessageKey(const std::string& key);

  // Present copies with an attachment of this SHA-256 (64 hex) or MD5 (32
  // hex) digest, lower case.
  Result<std::vector<IndexedMessage>> FindByAttachmentHash(const std::string& digest);

  // Row ids of the present copies in one folder, by Maildir file or IMAP UID
  // key ("uidvalidity:uid"), so a scan can skip what it has seen.
  Result<std::map<std::string, int64_t>> KnownLocations(const std::string& connection,
                                                        const std::string& mailbox,
                                                        const std::string& folder);

  // The FolderVersion() text stored after the folder's last complete pass,
  // or empty.
  Result<std::string> StoredFolderVersion(const std::string& connection,
                                          const std::string& mailbox, const std::string& folder);
  Status StoreFolderVersion(const std::string& connection, const std::string& mailbox,
                            const std::string& folder, const std::string& version);

  // Marks absent the present copies of a mailbox in folders other than
  // `folders` (folders deleted or renamed in the mailbox) and deletes the
  // stored versions of those folders. Returns how many copies it marked.
  Result<int> MarkOtherFoldersAbsent(const std::string& connection, const std::string& mailbox,
                                     const std::vector<std::string>& folders);

  // The key KnownLocations uses for a location.
  static std::string LocationKey(const StoredLocation& location);

  Database* database() const { return db_; }

 private:
  Result<std::vector<IndexedMessage>> Load(Statement& rows);
  Database* db_;
};

// Counts and errors of one indexing pass, for logs and tests.
struct IndexStats {
  int mailboxes = 0;
  int added = 0;
  int gone = 0;
  int failed = 0;     // messages that could not be read
  int unchanged = 0;  // folders skipped because their FolderVersion() had not changed
  std::vector<std::string> errors;
};

// Reads new mail from a connector's mailboxes into the index. Copies already
// indexed at the same location are not read again; copies no longer listed,
// or in folders that no longer exist, are marked absent. A folder whose
// FolderVersion() equals the one stored after its last complete pass is
// not listed at all.
Status IndexMailbox(Connector& connector, const std::string& address, MessageIndex* index,
                    UnixSeconds now, IndexStats* stats);
IndexStats IndexConnector(Connector& connector, MessageIndex* index, UnixSeconds now);

}  // namespace reclaim
