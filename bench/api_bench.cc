// Seeds a data folder with synthetic incidents, measures delta sync, then
// serves the API so that bench/api_bench.sh can load it with wrk.
//
// Usage: reclaim_api_bench DATA_DIR [incidents]   (default 1,000,000)
// Prints "token <secret>" and "port <n>" once serving; stops on SIGTERM.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>

#include "shared/json_values.h"
#include "sync-server/app/app.h"
#include "sync-server/http/api_server.h"

namespace {

using namespace reclaim;
using Clock = std::chrono::steady_clock;

constexpr UnixSeconds kNow = 1796399754;

double Milliseconds(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Writes incidents straight into the database, in large transactions: the
// bench measures serving them, not creating them through the engine.
Status Seed(Database* db, int count) {
  const char* reasons[] = {"Removing messages by ID", "Restoring a message",
                           "Phishing reported by user", "Malicious hash verdict",
                           "Misaddressed email", "Credential harvesting campaign"};
  const char* types[] = {"automatic", "automatic", "manual", "manual", "notify_only", "restore",
                         "mep_clawback"};
  std::mt19937_64 random(7);
  Result<Statement> insert = db->Prepare(
      "INSERT INTO incidents(id, sequence, type, created, modified, reason, identifier,"
      " window_start, window_end, identified, removed, failed, restored, change)"
      " VALUES(?1,?2,?3,?4,?4,?5,?6,?7,?4,?8,?9,?10,0,?2)");
  if (!insert.ok()) return insert.status();
  const UnixSeconds span = 365 * kSecondsPerDay;
  for (int first = 0; first < count; first += 100000) {
    Database::Transaction transaction(db);
    for (int i = first; i < std::min(count, first + 100000); ++i) {
      char id[32];
      std::snprintf(id, sizeof id, "%024llx", static_cast<unsigned long long>(random()));
      UnixSeconds created = kNow - span + static_cast<UnixSeconds>(i) * span / count;
      int identified = 1 + static_cast<int>(random() % 40);
      insert->Bind(1, std::string(id)).Bind(2, int64_t{i + 1}).Bind(3, types[random() % 7]);
      insert->Bind(4, created).Bind(5, reasons[random() % 6]);
      insert->Bind(6, std::string(64, "0123456789abcdef"[random() % 16]));
      insert->Bind(7, created - 30 * kSecondsPerDay).Bind(8, int64_t{identified});
      insert->Bind(9, int64_t{identified}).Bind(10, int64_t{0});
      if (Status s = insert->Run(); !s.ok()) return s;
    }
    if (Status s = transaction.Commit(); !s.ok()) return s;
  }
  return db->Exec("INSERT INTO counters(name, value) VALUES('sequence', " + std::to_string(count) +
                  "), ('change', " + std::to_string(count) + ")");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DATA_DIR [incidents]\n", argv[0]);
    return 2;
  }
  std::string data_dir = argv[1];
  int count = argc > 2 ? std::atoi(argv[2]) : 1000000;
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  ServerConfig config = DefaultConfig(data_dir);
  config.connections.clear();
  config.index_interval_seconds = 0;
  {
    std::filesystem::create_directories(data_dir);
    auto db = std::move(*Database::Open(data_dir + "/reclaim.db"));
    Clock::time_point start = Clock::now();
    if (Status s = Seed(db.get(), count); !s.ok()) {
      std::fprintf(stderr, "seeding failed: %s\n", s.message().c_str());
      return 1;
    }
    std::printf("seeded %d incidents in %.1f s\n", count, Milliseconds(start) / 1000);
  }
  Clock::time_point open_start = Clock::now();
  Result<std::unique_ptr<App>> app = App::Open(config, [] { return kNow; });
  if (!app.ok()) {
    std::fprintf(stderr, "open failed: %s\n", app.status().message().c_str());
    return 1;
  }
  std::printf("server start (loading %d incidents) %.1f s\n", count, Milliseconds(open_start) / 1000);

  // Delta sync of 1,000 changes: bump 1,000 incidents past the cursor.
  Result<Snapshot> before = (*app)->SyncSince("c" + std::to_string(count));
  (*app)->WithDatabase([&](Database& db, IncidentRepository&, TokenStore&) {
    return db.Exec("UPDATE incidents SET removed=removed, change=" + std::to_string(count) +
                   "+sequence%1000+1, modified=modified+1 WHERE sequence % 997 = 0 AND sequence <= " +
                   std::to_string(997 * 1000));
  });
  (*app)->WithDatabase([&](Database& db, IncidentRepository&, TokenStore&) {
    return db.Exec("UPDATE counters SET value=" + std::to_string(count + 1000) +
                   " WHERE name='change'");
  });
  std::vector<double> times;
  size_t changed = 0;
  for (int i = 0; i < 21; ++i) {
    Clock::time_point start = Clock::now();
    Result<Snapshot> delta = (*app)->SyncSince(before->cursor);
    std::string body = DumpJson(ToJson(*delta));
    times.push_back(Milliseconds(start));
    changed = delta->incidents.size();
  }
  std::sort(times.begin(), times.end());
  std::printf("delta sync of %zu changes (query and JSON) median %.1f ms, min %.1f ms\n", changed,
              times[10], times[0]);

  std::string token = *(*app)->WithDatabase([&](Database&, IncidentRepository&, TokenStore& t) {
    return t.Create("bench", Role::kViewer, kNow, nullptr);
  });
  (void)(*app)->RefreshStore();
  ApiServer server(app->get());
  Result<int> port = server.Bind("127.0.0.1", 0);
  if (!port.ok()) return 1;
  std::printf("token %s\nport %d\n", token.c_str(), *port);
  std::fflush(stdout);
  spdlog::set_level(spdlog::level::warn);  // one log line per request would dominate
  std::thread waiter([&] {
    int received = 0;
    sigwait(&signals, &received);
    server.Stop();
  });
  server.Run();
  waiter.join();
  return 0;
}
