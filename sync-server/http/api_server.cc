#include "sync-server/http/api_server.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "sync-server/http/router.h"

namespace reclaim {
namespace {

constexpr size_t kMaxBodyBytes = 1 << 20;  // remediation requests are small

// cpp-httplib serves a keep-alive connection on one pool thread until the
// connection closes. So the pool size is the number of clients served at
// once, and later connections wait for a free thread. cpp-httplib 0.11's
// own default is max(8, cores - 1) threads.
constexpr size_t kRequestThreads = 64;

thread_local std::chrono::steady_clock::time_point request_start;

// Counters for /metrics, by response status.
struct Metrics {
  std::mutex mutex;
  std::map<int, uint64_t> responses;
  std::atomic<uint64_t> requests{0};
};
Metrics& GlobalMetrics() {
  static Metrics metrics;
  return metrics;
}

std::string MetricsText(App& app) {
  Metrics& metrics = GlobalMetrics();
  std::string out;
  out += "# HELP reclaim_incidents Incidents in the query index.\n";
  out += "# TYPE reclaim_incidents gauge\n";
  out += "reclaim_incidents " +
         std::to_string(app.ReadStore([](const IncidentStore& store) { return store.size(); })) +
         "\n";
  out += "# HELP reclaim_http_requests_total HTTP requests answered, by status.\n";
  out += "# TYPE reclaim_http_requests_total counter\n";
  {
    std::lock_guard<std::mutex> lock(metrics.mutex);
    for (const auto& [status, count] : metrics.responses) {
      out += "reclaim_http_requests_total{status=\"" + std::to_string(status) + "\"} " +
             std::to_string(count) + "\n";
    }
  }
  int running = 0;
  int queued = 0;
  for (const JobInfo& job : app.jobs().List(1000)) {
    running += job.state == JobState::kRunning;
    queued += job.state == JobState::kQueued;
  }
  out += "# HELP reclaim_jobs Jobs by state.\n# TYPE reclaim_jobs gauge\n";
  out += "reclaim_jobs{state=\"running\"} " + std::to_string(running) + "\n";
  out += "reclaim_jobs{state=\"queued\"} " + std::to_string(queued) + "\n";
  return out;
}

}  // namespace

ApiServer::ApiServer(App* app) : app_(app) {
  const ServerConfig& config = app->config();
  if (!config.tls_certificate.empty()) {
    server_ = std::make_unique<httplib::SSLServer>(config.tls_certificate.c_str(),
                                                   config.tls_key.c_str());
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  Setup();
}

ApiServer::~ApiServer() = default;

void ApiServer::Setup() {
  httplib::Server& server = *server_;
  server.set_payload_max_length(kMaxBodyBytes);
  server.new_task_queue = [] { return new httplib::ThreadPool(kRequestThreads); };
  // Clients such as the console and SOAR playbooks send many requests on
  // one connection; cpp-httplib's default closes it after 5.
  server.set_keep_alive_max_count(10000);
  // A worker thread holding an idle connection notices a stop only when
  // this timeout ends, so it bounds how long SIGTERM waits for a browser
  // that keeps its connection open. Busy connections are not affected.
  server.set_keep_alive_timeout(2);
  // cpp-httplib's default socket options add SO_REUSEPORT, with which a
  // second server on the same port binds too and the kernel splits the
  // connections between them. SO_REUSEADDR alone still allows a restart
  // while old connections are in TIME_WAIT.
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  // Small responses would otherwise wait for delayed acknowledgements.
  server.set_tcp_nodelay(true);
  server.set_pre_routing_handler([](const httplib::Request& request, httplib::Response&) {
    request_start = std::chrono::steady_clock::now();
    // A request with neither Content-Length nor Transfer-Encoding has no
    // body (RFC 9112, section 6.3), as `curl -X POST` without -d sends.
    // cpp-httplib 0.11 reads such a body until its read timeout instead and
    // then responds with 400, so the length is set to 0 before it reads. The
    // request object is the server's own, mutable one.
    if (!request.has_header("Content-Length") && !request.has_header("Transfer-Encoding")) {
      const_cast<httplib::Request&>(request).headers.emplace("Content-Length", "0");
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server.set_logger([](const httplib::Request& request, const httplib::Response& response) {
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                          request_start)
                    .count();
    Metrics& metrics = GlobalMetrics();
    ++metrics.requests;
    {
      std::lock_guard<std::mutex> lock(metrics.mutex);
      ++metrics.responses[response.status];
    }
    // The path only: query strings may carry search text, and tokens travel
    // in a header that is never logged.
    spdlog::info("http: {} {} {} {:.1f} ms", request.method, request.path, response.status, ms);
  });
  server.set_error_handler([](const httplib::Request& request, httplib::Response& response) {
    if (request.path.rfind("/api/", 0) != 0 || !response.body.empty()) return;
    Status status = response.status == 413
                        ? Status::Invalid("body", "request body is larger than 1 MiB")
                        : Status::NotFound("path", "no such API route: " + request.method + " " +
                                                       request.path + "; see docs/api.md");
    nlohmann::json error = {{"status", response.status},
                            {"code", response.status == 413 ? "payload_too_large" : "not_found"},
                            {"field", status.field()},
                            {"message", status.message()}};
    SendJson(response, {{"error", error}}, response.status);
  });

  server.Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
    SendJson(response, {{"status", "ok"}});
  });
  server.Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
    response.set_content(MetricsText(*app_), "text/plain; version=0.0.4");
  });
  open_routes_ = {{"GET", "/healthz", std::nullopt}, {"GET", "/metrics", std::nullopt}};

  router_ = std::make_unique<Router>(&server, app_);
  AddIncidentRoutes(*router_);
  AddRemediationRoutes(*router_);
  AddSyncRoutes(*router_);
  AddMimecastRoutes(*router_);
  AddMessageRoutes(*router_);

  const std::string& web_root = app_->config().web_root;
  if (!web_root.empty() && std::filesystem::is_directory(web_root)) {
    server.set_mount_point("/", web_root);
    server.set_file_extension_and_mimetype_mapping("wasm", "application/wasm");
  }
}

std::vector<RouteInfo> ApiServer::Routes() const {
  std::vector<RouteInfo> routes = open_routes_;
  routes.insert(routes.end(), router_->routes().begin(), router_->routes().end());
  return routes;
}

Result<int> ApiServer::Bind(const std::string& address, int port) {
  int bound = port == 0 ? server_->bind_to_any_port(address) : port;
  if (port != 0 && !server_->bind_to_port(address, port)) bound = -1;
  if (bound < 0) {
    return Status::Unavailable("cannot listen on " + address + ":" + std::to_string(port) +
                               ": the port is in use or the address is not one of this"
                               " machine's; choose another with --port or --address");
  }
  return bound;
}

void ApiServer::Run() {
  run_started_ = true;
  if (!stop_requested_) server_->listen_after_bind();
  run_returned_ = true;
}

// cpp-httplib 0.11 ignores stop() until listen_after_bind() has started
// listening. Stop() and Run() each set their own flag before they read the
// other's. So either Run() reads the stop request and does not listen, or
// Stop() reads that Run() has started and waits until the server listens.
void ApiServer::Stop() {
  stop_requested_ = true;
  while (run_started_ && !run_returned_ && !server_->is_running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  server_->stop();
}

}  // namespace reclaim
