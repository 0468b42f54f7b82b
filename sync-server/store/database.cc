#include "sync-server/store/database.h"

#include <sqlite3.h>

#include <string>
#include <utility>

namespace reclaim {

Status ApplySchema(Database* db);  // schema.cc

namespace {

// How long a statement waits for another connection's lock before it fails
// with SQLITE_BUSY.
constexpr int kBusyTimeoutMs = 10000;

// Maps an SQLite result code to a Status. Failures of the database file or
// its disk are kUnavailable (HTTP 503), because the request may succeed
// once the operator has fixed them. The other codes are bugs (kInternal).
Status StatusForResult(int result, std::string message) {
  switch (result & 0xff) {  // the primary code of an extended one
    case SQLITE_CONSTRAINT:
      return Status::Conflict("", message);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable(message + "; another connection held the database's write" +
                                 " lock for " + std::to_string(kBusyTimeoutMs / 1000) +
                                 " s (a second server or a command on the same data folder?):"
                                 " try again");
    case SQLITE_FULL:
      return Status::Unavailable(message + "; the disk that holds the database is full");
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
      return Status::Unavailable(message +
                                 "; check the disk and the permissions of the data folder");
    default:
      return Status::Internal(message);
  }
}

Status SqlError(sqlite3* db, std::string_view step, std::string_view sql) {
  std::string message = "SQLite " + std::string(step) + " failed: " + sqlite3_errmsg(db);
  if (!sql.empty()) message += " (in: " + std::string(sql.substr(0, 120)) + ")";
  return StatusForResult(sqlite3_extended_errcode(db), std::move(message));
}

}  // namespace

Statement::Statement(Database* owner, sqlite3* db, sqlite3_stmt* stmt, std::string sql)
    : owner_(owner), db_(db), stmt_(stmt), sql_(std::move(sql)) {}

Statement::Statement(Statement&& other) noexcept
    : owner_(other.owner_),
      db_(other.db_),
      stmt_(other.stmt_),
      sql_(std::move(other.sql_)),
      status_(other.status_) {
  other.stmt_ = nullptr;
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_) owner_->Recycle(std::move(sql_), stmt_);
    owner_ = other.owner_;
    db_ = other.db_;
    stmt_ = other.stmt_;
    sql_ = std::move(other.sql_);
    status_ = other.status_;
    other.stmt_ = nullptr;
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_) owner_->Recycle(std::move(sql_), stmt_);
}

void Database::Recycle(std::string sql, sqlite3_stmt* stmt) {
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  std::vector<sqlite3_stmt*>& free_list = cache_[std::move(sql)];
  if (free_list.size() < 4) {
    free_list.push_back(stmt);
  } else {
    sqlite3_finalize(stmt);
  }
}

Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::Bind(int index, std::string_view value) {
  sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Statement& Statement::BindOptional(int index, std::string_view value) {
  return value.empty() ? BindNull(index) : Bind(index, value);
}

bool Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) status_ = SqlError(db_, "step", sql_);
  return false;
}

Status Statement::Run() {
  while (Step()) {
  }
  Status result = status_;
  Reset();
  return result;
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  status_ = Status::Ok();
}

int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (!text) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

Database::Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

Database::~Database() {
  for (auto& [sql, statements] : cache_) {
    for (sqlite3_stmt* stmt : statements) sqlite3_finalize(stmt);
  }
  sqlite3_close_v2(db_);
}

Result<std::unique_ptr<Database>> Database::Open(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string message = "cannot open database '" + path + "': " +
                          (raw ? sqlite3_errmsg(raw) : "out of memory") +
                          "; check that the data folder exists and is writable";
    sqlite3_close_v2(raw);
    return Status::Unavailable(message);
  }
  std::unique_ptr<Database> db(new Database(raw, path));
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  // WAL lets the HTTP threads read while a job writes; synchronous=FULL makes
  // each committed journal step durable before the mailbox is touched.
  if (Status s = db->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                          " PRAGMA foreign_keys=ON;");
      !s.ok()) {
    return s;
  }
  if (Status s = ApplySchema(db.get()); !s.ok()) return s;
  return db;
}

Result<Statement> Database::Prepare(std::string_view sql) {
  auto cached = cache_.find(std::string(sql));
  if (cached != cache_.end() && !cached->second.empty()) {
    sqlite3_stmt* stmt = cached->second.back();
    cached->second.pop_back();
    return Statement(this, db_, stmt, std::string(sql));
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return SqlError(db_, "prepare", sql);
  return Statement(this, db_, stmt, std::string(sql));
}

Status Database::Exec(std::string_view sql) {
  std::string text(sql);
  char* error = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string message = "SQLite exec failed: " + std::string(error ? error : "unknown error") +
                        " (in: " + text.substr(0, 120) + ")";
  sqlite3_free(error);
  return StatusForResult(rc, std::move(message));
}

Status Database::ExecCached(std::string_view sql) {
  Result<Statement> statement = Prepare(sql);
  if (!statement.ok())
    return statement.status();
  int rc = SQLITE_ROW;
  while (rc == SQLITE_ROW)
    rc = sqlite3_step(statement->stmt_);
  // The error is read before the statement goes back to the cache, because
  // resetting it clears the message.
  if (rc != SQLITE_DONE)
    return SqlError(db_, "exec", sql);
  return Status::Ok();
}

Result<int64_t> Database::DataVersion() {
  Result<Statement> version = Prepare("PRAGMA data_version");
  if (!version.ok())
    return version.status();
  if (!version->Step()) {
    if (!version->status().ok())
      return version->status();
    return Status::Internal("PRAGMA data_version returned no row");
  }
  return version->Int(0);
}

int64_t Database::LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
int Database::Changes() const { return sqlite3_changes(db_); }

bool Database::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

Database::Transaction::Transaction(Database* db) : db_(db) {
  nested_ = db_->InTransaction();
  status_ = db_->ExecCached(nested_ ? "SAVEPOINT nested" : "BEGIN IMMEDIATE");
  open_ = status_.ok();
}

Database::Transaction::~Transaction() {
  if (!open_) return;
  if (nested_) {
    db_->Exec("ROLLBACK TO nested; RELEASE nested");
  } else {
    db_->Exec("ROLLBACK");
  }
}

Status Database::Transaction::Commit() {
  if (!open_) return status_.ok() ? Status::Internal("transaction already finished") : status_;
  status_ = db_->ExecCached(nested_ ? "RELEASE nested" : "COMMIT");
  if (status_.ok()) open_ = false;
  return status_;
}

}  // namespace reclaim
