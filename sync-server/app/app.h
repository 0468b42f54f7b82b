// The server's state and operations, shared by the HTTP API and the command
// line: configuration, the SQLite store, the in-memory query index, the
// mailbox connectors and the job runner.
//
// Thread-safe. Database work from request threads is serialised on one
// connection, and jobs run on the job runner's thread with their own.
// Queries read the in-memory IncidentStore under a shared lock, and read
// incident rows from the disk only when something changed since the last
// query.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "shared/incident_store.h"
#include "shared/json_codec.h"
#include "shared/query.h"
#include "sync-server/app/config.h"
#include "sync-server/auth/token_cache.h"
#include "sync-server/auth/tokens.h"
#include "sync-server/index/message_index.h"
#include "sync-server/jobs/job_runner.h"
#include "sync-server/remediation/remediator.h"
#include "sync-server/store/incident_repository.h"

namespace reclaim {

struct RemediationResult {
  Incident incident;
  std::string job_id;  // empty when nothing needs moving
};

class App {
 public:
  // The access an App has to the mailboxes and the incidents.
  enum class Access {
    // Moves copies and settles what a crash left open. Takes the data
    // folder's lock (`<data_dir>/reclaim.lock`) for the App's lifetime, so a
    // second owner of the same folder fails to open instead of settling
    // moves that the first one is making.
    kOwner,
    // Only reads incidents and manages tokens (the token and export
    // commands), which is safe beside a running server: no lock, no
    // recovery, no retention purge.
    kTool,
  };

  // Opens (creating) `<data_dir>/reclaim.db`, builds the connectors and
  // loads the incidents into memory. An owner also settles moves a crash
  // left open and purges incidents past retention. `clock` gives the
  // current time. kUnavailable when another owner has the data folder's lock.
  static Result<std::unique_ptr<App>> Open(ServerConfig config,
                                           std::function<UnixSeconds()> clock,
                                           Access access = Access::kOwner);
  ~App();

  const ServerConfig& config() const { return config_; }
  UnixSeconds Now() const { return clock_(); }
  JobRunner& jobs() { return *jobs_; }

  // Runs `work` with the request threads' database connection held. Work
  // that changes incidents must call MarkStoreDirty() afterwards.
  template <typename Work>
  auto WithDatabase(Work&& work) {
    std::lock_guard<std::mutex> lock(db_mutex_);
    return work(*db_, *repository_, *tokens_);
  }

  // Returns the token that `secret` belongs to, or nullopt when it is
  // unknown or revoked. Runs on a connection of its own, not the one
  // WithDatabase() serialises, and a revocation counts from the next call.
  Result<std::optional<TokenInfo>> Authenticate(const std::string& secret) {
    return token_cache_->Authenticate(secret);
  }

  // Runs `read` on the query index under a shared lock.
  template <typename Read>
  auto ReadStore(Read&& read) const {
    std::shared_lock<std::shared_mutex> lock(store_mutex_);
    return read(store_);
  }

  // Copies incidents changed in the database since the last call into the
  // query index. Cheap when nothing changed: queries call it every time.
  Status RefreshStore();
  // Notes that the request connection changed incidents.
  void MarkStoreDirty();

  // Identifies the copies and creates the incident; with `remove` set (not
  // for Notify Only) also queues the job that moves them.
  Result<RemediationResult> Remediate(const RemediationRequest& request, bool remove);
  // Queues removal of the identified copies of an incident (all or `rows`).
  Result<std::string> RemoveIdentified(const std::string& incident, std::vector<int64_t> rows);
  // Creates the Restore incident for removed copies and queues the moves.
  Result<RemediationResult> Restore(const std::string& incident, std::vector<int64_t> rows,
                                    const std::string& reason);
  // Opens Automatic or Notify Only incidents (by the mode setting) for a
  // malicious hash with delivered copies; returns none when no copy exists.
  Result<std::optional<RemediationResult>> ThreatVerdict(const std::string& sha256_or_md5,
                                                         const std::string& reason);

  // Reads the raw bytes of the copy at `location` in `mailbox` of the
  // connection named `connection`, on the calling thread. Errors are the
  // connector's (kNotFound when the copy is gone, kUnavailable when the store
  // cannot be reached).
  Result<std::string> FetchMessage(const std::string& connection, const std::string& mailbox,
                                   const StoredLocation& location);

  // Reads new mail into the message index, now, on the calling thread.
  IndexStats IndexNow();
  // Deletes incidents past the retention period; returns their codes.
  Result<std::vector<std::string>> PurgeExpired();

  RemediationMode mode() const;
  Status SetMode(RemediationMode mode);
  int retention_days() const;
  Status SetRetentionDays(int days);

  // Delta sync: everything since `cursor` (empty: a full snapshot).
  Result<Snapshot> SyncSince(const std::string& cursor);

 private:
  App(ServerConfig config, std::function<UnixSeconds()> clock);
  Status Start(Access access);
  Status LockDataFolder();
  // RefreshStore's work under db_mutex_ and the store's write lock.
  Status CopyChangesIntoStore();
  RemediatorOptions EngineOptions() const;
  std::string QueueMoves(JobKind kind, const std::string& incident_id, std::vector<int64_t> rows);

  ServerConfig config_;
  std::function<UnixSeconds()> clock_;
  std::string database_path_;
  ConnectorRegistry connectors_;

  std::mutex db_mutex_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<IncidentRepository> repository_;
  std::unique_ptr<TokenStore> tokens_;
  std::unique_ptr<TokenCache> token_cache_;
  std::unique_ptr<Remediator> remediator_;

  mutable std::shared_mutex store_mutex_;
  IncidentStore store_;
  int64_t store_change_ = 0;  // newest change copied into store_
  // SQLite's data_version of db_ at the last refresh: it changes when any
  // other connection (a job, the command line) commits.
  int64_t store_data_version_ = -1;
  std::atomic<bool> store_dirty_{true};  // this process's connection changed incidents
  // RefreshStore() reads data_version on this connection of its own before
  // it takes db_mutex_, so queries do not wait for requests that hold db_.
  // Commits on db_ change this connection's data_version too.
  std::mutex watch_mutex_;
  std::unique_ptr<Database> watch_db_;  // guarded by watch_mutex_
  int lock_fd_ = -1;                    // the data folder's lock, held by an owner
  // watch_db_'s data_version at the last refresh that succeeded; guarded by
  // watch_mutex_.
  int64_t watch_version_ = -1;

  mutable std::mutex settings_mutex_;
  RemediationMode mode_;
  int retention_days_;

  std::unique_ptr<JobRunner> jobs_;
};

}  // namespace reclaim
