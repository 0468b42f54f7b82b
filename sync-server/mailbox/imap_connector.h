// Connector for IMAP servers that allow a master login (Dovecot's
// `user*master`), through libcurl.
//
// Every command names messages by UID, never by sequence number, and every
// use of a folder SELECTs it again and compares its UIDVALIDITY with the
// location's: on a mismatch the call returns kConflict and acts on nothing.
//
// Move() needs UIDPLUS (RFC 4315). It tags the message with the keyword
// `$Reclaim<tag>` first, where the folder's PERMANENTFLAGS allow new
// keywords (`\*`), then uses UID MOVE (RFC 6851), or where the server lacks
// MOVE, UID COPY + UID STORE \Deleted + UID EXPUNGE of that one UID. It
// never sends a plain EXPUNGE, which would also remove other messages that
// carry \Deleted.
//
// IMAP keywords are case-insensitive, so two tags that differ only in case
// name the same keyword.
//
// Crash safety: with the tag in place, calling Move() again with the same
// tag after an interruption finishes or confirms the earlier move instead
// of copying twice, and FindTagged() finds the moved copy. Without
// keywords the connector cannot recognise its own earlier copy.
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
};

class ImapConnector : public Connector {
 public:
  // Checks the settings. kInvalidArgument naming the field: a URL that is
  // not imap:// or imaps:// or names a folder, an empty master user or one
  // containing '*', a timeout below 1 s.
  static Result<std::unique_ptr<ImapConnector>> Create(ImapSettings settings);

  const std::string& name() const override { return settings_.name; }

  // Returns the configured mailboxes (ImapSettings::mailboxes).
  Result<std::vector<std::string>> ListMailboxes() override;

  // Logs in as `address*master_user` and keeps that connection for the
  // session. kInvalidArgument: the address is empty or contains '*', a
  // space or a control character. kNotFound: the address is outside the
  // settings' domains, or the server rejects the login with
  // AUTHORIZATIONFAILED (Dovecot's answer for an unknown user).
  // kUnavailable: the server cannot be reached or times out, or rejects the
  // login otherwise (a wrong master password).
  Result<std::unique_ptr<MailboxSession>> Open(const std::string& address) override;

 private:
  explicit ImapConnector(ImapSettings settings, std::string root_url);

  ImapSettings settings_;
  std::string root_url_;  // scheme://host:port/
};

}  // namespace reclaim
