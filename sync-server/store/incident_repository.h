// Durable incidents: the incidents table, their message rows, the move
// journal and the change counter behind delta sync.
//
// Every change to an incident bumps its `change` number from one counter, so
// a client that has seen change N requests rows with change > N. Not
// thread-safe: each thread uses its own Database and repository.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "shared/incident.h"
#include "shared/status.h"
#include "sync-server/mailbox/connector.h"
#include "sync-server/store/database.h"

namespace reclaim {

// A message row with what the engine needs to act on the copy.
struct StoredRow {
  int64_t row_id = 0;
  std::string incident_id;
  int64_t message = 0;  // index row, 0 when the copy was never indexed
  MessageRow view;      // what the console shows
  std::string connection;
  StoredLocation location;  // where the copy is now
  std::string message_key;  // Message-ID key used to re-locate the copy
  std::string raw_sha256;   // digest of the raw message, to confirm identity
  int64_t source_row = 0;   // restore rows: the row of the original incident
};

// The row of a Restore incident for `removed`, a removed copy of the
// original incident: it points back at that row and starts as Identified.
StoredRow RestoreRowFor(const StoredRow& removed);

enum class JournalAction : uint8_t { kRemove, kRestore };
enum class JournalState : uint8_t { kIntent, kDone, kFailed, kAborted };

struct JournalEntry {
  int64_t id = 0;
  int64_t row_id = 0;
  JournalAction action = JournalAction::kRemove;
  JournalState state = JournalState::kIntent;
  std::string tag;
  StoredLocation from;
  std::string to_folder;
  UnixSeconds created = 0;
};

// Changes a finished move makes to its row.
struct RowOutcome {
  MessageStatus status = MessageStatus::kIdentified;
  FailureReason failure = FailureReason::kNone;
  std::string failure_detail;
  std::optional<StoredLocation> location;  // new location after a move
  std::string moved_to;
};

struct IncidentDraft {
  IncidentType type = IncidentType::kManual;
  std::string reason;
  SearchCriteria criteria;
  std::string restores;  // code of the original incident, for restores
  std::vector<StoredRow> rows;
};

class IncidentRepository {
 public:
  // `org` is the organisation code for new incidents; `new_id` returns a
  // fresh opaque id (random in production, predictable in tests).
  IncidentRepository(Database* db, std::string org, std::function<std::string()> new_id);

  // Stores a new incident with its rows in one transaction, numbering it
  // with the next sequence number, and returns it with counts filled in.
  Result<Incident> Create(const IncidentDraft& draft, UnixSeconds now);

  // By opaque id or by code.
  Result<Incident> Get(const std::string& id_or_code);
  Result<std::vector<StoredRow>> Rows(const std::string& incident_id);
  Result<StoredRow> Row(int64_t row_id);
  // Every row, in any incident, that acts on the indexed copy `message`,
  // oldest first.
  Result<std::vector<StoredRow>> RowsForMessage(int64_t message);

  // Journals the intent to move a row's copy; returns the journal id.
  Result<int64_t> BeginMove(int64_t row_id, JournalAction action, const StoredLocation& from,
                            const std::string& to_folder, const std::string& tag, UnixSeconds now);

  // Settles a journal entry and applies the outcome to its row, the row's
  // incident (counts, Last Updated, change number) and, for a restore, the
  // original incident's row, all in one transaction.
  Status FinishMove(int64_t journal_id, const RowOutcome& outcome, UnixSeconds now);

  // Marks a journal entry aborted: the move did not happen and the row is
  // unchanged, so the step can run again.
  Status AbortMove(int64_t journal_id, UnixSeconds now);

  // Sets a row's outcome without a move (identification failures).
  Status SetRowOutcome(int64_t row_id, const RowOutcome& outcome, UnixSeconds now);

  Result<std::vector<JournalEntry>> UnfinishedMoves();

  // Incidents changed after `change`, oldest change first, and the newest
  // change number in the database.
  Result<std::vector<Incident>> ChangedSince(int64_t change, int64_t* latest);
  Result<std::vector<Incident>> All();
  // Codes purged after `change`.
  Result<std::vector<std::string>> PurgedSince(int64_t change);
  // Deletes incidents created before `cutoff`, remembering their codes for
  // delta sync; returns the codes.
  Result<std::vector<std::string>> Purge(UnixSeconds cutoff);

  Result<int64_t> LatestChange();

 private:
  Result<int64_t> NextCounter(const std::string& name);
  Status RecountIncident(const std::string& incident_id, UnixSeconds now);
  Status ApplyOutcome(int64_t row_id, const RowOutcome& outcome, UnixSeconds now);
  Result<std::vector<Incident>> LoadIncidents(Statement& rows);

  Database* db_;
  std::string org_;
  std::function<std::string()> new_id_;
};

// A random 24-hex-digit opaque id.
std::string RandomId();

}  // namespace reclaim
