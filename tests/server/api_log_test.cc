// The request log: one line per request with method, path, status and
// milliseconds, and never a token secret or a query string.
#include <doctest/doctest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/server/api_test_server.h"

using namespace reclaim;
using reclaim::testing::ApiTestServer;

namespace {

// Keeps every formatted log line in memory.
class CaptureSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<std::string> Lines() {
    std::lock_guard<std::mutex> lock(mutex_);
    return lines_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& message) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(message, formatted);
    lines_.push_back(fmt::to_string(formatted));
  }
  void flush_() override {}

 private:
  std::vector<std::string> lines_;
};

// Makes `sink` the default logger's only sink until destroyed.
class CaptureLog {
 public:
  explicit CaptureLog(std::shared_ptr<CaptureSink> sink) : previous_(spdlog::default_logger()) {
    auto logger = std::make_shared<spdlog::logger>("capture", std::move(sink));
    logger->set_level(spdlog::level::info);
    spdlog::set_default_logger(logger);
  }
  ~CaptureLog() { spdlog::set_default_logger(previous_); }

 private:
  std::shared_ptr<spdlog::logger> previous_;
};

// The request lines ("http: GET /path 200 0.1 ms") captured so far.
std::vector<std::string> RequestLines(CaptureSink& sink) {
  static const std::regex kRequestLine(R"(http: [A-Z]+ \S+ \d{3} \d+\.\d ms)");
  std::vector<std::string> found;
  for (const std::string& line : sink.Lines()) {
    if (std::regex_search(line, kRequestLine))
      found.push_back(line);
  }
  return found;
}

}  // namespace

TEST_CASE("api request log omits secrets") {
  ApiTestServer server;
  auto sink = std::make_shared<CaptureSink>();
  CaptureLog capture(sink);

  const std::string& secret = server.Secret(Role::kAdmin);
  const std::string unknown = "rcl_" + std::string(48, '7');
  REQUIRE(server.Send("GET", "/api/v1/session", "", secret).status == 200);
  REQUIRE(server.Send("GET", "/api/v1/incidents?text=" + secret, "", secret).status == 200);
  REQUIRE(server.Send("GET", "/api/v1/audit", "", unknown).status == 401);
  REQUIRE(server.Send("PUT", "/api/v1/settings", "{\"mode\": \"" + secret + "\"}", secret).status ==
          400);

  // The logger runs after the response is sent and on the request's
  // thread, so the lines may come late and in any order.
  const std::vector<std::string> expected = {
      "http: GET /api/v1/session 200 ", "http: GET /api/v1/incidents 200 ",
      "http: GET /api/v1/audit 401 ", "http: PUT /api/v1/settings 400 "};
  auto logged = [&](const std::string& prefix) {
    for (const std::string& line : RequestLines(*sink)) {
      if (line.find(prefix) != std::string::npos)
        return true;
    }
    return false;
  };
  for (const std::string& prefix : expected) {
    for (int attempt = 0; attempt < 500 && !logged(prefix); ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    INFO("request lines: " << nlohmann::json(RequestLines(*sink)).dump());
    CHECK_MESSAGE(logged(prefix), "no request line contains '" << prefix << "'");
  }

  for (const std::string& line : sink->Lines()) {
    INFO("log line: " << line);
    CHECK(line.find(secret) == std::string::npos);
    CHECK(line.find(secret.substr(4)) == std::string::npos);
    CHECK(line.find(unknown) == std::string::npos);
    CHECK(line.find("text=") == std::string::npos);
    CHECK(line.find("Bearer") == std::string::npos);
  }
}
