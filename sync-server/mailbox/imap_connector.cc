#include "sync-server/mailbox/imap_connector.h"

#include <curl/curl.h>

#include <mutex>

#include "sync-server/mailbox/imap_client.h"
#include "sync-server/mailbox/imap_pool.h"
#include "sync-server/mailbox/imap_session.h"

namespace reclaim {
namespace {

constexpr size_t kMinResponseBytes = 64 * 1024;

std::string ToLowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

bool HasControlOrSpace(std::string_view text) {
  for (char c : text) {
    const unsigned char byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) {
      return true;
    }
  }
  return false;
}

// Returns `url` reduced to scheme://host:port/, or an error when it is not
// an imap:// or imaps:// URL of a server.
Result<std::string> RootUrl(const std::string& url) {
  CURLU* parsed = curl_url();
  if (parsed == nullptr) {
    return Status::Internal("curl_url failed");
  }
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> owner(parsed, curl_url_cleanup);
  if (curl_url_set(parsed, CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return Status::Invalid("url", "'" + url + "' is not a valid URL");
  }

  char* scheme = nullptr;
  char* path = nullptr;
  char* user = nullptr;
  char* query = nullptr;
  curl_url_get(parsed, CURLUPART_SCHEME, &scheme, 0);
  curl_url_get(parsed, CURLUPART_PATH, &path, 0);
  curl_url_get(parsed, CURLUPART_USER, &user, 0);
  curl_url_get(parsed, CURLUPART_QUERY, &query, 0);
  const std::string scheme_text = scheme ? ToLowerAscii(scheme) : "";
  const std::string path_text = path ? path : "";
  const bool has_user = user != nullptr;
  const bool has_query = query != nullptr;
  curl_free(scheme);
  curl_free(path);
  curl_free(user);
  curl_free(query);

  if (scheme_text != "imap" && scheme_text != "imaps") {
    return Status::Invalid("url", "'" + url + "' must start with imap:// or imaps://");
  }
  if ((path_text != "" && path_text != "/") || has_query) {
    return Status::Invalid("url", "'" + url + "' must name only the server, not a folder");
  }
  if (has_user) {
    return Status::Invalid("url",
                           "'" + url + "' must not contain a user; set master_user and password");
  }

  curl_url_set(parsed, CURLUPART_PATH, "/", 0);
  char* root = nullptr;
  if (curl_url_get(parsed, CURLUPART_URL, &root, 0) != CURLUE_OK) {
    return Status::Invalid("url", "'" + url + "' has no server");
  }
  std::string root_text = root;
  curl_free(root);
  return root_text;
}

Status ValidateSettings(const ImapSettings& settings) {
  if (settings.master_user.empty() || settings.master_user.find('*') != std::string::npos ||
      HasControlOrSpace(settings.master_user)) {
    return Status::Invalid("master_user", "master user '" + settings.master_user +
                                              "' must be non-empty, without '*', spaces or "
                                              "control characters");
  }
  if (settings.password.empty()) {
    return Status::Invalid("password", "password of the master user is empty");
  }
  if (settings.timeout_seconds < 1) {
    return Status::Invalid("timeout_seconds", "timeout_seconds is " +
                                                  std::to_string(settings.timeout_seconds) +
                                                  "; it must be at least 1");
  }
  if (settings.max_response_bytes < kMinResponseBytes) {
    return Status::Invalid("max_response_bytes",
                           "max_response_bytes is " + std::to_string(settings.max_response_bytes) +
                               "; it must be at least " + std::to_string(kMinResponseBytes));
  }
  if (settings.idle_seconds < 0) {
    return Status::Invalid("idle_seconds", "idle_seconds is " +
                                               std::to_string(settings.idle_seconds) +
                                               "; it must be 0 (keep no connection) or more");
  }
  return Status::Ok();
}

bool DomainServed(const std::vector<std::string>& domains, const std::string& address) {
  if (domains.empty()) {
    return true;
  }
  const size_t at = address.rfind('@');
  const std::string domain = ToLowerAscii(at == std::string::npos ? "" : address.substr(at + 1));
  for (const std::string& served : domains) {
    if (ToLowerAscii(served) == domain) {
      return true;
    }
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<ImapConnector>> ImapConnector::Create(ImapSettings settings) {
  // curl_global_init() must run before any other libcurl call and is not
  // safe to run concurrently with one.
  static std::once_flag curl_initialised;
  std::call_once(curl_initialised, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  Status valid = ValidateSettings(settings);
  if (!valid.ok()) {
    return valid;
  }
  Result<std::string> root_url = RootUrl(settings.url);
  if (!root_url.ok()) {
    return root_url.status();
  }
  return std::unique_ptr<ImapConnector>(
      new ImapConnector(std::move(settings), std::move(root_url).value()));
}

ImapConnector::ImapConnector(ImapSettings settings, std::string root_url)
    : settings_(std::move(settings)),
      root_url_(std::move(root_url)),
      pool_(std::make_shared<ImapConnectionPool>(settings_.idle_seconds,
                                                 settings_.max_idle_connections)) {}

size_t ImapConnector::idle_connections() const {
  return pool_->idle();
}

uint64_t ImapConnector::reused_connections() const {
  return pool_->reused();
}

Result<std::vector<std::string>> ImapConnector::ListMailboxes() {
  return settings_.mailboxes;
}

Result<std::unique_ptr<MailboxSession>> ImapConnector::Open(const std::string& address) {
  if (address.empty() || address.find('*') != std::string::npos || HasControlOrSpace(address)) {
    return Status::Invalid("address", "mailbox address '" + address +
                                          "' must be non-empty, without '*', spaces or control "
                                          "characters");
  }
  if (!DomainServed(settings_.domains, address)) {
    return Status::NotFound("address", "address " + address +
                                           " is outside the domains of IMAP connection '" +
                                           settings_.name + "'");
  }
  if (std::unique_ptr<ImapClient> kept = pool_->Take(address)) {
    return std::unique_ptr<MailboxSession>(
        new ImapSession(std::move(kept), address, settings_.use_move_command, pool_));
  }
  ImapLogin login;
  login.url = root_url_;
  login.username = address + "*" + settings_.master_user;
  login.password = settings_.password;
  login.timeout_seconds = settings_.timeout_seconds;
  login.max_response_bytes = settings_.max_response_bytes;
  auto client = std::make_unique<ImapClient>(std::move(login));
  Status connected = client->Connect();
  if (!connected.ok()) {
    return connected;
  }
  return std::unique_ptr<MailboxSession>(
      new ImapSession(std::move(client), address, settings_.use_move_command, pool_));
}

}  // namespace reclaim
