// The HTTP server: the API routes, health and metrics, request logging and
// the built browser client as static files.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "shared/status.h"
#include "sync-server/app/app.h"

namespace httplib {
class Server;
}

namespace reclaim {

class Router;

// One route as registered with cpp-httplib.
struct RouteInfo {
  std::string method;   // "GET", "POST", "PUT" or "DELETE"
  std::string pattern;  // a regular expression where the path has parameters, one group each
  std::optional<Role> role;  // the minimum role; none for routes open without a token
};

class ApiServer {
 public:
  // The app must outlive the server.
  explicit ApiServer(App* app);
  ~ApiServer();

  // Binds to `address`:`port` (port 0 picks a free port) and returns the
  // bound port. TLS is used when the configuration names a certificate.
  Result<int> Bind(const std::string& address, int port);
  // Serves until Stop() and returns after the last request finished. Returns
  // at once when Stop() came first.
  void Run();
  // Stops accepting connections. Safe to call from another thread or a
  // signal watcher thread, also before or while Run() starts.
  void Stop();

  // Every route in registration order: /healthz, /metrics and the API. The
  // browser client's static files are not listed.
  std::vector<RouteInfo> Routes() const;

 private:
  void Setup();
  App* app_;
  std::atomic<bool> run_started_{false};
  std::atomic<bool> run_returned_{false};
  std::atomic<bool> stop_requested_{false};
  std::unique_ptr<httplib::Server> server_;
  std::unique_ptr<Router> router_;
  std::vector<RouteInfo> open_routes_;  // routes that need no token
};

}  // namespace reclaim
