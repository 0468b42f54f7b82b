#include "sync-server/demo/demo_history.h"

#include <algorithm>

#include "sync-server/mailbox/maildir_connector.h"

namespace reclaim::demo {
namespace {

struct Lure {
  const char* sender;
  const char* subject;
};
constexpr Lure kLures[] = {
    {"billing@invoice-portal.example.net", "Overdue invoice: payment required"},
    {"helpdesk@secure-login.example.net", "Action required: your mailbox is full"},
    {"hr-notice@payroll-update.example.net", "Revised salary structure"},
    {"no-reply@docs-share.example.net", "A document was shared with you"},
    {"security@account-alerts.example.net", "Unusual sign-in activity detected"},
    {"dispatch@parcel-tracking.example.net", "Your parcel could not be delivered"},
    {"ceo.office@exec-mail.example.net", "Urgent wire transfer before 3 pm"},
    {"noreply@voicemail-center.example.net", "You have a new voicemail (0:42)"},
    {"support@tax-refund.example.net", "Tax refund notification"},
    {"it@password-expiry.example.net", "Your password expires today"}};

constexpr const char* kManualReasons[] = {"Credential phish reported by a user",
                                          "Invoice lure with malicious attachment",
                                          "CEO fraud attempt",
                                          "Reported by the security team",
                                          "Malicious link confirmed in sandbox",
                                          "Spoofed sender domain"};
constexpr const char* kAutomaticReasons[] = {"Malicious file hash reported by threat intelligence",
                                             "Sandbox verdict: malicious",
                                             "Threat feed match: known malware dropper"};
constexpr const char* kNotifyReasons[] = {"Suspicious attachment, awaiting analyst review",
                                          "Threat feed match in notify-only mode",
                                          "Possible phish, checking scope first"};
constexpr const char* kClawbackReasons[] = {"Sent to the wrong recipients",
                                            "Confidential attachment sent in error",
                                            "Recalled at the sender's request"};
constexpr const char* kRestoreReasons[] = {"False positive confirmed by analyst",
                                           "Restoring messages", "Legitimate supplier invoice",
                                           "Restoring a message"};

// How many recipients a campaign reaches: mostly a few, now and then many.
constexpr int kRecipientCounts[] = {1, 1, 1, 2, 2, 3, 3, 4, 5, 6, 8, 12, 18, 24};

template <typename T, size_t N>
const T& Pick(std::mt19937_64& random, const T (&items)[N]) {
  return items[random() % N];
}

int Between(std::mt19937_64& random, int low, int high) {
  return low + static_cast<int>(random() % static_cast<uint64_t>(high - low + 1));
}

std::string RandomHex(std::mt19937_64& random, size_t digits) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < digits; ++i)
    out += kHex[random() % 16];
  return out;
}

IncidentType ChooseType(std::mt19937_64& random, bool restorable) {
  int roll = Between(random, 0, 99);
  if (roll < 35)
    return IncidentType::kManual;
  if (roll < 63)
    return IncidentType::kAutomatic;
  if (roll < 78)
    return IncidentType::kNotifyOnly;
  if (roll < 88)
    return IncidentType::kMepClawback;
  return restorable ? IncidentType::kRestore : IncidentType::kManual;
}

std::string ChooseReason(std::mt19937_64& random, IncidentType type) {
  switch (type) {
    case IncidentType::kManual:
      return Pick(random, kManualReasons);
    case IncidentType::kAutomatic:
      return Pick(random, kAutomaticReasons);
    case IncidentType::kNotifyOnly:
      return Pick(random, kNotifyReasons);
    case IncidentType::kMepClawback:
      return Pick(random, kClawbackReasons);
    case IncidentType::kRestore:
      return Pick(random, kRestoreReasons);
  }
  return "";
}

// Creation times: a steady trickle with a few campaign waves, oldest first,
// during working hours, and never later than `now`.
std::vector<UnixSeconds> CreationTimes(std::mt19937_64& random, const HistorySettings& settings) {
  std::vector<int> wave_days;
  for (int i = 0; i < 6; ++i)
    wave_days.push_back(Between(random, 5, settings.days - 5));
  std::vector<UnixSeconds> times;
  UnixSeconds today = settings.now - settings.now % kSecondsPerDay;
  for (int day = settings.days; day >= 0; --day) {
    bool wave = std::any_of(wave_days.begin(), wave_days.end(),
                            [day](int w) { return day >= w && day < w + 4; });
    int chance = wave ? 90 : 30;
    for (int attempt = 0; attempt < (wave ? 3 : 1); ++attempt) {
      if (Between(random, 0, 99) >= chance)
        continue;
      UnixSeconds time = today - day * kSecondsPerDay + Between(random, 7 * 3600, 18 * 3600);
      if (time < settings.now)
        times.push_back(time);
    }
  }
  std::sort(times.begin(), times.end());
  return times;
}

std::string SearchIdentifier(std::mt19937_64& random, IncidentType type) {
  bool by_hash = type == IncidentType::kAutomatic ||
                 (type != IncidentType::kMepClawback && Between(random, 0, 99) < 55);
  if (by_hash)
    return RandomHex(random, 64);
  std::string sender = Pick(random, kLures).sender;
  return "<" + RandomHex(random, 12) + "." + std::to_string(Between(random, 1000, 99999)) + "@" +
         sender.substr(sender.find('@') + 1) + ">";
}

// An identified row for `mailbox`'s copy, at a Maildir location as the
// index would have seen it.
StoredRow IdentifiedRow(std::mt19937_64& random, const std::string& mailbox, const Lure& lure,
                        UnixSeconds delivered, const HistorySettings& settings) {
  StoredRow row;
  row.view.recipient = mailbox;
  row.view.mailbox = mailbox;
  row.view.sender = lure.sender;
  row.view.subject = lure.subject;
  row.view.delivered = delivered;
  row.view.folder = Between(random, 0, 99) < 85 ? "INBOX" : "Archive";
  row.connection = settings.connection;
  std::string flags = Between(random, 0, 99) < 60 ? "S" : "";
  std::string base = std::to_string(delivered) + ".M" + std::to_string(random() % 1000000) + "P" +
                     std::to_string(Between(random, 100, 9999)) +
                     ".mx1,S=" + std::to_string(Between(random, 3000, 90000));
  std::string prefix = row.view.folder == "INBOX" ? "" : "." + row.view.folder + "/";
  row.location.folder = row.view.folder;
  row.location.flags = flags;
  row.location.file = prefix + (flags.empty() ? "new/" + base : "cur/" + base + ":2," + flags);
  row.message_key = "<" + RandomHex(random, 16) + "@mail.example>";
  row.raw_sha256 = RandomHex(random, 64);
  return row;
}

StoredRow FailedRow(const std::string& address, FailureReason reason, UnixSeconds when) {
  StoredRow row;
  row.view.recipient = address;
  row.view.mailbox = address;
  row.view.status = MessageStatus::kFailed;
  row.view.failure = reason;
  row.view.last_action = when;
  return row;
}

// Moves a row's copy as a job does: journal the intent, then settle it.
Status JournalledMove(IncidentRepository* repository, const StoredRow& row, JournalAction action,
                      const std::string& folder, UnixSeconds when, std::mt19937_64& random) {
  std::string tag = RandomHex(random, 16);
  Result<StoredLocation> to = PlanMaildirMove(row.location, folder, tag);
  if (!to.ok())
    return to.status();
  Result<int64_t> journal =
      repository->BeginMove(row.row_id, action, row.location, folder, tag, when);
  if (!journal.ok())
    return journal.status();
  RowOutcome outcome;
  outcome.status =
      action == JournalAction::kRemove ? MessageStatus::kRemoved : MessageStatus::kRestored;
  outcome.location = *to;
  outcome.moved_to = folder;
  return repository->FinishMove(*journal, outcome, when + Between(random, 1, 5));
}

Result<Incident> WriteRemediation(IncidentRepository* repository, std::mt19937_64& random,
                                  const HistorySettings& settings, IncidentType type,
                                  UnixSeconds created) {
  const Lure& lure = Pick(random, kLures);
  IncidentDraft draft;
  draft.type = type;
  draft.reason = ChooseReason(random, type);
  draft.criteria.identifier = SearchIdentifier(random, type);
  draft.criteria.start = created - 30 * kSecondsPerDay;
  draft.criteria.end = created;
  UnixSeconds delivered = created - Between(random, 300, 2 * static_cast<int>(kSecondsPerDay));

  std::vector<std::string> pool = settings.users;
  std::shuffle(pool.begin(), pool.end(), random);
  size_t count = std::min(pool.size(), static_cast<size_t>(Pick(random, kRecipientCounts)));
  for (size_t i = 0; i < count; ++i) {
    draft.rows.push_back(IdentifiedRow(random, pool[i], lure, delivered, settings));
  }
  // Campaigns that also reached a partner show the failure for the domain
  // without a connection, as the engine records it at identification.
  if (!settings.partners.empty() && Between(random, 0, 99) < 15) {
    draft.rows.push_back(FailedRow(settings.partners[random() % settings.partners.size()],
                                   FailureReason::kNoConnectionsConfigured, created));
  }
  Result<Incident> incident = repository->Create(draft, created);
  if (!incident.ok() || type == IncidentType::kNotifyOnly)
    return incident;

  Result<std::vector<StoredRow>> rows = repository->Rows(incident->id);
  if (!rows.ok())
    return rows.status();
  UnixSeconds when = created + Between(random, 2, 40);
  for (const StoredRow& row : *rows) {
    if (row.view.status != MessageStatus::kIdentified)
      continue;
    when += Between(random, 0, 2);
    if (Between(random, 0, 99) < 6) {
      RowOutcome gone;
      gone.status = MessageStatus::kFailed;
      gone.failure = FailureReason::kNotFoundInMailbox;
      if (Status s = repository->SetRowOutcome(row.row_id, gone, when); !s.ok())
        return s;
      continue;
    }
    if (Status s = JournalledMove(repository, row, JournalAction::kRemove, settings.hold_folder,
                                  when, random);
        !s.ok()) {
      return s;
    }
  }
  return repository->Get(incident->id);
}

// Restores some or all removed copies of `original`, a few hours or days
// after it, as an analyst does after a false positive.
Result<Incident> WriteRestore(IncidentRepository* repository, std::mt19937_64& random,
                              const Incident& original, UnixSeconds created) {
  Result<std::vector<StoredRow>> rows = repository->Rows(original.id);
  if (!rows.ok())
    return rows.status();
  IncidentDraft draft;
  draft.type = IncidentType::kRestore;
  draft.criteria = original.criteria;
  draft.restores = FormatIncidentCode(original.code);
  bool all = Between(random, 0, 99) < 60;
  for (const StoredRow& row : *rows) {
    if (row.view.status != MessageStatus::kRemoved)
      continue;
    if (!all && !draft.rows.empty() && Between(random, 0, 1) == 0)
      continue;
    draft.rows.push_back(RestoreRowFor(row));
  }
  draft.reason = ChooseReason(random, IncidentType::kRestore);
  Result<Incident> incident = repository->Create(draft, created);
  if (!incident.ok())
    return incident;

  Result<std::vector<StoredRow>> restore_rows = repository->Rows(incident->id);
  if (!restore_rows.ok())
    return restore_rows.status();
  UnixSeconds when = created + Between(random, 2, 30);
  for (const StoredRow& row : *restore_rows) {
    when += Between(random, 0, 2);
    if (Between(random, 0, 99) < 5) {
      RowOutcome kept;
      kept.status = MessageStatus::kFailed;
      kept.failure = FailureReason::kNotRestored;
      if (Status s = repository->SetRowOutcome(row.row_id, kept, when); !s.ok())
        return s;
      continue;
    }
    if (Status s =
            JournalledMove(repository, row, JournalAction::kRestore, row.view.folder, when, random);
        !s.ok()) {
      return s;
    }
  }
  return repository->Get(incident->id);
}

}  // namespace

Result<int> WriteHistory(IncidentRepository* repository, std::mt19937_64& random,
                         const HistorySettings& settings) {
  // Removals still open to a restore: recent Manual, Automatic and MEP
  // Clawback incidents with removed copies.
  std::vector<Incident> restorable;
  int written = 0;
  for (UnixSeconds created : CreationTimes(random, settings)) {
    while (!restorable.empty() && restorable.front().created < created - 20 * kSecondsPerDay) {
      restorable.erase(restorable.begin());
    }
    IncidentType type = ChooseType(random, !restorable.empty());
    Result<Incident> incident = [&]() -> Result<Incident> {
      if (type != IncidentType::kRestore) {
        return WriteRemediation(repository, random, settings, type, created);
      }
      size_t index = random() % restorable.size();
      Incident original = restorable[index];
      restorable.erase(restorable.begin() + static_cast<std::ptrdiff_t>(index));
      return WriteRestore(repository, random, original, created);
    }();
    if (!incident.ok())
      return incident.status();
    ++written;
    bool removes = type == IncidentType::kManual || type == IncidentType::kAutomatic ||
                   type == IncidentType::kMepClawback;
    if (removes && incident->counts.removed > 0)
      restorable.push_back(*incident);
  }
  return written;
}

}  // namespace reclaim::demo
