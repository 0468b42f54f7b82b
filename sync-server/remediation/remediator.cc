#include "sync-server/remediation/remediator.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <set>
#include <thread>

#include "shared/message_id.h"
#include "sync-server/mail/hashing.h"

namespace reclaim {
namespace {

constexpr size_t kMaxReasonLength = 1000;

bool LooksLikeAddress(const std::string& text) {
  size_t at = text.find('@');
  return at != std::string::npos && at > 0 && at + 1 < text.size() &&
         text.find_first_of(" \t\r\n<>") == std::string::npos;
}

FailureReason NotDoneReason(JournalAction action) {
  return action == JournalAction::kRemove ? FailureReason::kNotFoundInMailbox
                                          : FailureReason::kNotRestored;
}

RowOutcome Failed(FailureReason reason, const std::string& detail = {}) {
  RowOutcome outcome;
  outcome.status = MessageStatus::kFailed;
  outcome.failure = reason;
  outcome.failure_detail = detail;
  return outcome;
}

}  // namespace

Remediator::Remediator(Database* db, ConnectorRegistry* connectors,
                       IncidentRepository* incidents, RemediatorOptions options)
    : db_(db), connectors_(connectors), incidents_(incidents), options_(std::move(options)) {}

Result<Remediator::Lookup> Remediator::Validate(const RemediationRequest& request) {
  if (request.type == IncidentType::kRestore) {
    return Status::Invalid("type", "restore incidents are created from an earlier incident,"
                                   " not from an identifier: use the restore action");
  }
  if (request.reason.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Status::Invalid("reason", "missing reason: say why the message is remediated");
  }
  if (request.reason.size() > kMaxReasonLength) {
    return Status::Invalid("reason", "reason of " + std::to_string(request.reason.size()) +
                                         " bytes is too long: use at most 1000");
  }
  for (const auto& [field, value] : {std::pair<const char*, const std::string*>{"from", &request.from},
                                     {"to", &request.to}}) {
    if (!value->empty() && !LooksLikeAddress(*value)) {
      return Status::Invalid(field, "invalid address '" + *value + "': use name@domain");
    }
  }
  if (request.type == IncidentType::kMepClawback && request.recipients.empty()) {
    return Status::Invalid("recipients", "MEP clawback needs the recipients to pull the message"
                                         " back from: give at least one address");
  }
  for (const std::string& address : request.recipients) {
    if (!LooksLikeAddress(address)) {
      return Status::Invalid("recipients", "invalid address '" + address + "': use name@domain");
    }
  }

  Lookup lookup;
  std::string identifier = request.identifier;
  while (!identifier.empty() && std::isspace(static_cast<unsigned char>(identifier.back()))) {
    identifier.pop_back();
  }
  identifier.erase(0, identifier.find_first_not_of(" \t\r\n"));
  if (identifier.empty()) {
    return Status::Invalid("identifier", "missing identifier: give an attachment's SHA-256 or MD5,"
                                         " or the message's Message-ID");
  }
  IdentifierKind kind = ClassifyIdentifier(identifier);
  if (kind != IdentifierKind::kMessageId) {
    lookup.by_hash = true;
    lookup.key = LowerAscii(identifier);
    lookup.identifier = lookup.key;
    if (lookup.key == kEmptySha256 || lookup.key == kEmptyMd5) {
      return Status::Invalid("identifier",
                             "'" + lookup.key + "' is the hash of an empty file, which matches"
                             " every empty attachment in every mailbox: remediate by the"
                             " Message-ID or by the hash of a non-empty attachment");
    }
  } else {
    // Every Message-ID has an @ (RFC 5322 msg-id), so a value without one
    // is a mistyped hash or not an identifier at all. Searching for it would
    // open an incident that can never find a copy.
    if (identifier.find('@') == std::string::npos) {
      std::string bare = identifier;
      if (bare.size() >= 2 && bare.front() == '<' && bare.back() == '>')
        bare = bare.substr(1, bare.size() - 2);
      size_t hex = 0;
      for (char c : bare) hex += std::isxdigit(static_cast<unsigned char>(c)) ? 1 : 0;
      if (bare.size() >= 16 && hex + 1 >= bare.size()) {
        return Status::Invalid("identifier",
                               "'" + identifier + "' looks like a hash but has " +
                                   std::to_string(bare.size()) + " characters" +
                                   (hex == bare.size() ? "" : ", one of them not a hex digit") +
                                   ": a SHA-256 has 64 hex digits and an MD5 32; copy the whole"
                                   " hash");
      }
      return Status::Invalid("identifier", "'" + identifier + "' is neither an attachment hash"
                                           " (64 or 32 hex digits) nor a Message-ID (which"
                                           " contains @, like <id@host.example>)");
    }
    Result<MessageId> id = NormalizeMessageId(identifier, "identifier");
    if (!id.ok()) return id.status();
    lookup.key = MessageIdKey(*id);
    lookup.identifier = id->value;
  }

  lookup.end = request.end.value_or(Now());
  lookup.start = request.start.value_or(lookup.end - kDefaultWindow);
  if (lookup.end < lookup.start) {
    return Status::Invalid("end", "the delivery window ends (" + FormatIso8601(lookup.end) +
                                      ") before it starts (" + FormatIso8601(lookup.start) +
                                      "): swap start and end");
  }
  return lookup;
}

StoredRow Remediator::FailedRow(const std::string& address, FailureReason reason,
                                const std::string& detail) {
  StoredRow row;
  row.view.recipient = address;
  row.view.mailbox = address;
  row.view.status = MessageStatus::kFailed;
  row.view.failure = reason;
  row.view.failure_detail = detail;
  row.view.last_action = Now();
  return row;
}

std::vector<StoredRow> Remediator::PlanRows(const RemediationRequest& request,
                                            const std::vector<IndexedMessage>& copies) {
  std::vector<StoredRow> rows;
  std::set<std::string> covered;  // mailboxes with a row already

  // One row per copy found in a mailbox.
  for (const IndexedMessage& copy : copies) {
    StoredRow row;
    row.message = copy.id;
    row.view.recipient = copy.mailbox;
    row.view.sender = copy.sender;
    row.view.subject = copy.subject;
    row.view.delivered = copy.delivered;
    row.view.mailbox = copy.mailbox;
    row.view.folder = copy.location.folder;
    row.connection = copy.connection;
    row.location = copy.location;
    row.message_key = copy.message_id.empty() ? copy.synthetic_key : copy.message_id;
    row.raw_sha256 = copy.raw_sha256;
    if (copy.recipients.empty()) {
      // Without a recipient the copy cannot be attributed to anyone, and
      // removing it could take mail from a shared or journal mailbox.
      row.view.status = MessageStatus::kFailed;
      row.view.failure = FailureReason::kNoRecipientAddress;
      row.view.last_action = Now();
    }
    covered.insert(LowerAscii(copy.mailbox));
    rows.push_back(std::move(row));
  }

  // Recipients named on the copies (or chosen for a clawback) that have no
  // copy in the index get a row with the failure reason.
  std::vector<std::string> named;
  if (request.type == IncidentType::kMepClawback) {
    named = request.recipients;
  } else {
    for (const IndexedMessage& copy : copies) {
      named.insert(named.end(), copy.recipients.begin(), copy.recipients.end());
    }
    // A recipient named in the request is reported even when no copy names
    // it, so "only the copy of X" never ends silently with nothing.
    if (!request.to.empty()) named.push_back(request.to);
  }
  for (const std::string& raw_address : named) {
    std::string address = LowerAscii(raw_address);
    if (!request.to.empty() && address != LowerAscii(request.to)) continue;
    if (!covered.insert(address).second) continue;
    Connector* connector = connectors_->ForAddress(address);
    if (!connector) {
      rows.push_back(FailedRow(address, FailureReason::kNoConnectionsConfigured));
      continue;
    }
    Result<std::unique_ptr<MailboxSession>> session = connector->Open(address);
    if (!session.ok()) {
      rows.push_back(FailedRow(address, FailureReason::kNoConnectionForUser));
      rows.back().connection = connector->name();
      continue;
    }
    rows.push_back(FailedRow(address, FailureReason::kNotFoundInMailbox));
    rows.back().connection = connector->name();
  }
  return rows;
}

Result<Incident> Remediator::Identify(const RemediationRequest& request) {
  Result<Lookup> lookup = Validate(request);
  if (!lookup.ok()) return lookup.status();

  MessageIndex index(db_);
  Result<std::vector<IndexedMessage>> found = lookup->by_hash
                                                  ? index.FindByAttachmentHash(lookup->key)
                                                  : index.FindByMessageKey(lookup->key);
  if (!found.ok()) return found.status();

  // Narrow to the criteria. Copies already in the hold folder were removed
  // by an earlier incident and are not found again.
  std::set<std::string> clawback;
  for (const std::string& address : request.recipients) clawback.insert(LowerAscii(address));
  std::vector<IndexedMessage> copies;
  for (IndexedMessage& copy : *found) {
    if (copy.location.folder == options_.hold_folder) continue;
    if (copy.delivered < lookup->start || copy.delivered > lookup->end) continue;
    if (!request.from.empty() && LowerAscii(copy.sender) != LowerAscii(request.from)) continue;
    std::string mailbox = LowerAscii(copy.mailbox);
    if (!request.to.empty() && mailbox != LowerAscii(request.to)) continue;
    if (!clawback.empty() && clawback.count(mailbox) == 0) continue;
    copies.push_back(std::move(copy));
  }

  IncidentDraft draft;
  draft.type = request.type;
  draft.reason = request.reason;
  draft.criteria.identifier = lookup->identifier;
  draft.criteria.from = request.from;
  draft.criteria.to = request.to;
  draft.criteria.start = lookup->start;
  draft.criteria.end = lookup->end;
  draft.rows = PlanRows(request, copies);
  return incidents_->Create(draft, Now());
}

Result<std::unique_ptr<MailboxSession>> Remediator::OpenSession(const std::string& connection,
                                                                const std::string& mailbox) {
  Connector* connector = connectors_->ByName(connection);
  if (!connector) {
    return Status::NotFound("connection",
                            "connection '" + connection + "' is no longer configured");
  }
  Result<std::unique_ptr<MailboxSession>> session = connector->Open(mailbox);
  if (session.ok())
    (*session)->SetDeferredSync(true);
  return session;
}

MailboxSession* Remediator::SessionFor(const std::string& connection, const std::string& mailbox,
                                       Status* error) {
  std::string key = connection + "\n" + mailbox;
  auto found = sessions_.find(key);
  if (found != sessions_.end()) return found->second.get();
  Result<std::unique_ptr<MailboxSession>> session = OpenSession(connection, mailbox);
  if (!session.ok()) {
    *error = session.status();
    return nullptr;
  }
  MailboxSession* raw = session->get();
  sessions_[key] = std::move(*session);
  return raw;
}

// Opens the mailbox of every step, several at once, and returns the steps
// grouped by mailbox. A step whose mailbox cannot be opened gets its
// outcome.
std::vector<std::vector<Remediator::Step*>> Remediator::OpenMailboxes(std::vector<Step>* steps) {
  std::vector<std::vector<Step*>> mailboxes;
  std::vector<std::string> keys;
  std::map<std::string, size_t> mailbox_of_key;
  for (Step& step : *steps) {
    std::string key = step.row->connection + "\n" + step.row->view.mailbox;
    auto [found, added] = mailbox_of_key.emplace(key, mailboxes.size());
    if (added) {
      mailboxes.emplace_back();
      keys.push_back(std::move(key));
    }
    mailboxes[found->second].push_back(&step);
  }

  std::vector<std::optional<Result<std::unique_ptr<MailboxSession>>>> opened(mailboxes.size());
  RunPerMailbox(mailboxes.size(), [&](size_t m) {
    const StoredRow& row = *mailboxes[m].front()->row;
    if (sessions_.count(keys[m]) == 0)
      opened[m] = OpenSession(row.connection, row.view.mailbox);
  });

  for (size_t m = 0; m < mailboxes.size(); ++m) {
    if (opened[m] && opened[m]->ok())
      sessions_[keys[m]] = std::move(**opened[m]);
    auto session = sessions_.find(keys[m]);
    for (Step* step : mailboxes[m]) {
      if (session != sessions_.end()) {
        step->session = session->second.get();
        continue;
      }
      const Status& error = opened[m]->status();
      FailureReason reason = error.code() == StatusCode::kNotFound
                                 ? FailureReason::kNoConnectionForUser
                                 : FailureReason::kOther;
      step->outcome = Failed(reason, error.message());
    }
  }
  return mailboxes;
}

// Calls `work(m)` for each m below `mailboxes`, on up to parallel_mailboxes
// threads, the calling thread among them. The callers give each mailbox its
// own session and steps, so the calls share nothing.
void Remediator::RunPerMailbox(size_t mailboxes, const std::function<void(size_t)>& work) const {
  std::atomic<size_t> next{0};
  const auto worker = [&] {
    for (size_t m = next++; m < mailboxes; m = next++)
      work(m);
  };
  const size_t threads = std::min(mailboxes, std::max<size_t>(1, options_.parallel_mailboxes));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t)
    pool.emplace_back(worker);
  worker();
  for (std::thread& thread : pool)
    thread.join();
}

// Checks that each copy of one mailbox is still where the index saw it and
// is the same message (MailboxSession::VerifyEach() with the indexed
// SHA-256 of the raw bytes). A copy whose IMAP location is stale is found
// again by Message-ID and digest. Sets `step->outcome` when a copy cannot be moved.
void Remediator::ConfirmCopies(const std::vector<Step*>& mailbox, JournalAction action) {
  std::vector<Step*> open;
  std::vector<StoredLocation> locations;
  for (Step* step : mailbox) {
    if (step->outcome)
      continue;
    step->location = step->row->location;
    open.push_back(step);
    locations.push_back(step->location);
  }
  if (open.empty())
    return;
  MailboxSession* session = open.front()->session;

  std::vector<std::string> digests;
  for (Step* step : open)
    digests.push_back(step->row->raw_sha256);

  std::vector<Step*> stale;
  session->VerifyEach(locations, digests, [&](size_t i, Status status) {
    Step& step = *open[i];
    if (status.ok())
      return;
    if (status.code() == StatusCode::kConflict && !step.row->message_key.empty()) {
      stale.push_back(&step);  // VerifyEach() is still running: re-locate after it
      return;
    }
    step.outcome = status.code() == StatusCode::kNotFound
                       ? Failed(NotDoneReason(action))
                       : Failed(FailureReason::kOther, status.message());
  });

  // Identical copies in one folder share Message-ID and digest, so each
  // candidate may be claimed by one step only.
  std::set<std::pair<std::string, uint32_t>> claimed;
  for (Step* step : stale) {
    const StoredRow& row = *step->row;
    Result<std::vector<StoredLocation>> candidates =
        session->FindByMessageId(step->location.folder, row.message_key);
    bool found = false;
    if (candidates.ok()) {
      for (const StoredLocation& candidate : *candidates) {
        if (claimed.count({candidate.folder, candidate.uid}) > 0)
          continue;
        Result<std::string> bytes = session->Fetch(candidate);
        if (bytes.ok() && Sha256Hex(*bytes) == row.raw_sha256) {
          step->location = candidate;
          claimed.insert({candidate.folder, candidate.uid});
          found = true;
          break;
        }
      }
    }
    if (!found)
      step->outcome = Failed(NotDoneReason(action));
  }
}

// Moves the journalled copies of one mailbox, with one MoveBatch() call per
// destination folder.
void Remediator::MoveCopies(const std::vector<Step*>& mailbox, JournalAction action) {
  std::map<std::string, std::vector<Step*>> by_folder;
  for (Step* step : mailbox) {
    if (!step->outcome)
      by_folder[step->to_folder].push_back(step);
  }
  for (const auto& [folder, steps] : by_folder) {
    std::vector<TaggedLocation> moves;
    for (const Step* step : steps)
      moves.push_back({step->location, step->tag});
    std::vector<Result<StoredLocation>> moved = steps.front()->session->MoveBatch(moves, folder);
    for (size_t i = 0; i < steps.size(); ++i) {
      Step& step = *steps[i];
      if (!moved[i].ok()) {
        // A restore row shows only "Message was not restored.", so the
        // cause goes to the log with the mailbox and both folders.
        spdlog::warn("remediation: {} of a copy in {} from {} to {} failed: {}",
                     action == JournalAction::kRemove ? "removal" : "restore",
                     step.row->view.mailbox, step.location.folder, folder,
                     moved[i].status().message());
        FailureReason other =
            action == JournalAction::kRemove ? FailureReason::kOther : FailureReason::kNotRestored;
        step.outcome = moved[i].status().code() == StatusCode::kNotFound
                           ? Failed(NotDoneReason(action))
                           : Failed(other, moved[i].status().message());
        continue;
      }
      RowOutcome outcome;
      outcome.status =
          action == JournalAction::kRemove ? MessageStatus::kRemoved : MessageStatus::kRestored;
      outcome.location = *moved[i];
      outcome.moved_to = step.to_folder;
      step.outcome = outcome;
    }
  }
}

// The tags only matter until the moves are settled. A tag that stays
// behind is harmless, so failures are ignored.
void Remediator::ClearTags(const std::vector<Step*>& mailbox) {
  std::vector<TaggedLocation> copies;
  for (const Step* step : mailbox) {
    if (step->journal != 0 && step->outcome->location) {
      copies.push_back({*step->outcome->location, step->tag});
    }
  }
  if (!copies.empty())
    (void)mailbox.front()->session->ClearTags(copies);
}

// Moves a batch of copies in five steps: confirm each copy, journal the
// intents in one transaction, move, make the moves durable, and settle the
// outcomes in one transaction. A crash between any two steps leaves
// intents that Recover() settles by looking in the mailboxes. The mailbox
// steps run for several mailboxes at once; the database steps run on the
// calling thread.
Status Remediator::MoveBatch(std::vector<Step>* steps, JournalAction action) {
  const std::vector<std::vector<Step*>> mailboxes = OpenMailboxes(steps);
  RunPerMailbox(mailboxes.size(), [&](size_t m) { ConfirmCopies(mailboxes[m], action); });

  {
    Database::Transaction transaction(db_);
    if (!transaction.status().ok()) return transaction.status();
    // The tags of a batch share their group, so a connector can mark all
    // copies of the batch with one mark (connector.h).
    const std::string group = RandomId().substr(0, kMoveTagGroupLength);
    size_t copy_number = 0;
    for (Step& step : *steps) {
      if (step.outcome) continue;
      step.tag = group + std::to_string(copy_number++);
      Result<int64_t> journal = incidents_->BeginMove(step.row->row_id, action, step.location,
                                                      step.to_folder, step.tag, Now());
      if (!journal.ok()) return journal.status();
      step.journal = *journal;
    }
    if (Status s = transaction.Commit(); !s.ok()) return s;
  }

  RunPerMailbox(mailboxes.size(), [&](size_t m) { MoveCopies(mailboxes[m], action); });
  // Until this returns, the intents stay open and Recover() decides.
  for (const std::vector<Step*>& mailbox : mailboxes) {
    const bool touched = std::any_of(mailbox.begin(), mailbox.end(),
                                     [](const Step* step) { return step->journal != 0; });
    if (!touched)
      continue;
    if (Status s = mailbox.front()->session->SyncMoves(); !s.ok())
      return s;
  }

  Database::Transaction transaction(db_);
  if (!transaction.status().ok()) return transaction.status();
  for (Step& step : *steps) {
    Status s = step.journal != 0 ? incidents_->FinishMove(step.journal, *step.outcome, Now())
                                 : incidents_->SetRowOutcome(step.row->row_id, *step.outcome, Now());
    if (!s.ok()) return s;
  }
  if (Status s = transaction.Commit(); !s.ok()) return s;

  RunPerMailbox(mailboxes.size(), [&](size_t m) { ClearTags(mailboxes[m]); });
  return Status::Ok();
}

Status Remediator::RunMoves(const std::vector<const StoredRow*>& rows, JournalAction action,
                            JobControl* control) {
  // A batch spans at most 32 mailboxes, which bounds the IMAP connections
  // held open at once.
  const size_t kBatch = std::max<size_t>(1, options_.batch_size);
  constexpr size_t kBatchMailboxes = 32;
  control->total = static_cast<int>(rows.size());
  Status result;
  size_t next = 0;
  while (next < rows.size() && result.ok()) {
    if (control->cancel) break;
    std::vector<Step> steps;
    std::set<std::string> mailboxes;
    for (size_t i = next; i < rows.size() && steps.size() < kBatch; ++i) {
      std::string mailbox = rows[i]->connection + "\n" + rows[i]->view.mailbox;
      if (mailboxes.count(mailbox) == 0 && mailboxes.size() == kBatchMailboxes) break;
      mailboxes.insert(mailbox);
      Step step;
      step.row = rows[i];
      // A restore row's view.folder is where the copy was before removal.
      step.to_folder = action == JournalAction::kRemove ? options_.hold_folder
                                                        : rows[i]->view.folder;
      steps.push_back(std::move(step));
    }
    next += steps.size();
    result = MoveBatch(&steps, action);
    if (result.ok()) control->done += static_cast<int>(steps.size());
    sessions_.clear();
  }
  return result;
}

Status Remediator::Remove(const std::string& incident_id, const std::vector<int64_t>& chosen,
                          JobControl* control) {
  Result<Incident> incident = incidents_->Get(incident_id);
  if (!incident.ok()) return incident.status();
  Result<std::vector<StoredRow>> rows = incidents_->Rows(incident->id);
  if (!rows.ok()) return rows.status();

  std::vector<const StoredRow*> todo;
  for (const StoredRow& row : *rows) {
    bool wanted = chosen.empty() ||
                  std::find(chosen.begin(), chosen.end(), row.row_id) != chosen.end();
    if (wanted && row.view.status == MessageStatus::kIdentified) todo.push_back(&row);
  }
  return RunMoves(todo, JournalAction::kRemove, control);
}

Result<Incident> Remediator::PrepareRestore(const std::string& original_id,
                                            const std::vector<int64_t>& chosen,
                                            const std::string& reason) {
  Result<Incident> original = incidents_->Get(original_id);
  if (!original.ok()) return original.status();
  Result<std::vector<StoredRow>> rows = incidents_->Rows(original->id);
  if (!rows.ok()) return rows.status();

  IncidentDraft draft;
  draft.type = IncidentType::kRestore;
  draft.criteria = original->criteria;
  draft.restores = FormatIncidentCode(original->code);
  for (const StoredRow& row : *rows) {
    bool wanted = chosen.empty() ||
                  std::find(chosen.begin(), chosen.end(), row.row_id) != chosen.end();
    if (!wanted || row.view.status != MessageStatus::kRemoved) continue;
    draft.rows.push_back(RestoreRowFor(row));
  }
  for (int64_t id : chosen) {
    bool known = std::any_of(rows->begin(), rows->end(),
                             [&](const StoredRow& row) { return row.row_id == id; });
    if (!known) {
      return Status::NotFound("messages", "message " + std::to_string(id) + " is not part of " +
                                              FormatIncidentCode(original->code));
    }
  }
  if (draft.rows.empty()) {
    return Status::Conflict("messages", "incident " + FormatIncidentCode(original->code) +
                                            " has no removed messages to restore");
  }
  draft.reason = reason.empty() ? (draft.rows.size() == 1 ? "Restoring a message"
                                                          : "Restoring messages")
                                : reason;
  return incidents_->Create(draft, Now());
}

Status Remediator::Restore(const std::string& restore_id, JobControl* control) {
  Result<Incident> incident = incidents_->Get(restore_id);
  if (!incident.ok()) return incident.status();
  if (incident->code.type != IncidentType::kRestore) {
    return Status::Invalid("id", "incident " + FormatIncidentCode(incident->code) +
                                     " is not a restore incident");
  }
  Result<std::vector<StoredRow>> rows = incidents_->Rows(incident->id);
  if (!rows.ok()) return rows.status();
  std::vector<const StoredRow*> todo;
  for (const StoredRow& row : *rows) {
    if (row.view.status == MessageStatus::kIdentified) todo.push_back(&row);
  }
  return RunMoves(todo, JournalAction::kRestore, control);
}

// Settles the open journal entries of one mailbox in one transaction, so a
// crash during recovery leaves either all of them open or none.
//
// A candidate for a moved copy is a message in the destination that
// FindTagged() returns for the entry's tag and whose SHA-256 equals the
// indexed one. FindTagged() may return every copy of the tag's group, and
// copies of one message are identical, so each candidate is claimed by one
// entry only. Entries whose source is gone claim first, because a source
// that is still there was not moved: IMAP never reuses a UID, and a Maildir
// rename is atomic. The exception is a Maildir link(2) fallback cut short
// between link and unlink, which leaves the tagged name in the destination
// too, so a present source still claims a leftover candidate.
Status Remediator::RecoverMailbox(const std::vector<const JournalEntry*>& entries) {
  struct Entry {
    const JournalEntry* journal = nullptr;
    StoredRow row;
    bool source_present = false;
    std::vector<StoredLocation> candidates;
  };
  std::vector<Entry> open;
  for (const JournalEntry* journal : entries) {
    Result<StoredRow> row = incidents_->Row(journal->row_id);
    if (!row.ok()) return row.status();
    open.push_back({journal, std::move(*row), false, {}});
  }
  Status open_error;
  MailboxSession* session =
      SessionFor(open.front().row.connection, open.front().row.view.mailbox, &open_error);
  if (!session) return open_error;

  for (Entry& entry : open) {
    Result<std::string> source = session->Fetch(entry.journal->from);
    if (!source.ok() && source.status().code() != StatusCode::kNotFound) return source.status();
    entry.source_present = source.ok();
    Result<std::vector<StoredLocation>> tagged =
        session->FindTagged(entry.journal->to_folder, entry.journal->tag);
    if (!tagged.ok()) return tagged.status();
    entry.candidates = std::move(*tagged);
  }

  // The SHA-256 of each candidate, read once.
  std::map<std::string, std::string> digests;
  const auto place = [](const StoredLocation& location) {
    return location.folder + "\n" + std::to_string(location.uid_validity) + "\n" +
           std::to_string(location.uid) + "\n" + location.file;
  };
  std::set<std::string> claimed;
  const auto claim = [&](Entry& entry) -> Result<std::optional<StoredLocation>> {
    for (const StoredLocation& candidate : entry.candidates) {
      const std::string key = place(candidate);
      if (claimed.count(key) > 0) continue;
      if (!entry.row.raw_sha256.empty()) {
        auto digest = digests.find(key);
        if (digest == digests.end()) {
          Result<std::string> bytes = session->Fetch(candidate);
          if (!bytes.ok() && bytes.status().code() != StatusCode::kNotFound) {
            return bytes.status();
          }
          digest = digests.emplace(key, bytes.ok() ? Sha256Hex(*bytes) : std::string()).first;
        }
        if (digest->second != entry.row.raw_sha256) continue;
      }
      claimed.insert(key);
      return std::optional<StoredLocation>(candidate);
    }
    return std::optional<StoredLocation>();
  };

  std::vector<std::optional<RowOutcome>> outcomes(open.size());
  for (bool source_present : {false, true}) {
    for (size_t i = 0; i < open.size(); ++i) {
      Entry& entry = open[i];
      if (entry.source_present != source_present) continue;
      Result<std::optional<StoredLocation>> moved = claim(entry);
      if (!moved.ok()) return moved.status();
      if (moved->has_value()) {
        RowOutcome outcome;
        outcome.status = entry.journal->action == JournalAction::kRemove
                             ? MessageStatus::kRemoved
                             : MessageStatus::kRestored;
        outcome.location = **moved;
        outcome.moved_to = entry.journal->to_folder;
        outcomes[i] = outcome;
      } else if (!source_present) {
        outcomes[i] = Failed(NotDoneReason(entry.journal->action));
      }
      // Not moved and still at its source: the step runs again.
    }
  }

  {
    Database::Transaction transaction(db_);
    if (!transaction.status().ok()) return transaction.status();
    for (size_t i = 0; i < open.size(); ++i) {
      const int64_t id = open[i].journal->id;
      Status s = outcomes[i] ? incidents_->FinishMove(id, *outcomes[i], Now())
                             : incidents_->AbortMove(id, Now());
      if (!s.ok()) return s;
    }
    if (Status s = transaction.Commit(); !s.ok()) return s;
  }
  for (size_t i = 0; i < open.size(); ++i) {
    if (outcomes[i] && outcomes[i]->location) {
      (void)session->ClearTag(*outcomes[i]->location, open[i].journal->tag);
    }
  }
  return Status::Ok();
}

Status Remediator::Recover() {
  Result<std::vector<JournalEntry>> entries = incidents_->UnfinishedMoves();
  if (!entries.ok()) return entries.status();
  // Entries grouped by mailbox, in journal order.
  std::map<std::string, std::vector<const JournalEntry*>> by_mailbox;
  std::vector<std::string> order;
  for (const JournalEntry& entry : *entries) {
    Result<StoredRow> row = incidents_->Row(entry.row_id);
    if (!row.ok()) return row.status();
    std::string key = row->connection + "\n" + row->view.mailbox;
    auto [found, added] = by_mailbox.try_emplace(key);
    if (added) order.push_back(key);
    found->second.push_back(&entry);
  }
  Status first_error;
  for (const std::string& key : order) {
    Status s = RecoverMailbox(by_mailbox[key]);
    // One unreachable mailbox must not block the others; its entries stay
    // open and the next start tries again.
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  sessions_.clear();
  return first_error;
}

}  // namespace reclaim
