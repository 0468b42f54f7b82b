// Routing, authentication and the error shape shared by all HTTP routes.
//
// Every route names the least role it needs. Errors leave as one JSON shape,
//   {"error": {"status": 400, "code": "invalid_argument", "field": "pageSize",
//              "message": "page size 49 is out of range: use 50 to 300"}}
// with the HTTP status taken from one table (HttpStatusFor).
#pragma once

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

#include "shared/status.h"
#include "sync-server/app/app.h"
#include "sync-server/auth/tokens.h"
#include "sync-server/http/api_server.h"

namespace reclaim {

// The authenticated caller of one request.
struct Caller {
  TokenInfo token;
  std::string remote;  // client address
};

int HttpStatusFor(StatusCode code);
std::string_view ErrorCodeName(StatusCode code);

// Sets `response` to the error shape for `status`.
void SendError(httplib::Response& response, const Status& status);
void SendJson(httplib::Response& response, const nlohmann::json& body, int http_status = 200);

// Parses a JSON object body; rejects other JSON values and unknown members
// (when `known` is not empty), naming the member.
Result<nlohmann::json> ParseBody(const httplib::Request& request,
                                 const std::vector<std::string>& known);

// Typed access to body members; errors name the member and the expected type.
Status OptionalString(const nlohmann::json& body, const char* name, std::string* out);
Status RequiredString(const nlohmann::json& body, const char* name, std::string* out);
Status OptionalTime(const nlohmann::json& body, const char* name, std::optional<UnixSeconds>* out);
Status OptionalIds(const nlohmann::json& body, const char* name, std::vector<int64_t>* out);

class Router {
 public:
  using Handler =
      std::function<void(const httplib::Request&, httplib::Response&, const Caller& caller)>;

  Router(httplib::Server* server, App* app) : server_(server), app_(app) {}

  // Registers `handler` for `method` ("GET", "POST", "PUT") and a
  // cpp-httplib pattern; callers without `role` get 401 or 403, and 503 when
  // the token cannot be checked. A handler that throws gets a 500 with the
  // error logged, never a crash.
  void Add(const std::string& method, const std::string& pattern, Role role, Handler handler);

  // Writes an audit entry for a mutation by `caller`.
  void Audit(const Caller& caller, const std::string& action, const std::string& target,
             const std::string& detail = {});

  App& app() { return *app_; }
  // The routes added so far, in order.
  const std::vector<RouteInfo>& routes() const { return routes_; }

 private:
  httplib::Server* server_;
  App* app_;
  std::vector<RouteInfo> routes_;
};

// A background job as the API shows it.
nlohmann::json JobJson(const JobInfo& job);

void AddIncidentRoutes(Router& router);
void AddRemediationRoutes(Router& router);
void AddSyncRoutes(Router& router);
void AddMimecastRoutes(Router& router);
void AddMessageRoutes(Router& router);

}  // namespace reclaim
