// A small RAII layer over SQLite: one connection, prepared statements and
// transactions. The schema lives in schema.cc.
//
// A Database is used by one thread at a time. The server gives each worker
// thread its own connection to the same file, and WAL mode lets readers run
// beside one writer. Errors come back as Status values naming the SQL
// step that failed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "shared/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace reclaim {

class Database;

class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  ~Statement();

  // Binders take 1-based parameter indices and return *this for chaining.
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, std::string_view value);
  Statement& BindNull(int index);
  // Binds an empty string as NULL.
  Statement& BindOptional(int index, std::string_view value);

  // Steps once: true when a row is ready, false when done. An error sets
  // status() and returns false.
  bool Step();
  // Runs to completion and returns the status.
  Status Run();
  void Reset();

  int64_t Int(int column) const;
  std::string Text(int column) const;
  bool IsNull(int column) const;

  const Status& status() const { return status_; }

 private:
  friend class Database;
  Statement(Database* owner, sqlite3* db, sqlite3_stmt* stmt, std::string sql);
  Database* owner_ = nullptr;  // takes the statement back for reuse
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  std::string sql_;
  Status status_;
};

class Database {
 public:
  // Opens (creating when missing) the database file, sets WAL mode, a busy
  // timeout and foreign keys, and brings the schema up to date.
  static Result<std::unique_ptr<Database>> Open(const std::string& path);
  ~Database();

  // Prepared statements are cached by their SQL text: a Statement that goes
  // out of scope is reset and kept for the next Prepare() of the same text,
  // because parsing SQL costs more than running most of these statements.
  Result<Statement> Prepare(std::string_view sql);
  // Runs one or more statements without results.
  Status Exec(std::string_view sql);
  // PRAGMA data_version: a number that changes whenever another connection
  // commits to the file, and stays the same for this connection's commits.
  Result<int64_t> DataVersion();
  int64_t LastInsertId() const;
  int Changes() const;
  const std::string& path() const { return path_; }

  // BEGIN IMMEDIATE on construction; rolls back unless Commit() succeeded.
  // Inside another transaction it becomes a savepoint, so a unit of work
  // that is atomic on its own can also be batched into a larger one.
  class Transaction {
   public:
    explicit Transaction(Database* db);
    ~Transaction();
    Status Commit();
    const Status& status() const { return status_; }

   private:
    Database* db_;
    bool open_ = false;
    bool nested_ = false;
    Status status_;
  };

  bool InTransaction() const;

 private:
  friend class Statement;
  Database(sqlite3* db, std::string path);
  void Recycle(std::string sql, sqlite3_stmt* stmt);
  // Runs one statement without results through the statement cache, with
  // the errors of Exec(). Transactions use it because Exec() parses its
  // SQL again on every call, and the index opens a savepoint per message.
  Status ExecCached(std::string_view sql);

  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, std::vector<sqlite3_stmt*>> cache_;
};

}  // namespace reclaim
