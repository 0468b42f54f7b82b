#include "sync-server/app/config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "shared/json_values.h"
#include "shared/retention.h"
#include "sync-server/mailbox/imap_connector.h"
#include "sync-server/mailbox/maildir_connector.h"

namespace reclaim {
namespace {

using nlohmann::json;

std::string Resolve(const std::string& path, const std::string& base_dir) {
  if (path.empty() || base_dir.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (std::filesystem::path(base_dir) / path).lexically_normal().string();
}

// Reads one optional member with a type check; the error names the path.
class Reader {
 public:
  Reader(const json& object, std::string path) : object_(object), path_(std::move(path)) {}

  Status CheckKnown(std::initializer_list<const char*> names) const {
    std::set<std::string> known(names.begin(), names.end());
    for (auto it = object_.begin(); it != object_.end(); ++it) {
      if (known.count(it.key()) == 0) {
        return Status::Invalid(Field(it.key()), "unknown setting '" + it.key() +
                                                    "': check the spelling against"
                                                    " docs/configuration.md");
      }
    }
    return Status::Ok();
  }

  Status String(const char* name, std::string* out) const {
    if (!object_.contains(name)) return Status::Ok();
    const json& value = object_.at(name);
    if (!value.is_string()) return Status::Invalid(Field(name), "must be a string");
    *out = value.get<std::string>();
    return Status::Ok();
  }

  Status Integer(const char* name, int low, int high, int* out) const {
    if (!object_.contains(name)) return Status::Ok();
    const json& value = object_.at(name);
    if (!value.is_number_integer() || value.get<int64_t>() < low || value.get<int64_t>() > high) {
      return Status::Invalid(Field(name), "must be a whole number from " + std::to_string(low) +
                                              " to " + std::to_string(high));
    }
    *out = value.get<int>();
    return Status::Ok();
  }

  Status Strings(const char* name, std::vector<std::string>* out) const {
    if (!object_.contains(name)) return Status::Ok();
    const json& value = object_.at(name);
    if (!value.is_array()) return Status::Invalid(Field(name), "must be a list of strings");
    out->clear();
    for (const json& item : value) {
      if (!item.is_string()) return Status::Invalid(Field(name), "must be a list of strings");
      out->push_back(item.get<std::string>());
    }
    return Status::Ok();
  }

  std::string Field(const std::string& name) const {
    return path_.empty() ? name : path_ + "." + name;
  }

 private:
  const json& object_;
  std::string path_;
};

Status ReadPassword(const json& object, const std::string& path, const std::string& base_dir,
                    ConnectionConfig* out) {
  Reader reader(object, path);
  std::string file;
  std::string env;
  if (Status s = reader.String("passwordFile", &file); !s.ok()) return s;
  if (Status s = reader.String("passwordEnv", &env); !s.ok()) return s;
  if (!file.empty()) {
    file = Resolve(file, base_dir);
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      return Status::Invalid(reader.Field("passwordFile"),
                             "cannot read password file '" + file + "': check the path and that"
                             " the server may read it");
    }
    std::getline(in, out->password);
    if (!out->password.empty() && out->password.back() == '\r') out->password.pop_back();
  } else if (!env.empty()) {
    const char* value = std::getenv(env.c_str());
    if (!value || !*value) {
      return Status::Invalid(reader.Field("passwordEnv"),
                             "environment variable " + env + " is not set: export the IMAP"
                             " master password in it");
    }
    out->password = value;
  } else {
    return Status::Invalid(reader.Field("passwordFile"),
                           "missing IMAP master password: set passwordFile or passwordEnv");
  }
  return Status::Ok();
}

Status ParseConnection(const json& object, const std::string& path, const std::string& base_dir,
                       ConnectionConfig* out) {
  if (!object.is_object()) return Status::Invalid(path, "must be an object");
  Reader reader(object, path);
  if (Status s = reader.CheckKnown({"name", "type", "domains", "root", "url", "masterUser",
                                    "passwordFile", "passwordEnv", "mailboxes", "timeoutSeconds",
                                    "idleConnectionSeconds", "maxIdleConnections"});
      !s.ok()) {
    return s;
  }
  std::string type = "maildir";
  if (Status s = reader.String("name", &out->name); !s.ok()) return s;
  if (Status s = reader.String("type", &type); !s.ok()) return s;
  if (Status s = reader.Strings("domains", &out->domains); !s.ok()) return s;
  if (out->name.empty()) return Status::Invalid(reader.Field("name"), "missing connection name");
  if (out->domains.empty()) {
    return Status::Invalid(reader.Field("domains"), "list at least one recipient domain");
  }
  if (type == "maildir") {
    out->kind = ConnectionKind::kMaildir;
    if (Status s = reader.String("root", &out->root); !s.ok()) return s;
    if (out->root.empty()) return Status::Invalid(reader.Field("root"), "missing Maildir root folder");
    out->root = Resolve(out->root, base_dir);
    return Status::Ok();
  }
  if (type != "imap") {
    return Status::Invalid(reader.Field("type"), "unknown connection type '" + type +
                                                     "': use maildir or imap");
  }
  out->kind = ConnectionKind::kImap;
  if (Status s = reader.String("url", &out->url); !s.ok()) return s;
  if (Status s = reader.String("masterUser", &out->master_user); !s.ok()) return s;
  if (Status s = reader.Strings("mailboxes", &out->mailboxes); !s.ok()) return s;
  if (Status s = reader.Integer("timeoutSeconds", 1, 600, &out->timeout_seconds); !s.ok()) return s;
  if (Status s = reader.Integer("idleConnectionSeconds", 0, 3600, &out->idle_connection_seconds);
      !s.ok()) {
    return s;
  }
  if (Status s = reader.Integer("maxIdleConnections", 0, 10000, &out->max_idle_connections);
      !s.ok()) {
    return s;
  }
  if (out->url.rfind("imap://", 0) != 0 && out->url.rfind("imaps://", 0) != 0) {
    return Status::Invalid(reader.Field("url"), "invalid IMAP URL '" + out->url +
                                                    "': use imap://host:port or imaps://host:port");
  }
  if (out->master_user.empty()) {
    return Status::Invalid(reader.Field("masterUser"), "missing IMAP master user");
  }
  return ReadPassword(object, path, base_dir, out);
}

}  // namespace

std::string_view ApiName(RemediationMode mode) {
  return mode == RemediationMode::kAutomatic ? "automatic" : "notify_only";
}

Result<ServerConfig> ParseConfig(const std::string& text, const std::string& base_dir) {
  Result<json> parsed = ParseJson(text);
  if (!parsed.ok()) return parsed.status();
  if (!parsed->is_object()) return Status::Invalid("", "the configuration must be a JSON object");
  ServerConfig config;
  Reader reader(*parsed, "");
  if (Status s = reader.CheckKnown({"organisation", "dataDir", "listenAddress", "port",
                                    "tlsCertificate", "tlsKey", "holdFolder", "retentionDays",
                                    "mode", "indexIntervalSeconds", "webRoot", "connections"});
      !s.ok()) {
    return s;
  }
  std::string mode = "automatic";
  Status s = reader.String("organisation", &config.organisation);
  if (s.ok()) s = reader.String("dataDir", &config.data_dir);
  if (s.ok()) s = reader.String("listenAddress", &config.listen_address);
  if (s.ok()) s = reader.Integer("port", 0, 65535, &config.port);
  if (s.ok()) s = reader.String("tlsCertificate", &config.tls_certificate);
  if (s.ok()) s = reader.String("tlsKey", &config.tls_key);
  if (s.ok()) s = reader.String("holdFolder", &config.hold_folder);
  if (s.ok()) s = reader.Integer("retentionDays", kMinRetentionDays, kMaxRetentionDays,
                                 &config.retention_days);
  if (s.ok()) s = reader.String("mode", &mode);
  if (s.ok()) s = reader.Integer("indexIntervalSeconds", 0, 86400, &config.index_interval_seconds);
  if (s.ok()) s = reader.String("webRoot", &config.web_root);
  if (!s.ok()) return s;

  if (Status org = ValidateOrgCode(config.organisation, "organisation"); !org.ok()) return org;
  if (mode == "automatic") {
    config.mode = RemediationMode::kAutomatic;
  } else if (mode == "notify_only") {
    config.mode = RemediationMode::kNotifyOnly;
  } else {
    return Status::Invalid("mode", "unknown mode '" + mode + "': use automatic or notify_only");
  }
  if (config.tls_certificate.empty() != config.tls_key.empty()) {
    return Status::Invalid(config.tls_key.empty() ? "tlsKey" : "tlsCertificate",
                           "TLS needs both tlsCertificate and tlsKey");
  }
  if (config.hold_folder.empty() || config.hold_folder.find_first_of("/.\\") == 0) {
    return Status::Invalid("holdFolder", "invalid hold folder name '" + config.hold_folder +
                                             "': use a folder name such as Reclaim-Hold that"
                                             " does not start with /, . or \\");
  }
  // Copies already in the hold folder are never found again, so a hold
  // folder named INBOX would hide every new delivery from remediation.
  if (LowerAscii(config.hold_folder) == "inbox") {
    return Status::Invalid("holdFolder", "the hold folder cannot be INBOX, where mail is"
                                         " delivered: use a folder of its own such as"
                                         " Reclaim-Hold");
  }
  config.data_dir = Resolve(config.data_dir, base_dir);
  config.web_root = Resolve(config.web_root, base_dir);
  config.tls_certificate = Resolve(config.tls_certificate, base_dir);
  config.tls_key = Resolve(config.tls_key, base_dir);

  if (parsed->contains("connections")) {
    const json& list = parsed->at("connections");
    if (!list.is_array()) return Status::Invalid("connections", "must be a list of connections");
    std::set<std::string> names;
    for (size_t i = 0; i < list.size(); ++i) {
      ConnectionConfig connection;
      std::string path = "connections[" + std::to_string(i) + "]";
      if (Status c = ParseConnection(list[i], path, base_dir, &connection); !c.ok()) return c;
      if (!names.insert(connection.name).second) {
        return Status::Invalid(path + ".name", "duplicate connection name '" + connection.name +
                                                   "': give each connection its own name");
      }
      config.connections.push_back(std::move(connection));
    }
  }
  return config;
}

Result<ServerConfig> LoadConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::Invalid("config", "cannot read configuration file '" + path +
                                         "': check the path given with --config");
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string base = std::filesystem::path(path).parent_path().string();
  Result<ServerConfig> config = ParseConfig(text.str(), base.empty() ? "." : base);
  if (!config.ok()) {
    const Status& s = config.status();
    return Status(s.code(), s.field(), path + ": " + s.field() + ": " + s.message());
  }
  return config;
}

ServerConfig DefaultConfig(const std::string& data_dir) {
  ServerConfig config;
  config.data_dir = data_dir;
  ConnectionConfig local;
  local.name = "local-maildir";
  local.kind = ConnectionKind::kMaildir;
  local.domains = {"example.com", "example.org"};
  local.root = (std::filesystem::path(data_dir) / "mail").string();
  config.connections.push_back(local);
  return config;
}

Status BuildConnectors(const ServerConfig& config, ConnectorRegistry* registry) {
  for (const ConnectionConfig& c : config.connections) {
    std::unique_ptr<Connector> connector;
    if (c.kind == ConnectionKind::kMaildir) {
      connector = std::make_unique<MaildirConnector>(MaildirSettings{c.name, c.root, c.domains});
    } else {
      ImapSettings settings;
      settings.name = c.name;
      settings.url = c.url;
      settings.master_user = c.master_user;
      settings.password = c.password;
      settings.domains = c.domains;
      settings.mailboxes = c.mailboxes;
      settings.timeout_seconds = c.timeout_seconds;
      settings.idle_seconds = c.idle_connection_seconds;
      settings.max_idle_connections = static_cast<size_t>(c.max_idle_connections);
      Result<std::unique_ptr<ImapConnector>> imap = ImapConnector::Create(settings);
      if (!imap.ok()) return imap.status();
      connector = std::move(*imap);
    }
    if (Status s = registry->Add(std::move(connector), c.domains); !s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace reclaim
