// One logged-in IMAP connection, for the IMAP connector.
//
// libcurl opens the connection, does TLS for imaps:// and logs in
// (CURLOPT_CONNECT_ONLY). The commands after login are written and read here
// with curl_easy_send() and curl_easy_recv().
//
// libcurl's own command path (CURLOPT_CUSTOMREQUEST) is not used, because
// libcurl 7.88 reads a FETCH literal line by line. A message body line that
// starts with the command's tag (`A005 OK`) ends the command early and shifts
// every later reply. Lines longer than its buffer are cut without an error.
// Both were seen with libcurl 7.88.1 against Dovecot 2.3.19. Here literals
// are skipped by their byte count instead.
//
// Not thread-safe: one ImapClient belongs to one session.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shared/status.h"
#include "sync-server/mailbox/imap_protocol.h"

typedef void CURL;

namespace reclaim {

struct ImapLogin {
  std::string url;       // imap://host:port/ or imaps://host:port/, without a folder
  std::string username;  // for a master login `user*master`
  std::string password;
  int timeout_seconds = 30;
  size_t max_response_bytes = 0;
};

// The reply to one command: its tagged status and the untagged responses
// that arrived before it.
struct ImapReply {
  std::string status;  // OK, NO or BAD
  std::string code;    // response code of the tagged status, without brackets
  std::string text;
  std::vector<ImapResponse> untagged;

  bool ok() const { return status == "OK"; }
};

// A command without its tag: text, and strings sent as synchronizing
// literals (for bytes that a quoted string cannot carry).
class ImapCommand {
 public:
  explicit ImapCommand(std::string_view text) { Append(text); }
  ImapCommand& Append(std::string_view text);
  ImapCommand& AppendLiteral(std::string_view bytes);

  // The command for logs and error messages, with literals shown as `{N}`.
  std::string Describe() const;

 private:
  friend class ImapClient;
  struct Part {
    bool literal = false;
    std::string bytes;
  };
  std::vector<Part> parts_;
};

// Receives each untagged response of a command as it arrives, and returns
// true when it has consumed the response, which then stays out of
// ImapReply::untagged. It must not use the ImapClient.
using ImapResponseHandler = std::function<bool(ImapResponse& response)>;

class ImapClient {
 public:
  explicit ImapClient(ImapLogin login);
  ~ImapClient();
  ImapClient(const ImapClient&) = delete;
  ImapClient& operator=(const ImapClient&) = delete;

  // Connects and logs in, unless connected.
  // kNotFound: the server rejected the login with AUTHORIZATIONFAILED
  // (RFC 5530), which Dovecot sends for a master login to an unknown user.
  // kUnavailable: the server cannot be reached, timed out or rejected the
  // login in any other way, for example for a wrong master password. A
  // rejection with another response code, such as Dovecot's [LIMIT] for
  // too many connections of one user, carries the server's reply.
  Status Connect();

  bool connected() const { return curl_ != nullptr; }

  // Whether the connection can serve another session: connected, no reply
  // half read, and nothing arrived from the server since the last reply.
  // Dovecot 2.3.19 writes to an idle connection only to end it: it sends
  // `* BYE` on an autologout or a `doveadm kick`. So waiting bytes of any
  // kind, or a closed socket, make the connection unusable.
  // Does not wait.
  bool ReadyForReuse() const;

  // Counts the logins of this client. When the count changes, the
  // connection was replaced and no folder is selected any more.
  uint64_t login_count() const { return login_count_; }

  // Sends one command and reads until its tagged reply, connecting first
  // when needed. A NO or BAD reply is a value, not an error. Errors:
  // kUnavailable when the connection fails, closes or stays silent for
  // timeout_seconds; kInternal for a reply that is not valid IMAP. Both
  // close the connection, so the next call connects again. After such an
  // error the command may or may not have taken effect.
  Result<ImapReply> Execute(const ImapCommand& command);

  // Execute() that passes each untagged response to `handler` first, so a
  // caller can process a large FETCH one message at a time.
  Result<ImapReply> Execute(const ImapCommand& command, const ImapResponseHandler& handler);

  // Sends all `commands` before reading any reply (RFC 3501 section 5.5)
  // and returns their replies in the same order. Untagged responses are
  // filed with the earliest command still running. Only for commands whose
  // order does not matter, such as STOREs on different UIDs, because the
  // server may complete them in any order. Commands with literals are
  // rejected with kInvalidArgument. The errors are those of Execute(), and
  // after an error any of the commands may or may not have taken effect.
  Result<std::vector<ImapReply>> ExecutePipelined(const std::vector<ImapCommand>& commands);

  // Whether the server listed `name` (upper case) in CAPABILITY after login.
  bool HasCapability(std::string_view name) const;

  // The hierarchy delimiter a session learned on this connection ('\0' for
  // a flat namespace), kept with the connection so that the next session
  // on it need not ask again. Forgotten when the connection closes.
  const std::optional<char>& hierarchy_delimiter() const { return hierarchy_delimiter_; }
  void set_hierarchy_delimiter(char delimiter) { hierarchy_delimiter_ = delimiter; }

  const std::string& url() const { return login_.url; }
  const std::string& username() const { return login_.username; }

 private:
  Status LoginError(int curl_code, const std::string& detail) const;
  bool CapabilitiesFromLogin();
  Status ReadCapabilities();
  Status Send(std::string_view bytes);
  Status WaitForSocket(short events);
  Status ReadMore();
  Result<ImapResponse> ReadResponse();
  // Reads responses into `reply` until the tagged reply (returns false) or,
  // when `until_continuation`, a continuation request (returns true).
  Result<bool> ReadReply(const std::string& tag, bool until_continuation, ImapReply& reply,
                         const ImapResponseHandler& handler);
  // Reads responses until every tag in `tags` has its tagged reply, in
  // whatever order they come.
  Status ReadReplies(const std::vector<std::string>& tags, std::vector<ImapReply>& replies);
  Status CheckTaggedStatus(const std::string& tag, const ImapResponse& response) const;
  std::string NextTag() { return "R" + std::to_string(next_tag_++); }
  Result<ImapReply> Fail(Status status);
  void Disconnect();

  ImapLogin login_;
  CURL* curl_ = nullptr;
  int socket_ = -1;
  ImapResponseReader reader_;
  std::set<std::string> capabilities_;
  std::optional<char> hierarchy_delimiter_;
  std::string login_lines_;  // server lines during login, to tell the kinds of failed login apart
  uint64_t next_tag_ = 1;
  uint64_t login_count_ = 0;
};

}  // namespace reclaim
