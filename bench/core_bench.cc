// Benchmark of the shared core on synthetic incidents.
//
// Prints load time, the queue query "last 30 days, type Automatic or
// Manual, reason contains 'remov', newest first, first 300 rows", its count,
// the CSV export of all its matches, and memory per incident. Runs natively
// and, built with Emscripten, under Node.
//
// Usage: reclaim_core_bench [incidents] [repetitions]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "shared/date_range.h"
#include "shared/incident_export.h"
#include "shared/incident_store.h"
#include "shared/json_codec.h"
#include "shared/query.h"

namespace {

using reclaim::Incident;
using reclaim::IncidentType;
using Clock = std::chrono::steady_clock;

constexpr reclaim::UnixSeconds kNow = 1796399754;  // 2026-12-04T15:55:54Z

double Milliseconds(Clock::time_point start, Clock::time_point end) {
  return std::chrono::duration<double, std::milli>(end - start).count();
}

struct Figure {
  double median = 0;
  double min = 0;
};

template <typename F>
Figure Measure(int repetitions, F&& run) {
  std::vector<double> times;
  for (int i = 0; i < repetitions; ++i) {
    Clock::time_point start = Clock::now();
    run();
    times.push_back(Milliseconds(start, Clock::now()));
  }
  std::sort(times.begin(), times.end());
  return {times[times.size() / 2], times.front()};
}

// Reasons as administrators and the system write them: a few hundred
// distinct texts, of which about a quarter contain "remov".
std::vector<std::string> MakeReasons() {
  const char* stems[] = {
      "Removing messages by ID",        "Restoring a message",    "Removing a restore",
      "Phishing reported by user",      "Malicious hash verdict", "Misaddressed email",
      "Credential harvesting campaign", "Remove invoice lure"};
  std::vector<std::string> reasons;
  for (int i = 0; i < 240; ++i) {
    reasons.push_back(std::string(stems[i % 8]) + " (case " + std::to_string(1000 + i) + ")");
  }
  return reasons;
}

std::string HexDigest(std::mt19937_64& random, int length) {
  static const char kHex[] = "0123456789abcdef";
  std::string out(static_cast<size_t>(length), '0');
  for (char& c : out)
    c = kHex[random() % 16];
  return out;
}

// Incidents spread evenly over the last 365 days; types weighted as in a
// busy organisation (mostly automatic and manual).
std::vector<Incident> MakeBatch(uint32_t first, uint32_t count, uint32_t total,
                                const std::vector<std::string>& reasons, std::mt19937_64& random) {
  const IncidentType weighted[] = {IncidentType::kAutomatic,  IncidentType::kAutomatic,
                                   IncidentType::kManual,     IncidentType::kManual,
                                   IncidentType::kNotifyOnly, IncidentType::kRestore,
                                   IncidentType::kMepClawback};
  std::vector<Incident> batch;
  batch.reserve(count);
  const reclaim::UnixSeconds span = 365 * reclaim::kSecondsPerDay;
  for (uint32_t i = first; i < first + count; ++i) {
    Incident incident;
    incident.code = {"ACME", i + 1, weighted[random() % 7]};
    incident.id = HexDigest(random, 16);
    incident.created = kNow - span + static_cast<reclaim::UnixSeconds>(i) * span / total;
    incident.modified = incident.created + static_cast<reclaim::UnixSeconds>(random() % 7200);
    incident.reason = reasons[random() % reasons.size()];
    incident.criteria.identifier = random() % 2
                                       ? HexDigest(random, 64)
                                       : "<" + HexDigest(random, 20) + "@mail" +
                                             std::to_string(random() % 500) + ".example.net>";
    if (random() % 4 == 0)
      incident.criteria.from = "sender" + std::to_string(random() % 300) + "@example.net";
    incident.criteria.start = incident.created - 30 * reclaim::kSecondsPerDay;
    incident.criteria.end = incident.created;
    uint32_t identified = static_cast<uint32_t>(1 + random() % 40);
    uint32_t failed = static_cast<uint32_t>(random() % 3 == 0 ? random() % (identified + 1) : 0);
    incident.counts = {identified, identified - failed, failed, 0};
    batch.push_back(std::move(incident));
  }
  return batch;
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t total = argc > 1 ? static_cast<uint32_t>(std::strtoul(argv[1], nullptr, 10)) : 1000000;
  int repetitions = argc > 2 ? std::atoi(argv[2]) : 21;
  // A third argument names a file that receives the incidents as a sync
  // snapshot, for loading the same data into the browser console.
  const char* snapshot_path = argc > 3 ? argv[3] : nullptr;
  if (total == 0 || repetitions <= 0) {
    std::fprintf(stderr, "usage: %s [incidents > 0] [repetitions > 0] [snapshot file]\n",
                 argv[0]);
    return 2;
  }

  // Load in batches, as a sync from the server would.
  std::mt19937_64 random(20261204);
  std::vector<std::string> reasons = MakeReasons();
  reclaim::IncidentStore store;
  Clock::time_point load_start = Clock::now();
  const uint32_t kBatch = 100000;
  for (uint32_t first = 0; first < total; first += kBatch) {
    uint32_t count = std::min(kBatch, total - first);
    reclaim::Status s = store.Upsert(MakeBatch(first, count, total, reasons, random));
    if (!s.ok()) {
      std::fprintf(stderr, "load failed: %s: %s\n", s.field().c_str(), s.message().c_str());
      return 1;
    }
  }
  double load_ms = Milliseconds(load_start, Clock::now());
  if (snapshot_path != nullptr) {
    std::string json = reclaim::EncodeStoreSnapshot(store, "", kNow);
    std::FILE* file = std::fopen(snapshot_path, "wb");
    if (file == nullptr || std::fwrite(json.data(), 1, json.size(), file) != json.size() ||
        std::fclose(file) != 0) {
      std::fprintf(stderr, "cannot write the snapshot to %s: check the folder exists and is writable\n",
                   snapshot_path);
      return 1;
    }
    std::printf("snapshot                      %s (%zu bytes)\n", snapshot_path, json.size());
  }

  reclaim::Query query;
  query.created = *reclaim::RangeForPreset(reclaim::DatePreset::kLast30Days, kNow);
  query.types =
      reclaim::TypeBit(IncidentType::kAutomatic) | reclaim::TypeBit(IncidentType::kManual);
  query.field = reclaim::SearchField::kReason;
  query.text = "remov";
  query.page_size = 300;

  size_t page_rows = 0;
  size_t total_matches = 0;
  Figure page = Measure(repetitions, [&] {
    reclaim::Result<reclaim::QueryPage> result = reclaim::RunQuery(store, query);
    page_rows = result->rows.size();
    total_matches = result->total;
  });
  size_t counted = 0;
  Figure count = Measure(repetitions, [&] { counted = *reclaim::CountMatches(store, query); });

  std::vector<reclaim::IncidentColumn> columns = reclaim::AllIncidentColumns();
  size_t csv_bytes = 0;
  Figure csv = Measure(repetitions, [&] {
    reclaim::Result<std::vector<uint32_t>> rows = reclaim::AllMatches(store, query);
    std::string out = reclaim::ExportIncidentsCsv(store, *rows, columns, reclaim::CsvOptions{});
    csv_bytes = out.size();
  });

  reclaim::Query sorted = query;
  sorted.sort = reclaim::IncidentColumn::kReason;
  sorted.direction = reclaim::SortDirection::kAscending;
  Figure reason_sort = Measure(repetitions, [&] { (void)reclaim::RunQuery(store, sorted); });

  reclaim::Query all_text;
  all_text.created = query.created;
  all_text.text = "example";
  Figure search_all = Measure(repetitions, [&] { (void)reclaim::RunQuery(store, all_text); });

  reclaim::IncidentStore::Memory memory = store.MemoryBytes();
  std::printf("incidents                     %u\n", total);
  std::printf("load                          %.1f ms\n", load_ms);
  std::printf("query page (300 rows)         median %.3f ms, min %.3f ms  (%zu rows of %zu)\n",
              page.median, page.min, page_rows, total_matches);
  std::printf("query count                   median %.3f ms, min %.3f ms  (%zu)\n", count.median,
              count.min, counted);
  std::printf("CSV export of all matches     median %.3f ms, min %.3f ms  (%zu bytes)\n",
              csv.median, csv.min, csv_bytes);
  std::printf("same query sorted by reason   median %.3f ms, min %.3f ms\n", reason_sort.median,
              reason_sort.min);
  std::printf("search All 'example', 30 d   median %.3f ms, min %.3f ms\n", search_all.median,
              search_all.min);
  std::printf(
      "memory per incident           %.1f bytes beyond identifier strings"
      " (+%.1f bytes identifier and id strings)\n",
      static_cast<double>(memory.columns) / total,
      static_cast<double>(memory.identifier_strings) / total);
  return 0;
}
