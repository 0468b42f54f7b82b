#include "sync-server/http/router.h"

#include <spdlog/spdlog.h>

#include <iterator>

#include "shared/json_values.h"

namespace reclaim {
namespace {

struct StatusMapping {
  StatusCode code;
  int http;
  std::string_view name;
};
// The one table from domain errors to HTTP statuses.
constexpr StatusMapping kStatusMappings[] = {
    {StatusCode::kOk, 200, "ok"},
    {StatusCode::kInvalidArgument, 400, "invalid_argument"},
    {StatusCode::kNotFound, 404, "not_found"},
    {StatusCode::kConflict, 409, "conflict"},
    {StatusCode::kUnavailable, 503, "unavailable"},
    {StatusCode::kInternal, 500, "internal"},
};
static_assert(std::size(kStatusMappings) == static_cast<size_t>(StatusCode::kInternal) + 1,
              "one HTTP mapping per status code");

std::string BearerToken(const httplib::Request& request) {
  std::string header = request.get_header_value("Authorization");
  // The scheme name is case-insensitive (RFC 9110, section 11.1).
  const std::string prefix = "bearer ";
  if (header.size() > prefix.size() && LowerAscii(header.substr(0, prefix.size())) == prefix) {
    return header.substr(prefix.size());
  }
  return {};
}

}  // namespace

int HttpStatusFor(StatusCode code) { return kStatusMappings[static_cast<size_t>(code)].http; }

std::string_view ErrorCodeName(StatusCode code) {
  return kStatusMappings[static_cast<size_t>(code)].name;
}

void SendJson(httplib::Response& response, const nlohmann::json& body, int http_status) {
  response.status = http_status;
  response.set_content(DumpJson(body), "application/json");
}

void SendError(httplib::Response& response, const Status& status) {
  nlohmann::json error = {{"status", HttpStatusFor(status.code())},
                          {"code", ErrorCodeName(status.code())},
                          {"field", status.field()},
                          {"message", status.message()}};
  SendJson(response, {{"error", error}}, HttpStatusFor(status.code()));
}

Result<nlohmann::json> ParseBody(const httplib::Request& request,
                                 const std::vector<std::string>& known) {
  if (request.body.empty()) {
    return Status::Invalid("body", "missing JSON body: send a JSON object");
  }
  Result<nlohmann::json> body = ParseJson(request.body);
  if (!body.ok()) {
    // A key given twice names that key; other parse errors name the body.
    if (!body.status().field().empty()) return body.status();
    return Status::Invalid("body", "malformed JSON: " + body.status().message());
  }
  if (!body->is_object()) return Status::Invalid("body", "the body must be a JSON object");
  if (!known.empty()) {
    for (auto it = body->begin(); it != body->end(); ++it) {
      if (std::find(known.begin(), known.end(), it.key()) == known.end()) {
        return Status::Invalid(it.key(), "unknown field '" + it.key() + "': see docs/api.md");
      }
    }
  }
  return body;
}

Status OptionalString(const nlohmann::json& body, const char* name, std::string* out) {
  if (!body.contains(name) || body.at(name).is_null()) return Status::Ok();
  if (!body.at(name).is_string()) return Status::Invalid(name, "must be a string");
  *out = body.at(name).get<std::string>();
  for (unsigned char c : *out) {
    if (c < 0x20 && c != '\t') {
      return Status::Invalid(name, "contains a control character: remove it");
    }
  }
  return Status::Ok();
}

Status RequiredString(const nlohmann::json& body, const char* name, std::string* out) {
  if (!body.contains(name)) return Status::Invalid(name, std::string("missing ") + name);
  if (Status s = OptionalString(body, name, out); !s.ok()) return s;
  if (out->empty()) return Status::Invalid(name, std::string(name) + " must not be empty");
  return Status::Ok();
}

Status OptionalTime(const nlohmann::json& body, const char* name,
                    std::optional<UnixSeconds>* out) {
  std::string text;
  if (Status s = OptionalString(body, name, &text); !s.ok()) return s;
  if (text.empty()) return Status::Ok();
  Result<UnixSeconds> time = ParseIso8601(text, name);
  if (!time.ok()) return time.status();
  *out = *time;
  return Status::Ok();
}

Status OptionalIds(const nlohmann::json& body, const char* name, std::vector<int64_t>* out) {
  if (!body.contains(name) || body.at(name).is_null()) return Status::Ok();
  const nlohmann::json& list = body.at(name);
  if (!list.is_array()) return Status::Invalid(name, "must be a list of message ids");
  for (const nlohmann::json& item : list) {
    int64_t id = 0;
    if (item.is_number_integer()) {
      id = item.get<int64_t>();
    } else if (item.is_string() && !item.get<std::string>().empty() &&
               item.get<std::string>().find_first_not_of("0123456789") == std::string::npos &&
               item.get<std::string>().size() < 18) {
      id = std::stoll(item.get<std::string>());
    } else {
      return Status::Invalid(name, "invalid message id " + DumpJson(item) +
                                       ": use the ids from the incident's messages");
    }
    out->push_back(id);
  }
  return Status::Ok();
}

void Router::Audit(const Caller& caller, const std::string& action, const std::string& target,
                   const std::string& detail) {
  AuditEntry entry;
  entry.time = app_->Now();
  entry.token_id = caller.token.id;
  entry.token_name = caller.token.name;
  entry.action = action;
  entry.target = target;
  entry.detail = detail;
  entry.remote = caller.remote;
  Status s = app_->WithDatabase(
      [&](Database&, IncidentRepository&, TokenStore& tokens) { return tokens.Audit(entry); });
  if (!s.ok()) spdlog::error("audit: failed to record {} on {}: {}", action, target, s.message());
}

void Router::Add(const std::string& method, const std::string& pattern, Role role,
                 Handler handler) {
  auto wrapped = [this, role, handler, pattern](const httplib::Request& request,
                                                httplib::Response& response) {
    Caller caller;
    caller.remote = request.remote_addr;
    std::string secret = BearerToken(request);
    std::optional<TokenInfo> token;
    if (!secret.empty()) {
      Result<std::optional<TokenInfo>> found = app_->Authenticate(secret);
      if (!found.ok()) {
        spdlog::error("http: {} {}: token lookup failed: {}", request.method, pattern,
                      found.status().message());
        return SendError(response, Status::Unavailable("the token could not be checked because"
                                                       " the database could not be read; the"
                                                       " server log has the details"));
      }
      token = *found;
    }
    if (!token) {
      response.set_header("WWW-Authenticate", "Bearer");
      SendJson(response,
               {{"error",
                 {{"status", 401},
                  {"code", "unauthenticated"},
                  {"field", "Authorization"},
                  {"message", secret.empty() ? "missing token: send Authorization: Bearer <token>"
                                             : "unknown or revoked token: create one with"
                                               " `reclaim-server token create`"}}}},
               401);
      return;
    }
    if (token->role < role) {
      SendJson(response,
               {{"error",
                 {{"status", 403},
                  {"code", "forbidden"},
                  {"field", "Authorization"},
                  {"message", "token '" + token->name + "' has role " +
                                  std::string(ApiName(token->role)) + "; this needs role " +
                                  std::string(ApiName(role)) + " or higher"}}}},
               403);
      return;
    }
    caller.token = *token;
    try {
      handler(request, response, caller);
    } catch (const std::exception& error) {
      spdlog::error("http: {} {} failed: {}", request.method, pattern, error.what());
      SendError(response, Status::Internal("internal error; the server log has the details"));
    }
  };
  routes_.push_back({method, pattern, role});
  if (method == "GET") {
    server_->Get(pattern, wrapped);
  } else if (method == "POST") {
    server_->Post(pattern, wrapped);
  } else if (method == "PUT") {
    server_->Put(pattern, wrapped);
  } else {
    server_->Delete(pattern, wrapped);
  }
}

}  // namespace reclaim
