// ClientState: start-up, the queue's filters, exports and the test state.
// The exchange with the server is in client_state_server.cc.
#include "wasm-client/state/client_state.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "shared/csv.h"
#include "shared/incident_export.h"
#include "shared/json_codec.h"
#include "shared/json_values.h"

namespace reclaim::client {
namespace {

constexpr std::array<std::string_view, kSyncStateCount> kSyncStateNames = {
    "not synced", "syncing", "synced", "server unreachable", "server refused"};
static_assert(kSyncStateNames.size() == kSyncStateCount);

// "20261204" for the local date of `now`, for file names.
std::string FileDate(const TimeZone& zone, UnixSeconds now) {
  CivilTime local = LocalTime(zone, now);
  char text[16];
  std::snprintf(text, sizeof text, "%04d%02d%02d", local.date.year, local.date.month,
                local.date.day);
  return text;
}

}  // namespace

Result<CivilTime> ParseLocalTime(std::string_view text, const std::string& field) {
  CivilTime time;
  char separator = ' ';
  std::string copy(text);
  int fields = std::sscanf(copy.c_str(), "%4d-%2d-%2d%c%2d:%2d", &time.date.year, &time.date.month,
                           &time.date.day, &separator, &time.hour, &time.minute);
  bool date_only = fields == 3 && copy.size() == 10;
  bool full = fields == 6 && (separator == ' ' || separator == 'T');
  if ((!date_only && !full) || !IsValidDate(time.date) || time.hour < 0 || time.hour > 23 ||
      time.minute < 0 || time.minute > 59) {
    return Status::Invalid(
        field, "invalid " + field + " time '" + copy + "': use YYYY-MM-DD HH:MM in local time");
  }
  return time;
}

std::string LocationText(const std::string& folder, const std::string& moved_to, bool restored) {
  if (moved_to.empty())
    return folder;
  return (restored ? std::string("hold folder") : folder) + " -> " + moved_to;
}

std::string FormatLocalTime(const TimeZone& zone, UnixSeconds utc) {
  if (utc == 0)
    return {};
  CivilTime local = LocalTime(zone, utc);
  char text[40];
  std::snprintf(text, sizeof text, "%04d-%02d-%02d %02d:%02d", local.date.year, local.date.month,
                local.date.day, local.hour, local.minute);
  return text;
}

std::string_view DisplayName(SyncState state) {
  return kSyncStateNames[static_cast<size_t>(state)];
}

std::string Confirmation::Text() const {
  std::string count =
      std::to_string(message_count) + (message_count == 1 ? " message" : " messages");
  if (action == MailAction::kRemove)
    return "Remove " + count + " of " + incident_code + " from the recipients' mailboxes?";
  return "Restore " + count + " of " + incident_code + " to the recipients' mailboxes?";
}

ClientState::ClientState(Clock clock, std::shared_ptr<const TimeZone> zone)
    : clock_(std::move(clock)), zone_(std::move(zone)) {}

void ClientState::Log(std::string text, bool error) {
  log_.push_back({Now(), error, std::move(text)});
  while (log_.size() > kMaxLogEntries)
    log_.pop_front();
}

void ClientState::LoadPreferences(std::string_view text) {
  Result<Preferences> loaded = DecodePreferences(text);
  if (!loaded.ok()) {
    Log("Stored preferences ignored: " + loaded.status().field() + ": " + loaded.status().message(),
        true);
    return;
  }
  prefs_ = std::move(*loaded);
  form_.query.page_size = prefs_.page_size;
  MarkQueryChanged();
}

Status ClientState::LoadSnapshot(std::string_view text, std::string_view source,
                                 bool save_offline) {
  Result<Snapshot> snapshot = DecodeSnapshot(text);
  Status status = snapshot.ok() ? Status::Ok() : snapshot.status();
  if (status.ok() && snapshot->delta)
    status = Status::Invalid("delta", "the snapshot is a delta, not a full snapshot");
  IncidentStore loaded;
  if (status.ok())
    status = loaded.Upsert(snapshot->incidents);
  if (!status.ok()) {
    last_error_ = "Snapshot from " + std::string(source) + " rejected: " + status.field() + ": " +
                  status.message();
    Log(last_error_, true);
    return status;
  }
  store_ = std::move(loaded);
  cursor_ = snapshot->cursor;
  // The stored copy is written right after a sync, so its time is the
  // time of the last sync that changed something.
  last_sync_ = snapshot->generated;
  snapshot_dirty_ = save_offline;
  Log("Loaded " + std::to_string(store_.size()) + " incidents from " + std::string(source));
  MarkQueryChanged();
  return Status::Ok();
}

bool ClientState::TakePreferencesToSave(std::string* text) {
  if (!preferences_dirty_)
    return false;
  preferences_dirty_ = false;
  *text = EncodePreferences(prefs_);
  return true;
}

bool ClientState::TakeSnapshotToSave(std::string* text) {
  if (!snapshot_dirty_)
    return false;
  snapshot_dirty_ = false;
  *text = EncodeStoreSnapshot(store_, cursor_, Now());
  return true;
}

Download ClientState::SnapshotDownload() const {
  return {"reclaim-snapshot-" + FileDate(*zone_, Now()) + ".json", "application/json",
          EncodeStoreSnapshot(store_, cursor_, Now())};
}

void ClientState::MarkQueryChanged() {
  query_dirty_ = true;
  chart_dirty_ = true;
}

void ClientState::RunSearch(SearchField field, std::string text) {
  if (text.size() > kMaxSearchTextLength) {
    last_error_ = "Search text is " + std::to_string(text.size()) + " bytes: use at most " +
                  std::to_string(kMaxSearchTextLength);
    Log(last_error_, true);
    return;
  }
  form_.query.field = field;
  form_.query.text = std::move(text);
  form_.query.page = 1;
  MarkQueryChanged();
}

void ClientState::SetTypeEnabled(IncidentType type, bool enabled) {
  if (enabled)
    form_.query.types |= TypeBit(type);
  else
    form_.query.types &= static_cast<TypeMask>(~TypeBit(type));
  form_.query.page = 1;
  MarkQueryChanged();
}

void ClientState::SetPreset(std::optional<DatePreset> preset) {
  if (preset == DatePreset::kCustom && form_.preset != DatePreset::kCustom) {
    // Start a custom range from the last 7 days so the pickers show a range.
    UnixSeconds now = Now();
    form_.custom_start = now - 7 * kSecondsPerDay;
    form_.custom_end = now;
  }
  form_.preset = preset;
  form_.query.page = 1;
  MarkQueryChanged();
}

Status ClientState::SetCustomRange(std::string_view from, std::string_view to) {
  Result<CivilTime> start = ParseLocalTime(from, "from");
  if (!start.ok())
    return start.status();
  Result<CivilTime> end = ParseLocalTime(to, "to");
  if (!end.ok())
    return end.status();
  // The end minute is included whole: 10:00 covers 10:00:00 to 10:00:59.
  if (to.size() <= 10) {
    end->hour = 23;
    end->minute = 59;
  }
  end->second = 59;
  Result<TimeRange> range = RangeForLocalTimes(*start, *end, *zone_);
  if (!range.ok())
    return range.status();
  form_.preset = DatePreset::kCustom;
  form_.custom_start = range->begin;
  form_.custom_end = range->end - 1;
  form_.query.page = 1;
  MarkQueryChanged();
  return Status::Ok();
}

void ClientState::SetPageSize(int page_size) {
  page_size = std::clamp(page_size, kMinPageSize, kMaxPageSize);
  form_.query.page_size = page_size;
  form_.query.page = 1;
  prefs_.page_size = page_size;
  MarkPreferencesChanged();
  MarkQueryChanged();
}

void ClientState::SetPage(int page) {
  form_.query.page = std::max(1, page);
  query_dirty_ = true;
}

void ClientState::ToggleSort(IncidentColumn column) {
  if (form_.query.sort == column) {
    form_.query.direction = form_.query.direction == SortDirection::kAscending
                                ? SortDirection::kDescending
                                : SortDirection::kAscending;
  } else {
    form_.query.sort = column;
    form_.query.direction = SortDirection::kAscending;
  }
  form_.query.page = 1;
  query_dirty_ = true;
}

// Presets are resolved against the clock at each run, so "Last 24 hours"
// moves with time as the view is refreshed.
Query ClientState::ResolvedQuery() const {
  Query query = form_.query;
  query.created.reset();
  Result<TimeRange> range = Status::Invalid("range", "all time");
  if (form_.preset == DatePreset::kCustom)
    range = RangeForInstants(form_.custom_start, form_.custom_end);
  else if (form_.preset)
    range = RangeForPreset(*form_.preset, Now());
  if (range.ok())
    query.created = *range;
  return query;
}

void ClientState::RefreshQuery() {
  Query query = ResolvedQuery();
  Result<QueryPage> page = RunQuery(store_, query);
  if (page.ok() && page->rows.empty() && page->total > 0) {
    // The store shrank under the current page: show the last page instead.
    query.page = static_cast<int>((page->total + query.page_size - 1) / query.page_size);
    form_.query.page = query.page;
    page = RunQuery(store_, query);
  }
  if (!page.ok()) {
    last_error_ = "Query failed: " + page.status().field() + ": " + page.status().message();
    Log(last_error_, true);
    page_ = {};
  } else {
    page_ = std::move(*page);
  }
  if (chart_dirty_) {
    query.page = 1;
    Result<std::vector<uint32_t>> all = AllMatches(store_, query);
    chart_ = all.ok() ? CountByLocalDay(store_, *all, *zone_) : DailyTypeCounts{};
    chart_dirty_ = false;
  }
  query_dirty_ = false;
}

const QueryPage& ClientState::Page() {
  if (query_dirty_)
    RefreshQuery();
  return page_;
}

int ClientState::PageCount() {
  const QueryPage& page = Page();
  int size = form_.query.page_size;
  return std::max<int>(1, static_cast<int>((page.total + size - 1) / size));
}

const DailyTypeCounts& ClientState::Chart() {
  if (query_dirty_ || chart_dirty_) {
    chart_dirty_ = true;
    RefreshQuery();
  }
  return chart_;
}

std::string ClientState::UrlQuery() const {
  std::string encoded = EncodeQueryParams(ParamsFromQueryForm(form_));
  return encoded.empty() ? encoded : "?" + encoded;
}

Status ClientState::ApplyUrlQuery(std::string_view query) {
  if (!query.empty() && query.front() == '?')
    query.remove_prefix(1);
  Result<QueryParams> params = DecodeQueryParams(query);
  if (!params.ok())
    return params.status();
  Result<QueryForm> form = QueryFormFromParams(*params, Now());
  if (!form.ok())
    return form.status();
  bool has_page_size = std::any_of(params->begin(), params->end(),
                                   [](const auto& param) { return param.first == "pageSize"; });
  form_ = std::move(*form);
  if (!has_page_size)
    form_.query.page_size = prefs_.page_size;
  MarkQueryChanged();
  return Status::Ok();
}

void ClientState::SetVisibleColumns(std::vector<IncidentColumn> columns) {
  prefs_.queue_columns = std::move(columns);
  MarkPreferencesChanged();
}

void ClientState::SetTheme(Theme theme) {
  prefs_.theme = theme;
  MarkPreferencesChanged();
}

Result<Download> ClientState::ExportQueue(const std::vector<IncidentColumn>& columns) {
  if (columns.empty())
    return Status::Invalid("columns", "choose at least one column to export");
  Query query = ResolvedQuery();
  query.page = 1;
  Result<std::vector<uint32_t>> rows = AllMatches(store_, query);
  if (!rows.ok())
    return rows.status();
  Download download{"reclaim-incidents-" + FileDate(*zone_, Now()) + ".csv",
                    "text/csv;charset=utf-8",
                    ExportIncidentsCsv(store_, *rows, columns, CsvOptions{})};
  last_export_ = download.filename;
  Log("Exported " + std::to_string(rows->size()) + " incidents to " + download.filename);
  return download;
}

Result<Download> ClientState::ExportMessages(const std::vector<MessageColumn>& columns) {
  if (columns.empty())
    return Status::Invalid("columns", "choose at least one column to export");
  const IncidentDetail* detail = incident_detail();
  if (detail == nullptr || !open_incident_)
    return Status::NotFound("incident", "no incident is open to export its messages");
  Download download{"reclaim-" + *open_incident_ + "-messages-" + FileDate(*zone_, Now()) + ".csv",
                    "text/csv;charset=utf-8",
                    ExportMessagesCsv(detail->messages, columns, CsvOptions{})};
  last_export_ = download.filename;
  Log("Exported " + std::to_string(detail->messages.size()) + " messages of " + *open_incident_ +
      " to " + download.filename);
  return download;
}

std::string ClientState::TestStateJson() {
  const QueryPage& page = Page();
  nlohmann::json codes = nlohmann::json::array();
  char code[32];
  for (uint32_t row : page.rows)
    codes.push_back(std::string(code, store_.FormatCode(row, code)));
  nlohmann::json types = nlohmann::json::array();
  for (IncidentType type : kAllIncidentTypes)
    if (form_.query.types & TypeBit(type))
      types.push_back(std::string(DisplayName(type)));
  auto optional_text = [](const std::optional<std::string>& value) {
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
  };
  nlohmann::json remediation_counts = nullptr;
  if (remediation_result_) {
    const MessageCounts& counts = remediation_result_->counts;
    remediation_counts = {
        {"identified", counts.identified}, {"removed", counts.removed}, {"failed", counts.failed}};
  }
  nlohmann::json state = {
      {"online", online_},
      {"loggedIn", logged_in()},
      {"syncState", std::string(DisplayName(sync_state_))},
      {"lastSync",
       last_sync_ == 0 ? nlohmann::json(nullptr) : nlohmann::json(FormatIso8601(last_sync_))},
      {"incidentCount", store_.size()},
      {"matchCount", page.total},
      {"page", form_.query.page},
      {"pageCount", PageCount()},
      {"pageSize", form_.query.page_size},
      {"sortColumn", std::string(DisplayName(form_.query.sort))},
      {"sortDescending", form_.query.direction == SortDirection::kDescending},
      {"visibleCodes", codes},
      {"openIncident", optional_text(open_incident_)},
      {"openMessage", optional_text(open_message_)},
      {"searchField", std::string(DisplayName(form_.query.field))},
      {"searchText", form_.query.text},
      {"types", types},
      {"range", form_.preset ? nlohmann::json(std::string(ApiName(*form_.preset)))
                             : nlohmann::json(nullptr)},
      {"timeZone", zone_->Name()},
      {"lastError", last_error_},
      {"lastExport", optional_text(last_export_)},
      {"jobProgress", job_ ? nlohmann::json(job_->Progress()) : nlohmann::json(nullptr)},
      {"jobState", job_ ? nlohmann::json(job_->state) : nlohmann::json(nullptr)},
      {"remediationCounts", remediation_counts},
      {"loginError", login_error_},
      {"confirmation",
       confirmation_ ? nlohmann::json(confirmation_->Text()) : nlohmann::json(nullptr)},
      {"messageError", message_error_},
      {"theme", std::string(ApiName(prefs_.theme))},
      {"url", UrlQuery()}};
  nlohmann::json columns = nlohmann::json::array();
  for (IncidentColumn column : prefs_.queue_columns)
    columns.push_back(std::string(DisplayName(column)));
  state["columns"] = columns;
  return DumpJson(state);
}

}  // namespace reclaim::client
