// Incident queue, one incident with its messages, and both CSV exports.
#include "shared/incident_export.h"
#include "shared/json_codec.h"
#include "shared/json_values.h"
#include "shared/query_params.h"
#include "sync-server/http/router.h"

namespace reclaim {
namespace {

QueryParams ParamsOf(const httplib::Request& request, const std::vector<std::string>& skip) {
  QueryParams params;
  for (const auto& [name, value] : request.params) {
    if (std::find(skip.begin(), skip.end(), name) == skip.end()) params.emplace_back(name, value);
  }
  return params;
}

// The `columns` parameter: API names separated by commas, in the order the
// CSV should have them; absent means every column.
template <typename Column>
Result<std::vector<Column>> ColumnsParam(const httplib::Request& request,
                                         std::optional<Column> (*from_name)(std::string_view),
                                         std::vector<Column> (*all)()) {
  if (!request.has_param("columns")) return all();
  std::vector<Column> columns;
  std::string list = request.get_param_value("columns");
  size_t start = 0;
  for (;;) {
    size_t comma = list.find(',', start);
    std::string name = list.substr(start, comma == std::string::npos ? comma : comma - start);
    std::optional<Column> column = from_name(name);
    if (!column) return Status::Invalid("columns", "unknown column '" + name + "'");
    columns.push_back(*column);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return columns;
}

Result<std::vector<IncidentColumn>> IncidentColumns(const httplib::Request& request) {
  return ColumnsParam<IncidentColumn>(request, IncidentColumnFromApiName, AllIncidentColumns);
}

Result<std::vector<MessageColumn>> MessageColumns(const httplib::Request& request) {
  return ColumnsParam<MessageColumn>(request, MessageColumnFromApiName, AllMessageColumns);
}

Result<CsvOptions> CsvOptionsOf(const httplib::Request& request) {
  CsvOptions options;
  std::string bom = request.has_param("bom") ? request.get_param_value("bom") : "true";
  if (bom != "true" && bom != "false") {
    return Status::Invalid("bom", "bom must be true or false");
  }
  options.byte_order_mark = bom == "true";
  std::string raw = request.has_param("raw") ? request.get_param_value("raw") : "false";
  if (raw != "true" && raw != "false") return Status::Invalid("raw", "raw must be true or false");
  options.neutralize_formulas = raw == "false";
  return options;
}

void QueryIncidents(Router& router, const httplib::Request& request, httplib::Response& response) {
  App& app = router.app();
  Result<QueryForm> form = QueryFormFromParams(ParamsOf(request, {}), app.Now());
  if (!form.ok()) return SendError(response, form.status());
  if (Status s = app.RefreshStore(); !s.ok()) return SendError(response, s);
  // The page is written straight from the columns (same bytes as ToJson):
  // building a JSON tree per incident cost more than running the query.
  std::string body = app.ReadStore([&](const IncidentStore& store) {
    Result<QueryPage> page = RunQuery(store, form->query);
    std::string out = "{\"incidents\":[";
    out.reserve(64 + page->rows.size() * 400);
    for (size_t i = 0; i < page->rows.size(); ++i) {
      if (i > 0) out += ',';
      AppendIncidentJson(store, page->rows[i], &out);
    }
    out += "],\"page\":" + std::to_string(form->query.page) +
           ",\"pageSize\":" + std::to_string(form->query.page_size) +
           ",\"total\":" + std::to_string(page->total) + "}";
    return out;
  });
  response.set_content(body, "application/json");
}

void ExportIncidents(Router& router, const httplib::Request& request,
                     httplib::Response& response) {
  App& app = router.app();
  Result<QueryForm> form =
      QueryFormFromParams(ParamsOf(request, {"columns", "bom", "raw"}), app.Now());
  if (!form.ok()) return SendError(response, form.status());
  Result<std::vector<IncidentColumn>> columns = IncidentColumns(request);
  if (!columns.ok()) return SendError(response, columns.status());
  Result<CsvOptions> options = CsvOptionsOf(request);
  if (!options.ok()) return SendError(response, options.status());
  if (Status s = app.RefreshStore(); !s.ok()) return SendError(response, s);

  // The export is built under the read lock and streamed in chunks, so a
  // large queue neither blocks writers for the whole transfer nor needs a
  // second copy in memory.
  auto csv = std::make_shared<std::string>(app.ReadStore([&](const IncidentStore& store) {
    Result<std::vector<uint32_t>> rows = AllMatches(store, form->query);
    return ExportIncidentsCsv(store, *rows, *columns, *options);
  }));
  response.set_header("Content-Disposition", "attachment; filename=\"incidents.csv\"");
  response.set_chunked_content_provider(
      "text/csv; charset=utf-8", [csv](size_t offset, httplib::DataSink& sink) {
        constexpr size_t kChunk = 256 * 1024;
        if (offset >= csv->size()) {
          sink.done();
          return true;
        }
        size_t length = std::min(kChunk, csv->size() - offset);
        return sink.write(csv->data() + offset, length);
      });
}

void GetIncident(Router& router, const httplib::Request& request, httplib::Response& response) {
  std::string id = request.matches[1];
  nlohmann::json body;
  Status status = router.app().WithDatabase(
      [&](Database&, IncidentRepository& repository, TokenStore&) -> Status {
        Result<Incident> incident = repository.Get(id);
        if (!incident.ok()) return incident.status();
        Result<std::vector<StoredRow>> rows = repository.Rows(incident->id);
        if (!rows.ok()) return rows.status();
        body = ToJson(*incident);
        nlohmann::json messages = nlohmann::json::array();
        for (const StoredRow& row : *rows) messages.push_back(ToJson(row.view));
        body["messages"] = messages;
        return Status::Ok();
      });
  if (!status.ok()) return SendError(response, status);
  SendJson(response, body);
}

void ExportMessages(Router& router, const httplib::Request& request,
                    httplib::Response& response) {
  Result<std::vector<MessageColumn>> columns = MessageColumns(request);
  if (!columns.ok()) return SendError(response, columns.status());
  Result<CsvOptions> options = CsvOptionsOf(request);
  if (!options.ok()) return SendError(response, options.status());
  std::string id = request.matches[1];
  std::string code;
  std::vector<MessageRow> rows;
  Status status = router.app().WithDatabase(
      [&](Database&, IncidentRepository& repository, TokenStore&) -> Status {
        Result<Incident> incident = repository.Get(id);
        if (!incident.ok()) return incident.status();
        code = FormatIncidentCode(incident->code);
        Result<std::vector<StoredRow>> stored = repository.Rows(incident->id);
        if (!stored.ok()) return stored.status();
        for (const StoredRow& row : *stored) rows.push_back(row.view);
        return Status::Ok();
      });
  if (!status.ok()) return SendError(response, status);
  response.set_header("Content-Disposition", "attachment; filename=\"" + code + ".csv\"");
  response.set_content(ExportMessagesCsv(rows, *columns, *options), "text/csv; charset=utf-8");
}

}  // namespace

void AddIncidentRoutes(Router& router) {
  router.Add("GET", "/api/v1/incidents", Role::kViewer,
             [&router](const httplib::Request& q, httplib::Response& r, const Caller&) {
               QueryIncidents(router, q, r);
             });
  router.Add("GET", "/api/v1/incidents/export", Role::kViewer,
             [&router](const httplib::Request& q, httplib::Response& r, const Caller&) {
               ExportIncidents(router, q, r);
             });
  router.Add("GET", R"(/api/v1/incidents/([A-Za-z0-9-]+))", Role::kViewer,
             [&router](const httplib::Request& q, httplib::Response& r, const Caller&) {
               GetIncident(router, q, r);
             });
  router.Add("GET", R"(/api/v1/incidents/([A-Za-z0-9-]+)/messages/export)", Role::kViewer,
             [&router](const httplib::Request& q, httplib::Response& r, const Caller&) {
               ExportMessages(router, q, r);
             });
}

}  // namespace reclaim
