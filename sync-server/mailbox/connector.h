// Mailbox stores that Reclaim indexes and changes: the interface shared by
// the Maildir and IMAP connectors.
//
// A Connector serves the recipient domains of one connection. Open() gives a
// MailboxSession for one user's mailbox; every operation on a message names
// it by its StoredLocation, never by Message-ID, because several copies of
// one message can sit in one mailbox.
//
// Errors are Status values. Their codes carry meaning for the remediation
// engine:
//   kNotFound     the user or the message does not exist (any more)
//   kUnavailable  the store could not be reached, timed out or refused login
//   kConflict     the location is stale (IMAP UIDVALIDITY changed)
//   kInternal     anything else (I/O error, protocol error)
// Sessions are not thread-safe; connectors may open sessions from several
// threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shared/status.h"

namespace reclaim {

// Location of one copy of a message in one user's mailbox.
struct StoredLocation {
  std::string folder;        // "INBOX", "Archive", "Reclaim-Hold" (IMAP names, '/' separated)
  // IMAP: the folder's UIDVALIDITY and the message's UID.
  uint32_t uid_validity = 0;
  uint32_t uid = 0;
  // Maildir: path of the file relative to the mailbox root, for example
  // "cur/1700000000.M1P2.host,S=1234:2,S" or ".Archive/new/1700000001.M2P2.host".
  std::string file;
  // Flags as the store keeps them: Maildir info letters ("FS") or IMAP
  // system flags and keywords ("\\Seen \\Flagged $Label1").
  std::string flags;
  // When the copy was delivered, in UTC seconds: the Maildir file's change
  // time or the IMAP INTERNALDATE; 0 when the store does not record it.
  int64_t delivered = 0;
};

// Move tags that share their first kMoveTagGroupLength characters form a
// group, such as the moves of one batch. A connector may mark every copy of
// a group with one mark instead of one per copy (the IMAP connector's
// MoveBatch() stores one keyword per group), so FindTagged() may return the
// other copies of the group too.
constexpr size_t kMoveTagGroupLength = 16;

// One copy and the tag of its move, for MoveBatch() and ClearTags().
struct TaggedLocation {
  StoredLocation location;
  std::string tag;
};

class MailboxSession {
 public:
  virtual ~MailboxSession() = default;

  // Folder names in the mailbox, INBOX first.
  virtual Result<std::vector<std::string>> ListFolders() = 0;

  // Lists every message in `folder` with its location and flags, without
  // reading the messages. The indexer compares this with what it has seen,
  // fetches only new locations and marks vanished ones gone. IMAP folders
  // report their current UIDVALIDITY in each location.
  virtual Result<std::vector<StoredLocation>> ListMessages(const std::string& folder) = 0;

  // Returns a short text that changes whenever a message is added to or
  // removed from `folder`, so that an index pass can skip a folder whose
  // text is the one it stored last time. Empty when the connector cannot
  // tell cheaply; such folders are listed on every pass. The default
  // returns empty.
  virtual Result<std::string> FolderVersion(const std::string& /*folder*/) {
    return std::string();
  }

  // Reads the message at `location`: kNotFound when it is no longer there,
  // kConflict when the location is stale.
  virtual Result<std::string> Fetch(const StoredLocation& location) = 0;

  // Reads the message at `location` into `*content`, replacing what it
  // contained, with the errors of Fetch(). A caller that reads many messages
  // passes the same string each time, so its capacity is reused instead of
  // allocating (and page-faulting) a buffer per message. On error
  // `*content` is unspecified. The default calls Fetch().
  virtual Status FetchInto(const StoredLocation& location, std::string* content) {
    Result<std::string> fetched = Fetch(location);
    if (!fetched.ok())
      return fetched.status();
    *content = std::move(*fetched);
    return Status::Ok();
  }

  // Moves the message at `location` into `folder` (created when missing),
  // keeping its flags, and returns where it now is. `tag` is a unique token
  // for this move (at most 32 letters and digits) that the connector may
  // attach to the message so FindTagged() can find it after a crash.
  // Never deletes a message and never leaves it in both places.
  virtual Result<StoredLocation> Move(const StoredLocation& location, const std::string& folder,
                                      const std::string& tag) = 0;

  // Finds messages in `folder` that carry `tag` from an earlier Move() or
  // MoveBatch(), for recovery after a crash between the move and its
  // confirmation. The result may also contain the other copies of the tag's
  // group (kMoveTagGroupLength), so a caller that recovers several moves of
  // one group tells the copies apart by content and claims each only once.
  virtual Result<std::vector<StoredLocation>> FindTagged(const std::string& folder,
                                                         const std::string& tag) = 0;

  // Finds messages in `folder` whose Message-ID header equals `message_id`
  // (normalised, with brackets), to re-locate a copy whose location is stale.
  virtual Result<std::vector<StoredLocation>> FindByMessageId(const std::string& folder,
                                                              const std::string& message_id) = 0;

  // Removes the tag of an earlier Move() once the move is confirmed; a
  // connector that does not tag does nothing.
  virtual Status ClearTag(const StoredLocation& location, const std::string& tag) = 0;

  // Whether FetchEach() reads many messages with fewer requests than one
  // Fetch() per message, as over IMAP, so that a caller reading many
  // messages should prefer it to FetchInto(). The default is false.
  virtual bool FetchesInBatches() const { return false; }

  // Reads the messages at `locations` and calls `visit(i, message)` exactly
  // once for each locations[i], with what Fetch(locations[i]) would return,
  // in any order. `visit` must not call this session, because a connector
  // may call `visit` while a read is under way. Each message can be dropped
  // after its call. The default calls Fetch() for each location.
  virtual void FetchEach(const std::vector<StoredLocation>& locations,
                         const std::function<void(size_t, Result<std::string>)>& visit) {
    for (size_t i = 0; i < locations.size(); ++i) {
      visit(i, Fetch(locations[i]));
    }
  }

  // Checks that each locations[i] still contains the message it contained
  // when it was indexed, whose SHA-256 over the raw bytes is sha256s[i] (empty:
  // accept any bytes), and calls `visit(i, status)` exactly once per
  // location, in any order: Ok, kNotFound when the copy is gone or the
  // location now holds other bytes, kConflict when the location is stale,
  // or another error of Fetch(). `visit` must not call this session. The
  // default reads every message with FetchEach() and compares digests;
  // connectors whose locations can never hold other bytes check presence
  // only.
  virtual void VerifyEach(const std::vector<StoredLocation>& locations,
                          const std::vector<std::string>& sha256s,
                          const std::function<void(size_t, Status)>& visit);

  // Moves each copy of `moves` into `folder` as Move(copy.location, folder,
  // copy.tag) would, and returns one result per copy in the same order.
  // The tags must differ from each other, and may share a group
  // (kMoveTagGroupLength). Connectors override it to move the copies of one
  // folder with a few commands; the default calls Move() for each copy.
  virtual std::vector<Result<StoredLocation>> MoveBatch(const std::vector<TaggedLocation>& moves,
                                                        const std::string& folder) {
    std::vector<Result<StoredLocation>> results;
    results.reserve(moves.size());
    for (const TaggedLocation& move : moves) {
      results.push_back(Move(move.location, folder, move.tag));
    }
    return results;
  }

  // Removes the tag of each copy as ClearTag(copy.location, copy.tag)
  // would, and returns one status per copy in the same order. The default
  // calls ClearTag() for each copy.
  virtual std::vector<Status> ClearTags(const std::vector<TaggedLocation>& copies) {
    std::vector<Status> results;
    results.reserve(copies.size());
    for (const TaggedLocation& copy : copies) {
      results.push_back(ClearTag(copy.location, copy.tag));
    }
    return results;
  }

  // With deferred sync on, Move() leaves making itself durable (an fsync of
  // the directories it changed) to the next SyncMoves(), so a batch of moves
  // shares one fsync per directory. A caller must call SyncMoves() before it
  // records the batch as done. Connectors whose moves are durable when
  // Move() returns (IMAP servers) ignore both calls.
  virtual void SetDeferredSync(bool /*deferred*/) {}
  virtual Status SyncMoves() { return Status::Ok(); }
};

class Connector {
 public:
  virtual ~Connector() = default;

  // The connection's name from the configuration.
  virtual const std::string& name() const = 0;

  // Lists the addresses of the mailboxes this connector can open, for
  // indexing. An IMAP server that cannot list users returns the configured
  // user list.
  virtual Result<std::vector<std::string>> ListMailboxes() = 0;

  // Opens the mailbox of `address` (lower case). kNotFound: no such user;
  // kUnavailable: the store is down or refused the login.
  virtual Result<std::unique_ptr<MailboxSession>> Open(const std::string& address) = 0;
};

}  // namespace reclaim
