// The Maildir connector: mailboxes kept as Maildir++ trees on a local file
// system.
//
// Layout: the mailbox of `local@domain` is `<root>/<domain>/<local>/` (both
// lower case) with `cur/`, `new/` and `tmp/`. INBOX is that directory itself
// and folder `A/B` is the subdirectory `.A.B`, as in Maildir++. A file name
// is `<unique>[,KEY=value...][<separator><info>]`, where the separator is
// `:` (or `!` or `;` on file systems and tools that avoid `:`) and info
// `2,<flags>` carries the flag letters.
//
// Moves are rename(2) calls on one file system, so a message is always at
// exactly one of its two names, whatever instruction the process dies at.
// The exception is a file system without RENAME_NOREPLACE, where a move is
// link(2) then unlink(2), and a crash in between leaves two links to one
// file until Move() is called again with the same tag. The new name is
// derived from the old one and the move's tag (see PlanMaildirMove), so a
// caller can write the destination to its journal before the move and find
// the file by its tag after a crash.
//
// NOTE: Dovecot maps file bases to IMAP UIDs, so a file renamed behind a
// Dovecot that serves the same Maildir gets a new UID. Such mailboxes
// belong to the IMAP connector.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shared/status.h"
#include "sync-server/mailbox/connector.h"

namespace reclaim {

struct MaildirSettings {
  std::string name;                  // the connection's name from the configuration
  std::string root;                  // directory that contains one directory per domain
  std::vector<std::string> domains;  // recipient domains served, matched without case
};

// A Maildir file name taken apart. Only the last path component is parsed,
// because directory names (snapshots, for example) may contain ':'.
struct MaildirFileName {
  std::string subdir;  // name of the parent directory ("cur", "new", "tmp"), empty when none
  std::string base;    // the name up to the separator, exactly as written
  // The base with stale info parts removed and stray separators escaped
  // (`:` becomes `\072`), split at its commas: the unique part, then the
  // fields such as "S=4821", "W=4933" or mbsync's "U=103", in their order.
  std::string unique;
  std::vector<std::string> fields;
  std::optional<uint64_t> size;  // the S= field: the message size in bytes
  char separator = '\0';         // ':', '!' or ';' before the info part; '\0' when none
  std::string info;              // the info part as written, for example "2,TS" or "1,x"
  std::string flags;             // letters of a "2," info part, ASCII order, no repeats
  // False when the base contained a separator (an info part appended twice,
  // as in "x:2,:2,S") or the flags contained other characters than letters.
  // The parse keeps what it can, and a move writes the cleaned name.
  bool valid = true;
};

// Parses `path` (relative or absolute). Never fails: a name without an info
// part has an empty separator and flags.
MaildirFileName ParseMaildirFileName(std::string_view path);

// Returns true for a move tag that Move() accepts: 1 to 32 ASCII letters and
// digits.
bool IsValidMoveTag(std::string_view tag);

// Returns where Move(`from`, `folder`, `tag`) puts the message, without
// touching the disk. The new name is the source's base without two fields.
// One is mbsync's `U=` field, which records mbsync's UID for the file and
// so must not appear in two folders. The other is an earlier move's tag
// field. Then come the field `RECLAIM=<tag>`, the separator and the info
// part with the flags in ASCII order. The message stays in `new/` or `cur/`
// as it was.
// Example: "cur/1710.M1P2.host,S=10,U=7:2,TS" with tag "t1" into
// "Reclaim-Hold" is ".Reclaim-Hold/cur/1710.M1P2.host,S=10,RECLAIM=t1:2,ST".
// Errors: kInvalidArgument naming "tag", "folder" or "file".
Result<StoredLocation> PlanMaildirMove(const StoredLocation& from, const std::string& folder,
                                       const std::string& tag);

// Serves the domains in MaildirSettings from one Maildir root. The
// connector's methods may be called from several threads at once. A
// session is used by one thread at a time.
//
// Session behaviour beyond the MailboxSession contract:
// - ListMessages() reports the files in `cur/` and `new/`, never `tmp/`,
//   where deliveries in progress are written. A missing folder is kNotFound.
// - FolderVersion() is the inode and modification time of `new/` and
//   `cur/`, or empty while either changed in the last 2 s (or is missing).
// - Fetch() and Move() accept a location whose flags changed since it was
//   listed (a mail client renamed "new/x" to "cur/x:2,S"): when the exact
//   file is gone, they use the file of the same folder with the same base.
// - Move() creates a missing destination folder with `cur/`, `new/`, `tmp/`
//   and the `maildirfolder` marker file, with the mailbox directory's
//   permissions (and owner, when the server runs as root).
// - Move() renames the file to the PlanMaildirMove() name and never
//   replaces an existing file. When a different file already has that
//   name, it appends "_2", "_3", ... to the tag field, and the result
//   differs from the plan.
// - When the planned name is another link to the source file (a link(2)
//   fallback was cut short), Move() completes that move. This relies on the
//   tag being unique to the move, as the interface requires, because two
//   hard-linked copies moved with one tag would become one file.
// - A source that is gone is kNotFound, also after a completed earlier
//   call. FindTagged() then finds the file if that call moved it.
// - Move() fsyncs the destination directory, then the source directory.
//   When an fsync fails, Move() returns kInternal naming the new location,
//   although the rename took place.
// - FindTagged() and FindByMessageId() return an empty list for a folder
//   that does not exist. FindByMessageId() reads at most the first 1 MiB
//   of each file, where the header block is expected to end.
// - ClearTag() does nothing, so the tag stays in the file name. Removing it
//   would take a second rename, with another crash window and another name
//   change for mail clients to follow.
class MaildirConnector : public Connector {
 public:
  explicit MaildirConnector(MaildirSettings settings);

  const std::string& name() const override { return settings_.name; }

  // Lists `<local>@<domain>` for each directory under `<root>/<domain>/`
  // that has `cur/` and `new/`, sorted. A configured domain without a
  // directory and a directory name with upper-case letters are skipped with
  // a warning in the log. kUnavailable when the root cannot be read.
  Result<std::vector<std::string>> ListMailboxes() override;

  // kInvalidArgument for an address without '@' or whose local part cannot
  // be a directory name. kNotFound when the domain is not configured or the
  // user has no Maildir. kUnavailable when the root cannot be reached.
  Result<std::unique_ptr<MailboxSession>> Open(const std::string& address) override;

 public:
  // Directories whose fsync the sessions deferred. Shared by all sessions of
  // the connector, because they live on one file system and one syncfs(2)
  // makes all of them durable.
  struct PendingSyncs {
    std::mutex mutex;
    std::vector<std::string> directories;
  };

 private:
  MaildirSettings settings_;
  std::shared_ptr<PendingSyncs> pending_ = std::make_shared<PendingSyncs>();
};

}  // namespace reclaim
