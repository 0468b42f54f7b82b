#include "sync-server/store/incident_repository.h"

#include <random>

namespace reclaim {
namespace {

constexpr const char* kIncidentColumns =
    "SELECT id, sequence, type, created, modified, reason, identifier, criteria_from, criteria_to,"
    " window_start, window_end, identified, removed, failed, restored, restores FROM incidents";

constexpr const char* kRowColumns =
    "SELECT id, incident, COALESCE(message, 0), recipient, sender, subject, delivered, connection,"
    " mailbox, folder, moved_to, status, failure, last_action, loc_folder, loc_uid_validity,"
    " loc_uid, loc_file, loc_flags, message_key, raw_sha256, COALESCE(source_row, 0)"
    " FROM incident_messages";

std::string_view ActionName(JournalAction action) {
  return action == JournalAction::kRemove ? "remove" : "restore";
}

std::string_view StateName(JournalState state) {
  switch (state) {
    case JournalState::kIntent:
      return "intent";
    case JournalState::kDone:
      return "done";
    case JournalState::kFailed:
      return "failed";
    case JournalState::kAborted:
      return "aborted";
  }
  return "intent";
}

StoredRow ReadRow(const Statement& st) {
  StoredRow row;
  row.row_id = st.Int(0);
  row.incident_id = st.Text(1);
  row.message = st.Int(2);
  row.view.id = std::to_string(row.row_id);
  row.view.recipient = st.Text(3);
  row.view.sender = st.Text(4);
  row.view.subject = st.Text(5);
  row.view.delivered = st.Int(6);
  row.connection = st.Text(7);
  row.view.mailbox = st.Text(8);
  row.view.folder = st.Text(9);
  row.view.moved_to = st.Text(10);
  row.view.status = MessageStatusFromApiName(st.Text(11)).value_or(MessageStatus::kIdentified);
  std::string failure = st.Text(12);
  row.view.failure = FailureReasonFromText(failure);
  if (row.view.failure == FailureReason::kOther) row.view.failure_detail = failure;
  row.view.last_action = st.Int(13);
  row.location.folder = st.Text(14);
  row.location.uid_validity = static_cast<uint32_t>(st.Int(15));
  row.location.uid = static_cast<uint32_t>(st.Int(16));
  row.location.file = st.Text(17);
  row.location.flags = st.Text(18);
  row.message_key = st.Text(19);
  row.raw_sha256 = st.Text(20);
  row.source_row = st.Int(21);
  return row;
}

}  // namespace

StoredRow RestoreRowFor(const StoredRow& removed) {
  StoredRow copy = removed;
  copy.row_id = 0;
  copy.source_row = removed.row_id;
  copy.view.status = MessageStatus::kIdentified;
  copy.view.moved_to.clear();
  copy.view.last_action = 0;
  return copy;
}

std::string RandomId() {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  static const char kHex[] = "0123456789abcdef";
  std::string id(24, '0');
  for (char& c : id) c = kHex[random() % 16];
  return id;
}

IncidentRepository::IncidentRepository(Database* db, std::string org,
                                       std::function<std::string()> new_id)
    : db_(db), org_(std::move(org)), new_id_(std::move(new_id)) {}

Result<int64_t> IncidentRepository::NextCounter(const std::string& name) {
  Result<Statement> bump = db_->Prepare(
      "INSERT INTO counters(name, value) VALUES(?1, 1)"
      " ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value");
  if (!bump.ok()) return bump.status();
  bump->Bind(1, name);
  if (!bump->Step()) {
    return bump->status().ok() ? Status::Internal("counter " + name + " returned no value")
                               : bump->status();
  }
  int64_t value = bump->Int(0);
  bump->Reset();
  return value;
}

Result<int64_t> IncidentRepository::LatestChange() {
  Result<Statement> st = db_->Prepare("SELECT value FROM counters WHERE name='change'");
  if (!st.ok()) return st.status();
  return st->Step() ? st->Int(0) : int64_t{0};
}

Result<Incident> IncidentRepository::Create(const IncidentDraft& draft, UnixSeconds now) {
  Database::Transaction transaction(db_);
  if (!transaction.status().ok()) return transaction.status();
  Result<int64_t> sequence = NextCounter("sequence");
  if (!sequence.ok()) return sequence.status();
  Result<int64_t> change = NextCounter("change");
  if (!change.ok()) return change.status();

  Incident incident;
  incident.id = new_id_();
  incident.code = {org_, static_cast<uint32_t>(*sequence), draft.type};
  incident.created = now;
  incident.modified = now;
  incident.reason = draft.reason;
  incident.criteria = draft.criteria;
  incident.restores = draft.restores;

  Result<Statement> insert = db_->Prepare(
      "INSERT INTO incidents(id, sequence, type, created, modified, reason, identifier,"
      " criteria_from, criteria_to, window_start, window_end, restores, change)"
      " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)");
  if (!insert.ok()) return insert.status();
  Statement& st = *insert;
  st.Bind(1, incident.id).Bind(2, *sequence).Bind(3, ApiName(draft.type)).Bind(4, now);
  st.Bind(5, now).Bind(6, draft.reason).Bind(7, draft.criteria.identifier);
  st.Bind(8, draft.criteria.from).Bind(9, draft.criteria.to).Bind(10, draft.criteria.start);
  st.Bind(11, draft.criteria.end).Bind(12, draft.restores).Bind(13, *change);
  if (Status s = st.Run(); !s.ok()) return s;

  Result<Statement> row_insert = db_->Prepare(
      "INSERT INTO incident_messages(incident, message, recipient, sender, subject, delivered,"
      " connection, mailbox, folder, moved_to, status, failure, last_action, loc_folder,"
      " loc_uid_validity, loc_uid, loc_file, loc_flags, message_key, raw_sha256, source_row)"
      " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21)");
  if (!row_insert.ok()) return row_insert.status();
  for (const StoredRow& row : draft.rows) {
    Statement& r = *row_insert;
    r.Bind(1, incident.id);
    if (row.message != 0) {
      r.Bind(2, row.message);
    } else {
      r.BindNull(2);
    }
    r.Bind(3, row.view.recipient).Bind(4, row.view.sender).Bind(5, row.view.subject);
    r.Bind(6, row.view.delivered).Bind(7, row.connection).Bind(8, row.view.mailbox);
    r.Bind(9, row.view.folder).Bind(10, row.view.moved_to).Bind(11, ApiName(row.view.status));
    r.Bind(12, FailureDisplay(row.view)).Bind(13, row.view.last_action);
    r.Bind(14, row.location.folder).Bind(15, int64_t{row.location.uid_validity});
    r.Bind(16, int64_t{row.location.uid}).Bind(17, row.location.file);
    r.Bind(18, row.location.flags).Bind(19, row.message_key).Bind(20, row.raw_sha256);
    if (row.source_row != 0) {
      r.Bind(21, row.source_row);
    } else {
      r.BindNull(21);
    }
    if (Status s = r.Run(); !s.ok()) return s;
  }
  if (Status s = RecountIncident(incident.id, now); !s.ok()) return s;
  if (Status s = transaction.Commit(); !s.ok()) return s;
  return Get(incident.id);
}

Result<std::vector<Incident>> IncidentRepository::LoadIncidents(Statement& st) {
  std::vector<Incident> out;
  while (st.Step()) {
    Incident incident;
    incident.id = st.Text(0);
    incident.code.org = org_;
    incident.code.sequence = static_cast<uint32_t>(st.Int(1));
    incident.code.type = IncidentTypeFromApiName(st.Text(2)).value_or(IncidentType::kManual);
    incident.created = st.Int(3);
    incident.modified = st.Int(4);
    incident.reason = st.Text(5);
    incident.criteria.identifier = st.Text(6);
    incident.criteria.from = st.Text(7);
    incident.criteria.to = st.Text(8);
    incident.criteria.start = st.Int(9);
    incident.criteria.end = st.Int(10);
    incident.counts.identified = static_cast<uint32_t>(st.Int(11));
    incident.counts.removed = static_cast<uint32_t>(st.Int(12));
    incident.counts.failed = static_cast<uint32_t>(st.Int(13));
    incident.counts.restored = static_cast<uint32_t>(st.Int(14));
    incident.restores = st.Text(15);
    out.push_back(std::move(incident));
  }
  if (!st.status().ok()) return st.status();
  return out;
}

Result<Incident> IncidentRepository::Get(const std::string& id_or_code) {
  Result<IncidentCode> code = ParseIncidentCode(id_or_code);
  bool by_code = code.ok() && code->org == org_;
  Result<Statement> st = db_->Prepare(std::string(kIncidentColumns) +
                                      (by_code ? " WHERE sequence=? AND type=?" : " WHERE id=?"));
  if (!st.ok()) return st.status();
  if (by_code) {
    st->Bind(1, int64_t{code->sequence}).Bind(2, ApiName(code->type));
  } else {
    st->Bind(1, id_or_code);
  }
  Result<std::vector<Incident>> found = LoadIncidents(*st);
  if (!found.ok()) return found.status();
  if (found->empty()) {
    return Status::NotFound("id", "incident '" + id_or_code +
                                      "' not found: give its id or its code (TR-...)");
  }
  return std::move(found->front());
}

Result<std::vector<StoredRow>> IncidentRepository::Rows(const std::string& incident_id) {
  Result<Statement> st =
      db_->Prepare(std::string(kRowColumns) + " WHERE incident=? ORDER BY recipient, id");
  if (!st.ok()) return st.status();
  st->Bind(1, incident_id);
  std::vector<StoredRow> rows;
  while (st->Step()) rows.push_back(ReadRow(*st));
  if (!st->status().ok()) return st->status();
  return rows;
}

Result<std::vector<StoredRow>> IncidentRepository::RowsForMessage(int64_t message) {
  Result<Statement> st = db_->Prepare(std::string(kRowColumns) + " WHERE message=? ORDER BY id");
  if (!st.ok()) return st.status();
  st->Bind(1, message);
  std::vector<StoredRow> rows;
  while (st->Step()) rows.push_back(ReadRow(*st));
  if (!st->status().ok()) return st->status();
  return rows;
}

Result<StoredRow> IncidentRepository::Row(int64_t row_id) {
  Result<Statement> st = db_->Prepare(std::string(kRowColumns) + " WHERE id=?");
  if (!st.ok()) return st.status();
  st->Bind(1, row_id);
  if (!st->Step()) {
    if (!st->status().ok()) return st->status();
    return Status::NotFound("messageId", "message row " + std::to_string(row_id) + " not found");
  }
  return ReadRow(*st);
}

Status IncidentRepository::RecountIncident(const std::string& incident_id, UnixSeconds now) {
  Result<int64_t> change = NextCounter("change");
  if (!change.ok()) return change.status();
  Result<Statement> st = db_->Prepare(
      "UPDATE incidents SET"
      " identified=(SELECT COUNT(*) FROM incident_messages WHERE incident=?1),"
      " removed=(SELECT COUNT(*) FROM incident_messages WHERE incident=?1 AND status='removed'),"
      " failed=(SELECT COUNT(*) FROM incident_messages WHERE incident=?1 AND status='failed'),"
      " restored=(SELECT COUNT(*) FROM incident_messages WHERE incident=?1 AND status='restored'),"
      " modified=MAX(modified, ?2), change=?3 WHERE id=?1");
  if (!st.ok()) return st.status();
  st->Bind(1, incident_id).Bind(2, now).Bind(3, *change);
  return st->Run();
}

Status IncidentRepository::ApplyOutcome(int64_t row_id, const RowOutcome& outcome,
                                        UnixSeconds now) {
  Result<StoredRow> before = Row(row_id);
  if (!before.ok()) return before.status();
  std::string failure = outcome.failure == FailureReason::kOther
                            ? outcome.failure_detail
                            : std::string(FailureText(outcome.failure));
  Result<Statement> st = db_->Prepare(
      "UPDATE incident_messages SET status=?2, failure=?3, last_action=?4,"
      " moved_to=CASE WHEN ?5 THEN ?6 ELSE moved_to END,"
      " loc_folder=CASE WHEN ?5 THEN ?7 ELSE loc_folder END,"
      " loc_uid_validity=CASE WHEN ?5 THEN ?8 ELSE loc_uid_validity END,"
      " loc_uid=CASE WHEN ?5 THEN ?9 ELSE loc_uid END,"
      " loc_file=CASE WHEN ?5 THEN ?10 ELSE loc_file END,"
      " loc_flags=CASE WHEN ?5 THEN ?11 ELSE loc_flags END WHERE id=?1");
  if (!st.ok()) return st.status();
  StoredLocation location = outcome.location.value_or(StoredLocation{});
  st->Bind(1, row_id).Bind(2, ApiName(outcome.status)).Bind(3, failure).Bind(4, now);
  st->Bind(5, int64_t{outcome.location.has_value()}).Bind(6, outcome.moved_to);
  st->Bind(7, location.folder).Bind(8, int64_t{location.uid_validity});
  st->Bind(9, int64_t{location.uid}).Bind(10, location.file).Bind(11, location.flags);
  if (Status s = st->Run(); !s.ok()) return s;

  // The index follows the copy to its new place.
  if (outcome.location) {
    Result<Statement> index = db_->Prepare(
        "UPDATE messages SET folder=?2, uid_validity=?3, uid=?4, file=?5, flags=?6, present=1"
        " WHERE id=(SELECT message FROM incident_messages WHERE id=?1)");
    if (!index.ok()) return index.status();
    index->Bind(1, row_id).Bind(2, location.folder).Bind(3, int64_t{location.uid_validity});
    index->Bind(4, int64_t{location.uid}).Bind(5, location.file).Bind(6, location.flags);
    if (Status s = index->Run(); !s.ok()) return s;
  }

  // Adjust the counts by the status change rather than counting all rows,
  // which would make a job over n rows cost n squared.
  auto delta = [&](MessageStatus status) {
    return int64_t{outcome.status == status} - int64_t{before->view.status == status};
  };
  Result<int64_t> change = NextCounter("change");
  if (!change.ok()) return change.status();
  Result<Statement> counts = db_->Prepare(
      "UPDATE incidents SET removed=removed+?2, failed=failed+?3, restored=restored+?4,"
      " modified=MAX(modified, ?5), change=?6 WHERE id=?1");
  if (!counts.ok()) return counts.status();
  counts->Bind(1, before->incident_id).Bind(2, delta(MessageStatus::kRemoved));
  counts->Bind(3, delta(MessageStatus::kFailed)).Bind(4, delta(MessageStatus::kRestored));
  counts->Bind(5, now).Bind(6, *change);
  return counts->Run();
}

Status IncidentRepository::SetRowOutcome(int64_t row_id, const RowOutcome& outcome,
                                         UnixSeconds now) {
  Database::Transaction transaction(db_);
  if (!transaction.status().ok()) return transaction.status();
  if (Status s = ApplyOutcome(row_id, outcome, now); !s.ok()) return s;
  return transaction.Commit();
}

Result<int64_t> IncidentRepository::BeginMove(int64_t row_id, JournalAction action,
                                              const StoredLocation& from,
                                              const std::string& to_folder,
                                              const std::string& tag, UnixSeconds now) {
  Result<Statement> st = db_->Prepare(
      "INSERT INTO journal(row, action, state, tag, from_folder, from_uid_validity, from_uid,"
      " from_file, to_folder, created) VALUES(?1,?2,'intent',?3,?4,?5,?6,?7,?8,?9)");
  if (!st.ok()) return st.status();
  st->Bind(1, row_id).Bind(2, ActionName(action)).Bind(3, tag).Bind(4, from.folder);
  st->Bind(5, int64_t{from.uid_validity}).Bind(6, int64_t{from.uid}).Bind(7, from.file);
  st->Bind(8, to_folder).Bind(9, now);
  if (Status s = st->Run(); !s.ok()) return s;
  return db_->LastInsertId();
}

Status IncidentRepository::FinishMove(int64_t journal_id, const RowOutcome& outcome,
                                      UnixSeconds now) {
  Database::Transaction transaction(db_);
  if (!transaction.status().ok()) return transaction.status();
  Result<Statement> entry = db_->Prepare("SELECT row, action FROM journal WHERE id=?");
  if (!entry.ok()) return entry.status();
  entry->Bind(1, journal_id);
  if (!entry->Step()) return Status::NotFound("journal", "journal entry not found");
  int64_t row_id = entry->Int(0);
  bool restore = entry->Text(1) == "restore";
  entry->Reset();

  bool moved = outcome.status == MessageStatus::kRemoved ||
               outcome.status == MessageStatus::kRestored;
  Result<Statement> settle = db_->Prepare("UPDATE journal SET state=?2, finished=?3 WHERE id=?1");
  if (!settle.ok()) return settle.status();
  settle->Bind(1, journal_id).Bind(2, StateName(moved ? JournalState::kDone : JournalState::kFailed));
  settle->Bind(3, now);
  if (Status s = settle->Run(); !s.ok()) return s;
  if (Status s = ApplyOutcome(row_id, outcome, now); !s.ok()) return s;

  // A restored copy is also restored as far as the original incident goes.
  if (restore && outcome.status == MessageStatus::kRestored) {
    Result<StoredRow> row = Row(row_id);
    if (!row.ok()) return row.status();
    if (row->source_row != 0) {
      RowOutcome original = outcome;
      original.moved_to = outcome.location ? outcome.location->folder : std::string();
      if (Status s = ApplyOutcome(row->source_row, original, now); !s.ok()) return s;
    }
  }
  return transaction.Commit();
}

Status IncidentRepository::AbortMove(int64_t journal_id, UnixSeconds now) {
  Result<Statement> st =
      db_->Prepare("UPDATE journal SET state='aborted', finished=?2 WHERE id=?1");
  if (!st.ok()) return st.status();
  return st->Bind(1, journal_id).Bind(2, now).Run();
}

Result<std::vector<JournalEntry>> IncidentRepository::UnfinishedMoves() {
  Result<Statement> st = db_->Prepare(
      "SELECT id, row, action, tag, from_folder, from_uid_validity, from_uid, from_file,"
      " to_folder, created FROM journal WHERE state='intent' ORDER BY id");
  if (!st.ok()) return st.status();
  std::vector<JournalEntry> entries;
  while (st->Step()) {
    JournalEntry e;
    e.id = st->Int(0);
    e.row_id = st->Int(1);
    e.action = st->Text(2) == "restore" ? JournalAction::kRestore : JournalAction::kRemove;
    e.tag = st->Text(3);
    e.from.folder = st->Text(4);
    e.from.uid_validity = static_cast<uint32_t>(st->Int(5));
    e.from.uid = static_cast<uint32_t>(st->Int(6));
    e.from.file = st->Text(7);
    e.to_folder = st->Text(8);
    e.created = st->Int(9);
    entries.push_back(std::move(e));
  }
  if (!st->status().ok()) return st->status();
  return entries;
}

Result<std::vector<Incident>> IncidentRepository::ChangedSince(int64_t change, int64_t* latest) {
  Result<int64_t> newest = LatestChange();
  if (!newest.ok()) return newest.status();
  *latest = *newest;
  Result<Statement> st = db_->Prepare(std::string(kIncidentColumns) +
                                      " WHERE change > ?1 AND change <= ?2 ORDER BY change");
  if (!st.ok()) return st.status();
  st->Bind(1, change).Bind(2, *newest);
  return LoadIncidents(*st);
}

Result<std::vector<Incident>> IncidentRepository::All() {
  Result<Statement> st = db_->Prepare(std::string(kIncidentColumns) + " ORDER BY created, sequence");
  if (!st.ok()) return st.status();
  return LoadIncidents(*st);
}

Result<std::vector<std::string>> IncidentRepository::PurgedSince(int64_t change) {
  Result<Statement> st = db_->Prepare("SELECT code FROM purged WHERE change > ? ORDER BY change");
  if (!st.ok()) return st.status();
  st->Bind(1, change);
  std::vector<std::string> codes;
  while (st->Step()) codes.push_back(st->Text(0));
  if (!st->status().ok()) return st->status();
  return codes;
}

Result<std::vector<std::string>> IncidentRepository::Purge(UnixSeconds cutoff) {
  Database::Transaction transaction(db_);
  if (!transaction.status().ok()) return transaction.status();
  Result<Statement> old = db_->Prepare(std::string(kIncidentColumns) + " WHERE created < ?");
  if (!old.ok()) return old.status();
  old->Bind(1, cutoff);
  Result<std::vector<Incident>> expired = LoadIncidents(*old);
  if (!expired.ok()) return expired.status();
  std::vector<std::string> codes;
  if (expired->empty()) return codes;

  Result<int64_t> change = NextCounter("change");
  if (!change.ok()) return change.status();
  Result<Statement> remember = db_->Prepare("INSERT INTO purged(code, change) VALUES(?,?)");
  Result<Statement> remove = db_->Prepare("DELETE FROM incidents WHERE id=?");
  if (!remember.ok()) return remember.status();
  if (!remove.ok()) return remove.status();
  for (const Incident& incident : *expired) {
    std::string code = FormatIncidentCode(incident.code);
    if (Status s = remember->Bind(1, code).Bind(2, *change).Run(); !s.ok()) return s;
    if (Status s = remove->Bind(1, incident.id).Run(); !s.ok()) return s;
    codes.push_back(code);
  }
  if (Status s = transaction.Commit(); !s.ok()) return s;
  return codes;
}

}  // namespace reclaim
