// Bearer token authentication for request threads, kept off the server's
// shared database connection.
//
// Each reader owns its own SQLite connection and the tokens it has found,
// keyed by the SHA-256 of the secret. Before every lookup the reader runs
// `PRAGMA data_version`, whose value changes whenever another connection
// commits: the server's own connection, a job or the command line's
// `token revoke`. The reader then drops its cached tokens, so a revoked
// token is rejected from the next request on, while a read-only load is
// answered from memory.
//
// Thread-safe: a request takes a reader for the duration of one lookup, and
// concurrent requests get separate readers.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "shared/status.h"
#include "sync-server/auth/tokens.h"

namespace reclaim {

class TokenCache {
 public:
  // `database_path` is the server's database file, which must exist.
  explicit TokenCache(std::string database_path);
  ~TokenCache();

  TokenCache(const TokenCache&) = delete;
  TokenCache& operator=(const TokenCache&) = delete;

  // Returns the token that `secret` belongs to, or nullopt when it is
  // unknown or revoked. kUnavailable when the database cannot be read.
  Result<std::optional<TokenInfo>> Authenticate(const std::string& secret);

 private:
  struct Reader;
  Result<std::unique_ptr<Reader>> Acquire();
  void Release(std::unique_ptr<Reader> reader);

  std::string database_path_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Reader>> idle_;  // guarded by mutex_
};

}  // namespace reclaim
