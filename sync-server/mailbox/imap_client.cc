#include "sync-server/mailbox/imap_client.h"

#include <curl/curl.h>
#include <poll.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace reclaim {
namespace {

constexpr size_t kMaxLoginLinesBytes = 64 * 1024;
constexpr size_t kReadChunkBytes = 64 * 1024;

size_t CollectLoginLine(char* data, size_t size, size_t count, void* user_data) {
  auto* lines = static_cast<std::string*>(user_data);
  const size_t length = size * count;
  if (lines->size() < kMaxLoginLinesBytes) {
    lines->append(data, std::min(length, kMaxLoginLinesBytes - lines->size()));
  }
  return length;
}

// Returns the tagged reply that ended a failed login, without its tag, for
// example `NO [LIMIT] Maximum number of connections from user+IP exceeded`,
// or an empty string when the server sent none.
std::string TaggedLoginReply(const std::string& lines) {
  std::string reply;
  size_t start = 0;
  while (start < lines.size()) {
    size_t end = lines.find('\n', start);
    if (end == std::string::npos) {
      end = lines.size();
    }
    std::string line = lines.substr(start, end - start);
    start = end + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) {
      line.pop_back();
    }
    const size_t space = line.find(' ');
    if (!line.empty() && line[0] != '*' && line[0] != '+' && space != std::string::npos) {
      reply = line.substr(space + 1);
    }
  }
  return reply;
}

}  // namespace

ImapCommand& ImapCommand::Append(std::string_view text) {
  if (parts_.empty() || parts_.back().literal) {
    parts_.push_back(Part{false, std::string(text)});
  } else {
    parts_.back().bytes.append(text);
  }
  return *this;
}

ImapCommand& ImapCommand::AppendLiteral(std::string_view bytes) {
  parts_.push_back(Part{true, std::string(bytes)});
  return *this;
}

std::string ImapCommand::Describe() const {
  std::string text;
  for (const Part& part : parts_) {
    text += part.literal ? "{" + std::to_string(part.bytes.size()) + "}" : part.bytes;
  }
  return text;
}

ImapClient::ImapClient(ImapLogin login)
    : login_(std::move(login)), reader_(login_.max_response_bytes) {}

ImapClient::~ImapClient() {
  Disconnect();
}

void ImapClient::Disconnect() {
  if (curl_ != nullptr) {
    curl_easy_cleanup(curl_);
  }
  curl_ = nullptr;
  socket_ = -1;
  reader_.Clear();
  capabilities_.clear();
  hierarchy_delimiter_.reset();
}

Status ImapClient::Connect() {
  if (connected()) {
    return Status::Ok();
  }
  curl_ = curl_easy_init();
  if (curl_ == nullptr) {
    return Status::Internal("curl_easy_init failed");
  }

  char error_buffer[CURL_ERROR_SIZE] = "";
  login_lines_.clear();
  curl_easy_setopt(curl_, CURLOPT_URL, login_.url.c_str());
  curl_easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "imap,imaps");
  curl_easy_setopt(curl_, CURLOPT_USERNAME, login_.username.c_str());
  curl_easy_setopt(curl_, CURLOPT_PASSWORD, login_.password.c_str());
  curl_easy_setopt(curl_, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT, static_cast<long>(login_.timeout_seconds));
  curl_easy_setopt(curl_, CURLOPT_TIMEOUT, static_cast<long>(login_.timeout_seconds));
  curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, error_buffer);
  // libcurl 7.88 passes every server line it reads during login to the
  // header callback; the tagged NO of a failed login is among them.
  curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, CollectLoginLine);
  curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &login_lines_);

  const CURLcode code = curl_easy_perform(curl_);
  curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, nullptr);
  if (code != CURLE_OK) {
    Status status = LoginError(code, error_buffer);
    Disconnect();
    return status;
  }

  curl_socket_t socket = CURL_SOCKET_BAD;
  if (curl_easy_getinfo(curl_, CURLINFO_ACTIVESOCKET, &socket) != CURLE_OK ||
      socket == CURL_SOCKET_BAD) {
    Disconnect();
    return Status::Internal("libcurl returned no socket after logging in to " + login_.url);
  }
  socket_ = socket;
  ++login_count_;
  spdlog::debug("IMAP logged in to {} as {}", login_.url, login_.username);
  return ReadCapabilities();
}

bool ImapClient::ReadyForReuse() const {
  if (!connected() || !reader_.empty()) {
    return false;
  }
  pollfd descriptor{socket_, POLLIN, 0};
  return poll(&descriptor, 1, 0) == 0;
}

Status ImapClient::LoginError(int curl_code, const std::string& detail) const {
  const std::string reason =
      detail.empty() ? curl_easy_strerror(static_cast<CURLcode>(curl_code)) : detail;
  if (curl_code != CURLE_LOGIN_DENIED) {
    return Status::Unavailable("cannot reach IMAP server " + login_.url + " as " + login_.username +
                               ": " + reason);
  }
  if (login_lines_.find("[AUTHORIZATIONFAILED]") != std::string::npos) {
    const std::string user = login_.username.substr(0, login_.username.rfind('*'));
    return Status::NotFound("address", "no mailbox for user " + user + " on " + login_.url +
                                           " (the server answered AUTHORIZATIONFAILED)");
  }
  // A response code other than AUTHENTICATIONFAILED (RFC 5530) names
  // another cause, such as Dovecot's `[LIMIT]` for
  // mail_max_userip_connections, so the server's own words are passed on.
  const std::string reply = TaggedLoginReply(login_lines_);
  if (reply.rfind("NO [", 0) == 0 && reply.find("[AUTHENTICATIONFAILED]") == std::string::npos) {
    return Status::Unavailable("IMAP server " + login_.url + " rejected the login of " +
                               login_.username + ": " + reply);
  }
  return Status::Unavailable("IMAP server " + login_.url + " rejected the login of " +
                             login_.username +
                             "; check the master user and its password in the connection "
                             "settings");
}

// Takes the capabilities that the server sent with the reply that ended
// the login: a CAPABILITY response code in the tagged OK, or an untagged
// CAPABILITY response just before it. RFC 3501 section 6.2.2 allows either,
// and Dovecot 2.3.19 sends the untagged one after AUTHENTICATE. Returns
// false when neither is there or the lines were cut off, so that the
// caller sends CAPABILITY.
bool ImapClient::CapabilitiesFromLogin() {
  std::vector<std::string_view> lines;
  std::string_view rest = login_lines_;
  while (!rest.empty()) {
    const size_t end = std::min(rest.find('\n'), rest.size());
    std::string_view line = rest.substr(0, end);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (!line.empty())
      lines.push_back(line);
    rest.remove_prefix(std::min(end + 1, rest.size()));
  }
  // The tagged reply starts with its tag, not with "*" or "+".
  const auto tagged = [](std::string_view line) { return line[0] != '*' && line[0] != '+'; };
  if (lines.empty() || !tagged(lines.back()))
    return false;
  const std::string_view last = lines.back();
  const size_t space = last.find(' ');
  if (space == std::string_view::npos || ImapUpperCase(last.substr(space + 1, 3)) != "OK ")
    return false;

  std::string_view names;
  constexpr std::string_view kCode = "[CAPABILITY ";
  const std::string_view text = last.substr(space + 4);
  if (ImapUpperCase(text.substr(0, kCode.size())) == kCode) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos)
      return false;
    names = text.substr(kCode.size(), close - kCode.size());
  } else {
    constexpr std::string_view kUntagged = "* CAPABILITY ";
    for (size_t i = lines.size() - 1; i-- > 0 && !tagged(lines[i]);) {
      if (ImapUpperCase(lines[i].substr(0, kUntagged.size())) == kUntagged) {
        names = lines[i].substr(kUntagged.size());
        break;
      }
    }
  }
  std::set<std::string> capabilities;
  while (!names.empty()) {
    const size_t next = std::min(names.find(' '), names.size());
    if (next > 0)
      capabilities.insert(ImapUpperCase(names.substr(0, next)));
    names.remove_prefix(std::min(next + 1, names.size()));
  }
  if (capabilities.count("IMAP4REV1") == 0)
    return false;
  capabilities_ = std::move(capabilities);
  return true;
}

// Asks for CAPABILITY after login, unless the login reply listed them,
// because the list before login (and in the greeting) lacks the extensions
// that need an authenticated state.
Status ImapClient::ReadCapabilities() {
  if (CapabilitiesFromLogin())
    return Status::Ok();
  Result<ImapReply> reply = Execute(ImapCommand("CAPABILITY"));
  if (!reply.ok()) {
    return reply.status();
  }
  if (!reply->ok()) {
    Disconnect();
    return Status::Internal("IMAP server " + login_.url + " rejected CAPABILITY: " + reply->text);
  }
  for (const ImapResponse& response : reply->untagged) {
    if (response.name != "CAPABILITY") {
      continue;
    }
    for (const ImapValue& value : response.values) {
      capabilities_.insert(ImapUpperCase(value.text));
    }
  }
  return Status::Ok();
}

bool ImapClient::HasCapability(std::string_view name) const {
  return capabilities_.count(std::string(name)) > 0;
}

Status ImapClient::WaitForSocket(short events) {
  pollfd descriptor{socket_, events, 0};
  while (true) {
    const int ready = poll(&descriptor, 1, login_.timeout_seconds * 1000);
    if (ready > 0) {
      return Status::Ok();
    }
    if (ready == 0) {
      return Status::Unavailable("IMAP server " + login_.url + " sent nothing for " +
                                 std::to_string(login_.timeout_seconds) + " s (timed out)");
    }
    if (errno != EINTR) {
      return Status::Unavailable("poll on the connection to " + login_.url +
                                 " failed: " + std::strerror(errno));
    }
  }
}

Status ImapClient::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    size_t sent = 0;
    const CURLcode code = curl_easy_send(curl_, bytes.data(), bytes.size(), &sent);
    if (code == CURLE_AGAIN) {
      Status ready = WaitForSocket(POLLOUT);
      if (!ready.ok()) {
        return ready;
      }
      continue;
    }
    if (code != CURLE_OK) {
      return Status::Unavailable("sending to IMAP server " + login_.url +
                                 " failed: " + curl_easy_strerror(code));
    }
    bytes.remove_prefix(sent);
  }
  return Status::Ok();
}

// Reads what the server has sent, waiting up to timeout_seconds for it.
// curl_easy_recv() is tried before poll() because TLS may hold decrypted
// bytes that the socket no longer shows.
Status ImapClient::ReadMore() {
  char buffer[kReadChunkBytes];
  while (true) {
    size_t received = 0;
    const CURLcode code = curl_easy_recv(curl_, buffer, sizeof buffer, &received);
    if (code == CURLE_AGAIN) {
      Status ready = WaitForSocket(POLLIN);
      if (!ready.ok()) {
        return ready;
      }
      continue;
    }
    if (code != CURLE_OK) {
      return Status::Unavailable("reading from IMAP server " + login_.url +
                                 " failed: " + curl_easy_strerror(code));
    }
    if (received == 0) {
      return Status::Unavailable("IMAP server " + login_.url + " closed the connection");
    }
    reader_.Append(std::string_view(buffer, received));
    return Status::Ok();
  }
}

Result<ImapResponse> ImapClient::ReadResponse() {
  std::string raw;
  while (true) {
    Result<bool> complete = reader_.Next(raw);
    if (!complete.ok()) {
      return complete.status();
    }
    if (*complete) {
      return ParseImapResponse(raw);
    }
    Status more = ReadMore();
    if (!more.ok()) {
      return more;
    }
  }
}

Status ImapClient::CheckTaggedStatus(const std::string& tag, const ImapResponse& response) const {
  if (response.name != "OK" && response.name != "NO" && response.name != "BAD") {
    return Status::Internal("IMAP server " + login_.url + " ended command " + tag + " with '" +
                            response.name + "'");
  }
  return Status::Ok();
}

Result<bool> ImapClient::ReadReply(const std::string& tag, bool until_continuation,
                                   ImapReply& reply, const ImapResponseHandler& handler) {
  std::string bye;
  while (true) {
    Result<ImapResponse> response = ReadResponse();
    if (!response.ok()) {
      if (!bye.empty() && response.status().code() == StatusCode::kUnavailable) {
        return Status::Unavailable("IMAP server " + login_.url + " closed the connection: " + bye);
      }
      return response.status();
    }
    if (response->tag == tag) {
      if (Status valid = CheckTaggedStatus(tag, *response); !valid.ok()) {
        return valid;
      }
      reply.status = response->name;
      reply.code = response->code;
      reply.text = response->text;
      return false;
    }
    if (response->tag == "+") {
      if (until_continuation) {
        return true;
      }
      return Status::Internal("IMAP server " + login_.url +
                              " requested a continuation that no command expects");
    }
    if (response->tag != "*") {
      return Status::Internal("IMAP server " + login_.url + " replied with unknown tag '" +
                              response->tag + "' while " + tag + " was waiting");
    }
    if (response->name == "BYE") {
      bye = response->text;
    }
    if (handler && handler(*response)) {
      continue;
    }
    reply.untagged.push_back(std::move(response).value());
  }
}

Status ImapClient::ReadReplies(const std::vector<std::string>& tags,
                               std::vector<ImapReply>& replies) {
  std::vector<bool> finished(tags.size(), false);
  size_t earliest = 0;  // the first command without its tagged reply
  std::string bye;
  while (earliest < tags.size()) {
    Result<ImapResponse> response = ReadResponse();
    if (!response.ok()) {
      if (!bye.empty() && response.status().code() == StatusCode::kUnavailable) {
        return Status::Unavailable("IMAP server " + login_.url + " closed the connection: " + bye);
      }
      return response.status();
    }
    if (response->tag == "*") {
      if (response->name == "BYE") {
        bye = response->text;
      }
      replies[earliest].untagged.push_back(std::move(response).value());
      continue;
    }
    const auto found = std::find(tags.begin(), tags.end(), response->tag);
    if (found == tags.end() || finished[found - tags.begin()]) {
      return Status::Internal("IMAP server " + login_.url + " replied with unexpected tag '" +
                              response->tag + "' while " + tags[earliest] + " was waiting");
    }
    if (Status valid = CheckTaggedStatus(response->tag, *response); !valid.ok()) {
      return valid;
    }
    const size_t index = static_cast<size_t>(found - tags.begin());
    replies[index].status = response->name;
    replies[index].code = response->code;
    replies[index].text = response->text;
    finished[index] = true;
    while (earliest < tags.size() && finished[earliest]) {
      ++earliest;
    }
  }
  return Status::Ok();
}

Result<ImapReply> ImapClient::Fail(Status status) {
  spdlog::warn("IMAP connection to {} as {} closed after an error: {}", login_.url, login_.username,
               status.message());
  Disconnect();
  return status;
}

Result<ImapReply> ImapClient::Execute(const ImapCommand& command) {
  return Execute(command, nullptr);
}

Result<ImapReply> ImapClient::Execute(const ImapCommand& command,
                                      const ImapResponseHandler& handler) {
  if (!connected()) {
    Status connect = Connect();
    if (!connect.ok()) {
      return connect;
    }
  }

  const std::string tag = NextTag();
  spdlog::debug("IMAP {} {}: {} {}", login_.url, login_.username, tag, command.Describe());
  ImapReply reply;
  std::string pending = tag + " ";
  for (const ImapCommand::Part& part : command.parts_) {
    if (!part.literal) {
      pending += part.bytes;
      continue;
    }
    // A synchronizing literal: the server must send `+` before the bytes.
    pending += "{" + std::to_string(part.bytes.size()) + "}\r\n";
    Status sent = Send(pending);
    if (!sent.ok()) {
      return Fail(sent);
    }
    Result<bool> continued = ReadReply(tag, /*until_continuation=*/true, reply, handler);
    if (!continued.ok()) {
      return Fail(continued.status());
    }
    if (!*continued) {
      return reply;  // the server rejected the command before the literal
    }
    pending = part.bytes;
  }

  pending += "\r\n";
  Status sent = Send(pending);
  if (!sent.ok()) {
    return Fail(sent);
  }
  Result<bool> finished = ReadReply(tag, /*until_continuation=*/false, reply, handler);
  if (!finished.ok()) {
    return Fail(finished.status());
  }
  return reply;
}

Result<std::vector<ImapReply>> ImapClient::ExecutePipelined(
    const std::vector<ImapCommand>& commands) {
  for (const ImapCommand& command : commands) {
    for (const ImapCommand::Part& part : command.parts_) {
      if (part.literal) {
        return Status::Invalid("commands", "IMAP command '" + command.Describe() +
                                               "' has a literal, which cannot be pipelined; "
                                               "send it with Execute()");
      }
    }
  }
  if (!connected()) {
    Status connect = Connect();
    if (!connect.ok()) {
      return connect;
    }
  }
  std::vector<std::string> tags;
  std::string pending;
  for (const ImapCommand& command : commands) {
    tags.push_back(NextTag());
    spdlog::debug("IMAP {} {}: {} {}", login_.url, login_.username, tags.back(),
                  command.Describe());
    pending += tags.back() + " ";
    for (const ImapCommand::Part& part : command.parts_) {
      pending += part.bytes;
    }
    pending += "\r\n";
  }
  // NOTE: all commands are written before any reply is read. Replies that
  // filled the socket buffers of both sides would block this until the
  // timeout, so callers pipeline at most a few dozen commands.
  Status sent = Send(pending);
  if (!sent.ok()) {
    return Fail(sent).status();
  }
  std::vector<ImapReply> replies(commands.size());
  Status read = ReadReplies(tags, replies);
  if (!read.ok()) {
    return Fail(read).status();
  }
  return replies;
}

}  // namespace reclaim
