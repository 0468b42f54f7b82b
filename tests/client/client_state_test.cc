#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "wasm-client/state/client_state.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "shared/csv.h"
#include "tests/client/client_fixture.h"

using namespace reclaim;
using namespace reclaim::client;
using namespace reclaim::client::testing;

namespace {

std::vector<std::string> VisibleCodes(Fixture& f) {
  return f.TestState()["visibleCodes"].get<std::vector<std::string>>();
}

std::string Code(const Incident& incident) {
  return FormatIncidentCode(incident.code);
}

// Codes of `incidents` newest first, the queue's default order.
std::vector<std::string> NewestFirst(std::vector<Incident> incidents) {
  std::sort(incidents.begin(), incidents.end(), [](const Incident& a, const Incident& b) {
    return a.created != b.created ? a.created > b.created : a.code.sequence > b.code.sequence;
  });
  std::vector<std::string> codes;
  for (const Incident& incident : incidents)
    codes.push_back(Code(incident));
  return codes;
}

}  // namespace

TEST_CASE("sync applies snapshot then deltas and purges") {
  Fixture f;
  std::vector<Incident> incidents = ManyIncidents(5);
  f.state.Login("rcl_test");
  HttpRequest first = f.Expect(RequestKind::kSync);
  CHECK(first.path == "/api/v1/sync");
  f.state.OnResponse(first, Reply(200, SnapshotJson(incidents, "c1")));
  CHECK(f.state.store().size() == 5);
  CHECK(f.state.sync_state() == SyncState::kSynced);
  CHECK(f.state.online());

  // No sync before the interval, then a delta from the cursor.
  f.now += kSyncIntervalSeconds - 1;
  f.state.Tick();
  CHECK_FALSE(f.HasQueued(RequestKind::kSync));
  f.now += 1;
  f.state.Tick();
  HttpRequest delta = f.Expect(RequestKind::kSync);
  CHECK(delta.path == "/api/v1/sync?since=c1");

  Incident changed = incidents[1];
  changed.reason = "Changed reason";
  Incident added = MakeIncident(6, IncidentType::kManual, kStart, "New one");
  f.state.OnResponse(delta,
                     Reply(200, SnapshotJson({changed, added}, "c2", true, {Code(incidents[4])})));
  CHECK(f.state.store().size() == 5);  // 5 + 1 added - 1 purged
  CHECK_FALSE(f.state.store().FindByCode(Code(incidents[4])).has_value());
  std::optional<uint32_t> row = f.state.store().FindByCode(Code(changed));
  REQUIRE(row.has_value());
  CHECK(f.state.store().reason(*row) == "Changed reason");

  // The Sync button requests the next delta at once.
  f.state.RequestSync();
  CHECK(f.Expect(RequestKind::kSync).path == "/api/v1/sync?since=c2");
}

TEST_CASE("sync with rejected cursor loads full snapshot") {
  Fixture f;
  f.LoginWith(ManyIncidents(3), "c9");
  f.state.RequestSync();
  f.Answer(RequestKind::kSync, Reply(400, ErrorJson(400, "since", "cursor c9 is ahead")));
  HttpRequest full = f.Expect(RequestKind::kSync);
  CHECK(full.path == "/api/v1/sync");
  f.state.OnResponse(full, Reply(200, SnapshotJson(ManyIncidents(2), "c1")));
  CHECK(f.state.store().size() == 2);
}

TEST_CASE("sync tells unreachable from refused") {
  Fixture f;
  f.state.Login("rcl_test");
  f.Answer(RequestKind::kSync, Unreachable());
  CHECK_FALSE(f.state.online());
  CHECK(f.state.sync_state() == SyncState::kUnreachable);
  CHECK(f.state.last_error() == "Sync: Server unreachable (connection refused)");

  f.state.RequestSync();
  f.Answer(RequestKind::kSync, Reply(401, ErrorJson(401, "Authorization", "unknown token")));
  CHECK(f.state.online());
  CHECK(f.state.sync_state() == SyncState::kRefused);
  CHECK(f.state.last_error() == "Sync: Server refused (unknown token)");
  CHECK(f.TestState()["syncState"] == "server refused");
}

TEST_CASE("refused without error body shows status") {
  ServerError error = ClassifyResponse(Reply(502, "Bad Gateway"));
  CHECK(error.kind == ErrorKind::kRefused);
  CHECK(error.Display() == "Server refused (HTTP 502: Bad Gateway)");
  CHECK(ClassifyResponse(Reply(204, "")).ok());
}

TEST_CASE("queue shows newest first by default") {
  Fixture f;
  std::vector<Incident> incidents = ManyIncidents(70);
  f.LoginWith(incidents);
  std::vector<std::string> expected = NewestFirst(incidents);
  expected.resize(kDefaultPageSize);
  CHECK(VisibleCodes(f) == expected);
  CHECK(f.TestState()["matchCount"] == 70);
}

TEST_CASE("filters become the query") {
  Fixture f;
  std::vector<Incident> incidents = ManyIncidents(120);
  f.LoginWith(incidents);

  f.state.RunSearch(SearchField::kReason, "INVOICE");
  f.state.SetTypeEnabled(IncidentType::kNotifyOnly, false);
  f.state.SetPreset(DatePreset::kLast7Days);

  std::vector<Incident> expected;
  for (const Incident& incident : incidents) {
    bool text = incident.reason.find("invoice") != std::string::npos;
    bool type = incident.code.type != IncidentType::kNotifyOnly;
    bool date = incident.created >= kStart - 7 * kSecondsPerDay && incident.created <= kStart;
    if (text && type && date)
      expected.push_back(incident);
  }
  REQUIRE(!expected.empty());
  nlohmann::json state = f.TestState();
  CHECK(state["matchCount"] == expected.size());
  CHECK(VisibleCodes(f) == NewestFirst(expected));
  CHECK(state["searchField"] == "Reason");
  CHECK(state["searchText"] == "INVOICE");
  CHECK(state["types"] == nlohmann::json({"Manual", "Automatic", "Restore", "MEP Clawback"}));
}

TEST_CASE("custom range in local time") {
  Fixture f;
  f.zone = std::make_shared<FixedTimeZone>(3600);
  ClientState state([&f] { return f.now; }, f.zone);
  // kStart is 2025-12-04 17:00 in UTC+01:00; incidents are hourly before it.
  REQUIRE(state.SetCustomRange("2025-12-04 14:00", "2025-12-04 15:59").ok());
  CHECK(state.form().custom_start == kStart - 3 * 3600);
  CHECK(state.form().custom_end == kStart - 3600 - 1);  // 15:59:59 local, 14:59:59Z
  Status bad = state.SetCustomRange("2025-12-04 16:00", "2025-13-01");
  CHECK(bad.field() == "to");
  Status reversed = state.SetCustomRange("2025-12-05", "2025-12-04");
  CHECK_FALSE(reversed.ok());
}

TEST_CASE("page size and page navigation") {
  Fixture f;
  std::vector<Incident> incidents = ManyIncidents(130);
  f.LoginWith(incidents);
  std::vector<std::string> all = NewestFirst(incidents);

  CHECK(f.state.PageCount() == 3);
  f.state.SetPage(3);
  std::vector<std::string> last(all.begin() + 100, all.end());
  CHECK(VisibleCodes(f) == last);

  f.state.SetPageSize(100);
  CHECK(f.state.form().query.page == 1);
  CHECK(f.state.PageCount() == 2);
  CHECK(VisibleCodes(f).size() == 100);

  struct Case {
    int requested;
    int expected;
  };
  for (Case c : {Case{10, 50}, Case{50, 50}, Case{300, 300}, Case{301, 300}, Case{0, 50}}) {
    INFO("requested " << c.requested);
    f.state.SetPageSize(c.requested);
    CHECK(f.state.form().query.page_size == c.expected);
  }
  f.state.SetPage(0);
  CHECK(f.state.form().query.page == 1);
}

TEST_CASE("page beyond the last shows the last page") {
  Fixture f;
  f.LoginWith(ManyIncidents(120));
  f.state.SetPage(3);
  CHECK(VisibleCodes(f).size() == 20);
  f.state.RunSearch(SearchField::kIncidentId, "TR-ACME-0000");  // sequences 1..9
  f.state.SetPage(5);
  nlohmann::json state = f.TestState();
  CHECK(state["page"] == 1);
  CHECK(state["matchCount"] == 9);
}

TEST_CASE("sort toggles direction and column") {
  Fixture f;
  std::vector<Incident> incidents = ManyIncidents(20);
  f.LoginWith(incidents);
  std::vector<std::string> newest = NewestFirst(incidents);

  f.state.ToggleSort(IncidentColumn::kCreated);
  std::vector<std::string> oldest(newest.rbegin(), newest.rend());
  CHECK(VisibleCodes(f) == oldest);
  CHECK(f.TestState()["sortDescending"] == false);

  f.state.ToggleSort(IncidentColumn::kCode);
  nlohmann::json state = f.TestState();
  CHECK(state["sortColumn"] == "Incident ID");
  CHECK(state["sortDescending"] == false);
  std::vector<std::string> by_code = VisibleCodes(f);
  CHECK(std::is_sorted(by_code.begin(), by_code.end()));

  f.state.ToggleSort(IncidentColumn::kCode);
  std::vector<std::string> reversed = VisibleCodes(f);
  CHECK(reversed == std::vector<std::string>(by_code.rbegin(), by_code.rend()));
}

TEST_CASE("column chooser persists across sessions") {
  Fixture f;
  std::string saved;
  CHECK_FALSE(f.state.TakePreferencesToSave(&saved));
  std::vector<IncidentColumn> chosen = {IncidentColumn::kReason, IncidentColumn::kCode,
                                        IncidentColumn::kFailed};
  f.state.SetVisibleColumns(chosen);
  f.state.SetTheme(Theme::kLight);
  f.state.SetPageSize(200);
  REQUIRE(f.state.TakePreferencesToSave(&saved));
  CHECK_FALSE(f.state.TakePreferencesToSave(&saved));

  Fixture reopened;
  reopened.state.LoadPreferences(saved);
  CHECK(reopened.state.visible_columns() == chosen);
  CHECK(reopened.state.theme() == Theme::kLight);
  CHECK(reopened.state.form().query.page_size == 200);
}

TEST_CASE("damaged preferences are logged and ignored") {
  Fixture f;
  f.state.LoadPreferences(R"({"columns":["code","bogus"]})");
  CHECK(f.state.visible_columns() == AllIncidentColumns());
  REQUIRE(!f.state.log().empty());
  CHECK(f.state.log().back().error);
  CHECK(f.state.log().back().text.find("bogus") != std::string::npos);
}

TEST_CASE("URL state round trip") {
  Fixture f;
  std::vector<Incident> incidents = ManyIncidents(200);
  f.LoginWith(incidents);
  CHECK(f.state.UrlQuery() == "");
  f.state.RunSearch(SearchField::kAll, "invoice 1");
  f.state.SetTypeEnabled(IncidentType::kRestore, false);
  f.state.SetPreset(DatePreset::kLast30Days);
  f.state.ToggleSort(IncidentColumn::kReason);
  f.state.SetPageSize(50);
  f.state.SetPage(2);
  std::string url = f.state.UrlQuery();
  REQUIRE(url.front() == '?');
  CHECK(url.find("text=invoice") != std::string::npos);

  Fixture reopened;
  reopened.LoginWith(incidents);
  REQUIRE(reopened.state.ApplyUrlQuery(url).ok());
  CHECK(reopened.state.UrlQuery() == url);
  nlohmann::json a = f.TestState();
  nlohmann::json b = reopened.TestState();
  for (const char* key : {"visibleCodes", "matchCount", "page", "sortColumn", "sortDescending",
                          "searchText", "searchField", "types", "range"}) {
    INFO(key);
    CHECK(a[key] == b[key]);
  }
}

TEST_CASE("bad URL leaves filters unchanged") {
  Fixture f;
  f.state.RunSearch(SearchField::kReason, "keep");
  Status status = f.state.ApplyUrlQuery("?pageSize=9");
  CHECK(status.field() == "pageSize");
  CHECK(f.state.form().query.text == "keep");
}

TEST_CASE("offline remove and restore need the server") {
  Fixture f;
  std::vector<Incident> incidents = ManyIncidents(3);
  f.LoginWith(incidents);
  f.state.RequestSync();
  f.Answer(RequestKind::kSync, Unreachable());
  REQUIRE_FALSE(f.state.online());

  f.state.OpenIncident(Code(incidents[0]));
  REQUIRE(f.state.incident_detail() != nullptr);  // the local copy
  Status remove = f.state.AskRemove();
  CHECK(remove.code() == StatusCode::kUnavailable);
  CHECK(f.state.last_error() ==
        "Remove needs the server, which is unreachable: the offline copy can be searched and "
        "exported but not changed");
  Status restore = f.state.AskRestore({});
  CHECK(restore.message().rfind("Restore needs the server", 0) == 0);
  CHECK_FALSE(f.state.confirmation().has_value());
  CHECK_FALSE(f.HasQueued(RequestKind::kRemove));
  CHECK_FALSE(f.HasQueued(RequestKind::kRestore));

  // Searching and exporting still work on the offline copy.
  f.state.RunSearch(SearchField::kIncidentId, Code(incidents[1]));
  CHECK(VisibleCodes(f) == std::vector<std::string>{Code(incidents[1])});
  CHECK(f.state.ExportQueue(AllIncidentColumns()).ok());
}

TEST_CASE("remove asks, posts, follows the job and refreshes") {
  Fixture f;
  Incident notify = MakeIncident(7, IncidentType::kNotifyOnly, kStart - 60, "Suspicious");
  f.LoginWith({notify});
  f.state.OpenIncident("TR-ACME-00007-N");

  std::vector<MessageRow> rows(3);
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i].id = std::to_string(i + 1);
    rows[i].recipient = "user" + std::to_string(i) + "@example.com";
    rows[i].delivered = kStart - 3600;
  }
  rows[2].status = MessageStatus::kFailed;
  rows[2].failure = FailureReason::kNotFoundInMailbox;
  nlohmann::json body = ToJson(notify);
  body["messages"] = ToJson(rows);
  f.Answer(RequestKind::kIncident, Reply(200, DumpJson(body)));
  REQUIRE(f.state.incident_messages_loaded());

  REQUIRE(f.state.AskRemove().ok());
  REQUIRE(f.state.confirmation().has_value());
  CHECK(f.state.confirmation()->message_count == 2);
  CHECK(f.state.confirmation()->Text() ==
        "Remove 2 messages of TR-ACME-00007-N from the recipients' mailboxes?");
  f.state.Confirm();
  HttpRequest remove = f.Expect(RequestKind::kRemove);
  CHECK(remove.method == "POST");
  CHECK(remove.path == "/api/v1/incidents/TR-ACME-00007-N/remove");
  CHECK(remove.body == "{}");

  f.state.OnResponse(remove,
                     Reply(202, R"({"job":{"id":"job-1","kind":"remove","incidentId":"inc-7",
      "state":"queued","total":2,"done":0,"created":"2025-12-04T16:00:00Z"}})"));
  REQUIRE(f.state.job().has_value());
  CHECK(f.TestState()["jobProgress"] == 0.0);

  f.now += 1;
  f.state.Tick();
  f.Answer(RequestKind::kJob, Reply(200, R"({"id":"job-1","kind":"remove","state":"running",
      "total":2,"done":1})"));
  CHECK(f.state.job()->Progress() == doctest::Approx(0.5));
  CHECK_FALSE(f.HasQueued(RequestKind::kIncident));

  f.now += 1;
  f.state.Tick();
  f.Answer(RequestKind::kJob, Reply(200, R"({"id":"job-1","kind":"remove","state":"succeeded",
      "total":2,"done":2})"));
  CHECK(f.TestState()["jobProgress"] == 1.0);
  CHECK(f.Expect(RequestKind::kIncident).path == "/api/v1/incidents/TR-ACME-00007-N");
  CHECK(f.HasQueued(RequestKind::kSync));
}

TEST_CASE("restore of chosen messages counts only removed ones") {
  Fixture f;
  Incident manual = MakeIncident(8, IncidentType::kManual, kStart - 60, "Phish");
  f.LoginWith({manual});
  f.state.OpenIncident("TR-ACME-00008-M");
  std::vector<MessageRow> rows(3);
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i].id = std::to_string(10 + i);
    rows[i].recipient = "r" + std::to_string(i) + "@example.com";
    rows[i].status = MessageStatus::kRemoved;
  }
  rows[1].status = MessageStatus::kIdentified;
  nlohmann::json body = ToJson(manual);
  body["messages"] = ToJson(rows);
  f.Answer(RequestKind::kIncident, Reply(200, DumpJson(body)));

  REQUIRE(f.state.AskRestore({"10", "11"}).ok());
  CHECK(f.state.confirmation()->message_count == 1);
  f.state.Confirm();
  HttpRequest restore = f.Expect(RequestKind::kRestore);
  CHECK(restore.body == R"({"messages":["10","11"]})");
  f.state.OnResponse(restore, Reply(409, ErrorJson(409, "messages", "none removed")));
  CHECK(f.state.last_error() == "Restore: Server refused (none removed)");

  CHECK(f.state.AskRestore({"11"}).code() == StatusCode::kConflict);
}

TEST_CASE("message details conflict shows archive text") {
  Fixture f;
  f.LoginWith({MakeIncident(9, IncidentType::kManual, kStart, "r")});
  f.state.OpenIncident("TR-ACME-00009-M");
  f.state.OpenMessage("42");
  HttpRequest request = f.Expect(RequestKind::kMessage);
  CHECK(request.path == "/api/v1/incidents/TR-ACME-00009-M/messages/42");
  f.state.OnResponse(request, Reply(409, ErrorJson(409, "messageRowId", "anything")));
  CHECK(f.state.message_error() ==
        "This message has not been archived yet. Try again in a few minutes.");
  CHECK(f.state.message_detail() == nullptr);
}

TEST_CASE("remediation form posts the request") {
  Fixture f;
  f.zone = std::make_shared<FixedTimeZone>(-5 * 3600);
  ClientState state([&f] { return f.now; }, f.zone);
  state.Login("rcl_x");
  for (HttpRequest& request : state.TakeRequests())
    state.OnResponse(
        request, Reply(200, request.kind == RequestKind::kSync ? SnapshotJson({}, "c1")
                                                               : R"({"name":"x","role":"admin"})"));
  RemediationForm form;
  form.identifier = "<bad@example.com>";
  form.reason = "Phish";
  form.start = "2025-12-01 08:00";
  form.notify_only = true;
  REQUIRE(state.SubmitRemediation(form).ok());
  std::vector<HttpRequest> requests = state.TakeRequests();
  REQUIRE(requests.size() == 1);
  nlohmann::json body = nlohmann::json::parse(requests[0].body);
  CHECK(body["identifier"] == "<bad@example.com>");
  CHECK(body["start"] == "2025-12-01T13:00:00Z");
  CHECK(body["action"] == "notify_only");
  CHECK_FALSE(body.contains("end"));

  form.end = "yesterday";
  Status bad = state.SubmitRemediation(form);
  CHECK(bad.field() == "end");
}

TEST_CASE("export covers every match, not only the page") {
  Fixture f;
  std::vector<Incident> incidents = ManyIncidents(160);
  f.LoginWith(incidents);
  f.state.SetTypeEnabled(IncidentType::kManual, false);
  size_t expected =
      static_cast<size_t>(std::count_if(incidents.begin(), incidents.end(), [](const Incident& i) {
        return i.code.type != IncidentType::kManual;
      }));
  REQUIRE(expected > static_cast<size_t>(kDefaultPageSize));

  Result<Download> download = f.state.ExportQueue({IncidentColumn::kCode, IncidentColumn::kReason});
  REQUIRE(download.ok());
  CHECK(download->filename == "reclaim-incidents-20251204.csv");
  Result<std::vector<std::vector<std::string>>> rows = ParseCsv(download->bytes);
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == expected + 1);
  CHECK((*rows)[0] == std::vector<std::string>{"Incident ID", "Reason"});
  CHECK(f.TestState()["lastExport"] == "reclaim-incidents-20251204.csv");
  CHECK(f.state.ExportQueue({}).status().field() == "columns");
}

TEST_CASE("snapshot persists and resumes from its cursor") {
  Fixture f;
  f.LoginWith(ManyIncidents(40), "c7");
  std::string saved;
  REQUIRE(f.state.TakeSnapshotToSave(&saved));
  CHECK_FALSE(f.state.TakeSnapshotToSave(&saved));

  Fixture reopened;
  REQUIRE(reopened.state.LoadSnapshot(saved, "storage").ok());
  CHECK(reopened.state.store().size() == 40);
  reopened.state.Login("rcl_test");
  CHECK(reopened.Expect(RequestKind::kSync).path == "/api/v1/sync?since=c7");

  Status bad = reopened.state.LoadSnapshot("{\"schemaVersion\":1}", "file");
  CHECK_FALSE(bad.ok());
  CHECK(reopened.state.store().size() == 40);
}

TEST_CASE("a second remediation submit waits for the first one's answer") {
  Fixture f;
  f.LoginWith({});
  RemediationForm form;
  form.identifier = "<twice@example.com>";
  form.reason = "Double click";
  REQUIRE(f.state.SubmitRemediation(form).ok());
  CHECK(f.state.remediation_in_flight());
  Status again = f.state.SubmitRemediation(form);
  CHECK(again.code() == StatusCode::kConflict);
  CHECK(again.field() == "remediation");
  std::vector<HttpRequest> requests = f.state.TakeRequests();
  CHECK(std::count_if(requests.begin(), requests.end(),
                      [](const HttpRequest& r) { return r.kind == RequestKind::kRemediate; }) == 1);

  // A refused submit ends the wait too, so the user can correct and resend.
  auto remediate = std::find_if(requests.begin(), requests.end(), [](const HttpRequest& r) {
    return r.kind == RequestKind::kRemediate;
  });
  REQUIRE(remediate != requests.end());
  f.state.OnResponse(*remediate, Reply(400, ErrorJson(400, "identifier", "not a Message-ID")));
  CHECK_FALSE(f.state.remediation_in_flight());
  REQUIRE(f.state.SubmitRemediation(form).ok());
  CHECK(f.HasQueued(RequestKind::kRemediate));
}

TEST_CASE("a refused token is forgotten and the login box says why") {
  for (RequestKind refused : {RequestKind::kSession, RequestKind::kSync}) {
    CAPTURE(DisplayName(refused));
    Fixture f;
    f.state.Login("rcl_revoked");
    REQUIRE(f.state.logged_in());
    const std::string message = "unknown or revoked API token";
    f.Answer(refused, Reply(401, ErrorJson(401, "", message)));
    CHECK_FALSE(f.state.logged_in());
    CHECK(f.state.token().empty());
    CHECK(f.state.login_error() == "Server refused (" + message + ")");
    CHECK(f.TestState()["loginError"] == "Server refused (" + message + ")");
    std::string saved;
    REQUIRE(f.state.TakePreferencesToSave(&saved));
    CHECK(saved.find("rcl_revoked") == std::string::npos);

    // The other request's 401 to the same token changes nothing more.
    RequestKind other =
        refused == RequestKind::kSession ? RequestKind::kSync : RequestKind::kSession;
    f.Answer(other, Reply(401, ErrorJson(401, "", message)));
    CHECK_FALSE(f.state.logged_in());
    CHECK(f.state.login_error() == "Server refused (" + message + ")");

    // A new login clears the reason and works as before.
    f.state.Login("rcl_good");
    CHECK(f.state.login_error().empty());
    f.Answer(RequestKind::kSession,
             Reply(200, R"({"tokenId":"t1","name":"t","role":"admin","organisation":"ACME"})"));
    f.Answer(RequestKind::kSync, Reply(200, SnapshotJson(ManyIncidents(3), "c1")));
    CHECK(f.state.logged_in());
    CHECK(f.state.store().size() == 3);
  }

  // A 401 to a request sent with an older token leaves a newer login alone.
  {
    Fixture f;
    f.state.Login("rcl_revoked");
    HttpRequest stale_session = f.Expect(RequestKind::kSession);
    f.Answer(RequestKind::kSync, Reply(401, ErrorJson(401, "", "revoked")));
    REQUIRE_FALSE(f.state.logged_in());
    f.state.Login("rcl_good");
    f.state.OnResponse(stale_session, Reply(401, ErrorJson(401, "", "revoked")));
    CHECK(f.state.logged_in());
    CHECK(f.state.token() == "rcl_good");
    CHECK(f.state.login_error().empty());
  }

  // Other refusals keep the token: a 500 is the server's fault, not the token's.
  Fixture f;
  f.state.Login("rcl_fine");
  f.Answer(RequestKind::kSession, Reply(500, ErrorJson(500, "", "database locked")));
  CHECK(f.state.logged_in());
  CHECK(f.state.login_error().empty());
}

TEST_CASE("remediation result follows the synced counts") {
  Fixture f;
  f.LoginWith({});
  RemediationForm form;
  form.identifier = "<counted@example.com>";
  form.reason = "Phish";
  REQUIRE(f.state.SubmitRemediation(form).ok());
  Incident created = MakeIncident(9, IncidentType::kManual, kStart, "Phish");
  created.counts = {7, 0, 0, 0};
  f.Answer(RequestKind::kRemediate,
           Reply(202, R"({"incident":)" + EncodeIncident(created) +
                          R"(,"job":{"id":"job-9","kind":"remove","incidentId":"inc-9",
      "state":"queued","total":6,"done":0,"created":"2025-12-04T16:00:00Z"}})"));
  REQUIRE(f.state.remediation_result().has_value());
  CHECK(f.state.remediation_result()->counts.identified == 7);
  CHECK(f.state.remediation_result()->counts.removed == 0);

  // The job removed six copies; the next delta sync carries the new counts.
  Incident finished = created;
  finished.counts.removed = 6;
  finished.modified = created.modified + 60;
  f.Answer(RequestKind::kSync, Reply(200, SnapshotJson({finished}, "c2", true)));
  REQUIRE(f.state.remediation_result().has_value());
  CHECK(f.state.remediation_result()->counts.identified == 7);
  CHECK(f.state.remediation_result()->counts.removed == 6);
  CHECK(f.TestState()["remediationCounts"]["removed"] == 6);
}

TEST_CASE("location text shows both folders") {
  CHECK(LocationText("INBOX", "", false) == "INBOX");
  CHECK(LocationText("INBOX", "Reclaim-Hold", false) == "INBOX -> Reclaim-Hold");
  // A restored row came back from the hold folder into its old folder.
  CHECK(LocationText("INBOX", "INBOX", true) == "hold folder -> INBOX");
  CHECK(LocationText("Archive", "Archive", true) == "hold folder -> Archive");
}

TEST_CASE("leaving the incident page clears its error") {
  Fixture f;
  f.LoginWith(ManyIncidents(8));
  f.state.OpenIncident("TR-ACME-00007-N");
  f.Answer(RequestKind::kIncident, Reply(500, ErrorJson(500, "", "database locked")));
  CHECK(f.state.incident_error().Display() == "Server refused (database locked)");
  CHECK(f.state.last_error() == "Incident TR-ACME-00007-N: Server refused (database locked)");
  f.state.CloseIncident();
  CHECK(f.state.incident_error().ok());
  CHECK(f.state.last_error().empty());
  CHECK(f.TestState()["lastError"] == "");
}
