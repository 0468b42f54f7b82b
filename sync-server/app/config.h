// The server's configuration file (JSON), documented in docs/configuration.md.
//
// Secrets are never written in the file itself. An IMAP connection names a
// file (`passwordFile`) or an environment variable (`passwordEnv`) that
// contains the master password. LoadConfig reads it, and nothing logs it.
#pragma once

#include <string>
#include <vector>

#include "shared/status.h"
#include "sync-server/mailbox/connector_registry.h"

namespace reclaim {

enum class ConnectionKind { kMaildir, kImap };

struct ConnectionConfig {
  std::string name;
  ConnectionKind kind = ConnectionKind::kMaildir;
  std::vector<std::string> domains;
  std::string root;  // Maildir: folder with one folder per domain
  // IMAP:
  std::string url;  // imap://host:port or imaps://host:port
  std::string master_user;
  std::string password;  // read from passwordFile or passwordEnv, never from the file
  std::vector<std::string> mailboxes;  // addresses to index
  int timeout_seconds = 30;
  int idle_connection_seconds = 900;  // how long a logged-in connection is kept for reuse
  int max_idle_connections = 100;
};

enum class RemediationMode { kAutomatic, kNotifyOnly };

struct ServerConfig {
  std::string organisation = "ACME";
  std::string data_dir = "data";
  std::string listen_address = "127.0.0.1";
  int port = 8080;
  std::string tls_certificate;  // PEM files; both set turns TLS on
  std::string tls_key;
  std::string hold_folder = "Reclaim-Hold";
  int retention_days = 365;
  RemediationMode mode = RemediationMode::kAutomatic;
  int index_interval_seconds = 300;  // 0 turns periodic indexing off
  std::string web_root;              // built browser client; empty: none served
  std::vector<ConnectionConfig> connections;
};

// Parses configuration text. Relative paths are resolved against `base_dir`
// (the configuration file's folder). Errors name the JSON path of the bad
// value, for example `connections[1].domains`.
Result<ServerConfig> ParseConfig(const std::string& text, const std::string& base_dir);

// Reads and parses a configuration file.
Result<ServerConfig> LoadConfig(const std::string& path);

// The embedded default: data in `data_dir`, one Maildir connection at
// `<data_dir>/mail` for the demo domains example.com and example.org.
ServerConfig DefaultConfig(const std::string& data_dir);

// Creates the connectors the configuration lists.
Status BuildConnectors(const ServerConfig& config, ConnectorRegistry* registry);

std::string_view ApiName(RemediationMode mode);  // "automatic", "notify_only"

}  // namespace reclaim
