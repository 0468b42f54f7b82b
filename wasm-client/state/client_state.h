// The browser console's state and the one place that changes it.
//
// Panels read this object and call its intent methods (Login, ToggleSort,
// AskRemove, ...). Intents that need the server queue HttpRequests, which the
// network module takes with TakeRequests(), sends, and hands back through
// OnResponse(). Storage works the same way: TakePreferencesToSave() and
// TakeSnapshotToSave() return what changed since the last call.
//
// Plain C++ with no GL and no Emscripten, so the tests drive it natively with
// an injected clock and time zone. Not thread-safe: the browser runs it on
// its one thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shared/daily_counts.h"
#include "shared/incident_store.h"
#include "shared/query.h"
#include "shared/query_params.h"
#include "shared/time_zone.h"
#include "wasm-client/state/api_types.h"
#include "wasm-client/state/preferences.h"

namespace reclaim::client {

enum class SyncState : uint8_t {
  kNotSynced,    // no sync since the page was opened
  kSyncing,      // a sync request is in flight
  kSynced,       // the last sync succeeded
  kUnreachable,  // the last sync got no response
  kRefused,      // the server rejected the last sync
};
constexpr int kSyncStateCount = 5;
std::string_view DisplayName(SyncState state);  // "synced", "server unreachable", ...

// Shown instead of the server's 409 when a message is not in the index yet.
constexpr const char* kNotArchivedText =
    "This message has not been archived yet. Try again in a few minutes.";

// Parses a local time typed as "YYYY-MM-DD HH:MM" (a `T` may replace the
// space) or "YYYY-MM-DD" (midnight). Errors name `field` and the expected form.
Result<CivilTime> ParseLocalTime(std::string_view text, const std::string& field);
// "2026-12-04 15:55" in `zone`; empty for 0 ("never").
std::string FormatLocalTime(const TimeZone& zone, UnixSeconds utc);

// A message row's folders as "from -> now": "INBOX" when the copy was not
// moved and "INBOX -> Reclaim-Hold" after removal. A restored row's `folder`
// is where the copy was before removal and `moved_to` where it went back, so
// it reads "hold folder -> INBOX".
// TODO(api): rows do not name the hold folder, so a restored row cannot show
// its name.
std::string LocationText(const std::string& folder, const std::string& moved_to, bool restored);

constexpr UnixSeconds kSyncIntervalSeconds = 30;
constexpr size_t kMaxLogEntries = 200;

struct LogEntry {
  UnixSeconds time = 0;
  bool error = false;
  std::string text;
};

// Remove or restore waiting for the user's confirmation.
enum class MailAction : uint8_t { kRemove, kRestore };
struct Confirmation {
  MailAction action = MailAction::kRemove;
  std::string incident_code;
  std::vector<std::string> message_ids;  // empty: every eligible message
  size_t message_count = 0;              // how many messages the action touches
  // "Remove 3 messages of TR-ACME-00001-N from the recipients' mailboxes?"
  std::string Text() const;
};

// The new remediation form as typed; times are local "YYYY-MM-DD HH:MM".
struct RemediationForm {
  std::string identifier;
  std::string reason;
  std::string from;
  std::string to;
  std::string start;
  std::string end;
  bool notify_only = false;
};

// A file for the browser to download.
struct Download {
  std::string filename;
  std::string mime_type;
  std::string bytes;
};

class ClientState {
 public:
  using Clock = std::function<UnixSeconds()>;
  // `zone` shows times and resolves custom ranges and chart days.
  ClientState(Clock clock, std::shared_ptr<const TimeZone> zone);

  // --- Start-up and persistence -------------------------------------------
  // Applies stored preferences; a damaged text is logged and ignored.
  void LoadPreferences(std::string_view text);
  // Replaces the store with a snapshot (stored copy or a file the user
  // opened); `source` names it in the log. With `save_offline` the new store
  // is also due for saving. On error the store is unchanged and the error
  // names the field.
  Status LoadSnapshot(std::string_view text, std::string_view source, bool save_offline = false);
  // Text to write when the preferences or the store changed since the last
  // call; false when nothing changed.
  bool TakePreferencesToSave(std::string* text);
  bool TakeSnapshotToSave(std::string* text);
  // The whole store as a snapshot file.
  Download SnapshotDownload() const;

  // --- Server exchange -----------------------------------------------------
  void Login(std::string token);
  void Logout();
  // A 401 to the session request or to a sync forgets the token, so the
  // login box comes back; this says why ("Server refused (<message>)"). A
  // new Login() clears it.
  const std::string& login_error() const { return login_error_; }
  // Queues a delta sync (a full one without a cursor) unless one is running.
  void RequestSync();
  // Runs the periodic sync and polls the running job; call once a frame.
  void Tick();
  std::vector<HttpRequest> TakeRequests();
  void OnResponse(const HttpRequest& request, const HttpResponse& response);

  // --- Queue ---------------------------------------------------------------
  const QueryForm& form() const { return form_; }
  // Applies a search (Enter or the magnifier); resets to page 1.
  void RunSearch(SearchField field, std::string text);
  void SetTypeEnabled(IncidentType type, bool enabled);
  // A preset, or none for all time; kCustom keeps the current custom range.
  void SetPreset(std::optional<DatePreset> preset);
  // A custom range of local times "YYYY-MM-DD HH:MM", both inclusive to the
  // minute. Errors name `from` or `to`.
  Status SetCustomRange(std::string_view from, std::string_view to);
  void SetPageSize(int page_size);
  void SetPage(int page);
  // Sorts by `column`; a second click on the same column reverses it.
  void ToggleSort(IncidentColumn column);
  const QueryPage& Page();
  int PageCount();
  const DailyTypeCounts& Chart();
  // The query as the page address's query part ("?types=manual", or "").
  std::string UrlQuery() const;
  // Reads a query part as UrlQuery() writes it; bad parameters are an error
  // and leave the filters unchanged.
  Status ApplyUrlQuery(std::string_view query);

  const std::vector<IncidentColumn>& visible_columns() const { return prefs_.queue_columns; }
  void SetVisibleColumns(std::vector<IncidentColumn> columns);
  Theme theme() const { return prefs_.theme; }
  void SetTheme(Theme theme);

  // --- Incident page and message details -----------------------------------
  void OpenIncident(std::string code);
  void CloseIncident();
  const std::optional<std::string>& open_incident() const { return open_incident_; }
  // The loaded incident with its messages; null while loading or failed.
  const IncidentDetail* incident_detail() const;
  // False while only the local copy (without message rows) is shown.
  bool incident_messages_loaded() const { return incident_messages_loaded_; }
  const ServerError& incident_error() const { return incident_error_; }
  void OpenMessage(std::string row_id);
  void CloseMessage();
  const std::optional<std::string>& open_message() const { return open_message_; }
  const MessageDetail* message_detail() const;
  // Empty, kNotArchivedText for the server's 409, or the failure.
  const std::string& message_error() const { return message_error_; }

  // --- Remove, restore and remediation -------------------------------------
  // Ask for confirmation; when offline or not logged in they set last_error
  // and return it instead.
  Status AskRemove();
  Status AskRestore(std::vector<std::string> message_ids);  // empty: all removed
  const std::optional<Confirmation>& confirmation() const { return confirmation_; }
  void Confirm();
  void CancelConfirmation();
  // Posts the form. While an earlier submit waits for the server's response
  // it queues nothing and returns a kConflict error, so a double click
  // creates one incident.
  Status SubmitRemediation(const RemediationForm& form);
  bool remediation_in_flight() const { return remediation_in_flight_; }
  const std::optional<JobStatus>& job() const { return job_; }
  // The incident created by the last remediation, for the form's result,
  // with the counts of the last sync that brought it.
  const std::optional<Incident>& remediation_result() const { return remediation_result_; }

  // --- Export ----------------------------------------------------------------
  // Every incident matching the filters (not only the page), in queue order.
  Result<Download> ExportQueue(const std::vector<IncidentColumn>& columns);
  // The open incident's messages.
  Result<Download> ExportMessages(const std::vector<MessageColumn>& columns);
  const std::optional<std::string>& last_export() const { return last_export_; }

  // --- Status ----------------------------------------------------------------
  const IncidentStore& store() const { return store_; }
  const TimeZone& zone() const { return *zone_; }
  UnixSeconds Now() const { return clock_(); }
  bool logged_in() const { return !prefs_.token.empty(); }
  const std::string& token() const { return prefs_.token; }
  const SessionInfo& session() const { return session_; }
  bool online() const { return online_; }
  SyncState sync_state() const { return sync_state_; }
  UnixSeconds last_sync() const { return last_sync_; }
  const std::string& last_error() const { return last_error_; }
  const std::deque<LogEntry>& log() const { return log_; }
  void Log(std::string text, bool error = false);

  // The read-only JSON behind window.reclaimTest.state() (docs/client.md).
  std::string TestStateJson();

 private:
  void Queue(RequestKind kind, std::string method, std::string path, std::string body = {});
  void MarkQueryChanged();
  void MarkPreferencesChanged() { preferences_dirty_ = true; }
  Status NeedServer(std::string_view action);
  void Fail(const ServerError& error, std::string_view what);
  // Forgets the token after the server returned 401 to request `serial`,
  // unless a later Login() replaced that token.
  void ForgetRefusedToken(const ServerError& error, uint64_t serial);

  void OnSession(const HttpRequest& request, const HttpResponse& response);
  void OnSync(const HttpRequest& request, const HttpResponse& response);
  void OnIncident(const HttpRequest& request, const HttpResponse& response);
  void OnMessage(const HttpRequest& request, const HttpResponse& response);
  void OnMutation(const HttpRequest& request, const HttpResponse& response);
  void OnJob(const HttpResponse& response);
  void StartJob(const JobStatus& job);
  Query ResolvedQuery() const;
  void RefreshQuery();

  Clock clock_;
  std::shared_ptr<const TimeZone> zone_;
  Preferences prefs_;
  IncidentStore store_;
  std::string cursor_;
  SessionInfo session_;

  QueryForm form_;
  bool query_dirty_ = true;
  bool chart_dirty_ = true;
  QueryPage page_;
  DailyTypeCounts chart_;

  std::vector<HttpRequest> outbox_;
  uint64_t next_serial_ = 1;
  uint64_t login_serial_ = 0;  // the session request of the last Login()
  bool sync_in_flight_ = false;
  UnixSeconds last_sync_attempt_ = 0;
  bool online_ = false;
  SyncState sync_state_ = SyncState::kNotSynced;
  UnixSeconds last_sync_ = 0;
  std::string last_error_;
  std::string login_error_;
  std::deque<LogEntry> log_;

  std::optional<std::string> open_incident_;
  uint64_t incident_serial_ = 0;  // the newest incident request; older responses are dropped
  std::optional<IncidentDetail> incident_detail_;
  bool incident_messages_loaded_ = false;
  ServerError incident_error_;
  std::optional<std::string> open_message_;
  uint64_t message_serial_ = 0;
  std::optional<MessageDetail> message_detail_;
  std::string message_error_;

  std::optional<Confirmation> confirmation_;
  std::optional<JobStatus> job_;
  UnixSeconds last_job_poll_ = 0;
  bool job_poll_in_flight_ = false;
  std::optional<Incident> remediation_result_;
  bool remediation_in_flight_ = false;
  std::optional<std::string> last_export_;

  bool preferences_dirty_ = false;
  bool snapshot_dirty_ = false;
};

}  // namespace reclaim::client
