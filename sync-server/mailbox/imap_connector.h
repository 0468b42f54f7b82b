// Connector for IMAP servers that allow a master login (Dovecot's
// `user*master`), through libcurl.
//
// Every command names messages by UID, never by sequence number, and every
// use of a folder SELECTs it again and compares its UIDVALIDITY with the
// location's: on a mismatch the call returns kConflict and acts on nothing.
// The batch methods (FetchEach, MoveBatch, ClearTags) sync a folder that
// the session has selected already with NOOP instead of a second SELECT;
// imap_session.h explains why that is safe.
//
// Move() needs UIDPLUS (RFC 4315). First it tags the message with the
// keyword `$Reclaim<tag>` where the folder's PERMANENTFLAGS allow new
// keywords (`\*`). Then it sends UID MOVE (RFC 6851). A server without MOVE
// gets UID COPY, UID STORE +FLAGS (\Deleted) and UID EXPUNGE of that one
// UID. The connector never sends a plain EXPUNGE, which would also remove
// other messages that carry \Deleted. MoveBatch() moves all copies of one
// source folder at once: one UID STORE marks them with the keyword
// `$Reclaim<group>` of their tag group (kMoveTagGroupLength) and one UID
// MOVE moves them. FindTagged() searches for both keywords of a tag, so it
// returns every copy of the group in the folder.
//
// IMAP keywords are case-insensitive, so two tags that differ only in case
// name the same keyword.
//
// Crash safety: with the tag in place, calling Move() again with the same
// tag after an interruption finishes or confirms the earlier move instead
// of copying twice, and FindTagged() finds the moved copy. Without
// keywords the connector cannot recognise its own earlier copy. An error
// that Move() returns after MOVE or COPY was sent may leave the message
// already in the destination, so the caller checks FindTagged() there.
// NOTE: without MOVE, a process killed between COPY and UID EXPUNGE leaves
// two copies (the source one marked \Deleted) until Move() is called again
// with the same tag. UID MOVE has no such window.
//
// Connections: a session logs in when it opens, unless a connection to the
// same mailbox is left from an earlier session (ImapSettings::idle_seconds,
// imap_pool.h), and hands its connection back when it ends.
//
// Thread safety: an ImapConnector may open sessions from several threads at
// once; each session owns its own connection and is not thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "sync-server/mailbox/connector.h"

namespace reclaim {

class ImapConnectionPool;

struct ImapSettings {
  std::string name;
  std::string url;  // imap://127.0.0.1:1143 or imaps://mail.example.com, without a folder
  std::string master_user;
  std::string password;                // of the master user; never logged
  std::vector<std::string> domains;    // Open() rejects other domains; empty accepts every domain
  std::vector<std::string> mailboxes;  // returned by ListMailboxes(): IMAP cannot list users
  int timeout_seconds = 30;            // for connect and login, and for each wait for server bytes
  // Maximum size of one server response, which bounds the size of a message
  // that Fetch() can read.
  size_t max_response_bytes = 256u * 1024 * 1024;
  // When false, Move() uses COPY + STORE \Deleted + UID EXPUNGE even where the
  // server offers MOVE, for servers whose MOVE is broken.
  bool use_move_command = true;
  // How long a logged-in connection is kept after its session ends, for the
  // next session of the same mailbox (imap_pool.h); 0 closes it at once.
  int idle_seconds = 900;
  // At most this many connections are kept at once; the oldest one is
  // closed to make room.
  size_t max_idle_connections = 100;
};

class ImapConnector : public Connector {
 public:
  // Checks the settings and creates the connector without connecting.
  // kInvalidArgument naming the field: a URL that is not imap:// or imaps://
  // or that contains a folder or a user, an empty master user or one with
  // '*', an empty password, a timeout below 1 s, max_response_bytes below
  // 64 KiB, a negative idle_seconds.
  static Result<std::unique_ptr<ImapConnector>> Create(ImapSettings settings);

  const std::string& name() const override { return settings_.name; }

  // Returns the configured mailboxes (ImapSettings::mailboxes).
  Result<std::vector<std::string>> ListMailboxes() override;

  // Logs in as `address*master_user`, or takes a connection kept from an
  // earlier session of `address`, and keeps it for the session. kInvalidArgument: the address is empty or contains '*', a
  // space or a control character. kNotFound: the address is outside the
  // settings' domains, or the server rejects the login with
  // AUTHORIZATIONFAILED (Dovecot's reply for an unknown user).
  // kUnavailable: the server cannot be reached or times out, or rejects the
  // login otherwise (a wrong master password).
  Result<std::unique_ptr<MailboxSession>> Open(const std::string& address) override;

  // Connections kept for reuse now, and how many sessions were opened on a
  // kept connection instead of a new login.
  size_t idle_connections() const;
  uint64_t reused_connections() const;

 private:
  ImapConnector(ImapSettings settings, std::string root_url);

  ImapSettings settings_;
  std::string root_url_;  // scheme://host:port/
  // Shared with the sessions, which may outlive the connector.
  std::shared_ptr<ImapConnectionPool> pool_;
};

}  // namespace reclaim
