// Endpoints shaped like the Mimecast Threat Remediation API (create,
// get-incident, find-incidents, search-hash), so that a SOAR playbook
// written for Mimecast can run against Reclaim with its base URL and
// credentials changed. A bearer token replaces Mimecast's signed headers.
//
// A request is {"meta": {...}, "data": [item, ...]}. The response is
//   {"meta": {"status": 200}, "data": [result, ...], "fail": [failure, ...]}
// with one result per item that succeeded and, for each item that did not,
//   {"key": <the item as sent>,
//    "errors": [{"code": "err_validation_...", "message": "...", "retryable": false}]}
// while the other items still run. An envelope that is not a JSON object
// with a non-empty `data` array gets HTTP 400 in the same shape, with one
// failure that has no `key`. Authentication errors keep the router's own
// error shape.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <unordered_set>

#include "shared/json_values.h"
#include "sync-server/http/router.h"
#include "sync-server/index/message_index.h"
#include "sync-server/mail/hashing.h"

namespace reclaim {
namespace {

// NOTE: the item and page limits are our own choices, not Mimecast's
// documented ones. They bound the work and the size of one response.
constexpr size_t kMaxDataItems = 100;
constexpr size_t kMaxHashesPerItem = 100;
constexpr int kDefaultFindPageSize = 100;
constexpr int kMaxFindPageSize = 500;

struct ItemError {
  std::string code;
  std::string message;
  bool retryable = false;
};

nlohmann::json ErrorJson(const ItemError& error) {
  return {{"code", error.code}, {"message", error.message}, {"retryable", error.retryable}};
}

// The response under construction.
struct Envelope {
  nlohmann::json meta = nlohmann::json::object();
  nlohmann::json data = nlohmann::json::array();
  nlohmann::json fail = nlohmann::json::array();

  void Fail(const nlohmann::json& key, const ItemError& error) {
    fail.push_back({{"key", key}, {"errors", nlohmann::json::array({ErrorJson(error)})}});
  }

  void Send(httplib::Response& response, int status = 200) {
    meta["status"] = status;
    SendJson(response, {{"meta", meta}, {"data", data}, {"fail", fail}}, status);
  }
};

// Sends an error about the request as a whole, which has no item to name.
void RejectRequest(httplib::Response& response, int status, const ItemError& error) {
  Envelope envelope;
  envelope.fail.push_back({{"errors", nlohmann::json::array({ErrorJson(error)})}});
  envelope.Send(response, status);
}

// "hashOrMessageId" -> "hash_or_message_id", for error codes.
std::string SnakeCase(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c >= 'A' && c <= 'Z') {
      out.push_back('_');
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

ItemError Missing(const std::string& field, const std::string& fix) {
  return {"err_validation_missing_" + SnakeCase(field), "missing " + field + ": " + fix};
}

ItemError Invalid(const std::string& field, const std::string& message) {
  return {"err_validation_invalid_" + SnakeCase(field), message};
}

// Maps an error from the App to a failure. Field names of the native API
// become the names this API uses. Unavailable and internal errors are logged
// here with `context`, and the caller gets no details of internal ones.
ItemError FromStatus(const Status& status, const std::string& context) {
  std::string field = status.field() == "identifier" ? "hashOrMessageId" : status.field();
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      return {
          field.empty() ? "err_validation_invalid" : "err_validation_invalid_" + SnakeCase(field),
          status.message()};
    case StatusCode::kNotFound:
      return {"err_validation_not_found", status.message()};
    case StatusCode::kConflict:
      return {"err_conflict", status.message()};
    case StatusCode::kUnavailable:
      spdlog::warn("mimecast api: {}: {}", context, status.message());
      return {"err_unavailable", status.message(), true};
    case StatusCode::kOk:
    case StatusCode::kInternal:
      break;
  }
  spdlog::error("mimecast api: {}: {}", context, status.message());
  return {"err_internal", "internal error; the server log has the details"};
}

// Writes an instant with a +0000 offset (2026-12-04T15:55:54+0000), the
// form that Mimecast API clients send, in place of our `Z`.
std::string MimecastTime(UnixSeconds seconds) {
  std::string text = FormatIso8601(seconds);
  if (!text.empty() && text.back() == 'Z')
    text.replace(text.size() - 1, 1, "+0000");
  return text;
}

nlohmann::json IncidentJson(const Incident& incident) {
  const SearchCriteria& criteria = incident.criteria;
  nlohmann::json search = {{"start", MimecastTime(criteria.start)},
                           {"end", MimecastTime(criteria.end)}};
  if (!criteria.from.empty())
    search["from"] = criteria.from;
  if (!criteria.to.empty())
    search["to"] = criteria.to;
  bool by_hash = ClassifyIdentifier(criteria.identifier) != IdentifierKind::kMessageId;
  search[by_hash ? "fileHash" : "messageId"] = criteria.identifier;
  return {{"id", incident.id},
          {"code", FormatIncidentCode(incident.code)},
          {"type", ApiName(incident.code.type)},
          {"reason", incident.reason},
          {"create", MimecastTime(incident.created)},
          {"modified", MimecastTime(incident.modified)},
          {"identified", incident.counts.identified},
          {"successful", incident.counts.removed},
          {"failed", incident.counts.failed},
          {"restored", incident.counts.restored},
          {"searchCriteria", search}};
}

// Parses the envelope, or sends the 400 and returns nothing.
// NOTE: a client that sends a Python dict's repr (single quotes) in place of
// JSON, as some older SOAR integrations do, gets a malformed JSON error.
std::optional<nlohmann::json> ReadEnvelope(const httplib::Request& request,
                                           httplib::Response& response) {
  if (request.body.empty()) {
    RejectRequest(response, 400, Missing("body", "send a JSON object such as {\"data\": [{...}]}"));
    return std::nullopt;
  }
  Result<nlohmann::json> body = ParseJson(request.body);
  if (!body.ok()) {
    RejectRequest(
        response, 400,
        {"err_validation_malformed_json", "malformed JSON: " + body.status().message() +
                                              ": send a JSON object such as {\"data\": [{...}]}"});
    return std::nullopt;
  }
  if (!body->is_object()) {
    RejectRequest(response, 400,
                  Invalid("body", "the body must be a JSON object with a data array"));
    return std::nullopt;
  }
  for (auto it = body->begin(); it != body->end(); ++it) {
    if (it.key() != "data" && it.key() != "meta") {
      RejectRequest(response, 400,
                    {"err_validation_unknown_field",
                     "unknown field '" + it.key() + "' in the request: use data and meta"});
      return std::nullopt;
    }
  }
  if (body->contains("meta") && !body->at("meta").is_object()) {
    RejectRequest(response, 400, Invalid("meta", "meta must be a JSON object"));
    return std::nullopt;
  }
  if (!body->contains("data")) {
    RejectRequest(response, 400, Missing("data", "send the items as {\"data\": [{...}]}"));
    return std::nullopt;
  }
  const nlohmann::json& data = body->at("data");
  if (!data.is_array() || data.empty()) {
    RejectRequest(response, 400,
                  Invalid("data",
                          "data must be a non-empty array of items, as in"
                          " {\"data\": [{...}]}"));
    return std::nullopt;
  }
  if (data.size() > kMaxDataItems) {
    RejectRequest(response, 400,
                  {"err_validation_too_many_items",
                   "data has " + std::to_string(data.size()) + " items: send at most " +
                       std::to_string(kMaxDataItems) + " per request"});
    return std::nullopt;
  }
  return std::move(*body);
}

// Checks that an item is an object with only the `known` members.
std::optional<ItemError> CheckItem(const nlohmann::json& item,
                                   const std::vector<std::string>& known) {
  if (!item.is_object()) {
    return ItemError{"err_validation_invalid_item", "each item in data must be a JSON object"};
  }
  for (auto it = item.begin(); it != item.end(); ++it) {
    if (std::find(known.begin(), known.end(), it.key()) == known.end()) {
      std::string list;
      for (const std::string& name : known)
        list += (list.empty() ? "" : ", ") + name;
      return ItemError{"err_validation_unknown_field",
                       "unknown field '" + it.key() + "': use " + list};
    }
  }
  return std::nullopt;
}

// Reads an optional string member; `fix` completes the error for a missing
// one when `required` is set. Null counts as absent.
std::optional<ItemError> ReadString(const nlohmann::json& item, const std::string& name,
                                    bool required, const std::string& fix, std::string* out) {
  bool present = item.contains(name) && !item.at(name).is_null();
  if (present && !item.at(name).is_string())
    return Invalid(name, name + " must be a string");
  if (present)
    *out = item.at(name).get<std::string>();
  for (unsigned char c : *out) {
    if (c < 0x20 && c != '\t') {
      return Invalid(name, name + " contains a control character: remove it");
    }
  }
  if (required && out->empty())
    return Missing(name, fix);
  return std::nullopt;
}

std::optional<ItemError> ReadTime(const nlohmann::json& item, const std::string& name,
                                  std::optional<UnixSeconds>* out) {
  std::string text;
  if (auto error = ReadString(item, name, false, "", &text))
    return error;
  if (text.empty())
    return std::nullopt;
  Result<UnixSeconds> time = ParseIso8601(text, name);
  if (!time.ok()) {
    return Invalid(name, time.status().message() +
                             ": use ISO 8601 such as"
                             " 2026-12-04T15:55:54+0000");
  }
  *out = *time;
  return std::nullopt;
}

std::string Trim(std::string text) {
  const char* space = " \t\r\n";
  text.erase(0, text.find_first_not_of(space));
  size_t last = text.find_last_not_of(space);
  text.erase(last == std::string::npos ? 0 : last + 1);
  return text;
}

bool IsEmptyFileHash(const std::string& digest) {
  std::string lower = LowerAscii(digest);
  return lower == kEmptySha256 || lower == kEmptyMd5;
}

ItemError EmptyFileHash(const std::string& digest) {
  return {"err_validation_empty_file_hash",
          "'" + digest + "' is the hash of an empty file, which matches every empty attachment:" +
              " use the hash of a non-empty attachment, or the Message-ID"};
}

// ---------------------------------------------------------------------------
// create

std::optional<ItemError> ReadCreateItem(const nlohmann::json& item, RemediationRequest* request) {
  if (auto error = CheckItem(item, {"hashOrMessageId", "reason", "searchBy", "start", "end"})) {
    return error;
  }
  std::string value;
  std::string search_by;
  if (auto error = ReadString(item, "hashOrMessageId", true,
                              "give an attachment's SHA-256 or MD5, or a Message-ID", &value)) {
    return error;
  }
  if (auto error =
          ReadString(item, "reason", true, "say why the message is remediated", &request->reason)) {
    return error;
  }
  if (auto error = ReadString(item, "searchBy", false, "", &search_by))
    return error;
  if (auto error = ReadTime(item, "start", &request->start))
    return error;
  if (auto error = ReadTime(item, "end", &request->end))
    return error;

  value = Trim(value);
  if (value.empty())
    return Missing("hashOrMessageId", "give an attachment's hash or a Message-ID");
  IdentifierKind kind = ClassifyIdentifier(value);
  // Without searchBy the value's form decides, as in /api/v1/remediations.
  if (search_by.empty())
    search_by = kind == IdentifierKind::kMessageId ? "messageId" : "hash";
  if (search_by == "hash") {
    if (kind == IdentifierKind::kMessageId) {
      return Invalid("hashOrMessageId",
                     "'" + value + "' is not a SHA-256 (64 hex digits) or MD5 (32 hex digits):" +
                         " fix the hash, or set searchBy to messageId for a Message-ID");
    }
    if (IsEmptyFileHash(value))
      return EmptyFileHash(value);
  } else if (search_by == "messageId") {
    // Brackets keep a Message-ID that looks like a digest from being
    // searched as one.
    if (kind != IdentifierKind::kMessageId)
      value = "<" + value + ">";
  } else {
    return Invalid("searchBy", "unknown searchBy '" + search_by + "': use hash or messageId");
  }
  request->type = IncidentType::kManual;
  request->identifier = value;
  return std::nullopt;
}

void CreateIncidents(Router& router, const httplib::Request& http, httplib::Response& response,
                     const Caller& caller) {
  std::optional<nlohmann::json> body = ReadEnvelope(http, response);
  if (!body)
    return;
  Envelope out;
  for (const nlohmann::json& item : body->at("data")) {
    RemediationRequest request;
    if (std::optional<ItemError> error = ReadCreateItem(item, &request)) {
      out.Fail(item, *error);
      continue;
    }
    Result<RemediationResult> result = router.app().Remediate(request, true);
    if (!result.ok()) {
      out.Fail(item, FromStatus(result.status(), "create for " + request.identifier));
      continue;
    }
    router.Audit(
        caller, "remediation.create", FormatIncidentCode(result->incident.code),
        "remove " + result->incident.criteria.identifier + " through /api/ttp/remediation/create");
    out.data.push_back(IncidentJson(result->incident));
  }
  out.Send(response);
}

// ---------------------------------------------------------------------------
// get-incident

void GetIncidents(Router& router, const httplib::Request& http, httplib::Response& response) {
  std::optional<nlohmann::json> body = ReadEnvelope(http, response);
  if (!body)
    return;
  Envelope out;
  for (const nlohmann::json& item : body->at("data")) {
    std::string id;
    std::optional<ItemError> error = CheckItem(item, {"id"});
    if (!error)
      error = ReadString(item, "id", true, "give the incident's id or code", &id);
    if (error) {
      out.Fail(item, *error);
      continue;
    }
    Result<Incident> incident = router.app().WithDatabase(
        [&](Database&, IncidentRepository& repository, TokenStore&) { return repository.Get(id); });
    if (!incident.ok()) {
      out.Fail(item, FromStatus(incident.status(), "get-incident " + id));
      continue;
    }
    out.data.push_back(IncidentJson(*incident));
  }
  out.Send(response);
}

// ---------------------------------------------------------------------------
// find-incidents

// One searchBy entry: a query field, or a search of the identifier for a
// file hash, which the shared query engine has no field for.
struct Search {
  SearchField field = SearchField::kAll;
  bool file_hash = false;
  std::string text;
};

struct FindItem {
  Query query;  // types, date range and direction, while each Search sets field and text
  std::vector<Search> searches;
};

// Reads searchBy or filterBy, which take one {"fieldName", "value"} object
// or an array of them, as a list of pairs.
std::optional<ItemError> ReadFieldValues(const nlohmann::json& item, const std::string& name,
                                         std::vector<std::pair<std::string, std::string>>* out) {
  if (!item.contains(name) || item.at(name).is_null())
    return std::nullopt;
  const nlohmann::json& value = item.at(name);
  std::vector<nlohmann::json> entries;
  if (value.is_object()) {
    entries.push_back(value);
  } else if (value.is_array()) {
    entries.assign(value.begin(), value.end());
  } else {
    return Invalid(name, name + " must be an array of {\"fieldName\": ..., \"value\": ...}");
  }
  for (const nlohmann::json& entry : entries) {
    std::string field_name;
    std::string text;
    std::optional<ItemError> error = CheckItem(entry, {"fieldName", "value"});
    if (!error)
      error = ReadString(entry, "fieldName", true, "name the field to match", &field_name);
    if (!error)
      error = ReadString(entry, "value", false, "", &text);
    if (error) {
      return Invalid(name, "invalid " + name + " entry: " + error->message);
    }
    out->emplace_back(field_name, text);
  }
  return std::nullopt;
}

std::optional<ItemError> ReadFindItem(const nlohmann::json& item, FindItem* find) {
  if (auto error = CheckItem(item, {"start", "end", "searchBy", "filterBy", "oldestFirst"})) {
    return error;
  }
  std::optional<UnixSeconds> start;
  std::optional<UnixSeconds> end;
  if (auto error = ReadTime(item, "start", &start))
    return error;
  if (auto error = ReadTime(item, "end", &end))
    return error;
  if (start && end && *end < *start) {
    return Invalid("end", "the range ends (" + MimecastTime(*end) + ") before it starts (" +
                              MimecastTime(*start) + "): swap start and end");
  }
  if (start || end) {
    // Both ends are inclusive; TimeRange excludes its end.
    TimeRange range;
    range.begin = start.value_or(std::numeric_limits<UnixSeconds>::min());
    range.end = end ? *end + 1 : std::numeric_limits<UnixSeconds>::max();
    find->query.created = range;
  }
  if (item.contains("oldestFirst") && !item.at("oldestFirst").is_null()) {
    if (!item.at("oldestFirst").is_boolean()) {
      return Invalid("oldestFirst", "oldestFirst must be true or false");
    }
    if (item.at("oldestFirst").get<bool>())
      find->query.direction = SortDirection::kAscending;
  }

  std::vector<std::pair<std::string, std::string>> searches;
  if (auto error = ReadFieldValues(item, "searchBy", &searches))
    return error;
  for (const auto& [field_name, text] : searches) {
    Search search;
    search.text = text;
    if (field_name == "file_hash") {
      search.file_hash = true;
    } else if (std::optional<SearchField> field = SearchFieldFromApiName(field_name)) {
      search.field = *field;
    } else {
      return Invalid("searchBy", "unknown searchBy fieldName '" + field_name +
                                     "': use all, code, file_hash or reason");
    }
    if (text.size() > kMaxSearchTextLength) {
      return Invalid("searchBy", "searchBy value of " + std::to_string(text.size()) +
                                     " bytes is too long: use at most " +
                                     std::to_string(kMaxSearchTextLength));
    }
    find->searches.push_back(std::move(search));
  }

  std::vector<std::pair<std::string, std::string>> filters;
  if (auto error = ReadFieldValues(item, "filterBy", &filters))
    return error;
  if (!filters.empty())
    find->query.types = 0;
  for (const auto& [field_name, value] : filters) {
    if (field_name != "type") {
      return Invalid("filterBy", "unknown filterBy fieldName '" + field_name + "': use type");
    }
    // One type, or several separated by commas ("automatic,manual").
    size_t begin = 0;
    while (begin <= value.size()) {
      size_t comma = value.find(',', begin);
      std::string name =
          Trim(value.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin));
      std::optional<IncidentType> type = IncidentTypeFromApiName(name);
      if (!type) {
        return Invalid("filterBy", "unknown incident type '" + name +
                                       "' in filterBy: use manual, automatic, restore,"
                                       " notify_only or mep_clawback");
      }
      find->query.types |= TypeBit(*type);
      if (comma == std::string::npos)
        break;
      begin = comma + 1;
    }
  }
  return std::nullopt;
}

// Rows matching every search of `find`, in the query's order. Runs under
// the store's read lock, so the row numbers stay valid.
Result<std::vector<uint32_t>> MatchRows(const IncidentStore& store, const FindItem& find) {
  if (find.searches.empty())
    return AllMatches(store, find.query);
  std::vector<uint32_t> rows;
  for (size_t i = 0; i < find.searches.size(); ++i) {
    const Search& search = find.searches[i];
    Query query = find.query;
    query.field = search.field;
    query.text = search.text;
    Result<std::vector<uint32_t>> matches = AllMatches(store, query);
    if (!matches.ok())
      return matches.status();
    // The All field covers the identifier, so a file hash search keeps the
    // All matches whose identifier is a digest containing the text.
    if (search.file_hash) {
      std::string needle = FoldCase(search.text);
      auto not_hash = [&](uint32_t row) {
        std::string_view identifier = store.identifier(row);
        return ClassifyIdentifier(identifier) == IdentifierKind::kMessageId ||
               !ContainsIgnoreCase(identifier, needle);
      };
      matches->erase(std::remove_if(matches->begin(), matches->end(), not_hash), matches->end());
    }
    if (i == 0) {
      rows = std::move(*matches);
      continue;
    }
    std::unordered_set<uint32_t> keep(matches->begin(), matches->end());
    rows.erase(std::remove_if(rows.begin(), rows.end(),
                              [&](uint32_t row) { return keep.count(row) == 0; }),
               rows.end());
  }
  return rows;
}

struct Page {
  size_t offset = 0;
  int size = kDefaultFindPageSize;
};

// Reads meta.pagination {pageSize, pageToken}. The token is the offset of
// the page's first incident, as returned in `next`.
std::optional<ItemError> ReadPagination(const nlohmann::json& body, Page* page) {
  if (!body.contains("meta") || !body.at("meta").contains("pagination"))
    return std::nullopt;
  const nlohmann::json& pagination = body.at("meta").at("pagination");
  if (!pagination.is_object()) {
    return Invalid("pagination", "meta.pagination must be a JSON object");
  }
  if (pagination.contains("pageSize") && !pagination.at("pageSize").is_null()) {
    const nlohmann::json& size = pagination.at("pageSize");
    if (!size.is_number_integer() || size.get<int64_t>() < 1 ||
        size.get<int64_t>() > kMaxFindPageSize) {
      return Invalid("pageSize", "meta.pagination.pageSize must be a whole number from 1 to " +
                                     std::to_string(kMaxFindPageSize));
    }
    page->size = static_cast<int>(size.get<int64_t>());
  }
  if (pagination.contains("pageToken") && !pagination.at("pageToken").is_null()) {
    const nlohmann::json& token = pagination.at("pageToken");
    std::string text = token.is_string() ? token.get<std::string>() : std::string();
    if (text.empty() || text.size() > 12 || text.find_first_not_of("0123456789") != text.npos) {
      return Invalid("pageToken", "invalid meta.pagination.pageToken " + DumpJson(token) +
                                      ": send the `next` value of the previous page");
    }
    page->offset = std::stoull(text);
  }
  return std::nullopt;
}

void FindIncidents(Router& router, const httplib::Request& http, httplib::Response& response) {
  std::optional<nlohmann::json> body = ReadEnvelope(http, response);
  if (!body)
    return;
  Page page;
  if (std::optional<ItemError> error = ReadPagination(*body, &page)) {
    return RejectRequest(response, 400, *error);
  }
  if (Status s = router.app().RefreshStore(); !s.ok()) {
    spdlog::error("mimecast api: find-incidents: query index refresh failed: {}", s.message());
    return RejectRequest(response, HttpStatusFor(s.code()),
                         {"err_internal",
                          "the incident index could not be refreshed; the"
                          " server log has the details"});
  }

  Envelope out;
  size_t total = 0;
  bool more = false;
  for (const nlohmann::json& item : body->at("data")) {
    FindItem find;
    if (std::optional<ItemError> error = ReadFindItem(item, &find)) {
      out.Fail(item, *error);
      continue;
    }
    Result<nlohmann::json> incidents =
        router.app().ReadStore([&](const IncidentStore& store) -> Result<nlohmann::json> {
          Result<std::vector<uint32_t>> rows = MatchRows(store, find);
          if (!rows.ok())
            return rows.status();
          total += rows->size();
          size_t first = std::min(page.offset, rows->size());
          size_t last = std::min(rows->size(), first + static_cast<size_t>(page.size));
          more = more || last < rows->size();
          nlohmann::json list = nlohmann::json::array();
          for (size_t i = first; i < last; ++i)
            list.push_back(IncidentJson(store.Get((*rows)[i])));
          return list;
        });
    if (!incidents.ok()) {
      out.Fail(item, FromStatus(incidents.status(), "find-incidents"));
      continue;
    }
    out.data.push_back({{"incidents", *incidents}});
  }
  // With several items, totalCount adds up their matches and `next` is set
  // when any of them has more.
  out.meta["pagination"] = {{"pageSize", page.size}, {"totalCount", total}};
  if (more)
    out.meta["pagination"]["next"] = std::to_string(page.offset + page.size);
  out.Send(response);
}

// ---------------------------------------------------------------------------
// search-hash

void SearchHashes(Router& router, const httplib::Request& http, httplib::Response& response) {
  std::optional<nlohmann::json> body = ReadEnvelope(http, response);
  if (!body)
    return;
  App& app = router.app();
  Envelope out;
  for (const nlohmann::json& item : body->at("data")) {
    if (std::optional<ItemError> error = CheckItem(item, {"hashes"})) {
      out.Fail(item, *error);
      continue;
    }
    if (!item.contains("hashes") || !item.at("hashes").is_array() || item.at("hashes").empty()) {
      out.Fail(item, Missing("hashes", "give a list of 1 to " + std::to_string(kMaxHashesPerItem) +
                                           " SHA-256 or MD5 digests"));
      continue;
    }
    const nlohmann::json& hashes = item.at("hashes");
    if (hashes.size() > kMaxHashesPerItem) {
      out.Fail(item, {"err_validation_too_many_hashes",
                      "hashes has " + std::to_string(hashes.size()) + " entries: send at most " +
                          std::to_string(kMaxHashesPerItem) + " per item"});
      continue;
    }

    nlohmann::json found = nlohmann::json::array();
    nlohmann::json failed = nlohmann::json::array();
    auto fail_hash = [&](const std::string& hash, const ItemError& error) {
      failed.push_back({{"hash", hash}, {"code", error.code}, {"message", error.message}});
    };
    std::vector<std::string> lookups;  // as sent, each a valid digest
    for (const nlohmann::json& entry : hashes) {
      std::string hash = entry.is_string() ? entry.get<std::string>() : DumpJson(entry);
      if (!entry.is_string() || ClassifyIdentifier(Trim(hash)) == IdentifierKind::kMessageId) {
        fail_hash(hash, Invalid("hash", "'" + hash + "' is not a SHA-256 (64 hex digits) or MD5" +
                                            " (32 hex digits): fix the digest"));
      } else if (IsEmptyFileHash(Trim(hash))) {
        fail_hash(hash, EmptyFileHash(Trim(hash)));
      } else {
        lookups.push_back(hash);
      }
    }

    // Delivered means present in a mailbox outside the hold folder, where
    // Reclaim puts the copies it removed.
    const std::string& hold_folder = app.config().hold_folder;
    app.WithDatabase([&](Database& db, IncidentRepository&, TokenStore&) {
      MessageIndex index(&db);
      for (const std::string& hash : lookups) {
        Result<std::vector<IndexedMessage>> copies =
            index.FindByAttachmentHash(LowerAscii(Trim(hash)));
        if (!copies.ok()) {
          fail_hash(hash, FromStatus(copies.status(), "search-hash " + hash));
          continue;
        }
        bool detected = std::any_of(copies->begin(), copies->end(), [&](const IndexedMessage& m) {
          return m.location.folder != hold_folder;
        });
        found.push_back({{"hash", hash}, {"detected", detected}});
      }
    });
    out.data.push_back({{"hashStatus", found}, {"failedHashes", failed}});
  }
  out.Send(response);
}

}  // namespace

void AddMimecastRoutes(Router& router) {
  router.Add("POST", "/api/ttp/remediation/create", Role::kRemediator,
             [&router](const httplib::Request& q, httplib::Response& r, const Caller& c) {
               CreateIncidents(router, q, r, c);
             });
  router.Add("POST", "/api/ttp/remediation/get-incident", Role::kViewer,
             [&router](const httplib::Request& q, httplib::Response& r, const Caller&) {
               GetIncidents(router, q, r);
             });
  router.Add("POST", "/api/ttp/remediation/find-incidents", Role::kViewer,
             [&router](const httplib::Request& q, httplib::Response& r, const Caller&) {
               FindIncidents(router, q, r);
             });
  router.Add("POST", "/api/ttp/remediation/search-hash", Role::kViewer,
             [&router](const httplib::Request& q, httplib::Response& r, const Caller&) {
               SearchHashes(router, q, r);
             });
}

}  // namespace reclaim
