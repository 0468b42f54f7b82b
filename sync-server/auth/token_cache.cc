#include "sync-server/auth/token_cache.h"

#include <unordered_map>
#include <utility>

#include "sync-server/mail/hashing.h"
#include "sync-server/store/database.h"

namespace reclaim {
struct TokenCache::Reader {
  std::unique_ptr<Database> db;
  std::unique_ptr<TokenStore> tokens;
  int64_t data_version = -1;                         // of `db` when `found` was last known valid
  std::unordered_map<std::string, TokenInfo> found;  // by SHA-256 hex of the secret
};

TokenCache::TokenCache(std::string database_path) : database_path_(std::move(database_path)) {}

TokenCache::~TokenCache() = default;

Result<std::unique_ptr<TokenCache::Reader>> TokenCache::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<Reader> reader = std::move(idle_.back());
      idle_.pop_back();
      return reader;
    }
  }
  Result<std::unique_ptr<Database>> db = Database::Open(database_path_);
  if (!db.ok())
    return db.status();
  auto reader = std::make_unique<Reader>();
  reader->db = std::move(*db);
  reader->tokens = std::make_unique<TokenStore>(reader->db.get());
  return reader;
}

void TokenCache::Release(std::unique_ptr<Reader> reader) {
  std::lock_guard<std::mutex> lock(mutex_);
  idle_.push_back(std::move(reader));
}

Result<std::optional<TokenInfo>> TokenCache::Authenticate(const std::string& secret) {
  if (!LooksLikeTokenSecret(secret))
    return std::optional<TokenInfo>();
  const std::string hash = Sha256Hex(secret);
  Result<std::unique_ptr<Reader>> reader = Acquire();
  if (!reader.ok())
    return reader.status();
  Reader& r = **reader;

  Result<int64_t> data_version = r.db->DataVersion();
  if (!data_version.ok())
    return data_version.status();
  if (*data_version != r.data_version) {
    r.found.clear();
    r.data_version = *data_version;
  }

  std::optional<TokenInfo> token;
  auto cached = r.found.find(hash);
  if (cached != r.found.end()) {
    token = cached->second;
  } else {
    Result<std::optional<TokenInfo>> stored = r.tokens->FindActiveByHash(hash);
    if (!stored.ok())
      return stored.status();
    token = *stored;
    if (token)
      r.found.emplace(hash, *token);
  }
  Release(std::move(*reader));
  return token;
}

}  // namespace reclaim
