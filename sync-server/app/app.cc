#include "sync-server/app/app.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>

#include "shared/retention.h"

namespace reclaim {
namespace {

constexpr std::string_view kCursorPrefix = "c";

Status ReadSetting(Database* db, const std::string& key, std::string* value) {
  Result<Statement> st = db->Prepare("SELECT value FROM settings WHERE key=?");
  if (!st.ok()) return st.status();
  st->Bind(1, key);
  if (st->Step()) *value = st->Text(0);
  return st->status();
}

Status WriteSetting(Database* db, const std::string& key, const std::string& value) {
  Result<Statement> st = db->Prepare(
      "INSERT INTO settings(key, value) VALUES(?1, ?2)"
      " ON CONFLICT(key) DO UPDATE SET value=?2");
  if (!st.ok()) return st.status();
  return st->Bind(1, key).Bind(2, value).Run();
}

}  // namespace

App::App(ServerConfig config, std::function<UnixSeconds()> clock)
    : config_(std::move(config)),
      clock_(std::move(clock)),
      mode_(config_.mode),
      retention_days_(config_.retention_days) {}

App::~App() {
  if (jobs_) jobs_->Stop();
  if (lock_fd_ >= 0) close(lock_fd_);  // releases the lock
}

Result<std::unique_ptr<App>> App::Open(ServerConfig config, std::function<UnixSeconds()> clock,
                                       Access access) {
  std::unique_ptr<App> app(new App(std::move(config), std::move(clock)));
  if (Status s = app->Start(access); !s.ok()) return s;
  return app;
}

// Takes the data folder's lock without waiting. flock() locks belong to the
// open file, so the kernel drops them when the process exits, even after
// SIGKILL, and a stale lock file is never a problem. The holder's process
// id is written into the file for the error message of the next one.
Status App::LockDataFolder() {
  const std::string path = (std::filesystem::path(config_.data_dir) / "reclaim.lock").string();
  lock_fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) {
    return Status::Unavailable("cannot open " + path + ": " + std::strerror(errno) +
                               "; check that the data folder is writable");
  }
  if (flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    char holder[32] = "";
    const ssize_t read_bytes = pread(lock_fd_, holder, sizeof holder - 1, 0);
    holder[read_bytes > 0 ? read_bytes : 0] = '\0';
    close(lock_fd_);
    lock_fd_ = -1;
    std::string pid = holder;
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    return Status::Unavailable("data folder '" + config_.data_dir +
                               "' is in use by another reclaim-server" +
                               (pid.empty() ? "" : " (process " + pid + ")") +
                               ": stop it first, or use its HTTP API (POST /api/v1/index,"
                               " /api/v1/remediations, /api/v1/incidents/{id}/restore) while"
                               " it runs");
  }
  const std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(lock_fd_, 0) != 0 || pwrite(lock_fd_, pid.data(), pid.size(), 0) < 0) {
    spdlog::warn("cannot write the process id into {}: {}", path, std::strerror(errno));
  }
  return Status::Ok();
}

RemediatorOptions App::EngineOptions() const {
  RemediatorOptions options;
  options.hold_folder = config_.hold_folder;
  options.clock = clock_;
  return options;
}

Status App::Start(Access access) {
  std::error_code error;
  std::filesystem::create_directories(config_.data_dir, error);
  if (error) {
    return Status::Unavailable("cannot create data folder '" + config_.data_dir +
                               "': " + error.message());
  }
  if (access == Access::kOwner) {
    if (Status s = LockDataFolder(); !s.ok()) return s;
  }
  database_path_ = (std::filesystem::path(config_.data_dir) / "reclaim.db").string();
  Result<std::unique_ptr<Database>> db = Database::Open(database_path_);
  if (!db.ok()) return db.status();
  db_ = std::move(*db);
  if (Status s = BuildConnectors(config_, &connectors_); !s.ok()) return s;
  repository_ = std::make_unique<IncidentRepository>(db_.get(), config_.organisation, RandomId);
  tokens_ = std::make_unique<TokenStore>(db_.get());
  token_cache_ = std::make_unique<TokenCache>(database_path_);
  Result<std::unique_ptr<Database>> watch_db = Database::Open(database_path_);
  if (!watch_db.ok())
    return watch_db.status();
  watch_db_ = std::move(*watch_db);
  remediator_ = std::make_unique<Remediator>(db_.get(), &connectors_, repository_.get(),
                                             EngineOptions());

  // Settings changed through the API outlive restarts.
  std::string mode;
  std::string retention;
  if (Status s = ReadSetting(db_.get(), "mode", &mode); !s.ok()) return s;
  if (Status s = ReadSetting(db_.get(), "retentionDays", &retention); !s.ok()) return s;
  if (mode == "automatic") mode_ = RemediationMode::kAutomatic;
  if (mode == "notify_only") mode_ = RemediationMode::kNotifyOnly;
  if (!retention.empty()) retention_days_ = std::atoi(retention.c_str());

  // Moves a crash left open are settled before any new job starts.
  if (access == Access::kOwner) {
    if (Status s = remediator_->Recover(); !s.ok()) {
      spdlog::error("recovery: some moves stay open until the next start: {}", s.message());
    }
    if (Result<std::vector<std::string>> purged = PurgeExpired(); !purged.ok()) {
      spdlog::error("retention purge failed: {}", purged.status().message());
    }
  }
  if (Status s = RefreshStore(); !s.ok()) return s;
  jobs_ = std::make_unique<JobRunner>(clock_);
  spdlog::info("store: {} incidents loaded from {}", store_.size(), database_path_);
  return Status::Ok();
}

void App::MarkStoreDirty() {
  std::lock_guard<std::mutex> lock(db_mutex_);
  store_dirty_ = true;
}

Status App::RefreshStore() {
  // Nothing to do when no connection committed since the last refresh that
  // succeeded. The version is read before the changes, so a commit after
  // this read is seen by the next call.
  int64_t watched = -1;
  {
    std::lock_guard<std::mutex> lock(watch_mutex_);
    Result<int64_t> version = watch_db_->DataVersion();
    if (version.ok()) {
      watched = *version;
      if (!store_dirty_ && watched == watch_version_)
        return Status::Ok();
    }
  }
  Status status = CopyChangesIntoStore();
  if (status.ok() && watched != -1) {
    std::lock_guard<std::mutex> lock(watch_mutex_);
    watch_version_ = watched;
  }
  return status;
}

Status App::CopyChangesIntoStore() {
  std::vector<Incident> changed;
  std::vector<std::string> purged;
  int64_t latest = 0;
  {
    std::lock_guard<std::mutex> lock(db_mutex_);
    Result<int64_t> data_version = db_->DataVersion();
    if (!data_version.ok())
      return data_version.status();
    if (!store_dirty_ && *data_version == store_data_version_)
      return Status::Ok();
    store_dirty_ = false;
    store_data_version_ = *data_version;
    int64_t since;
    {
      std::shared_lock<std::shared_mutex> read(store_mutex_);
      since = store_change_;
    }
    // A failed read leaves the store marked dirty, so the next call tries
    // again instead of taking the store as current.
    Result<std::vector<Incident>> incidents = repository_->ChangedSince(since, &latest);
    if (!incidents.ok()) {
      store_dirty_ = true;
      return incidents.status();
    }
    Result<std::vector<std::string>> codes = repository_->PurgedSince(since);
    if (!codes.ok()) {
      store_dirty_ = true;
      return codes.status();
    }
    changed = std::move(*incidents);
    purged = std::move(*codes);
  }
  std::unique_lock<std::shared_mutex> write(store_mutex_);
  if (latest <= store_change_) return Status::Ok();
  if (!purged.empty()) store_.Erase(purged);
  if (Status s = store_.Upsert(changed); !s.ok()) {
    store_dirty_ = true;
    return s;
  }
  store_change_ = latest;
  return Status::Ok();
}

std::string App::QueueMoves(JobKind kind, const std::string& incident_id,
                            std::vector<int64_t> rows) {
  return jobs_->Submit(kind, incident_id, [this, kind, incident_id, rows](JobControl* control) {
    Result<std::unique_ptr<Database>> db = Database::Open(database_path_);
    if (!db.ok()) return db.status();
    IncidentRepository repository(db->get(), config_.organisation, RandomId);
    Remediator remediator(db->get(), &connectors_, &repository, EngineOptions());
    Status status = kind == JobKind::kRestore ? remediator.Restore(incident_id, control)
                                              : remediator.Remove(incident_id, rows, control);
    if (Status refreshed = RefreshStore(); !refreshed.ok()) {
      spdlog::error("job for incident {}: query index refresh failed: {}", incident_id,
                    refreshed.message());
    }
    return status;
  });
}

Result<RemediationResult> App::Remediate(const RemediationRequest& request, bool remove) {
  Result<Incident> incident = [&] {
    std::lock_guard<std::mutex> lock(db_mutex_);
    store_dirty_ = true;
    return remediator_->Identify(request);
  }();
  if (!incident.ok()) return incident.status();
  RemediationResult result{*incident, {}};
  bool has_work = incident->counts.identified > incident->counts.failed;
  if (remove && has_work) {
    result.job_id = QueueMoves(JobKind::kRemove, incident->id, {});
  }
  spdlog::info("incident {}: created {} for {} with {} copies identified, {} failed",
               FormatIncidentCode(incident->code), ApiName(incident->code.type),
               incident->criteria.identifier, incident->counts.identified,
               incident->counts.failed);
  if (Status s = RefreshStore(); !s.ok()) return s;
  return result;
}

Result<std::string> App::RemoveIdentified(const std::string& incident_id,
                                          std::vector<int64_t> rows) {
  Result<Incident> incident = WithDatabase([&](Database&, IncidentRepository& repository,
                                               TokenStore&) { return repository.Get(incident_id); });
  if (!incident.ok()) return incident.status();
  if (incident->code.type == IncidentType::kRestore) {
    return Status::Conflict("id", "incident " + FormatIncidentCode(incident->code) +
                                      " is a restore: restored copies are removed by a new"
                                      " remediation");
  }
  // An id outside the incident is rejected here, as Restore() does, instead
  // of being skipped by the job without notice.
  if (!rows.empty()) {
    Result<std::vector<StoredRow>> stored =
        WithDatabase([&](Database&, IncidentRepository& repository, TokenStore&) {
          return repository.Rows(incident->id);
        });
    if (!stored.ok()) return stored.status();
    for (int64_t id : rows) {
      bool known = std::any_of(stored->begin(), stored->end(),
                               [id](const StoredRow& row) { return row.row_id == id; });
      if (!known) {
        return Status::NotFound("messages", "message " + std::to_string(id) + " is not part of " +
                                                FormatIncidentCode(incident->code) +
                                                ": use the ids from the incident's messages");
      }
    }
  }
  return QueueMoves(JobKind::kRemove, incident->id, std::move(rows));
}

Result<RemediationResult> App::Restore(const std::string& incident_id, std::vector<int64_t> rows,
                                       const std::string& reason) {
  Result<Incident> restore = [&] {
    std::lock_guard<std::mutex> lock(db_mutex_);
    store_dirty_ = true;
    return remediator_->PrepareRestore(incident_id, rows, reason);
  }();
  if (!restore.ok()) return restore.status();
  RemediationResult result{*restore, QueueMoves(JobKind::kRestore, restore->id, {})};
  if (Status s = RefreshStore(); !s.ok()) return s;
  return result;
}

Result<std::optional<RemediationResult>> App::ThreatVerdict(const std::string& digest,
                                                            const std::string& reason) {
  RemediationRequest request;
  request.identifier = digest;
  request.reason = reason.empty() ? "Malicious file hash reported by threat intelligence" : reason;
  bool automatic = mode() == RemediationMode::kAutomatic;
  request.type = automatic ? IncidentType::kAutomatic : IncidentType::kNotifyOnly;
  // Only open an incident when a delivered copy exists.
  {
    std::lock_guard<std::mutex> lock(db_mutex_);
    MessageIndex index(db_.get());
    Result<std::vector<IndexedMessage>> copies = index.FindByAttachmentHash(LowerAscii(digest));
    if (!copies.ok()) return copies.status();
    bool delivered = false;
    for (const IndexedMessage& copy : *copies) {
      delivered = delivered || copy.location.folder != config_.hold_folder;
    }
    if (!delivered) return std::optional<RemediationResult>();
  }
  Result<RemediationResult> result = Remediate(request, automatic);
  if (!result.ok()) return result.status();
  return std::optional<RemediationResult>(*result);
}

Result<std::string> App::FetchMessage(const std::string& connection, const std::string& mailbox,
                                      const StoredLocation& location) {
  // The registry is built once in Start() and only read afterwards, and
  // connectors may open sessions from several threads at once.
  Connector* connector = connectors_.ByName(connection);
  if (connector == nullptr) {
    return Status::NotFound("connection", "connection '" + connection +
                                              "' is no longer configured: add it back to the"
                                              " configuration to read this message");
  }
  Result<std::unique_ptr<MailboxSession>> session = connector->Open(mailbox);
  if (!session.ok()) return session.status();
  return (*session)->Fetch(location);
}

IndexStats App::IndexNow() {
  IndexStats total;
  for (Connector* connector : connectors_.All()) {
    Result<std::unique_ptr<Database>> db = Database::Open(database_path_);
    if (!db.ok()) {
      total.errors.push_back(db.status().message());
      continue;
    }
    MessageIndex index(db->get());
    IndexStats stats = IndexConnector(*connector, &index, Now());
    total.mailboxes += stats.mailboxes;
    total.added += stats.added;
    total.gone += stats.gone;
    total.failed += stats.failed;
    total.unchanged += stats.unchanged;
    total.errors.insert(total.errors.end(), stats.errors.begin(), stats.errors.end());
  }
  spdlog::info(
      "index: {} mailboxes, {} added, {} gone, {} unreadable, {} errors, {} folders unchanged",
      total.mailboxes, total.added, total.gone, total.failed, total.errors.size(),
      total.unchanged);
  for (const std::string& error : total.errors) spdlog::warn("index: {}", error);
  return total;
}

Result<std::vector<std::string>> App::PurgeExpired() {
  Result<std::vector<std::string>> codes = [&] {
    std::lock_guard<std::mutex> lock(db_mutex_);
    store_dirty_ = true;
    return repository_->Purge(RetentionCutoff(Now(), retention_days()));
  }();
  if (!codes.ok()) return codes.status();
  if (!codes->empty()) {
    spdlog::info("retention: purged {} incidents older than {} days", codes->size(),
                 retention_days());
  }
  return codes;
}

RemediationMode App::mode() const {
  std::lock_guard<std::mutex> lock(settings_mutex_);
  return mode_;
}

Status App::SetMode(RemediationMode mode) {
  Status s = WithDatabase([&](Database& db, IncidentRepository&, TokenStore&) {
    return WriteSetting(&db, "mode", std::string(ApiName(mode)));
  });
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(settings_mutex_);
  mode_ = mode;
  return Status::Ok();
}

int App::retention_days() const {
  std::lock_guard<std::mutex> lock(settings_mutex_);
  return retention_days_;
}

Status App::SetRetentionDays(int days) {
  if (Status s = ValidateRetentionDays(days); !s.ok()) return s;
  Status s = WithDatabase([&](Database& db, IncidentRepository&, TokenStore&) {
    return WriteSetting(&db, "retentionDays", std::to_string(days));
  });
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(settings_mutex_);
  retention_days_ = days;
  return Status::Ok();
}

Result<Snapshot> App::SyncSince(const std::string& cursor) {
  int64_t since = 0;
  if (!cursor.empty()) {
    bool valid = cursor.size() > 1 && cursor.compare(0, 1, kCursorPrefix) == 0;
    for (size_t i = 1; valid && i < cursor.size(); ++i) {
      valid = std::isdigit(static_cast<unsigned char>(cursor[i])) != 0;
    }
    // from_chars reports a number beyond int64_t as an error, where
    // std::stoll would throw.
    if (valid) {
      const char* end = cursor.data() + cursor.size();
      auto [stop, error] = std::from_chars(cursor.data() + 1, end, since);
      valid = error == std::errc() && stop == end;
    }
    if (!valid || cursor.size() > 20) {
      return Status::Invalid("since", "invalid sync cursor '" + cursor +
                                          "': send the cursor of the last sync, or none for a"
                                          " full snapshot");
    }
  }
  Snapshot snapshot;
  snapshot.generated = Now();
  snapshot.delta = !cursor.empty();
  std::lock_guard<std::mutex> lock(db_mutex_);
  int64_t latest = 0;
  Result<std::vector<Incident>> incidents = repository_->ChangedSince(since, &latest);
  if (!incidents.ok()) return incidents.status();
  if (since > latest) {
    return Status::Invalid("since", "sync cursor '" + cursor + "' is ahead of this server (" +
                                        "latest c" + std::to_string(latest) +
                                        "): the server's database was replaced; sync without a"
                                        " cursor");
  }
  snapshot.incidents = std::move(*incidents);
  if (snapshot.delta) {
    Result<std::vector<std::string>> purged = repository_->PurgedSince(since);
    if (!purged.ok()) return purged.status();
    snapshot.purged = std::move(*purged);
  }
  snapshot.cursor = std::string(kCursorPrefix) + std::to_string(latest);
  return snapshot;
}

}  // namespace reclaim
