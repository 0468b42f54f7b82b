// The remove/restore engine: identifies the copies of a message in the
// organisation's mailboxes, moves them into the hold folder and back, and
// records every step in an incident.
//
// Each move is journalled before the mailbox is touched and settled after,
// so Recover() can finish or undo any step a crash interrupted. Remove and
// restore are idempotent: rows already done are skipped. Reclaim never
// deletes a message.
//
// A Remediator uses one Database connection and is used by one thread at a
// time; jobs on other threads create their own. Within a batch it works on
// several mailboxes at once from short-lived threads of its own, each thread
// with its own mailbox sessions and no database access.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "shared/incident.h"
#include "sync-server/index/message_index.h"
#include "sync-server/mailbox/connector_registry.h"
#include "sync-server/store/incident_repository.h"

namespace reclaim {

constexpr const char* kDefaultHoldFolder = "Reclaim-Hold";
constexpr UnixSeconds kDefaultWindow = 30 * kSecondsPerDay;

struct RemediationRequest {
  IncidentType type = IncidentType::kManual;  // manual, automatic, notify_only or mep_clawback
  std::string identifier;                     // SHA-256, MD5 or Message-ID
  std::string reason;
  std::string from;  // optional sender address
  std::string to;    // optional recipient address
  std::optional<UnixSeconds> start;  // delivery window; default: the last 30 days
  std::optional<UnixSeconds> end;
  // MEP clawback: the internal recipients to pull the message back from.
  std::vector<std::string> recipients;
};

// Progress of a running job, shared with the thread that reports it.
struct JobControl {
  std::atomic<int> total{0};
  std::atomic<int> done{0};
  std::atomic<bool> cancel{false};
};

struct RemediatorOptions {
  std::string hold_folder = kDefaultHoldFolder;
  // Copies moved per journal transaction; larger batches share disk syncs.
  size_t batch_size = 256;
  // Mailboxes of a batch worked on at once, each on its own thread and
  // connection, so that logins and server round trips overlap. 1 works on
  // one mailbox at a time.
  size_t parallel_mailboxes = 8;
  std::function<UnixSeconds()> clock;  // the current time; injected for tests
};

class Remediator {
 public:
  Remediator(Database* db, ConnectorRegistry* connectors, IncidentRepository* incidents,
             RemediatorOptions options);

  // Validates the request, finds the copies in the index and creates the
  // incident with one row per recipient copy; nothing is moved yet. Rows
  // that cannot be acted on are failed at once with the reason.
  Result<Incident> Identify(const RemediationRequest& request);

  // Moves the identified copies of an incident (all rows, or `rows`) into
  // the hold folder. Stops between copies when `control->cancel` is set.
  Status Remove(const std::string& incident_id, const std::vector<int64_t>& rows,
                JobControl* control);

  // Creates a Restore incident for the removed copies of `original_id` (all,
  // or `rows` of the original incident); nothing is moved yet.
  Result<Incident> PrepareRestore(const std::string& original_id, const std::vector<int64_t>& rows,
                                  const std::string& reason);

  // Moves the copies of a Restore incident back to their original folders.
  Status Restore(const std::string& restore_id, JobControl* control);

  // Settles every journalled move that a crash left open, by looking in the
  // mailboxes. Run before any new job after start.
  Status Recover();

 private:
  // The validated request: lookup key or digest and the delivery window.
  struct Lookup {
    bool by_hash = false;
    std::string key;         // MessageIdKey form or lower-case digest
    std::string identifier;  // as stored on the incident
    UnixSeconds start = 0;
    UnixSeconds end = 0;
  };
  Result<Lookup> Validate(const RemediationRequest& request);
  std::vector<StoredRow> PlanRows(const RemediationRequest& request,
                                  const std::vector<IndexedMessage>& copies);
  StoredRow FailedRow(const std::string& address, FailureReason reason,
                      const std::string& detail = {});
  Result<std::unique_ptr<MailboxSession>> OpenSession(const std::string& connection,
                                                      const std::string& mailbox);
  MailboxSession* SessionFor(const std::string& connection, const std::string& mailbox,
                             Status* error);
  // One copy's way through a batch of moves.
  struct Step {
    const StoredRow* row = nullptr;
    std::string to_folder;
    MailboxSession* session = nullptr;
    StoredLocation location;
    std::string tag;
    int64_t journal = 0;
    std::optional<RowOutcome> outcome;
  };
  std::vector<std::vector<Step*>> OpenMailboxes(std::vector<Step>* steps);
  void RunPerMailbox(size_t mailboxes, const std::function<void(size_t)>& work) const;
  void ConfirmCopies(const std::vector<Step*>& mailbox, JournalAction action);
  void MoveCopies(const std::vector<Step*>& mailbox, JournalAction action);
  static void ClearTags(const std::vector<Step*>& mailbox);
  Status MoveBatch(std::vector<Step>* steps, JournalAction action);
  Status RunMoves(const std::vector<const StoredRow*>& rows, JournalAction action,
                  JobControl* control);
  Status RecoverMailbox(const std::vector<const JournalEntry*>& entries);
  UnixSeconds Now() const { return options_.clock(); }

  Database* db_;
  ConnectorRegistry* connectors_;
  IncidentRepository* incidents_;
  RemediatorOptions options_;
  std::map<std::string, std::unique_ptr<MailboxSession>> sessions_;
};

}  // namespace reclaim
