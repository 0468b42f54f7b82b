#include "sync-server/auth/tokens.h"

#include <openssl/rand.h>

#include "sync-server/mail/hashing.h"

namespace reclaim {
namespace {

constexpr std::string_view kRoleNames[] = {"viewer", "remediator", "admin"};

std::string RandomHex(size_t bytes) {
  std::vector<unsigned char> buffer(bytes);
  if (RAND_bytes(buffer.data(), static_cast<int>(buffer.size())) != 1) return {};
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : buffer) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

TokenInfo ReadToken(const Statement& st) {
  TokenInfo info;
  info.id = st.Text(0);
  info.name = st.Text(1);
  info.role = RoleFromApiName(st.Text(2)).value_or(Role::kViewer);
  info.created = st.Int(3);
  info.revoked = st.Int(4) != 0;
  return info;
}

}  // namespace

std::string_view ApiName(Role role) { return kRoleNames[static_cast<size_t>(role)]; }

std::optional<Role> RoleFromApiName(std::string_view name) {
  for (size_t i = 0; i < std::size(kRoleNames); ++i) {
    if (kRoleNames[i] == name) return static_cast<Role>(i);
  }
  return std::nullopt;
}

Result<std::string> TokenStore::Create(const std::string& name, Role role, UnixSeconds now,
                                       TokenInfo* info) {
  if (name.empty() || name.size() > 100) {
    return Status::Invalid("name", "token name must be 1 to 100 characters, such as soar-playbook");
  }
  std::string id = RandomHex(6);
  std::string secret = "rcl_" + RandomHex(24);
  if (id.empty() || secret.size() < 10) {
    return Status::Internal("the random number generator failed; try again");
  }
  Result<Statement> st = db_->Prepare(
      "INSERT INTO tokens(id, name, role, hash, created) VALUES(?,?,?,?,?)");
  if (!st.ok()) return st.status();
  st->Bind(1, id).Bind(2, name).Bind(3, ApiName(role)).Bind(4, Sha256Hex(secret)).Bind(5, now);
  if (Status s = st->Run(); !s.ok()) return s;
  if (info) *info = TokenInfo{id, name, role, now, false};
  return secret;
}

Result<std::vector<TokenInfo>> TokenStore::List() {
  Result<Statement> st =
      db_->Prepare("SELECT id, name, role, created, revoked FROM tokens ORDER BY created, id");
  if (!st.ok()) return st.status();
  std::vector<TokenInfo> out;
  while (st->Step()) out.push_back(ReadToken(*st));
  if (!st->status().ok()) return st->status();
  return out;
}

Status TokenStore::Revoke(const std::string& id) {
  Result<Statement> st = db_->Prepare("UPDATE tokens SET revoked=1 WHERE id=?");
  if (!st.ok()) return st.status();
  if (Status s = st->Bind(1, id).Run(); !s.ok()) return s;
  if (db_->Changes() == 0) {
    return Status::NotFound("id", "token '" + id + "' not found: list tokens to see their ids");
  }
  return Status::Ok();
}

bool LooksLikeTokenSecret(std::string_view secret) { return secret.rfind("rcl_", 0) == 0; }

std::optional<TokenInfo> TokenStore::Authenticate(const std::string& secret) {
  if (!LooksLikeTokenSecret(secret)) return std::nullopt;
  Result<std::optional<TokenInfo>> token = FindActiveByHash(Sha256Hex(secret));
  return token.ok() ? *token : std::nullopt;
}

Result<std::optional<TokenInfo>> TokenStore::FindActiveByHash(const std::string& sha256_hex) {
  Result<Statement> st = db_->Prepare(
      "SELECT id, name, role, created, revoked FROM tokens WHERE hash=? AND revoked=0");
  if (!st.ok()) return st.status();
  st->Bind(1, sha256_hex);
  if (st->Step()) return std::optional<TokenInfo>(ReadToken(*st));
  if (!st->status().ok()) return st->status();
  return std::optional<TokenInfo>();
}

Status TokenStore::Audit(const AuditEntry& e) {
  Result<Statement> st = db_->Prepare(
      "INSERT INTO audit(time, token, token_name, action, target, detail, remote)"
      " VALUES(?,?,?,?,?,?,?)");
  if (!st.ok()) return st.status();
  st->Bind(1, e.time).Bind(2, e.token_id).Bind(3, e.token_name).Bind(4, e.action);
  st->Bind(5, e.target).Bind(6, e.detail).Bind(7, e.remote);
  return st->Run();
}

Result<std::vector<AuditEntry>> TokenStore::AuditLog(size_t limit) {
  Result<Statement> st = db_->Prepare(
      "SELECT id, time, token, token_name, action, target, detail, remote FROM audit"
      " ORDER BY id DESC LIMIT ?");
  if (!st.ok()) return st.status();
  st->Bind(1, static_cast<int64_t>(limit));
  std::vector<AuditEntry> out;
  while (st->Step()) {
    AuditEntry e;
    e.id = st->Int(0);
    e.time = st->Int(1);
    e.token_id = st->Text(2);
    e.token_name = st->Text(3);
    e.action = st->Text(4);
    e.target = st->Text(5);
    e.detail = st->Text(6);
    e.remote = st->Text(7);
    out.push_back(std::move(e));
  }
  if (!st->status().ok()) return st->status();
  return out;
}

}  // namespace reclaim
