// API tokens with roles, stored hashed, and the audit log of mutations.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "shared/status.h"
#include "shared/time_util.h"
#include "sync-server/store/database.h"

namespace reclaim {

// Roles in increasing power: each can do what the ones before it can.
enum class Role : uint8_t { kViewer, kRemediator, kAdmin };
std::string_view ApiName(Role role);  // "viewer", "remediator", "admin"
std::optional<Role> RoleFromApiName(std::string_view name);

struct TokenInfo {
  std::string id;  // short public id, safe to log
  std::string name;
  Role role = Role::kViewer;
  UnixSeconds created = 0;
  bool revoked = false;
};

struct AuditEntry {
  int64_t id = 0;
  UnixSeconds time = 0;
  std::string token_id;  // who
  std::string token_name;
  std::string action;  // what, e.g. "remediation.create"
  std::string target;  // incident code or id, token id, setting name
  std::string detail;
  std::string remote;  // from where: the client's address
};

// Whether `secret` has the form of a token secret ("rcl_" and hex digits
// follow); other text cannot belong to any token.
bool LooksLikeTokenSecret(std::string_view secret);

// Not thread-safe: callers serialise use of the Database.
class TokenStore {
 public:
  explicit TokenStore(Database* db) : db_(db) {}

  // Creates a token and returns its secret, which is shown once and stored
  // only as its SHA-256.
  Result<std::string> Create(const std::string& name, Role role, UnixSeconds now,
                             TokenInfo* info);
  Result<std::vector<TokenInfo>> List();
  // kNotFound for an unknown id.
  Status Revoke(const std::string& id);
  // The token a secret belongs to, unless unknown or revoked.
  std::optional<TokenInfo> Authenticate(const std::string& secret);
  // The unrevoked token whose secret has this SHA-256 (lower-case hex).
  Result<std::optional<TokenInfo>> FindActiveByHash(const std::string& sha256_hex);

  Status Audit(const AuditEntry& entry);
  Result<std::vector<AuditEntry>> AuditLog(size_t limit);

 private:
  Database* db_;
};

}  // namespace reclaim
