#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "sync-server/app/config.h"

using namespace reclaim;

TEST_CASE("config defaults and full file") {
  Result<ServerConfig> empty = ParseConfig("{}", "/srv/reclaim");
  REQUIRE(empty.ok());
  CHECK(empty->organisation == "ACME");
  CHECK(empty->listen_address == "127.0.0.1");
  CHECK(empty->port == 8080);
  CHECK(empty->hold_folder == "Reclaim-Hold");
  CHECK(empty->retention_days == 365);
  CHECK(empty->mode == RemediationMode::kAutomatic);
  CHECK(empty->data_dir == "/srv/reclaim/data");
  CHECK(empty->connections.empty());

  setenv("RECLAIM_TEST_IMAP_PASSWORD", "s3cret", 1);
  Result<ServerConfig> full = ParseConfig(R"({
    "organisation": "CONTOSO", "dataDir": "/var/lib/reclaim", "port": 9443,
    "listenAddress": "0.0.0.0", "tlsCertificate": "tls/cert.pem", "tlsKey": "tls/key.pem",
    "holdFolder": "Quarantine", "retentionDays": 400, "mode": "notify_only",
    "indexIntervalSeconds": 60, "webRoot": "web",
    "connections": [
      {"name": "disk", "type": "maildir", "domains": ["example.com"], "root": "mail"},
      {"name": "dovecot", "type": "imap", "domains": ["example.org", "example.net"],
       "url": "imap://127.0.0.1:1143", "masterUser": "reclaim",
       "passwordEnv": "RECLAIM_TEST_IMAP_PASSWORD", "mailboxes": ["a@example.org"],
       "timeoutSeconds": 10, "idleConnectionSeconds": 0, "maxIdleConnections": 7}
    ]})",
                                          "/etc/reclaim");
  REQUIRE(full.ok());
  CHECK(full->organisation == "CONTOSO");
  CHECK(full->port == 9443);
  CHECK(full->tls_certificate == "/etc/reclaim/tls/cert.pem");
  CHECK(full->mode == RemediationMode::kNotifyOnly);
  CHECK(full->web_root == "/etc/reclaim/web");
  REQUIRE(full->connections.size() == 2);
  CHECK(full->connections[0].kind == ConnectionKind::kMaildir);
  CHECK(full->connections[0].root == "/etc/reclaim/mail");
  CHECK(full->connections[1].kind == ConnectionKind::kImap);
  CHECK(full->connections[1].password == "s3cret");
  CHECK(full->connections[1].domains.size() == 2);
  CHECK(full->connections[1].timeout_seconds == 10);
  CHECK(full->connections[1].idle_connection_seconds == 0);
  CHECK(full->connections[1].max_idle_connections == 7);
  CHECK(full->connections[0].idle_connection_seconds == 900);
}

TEST_CASE("config password from file") {
  std::string dir = std::filesystem::temp_directory_path() / "reclaim-config-test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/imap-password") << "from-file\n";
  Result<ServerConfig> config = ParseConfig(R"({"connections": [{"name": "d", "type": "imap",
      "domains": ["example.org"], "url": "imaps://mail.example.org", "masterUser": "m",
      "passwordFile": "imap-password"}]})",
                                            dir);
  std::filesystem::remove_all(dir);
  REQUIRE(config.ok());
  CHECK(config->connections[0].password == "from-file");
}

TEST_CASE("config errors name the setting") {
  unsetenv("RECLAIM_TEST_UNSET_PASSWORD");
  struct Row {
    const char* text;
    const char* field;
  };
  const Row rows[] = {
      {"[]", ""},
      {"{\"prot\": 1}", "prot"},
      {"{\"port\": 70000}", "port"},
      {"{\"port\": \"80\"}", "port"},
      {"{\"organisation\": \"acme\"}", "organisation"},
      {"{\"mode\": \"auto\"}", "mode"},
      {"{\"retentionDays\": 0}", "retentionDays"},
      {"{\"holdFolder\": \"INBOX\"}", "holdFolder"},
      {"{\"holdFolder\": \"inbox\"}", "holdFolder"},
      {"{\"holdFolder\": \"\"}", "holdFolder"},
      {"{\"holdFolder\": \".Hold\"}", "holdFolder"},
      {"{\"tlsCertificate\": \"c.pem\"}", "tlsKey"},
      {"{\"connections\": {}}", "connections"},
      {"{\"connections\": [{\"type\": \"maildir\", \"domains\": [\"a.com\"], \"root\": \"m\"}]}",
       "connections[0].name"},
      {"{\"connections\": [{\"name\": \"x\", \"root\": \"m\"}]}", "connections[0].domains"},
      {"{\"connections\": [{\"name\": \"x\", \"domains\": [\"a.com\"]}]}", "connections[0].root"},
      {"{\"connections\": [{\"name\": \"x\", \"type\": \"pop3\", \"domains\": [\"a.com\"]}]}",
       "connections[0].type"},
      {"{\"connections\": [{\"name\": \"x\", \"type\": \"imap\", \"domains\": [\"a.com\"],"
       " \"url\": \"http://h\", \"masterUser\": \"m\", \"passwordEnv\": \"P\"}]}",
       "connections[0].url"},
      {"{\"connections\": [{\"name\": \"x\", \"type\": \"imap\", \"domains\": [\"a.com\"],"
       " \"url\": \"imap://h\", \"masterUser\": \"m\"}]}",
       "connections[0].passwordFile"},
      {"{\"connections\": [{\"name\": \"x\", \"type\": \"imap\", \"domains\": [\"a.com\"],"
       " \"url\": \"imap://h\", \"masterUser\": \"m\","
       " \"passwordEnv\": \"RECLAIM_TEST_UNSET_PASSWORD\"}]}",
       "connections[0].passwordEnv"},
      {"{\"connections\": [{\"name\": \"x\", \"domains\": [\"a.com\"], \"root\": \"m\"},"
       " {\"name\": \"x\", \"domains\": [\"b.com\"], \"root\": \"n\"}]}",
       "connections[1].name"},
      {"{\"connections\": [{\"name\": \"x\", \"type\": \"imap\", \"domains\": [\"a.com\"],"
       " \"url\": \"imap://h\", \"masterUser\": \"m\", \"passwordEnv\": \"P\","
       " \"idleConnectionSeconds\": -1}]}",
       "connections[0].idleConnectionSeconds"},
      {"{\"connections\": [{\"name\": \"x\", \"type\": \"imap\", \"domains\": [\"a.com\"],"
       " \"url\": \"imap://h\", \"masterUser\": \"m\", \"passwordEnv\": \"P\","
       " \"maxIdleConnections\": \"many\"}]}",
       "connections[0].maxIdleConnections"},
  };
  for (const Row& row : rows) {
    INFO("config " << row.text);
    Result<ServerConfig> config = ParseConfig(row.text, "/etc/reclaim");
    REQUIRE_FALSE(config.ok());
    CHECK(config.status().field() == row.field);
  }
}

TEST_CASE("config builds connectors") {
  ServerConfig config = DefaultConfig("/tmp/reclaim-data");
  ConnectorRegistry registry;
  REQUIRE(BuildConnectors(config, &registry).ok());
  REQUIRE(registry.ForAddress("alice@Example.COM") != nullptr);
  CHECK(registry.ForAddress("alice@example.com")->name() == "local-maildir");
  CHECK(registry.ForAddress("bob@example.org") != nullptr);
  CHECK(registry.ForAddress("zed@partner.example") == nullptr);
  CHECK(registry.ForAddress("no-at-sign") == nullptr);

  // One domain in two connections is rejected.
  config.connections.push_back(config.connections.front());
  config.connections.back().name = "second";
  ConnectorRegistry twice;
  Status s = BuildConnectors(config, &twice);
  CHECK_FALSE(s.ok());
  CHECK(s.field() == "domains");
}
