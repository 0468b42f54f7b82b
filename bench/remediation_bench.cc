// Benchmark of the mailbox side on Maildir folders on local disk.
//
// 1. Index ingest: messages delivered to Maildir mailboxes and indexed.
//    With a corpus folder (.eml files) it replicates those messages;
//    otherwise it generates messages with attachments.
// 2. Removal: one attachment shared by 10 messages, each delivered to every
//    mailbox, remediated by its hash: copies moved per second.
//
// Usage: reclaim_remediation_bench [index_messages] [mailboxes] [corpus_dir]
// Defaults: 50000 messages, 1000 mailboxes, no corpus.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sync-server/index/message_index.h"
#include "sync-server/mail/mime_parser.h"
#include "sync-server/mailbox/maildir_connector.h"
#include "sync-server/remediation/remediator.h"

namespace {

using namespace reclaim;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void WriteFile(const fs::path& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

void MakeMaildir(const fs::path& dir) {
  for (const char* sub : {"cur", "new", "tmp"}) fs::create_directories(dir / sub);
}

std::string Generated(int i, const std::string& attachment_b64) {
  std::ostringstream out;
  out << "From: sender" << i % 97 << "@example.net\r\nTo: user@example.com\r\n"
      << "Subject: Message " << i << "\r\nDate: Mon, 30 Nov 2026 09:00:00 +0000\r\n"
      << "Message-ID: <gen." << i << "@example.net>\r\nMIME-Version: 1.0\r\n"
      << "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n"
      << "Content-Type: text/plain\r\n\r\nHello " << i << "\r\n--b\r\n"
      << "Content-Type: application/octet-stream; name=\"f" << i << ".bin\"\r\n"
      << "Content-Transfer-Encoding: base64\r\n\r\n" << attachment_b64 << "\r\n--b--\r\n";
  return out.str();
}

std::vector<std::string> LoadCorpus(const std::string& dir) {
  std::vector<std::string> messages;
  if (dir.empty() || !fs::is_directory(dir)) return messages;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".eml") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    messages.push_back(text.str());
  }
  return messages;
}

}  // namespace

int main(int argc, char** argv) {
  int index_messages = argc > 1 ? std::atoi(argv[1]) : 50000;
  int mailboxes = argc > 2 ? std::atoi(argv[2]) : 1000;
  std::string corpus_dir = argc > 3 ? argv[3] : "";
  if (index_messages <= 0 || mailboxes <= 0) {
    std::fprintf(stderr, "usage: %s [index_messages > 0] [mailboxes > 0] [corpus_dir]\n", argv[0]);
    return 2;
  }
  InitMimeParser();
  char pattern[] = "/tmp/reclaim-bench-XXXXXX";
  fs::path root = mkdtemp(pattern);
  fs::path mail = root / "mail";
  const UnixSeconds now = 1796399754;

  // Index ingest: messages spread over 100 mailboxes of one domain.
  std::vector<std::string> corpus = LoadCorpus(corpus_dir);
  const std::string attachment = "UmVjbGFpbSBiZW5jaG1hcmsgYXR0YWNobWVudCBieXRlcw==";
  for (int u = 0; u < 100; ++u) MakeMaildir(mail / "ingest.example" / ("u" + std::to_string(u)));
  size_t bytes = 0;
  for (int i = 0; i < index_messages; ++i) {
    std::string raw = corpus.empty() ? Generated(i, attachment) : corpus[i % corpus.size()];
    bytes += raw.size();
    WriteFile(mail / "ingest.example" / ("u" + std::to_string(i % 100)) / "new" /
                  ("1700000000.M" + std::to_string(i) + "P1.bench"),
              raw);
  }
  sync();  // the set-up's writes must not be charged to the measured steps
  {
    auto db = std::move(*Database::Open((root / "ingest.db").string()));
    MaildirConnector connector(MaildirSettings{"bench", mail.string(), {"ingest.example"}});
    MessageIndex index(db.get());
    Clock::time_point start = Clock::now();
    IndexStats stats = IndexConnector(connector, &index, now);
    double seconds = Seconds(start);
    std::printf("index ingest        %d messages (%s, %.1f MB) in %.2f s: %.0f messages/s\n",
                stats.added, corpus.empty() ? "generated" : "corpus replicated",
                static_cast<double>(bytes) / 1e6, seconds, stats.added / seconds);
  }

  // Removal: 10 messages with one attachment, each in every mailbox.
  for (int u = 0; u < mailboxes; ++u) {
    fs::path dir = mail / "example.com" / ("user" + std::to_string(u));
    MakeMaildir(dir);
    for (int m = 0; m < 10; ++m) {
      WriteFile(dir / "new" / ("1700000000.M" + std::to_string(m) + "P2.bench"),
                Generated(1000000 + m, attachment));
    }
  }
  sync();
  auto db = std::move(*Database::Open((root / "remove.db").string()));
  ConnectorRegistry registry;
  (void)registry.Add(std::make_unique<MaildirConnector>(
                         MaildirSettings{"bench", mail.string(), {"example.com"}}),
                     {"example.com"});
  MessageIndex index(db.get());
  Clock::time_point index_start = Clock::now();
  IndexStats stats = IndexConnector(*registry.All().front(), &index, now);
  double index_seconds = Seconds(index_start);
  IncidentRepository repository(db.get(), "BENCH", RandomId);
  RemediatorOptions options;
  options.clock = [now] { return now; };
  Remediator remediator(db.get(), &registry, &repository, options);
  RemediationRequest request;
  request.identifier = "2c3b0f0f2a2b1b1b";  // replaced below by the real digest
  request.reason = "Benchmark";
  request.start = now - 400 * kSecondsPerDay;
  // The attachment's SHA-256, from the index itself (the bench measures speed,
  // not correctness).
  {
    Result<Statement> st = db->Prepare("SELECT sha256 FROM attachments LIMIT 1");
    if (st.ok() && st->Step()) request.identifier = st->Text(0);
  }
  Clock::time_point identify_start = Clock::now();
  Result<Incident> incident = remediator.Identify(request);
  double identify_seconds = Seconds(identify_start);
  if (!incident.ok()) {
    std::fprintf(stderr, "identify failed: %s\n", incident.status().message().c_str());
    return 1;
  }
  JobControl control;
  sync();
  Clock::time_point remove_start = Clock::now();
  Status removed = remediator.Remove(incident->id, {}, &control);
  double remove_seconds = Seconds(remove_start);
  if (!removed.ok()) {
    std::fprintf(stderr, "remove failed: %s\n", removed.message().c_str());
    return 1;
  }
  Incident done = *repository.Get(incident->id);
  std::printf("index (removal set) %d messages in %.2f s\n", stats.added, index_seconds);
  std::printf("identify            %u copies in %.2f s\n", done.counts.identified, identify_seconds);
  std::printf("Maildir removal     %u copies across %d mailboxes in %.2f s: %.0f copies/s\n",
              done.counts.removed, mailboxes, remove_seconds, done.counts.removed / remove_seconds);
  fs::remove_all(root);
  return 0;
}
