// The demo organisation end to end, on real phishing mail kept outside the
// repository: the built reclaim-server binary delivers the samples into the
// demo mailboxes on its first start, and the real curl binary drives the
// Mimecast-compatible API and the native restore API over HTTP.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "shared/time_util.h"
#include "sync-server/mail/hashing.h"
#include "tests/server/maildir_org.h"
#include "tests/server/reference_base64.h"
#include "tests/shared/test_inputs.h"

using nlohmann::json;
using reclaim::testing::MaildirOrg;

namespace {

namespace fs = std::filesystem;

constexpr const char* kHoldFolder = "Reclaim-Hold";
constexpr const char* kPartnerDomain = "@partner.example.net";
constexpr const char* kNoConnection = "No connections are configured for the mailbox.";

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs a shell command and returns its standard output and exit status.
std::pair<std::string, int> Run(const std::string& command) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE_MESSAGE(pipe != nullptr, "cannot run " << command);
  char buffer[4096];
  size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0)
    output.append(buffer, got);
  int status = pclose(pipe);
  return {output, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

std::string Quote(const std::string& text) {
  std::string out = "'";
  for (char c : text)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The server binary started with `serve`: standard output is read until the
// listening line, standard error goes to a log file shown on failure.
class ServerProcess {
 public:
  ServerProcess(const std::vector<std::string>& arguments, const std::string& log_path)
      : log_path_(log_path) {
    int out[2];
    REQUIRE(pipe(out) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (log >= 0)
        dup2(log, STDERR_FILENO);
      close(out[0]);
      std::vector<char*> argv;
      for (const std::string& argument : arguments)
        argv.push_back(const_cast<char*>(argument.c_str()));
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    stdout_ = out[0];
  }

  ~ServerProcess() { Stop(); }

  // Reads standard output until "Reclaim is listening on http://127.0.0.1:N"
  // and returns N, or 0 when the process exits or 60 s pass first.
  int WaitForPort() {
    std::string text;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    const std::string marker = "listening on http://127.0.0.1:";
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd descriptor{stdout_, POLLIN, 0};
      if (poll(&descriptor, 1, 200) <= 0)
        continue;
      char buffer[512];
      ssize_t got = read(stdout_, buffer, sizeof(buffer));
      if (got <= 0)
        return 0;
      text.append(buffer, static_cast<size_t>(got));
      size_t at = text.find(marker);
      if (at != std::string::npos && text.find('\n', at) != std::string::npos) {
        output_ = text;
        return std::stoi(text.substr(at + marker.size()));
      }
    }
    output_ = text;
    return 0;
  }

  // Sends SIGTERM and returns the exit status.
  int Stop() {
    if (pid_ <= 0)
      return exit_status_;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = 0;
    close(stdout_);
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return exit_status_;
  }

  const std::string& output() const { return output_; }
  std::string Log() const { return ReadAll(log_path_); }

 private:
  std::string log_path_;
  pid_t pid_ = 0;
  int stdout_ = -1;
  int exit_status_ = -1;
  std::string output_;
};

struct HttpReply {
  int status = 0;
  json body;
  std::string text;
};

// Sends one request with the curl binary.
HttpReply Curl(int port, const std::string& method, const std::string& path,
               const std::string& token, const std::string& body = "") {
  std::string command = "curl -sS --max-time 60 -X " + method + " -H " +
                        Quote("Authorization: Bearer " + token) + " -w '\\n%{http_code}'";
  if (!body.empty()) {
    command += " -H 'Content-Type: application/json' --data-binary " + Quote(body);
  }
  command += " " + Quote("http://127.0.0.1:" + std::to_string(port) + path);
  auto [output, exit_code] = Run(command);
  INFO("curl " << method << " " << path << " printed: " << output);
  REQUIRE(exit_code == 0);
  HttpReply reply;
  size_t last = output.rfind('\n');
  REQUIRE(last != std::string::npos);
  reply.status = std::stoi(output.substr(last + 1));
  reply.text = output.substr(0, last);
  reply.body = json::parse(reply.text, nullptr, false);
  return reply;
}

// Polls the job until it has ended, for at most 60 s, and returns it.
json WaitForJob(int port, const std::string& token, const std::string& job_id) {
  json job;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    HttpReply reply = Curl(port, "GET", "/api/v1/jobs/" + job_id, token);
    REQUIRE(reply.status == 200);
    job = reply.body;
    std::string state = job.value("state", "");
    if (state != "queued" && state != "running")
      return job;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL("job " << job_id << " did not end within 60 s: " << job.dump());
  return job;
}

std::string Lower(std::string text) {
  for (char& c : text)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// SHA-256 digests of every base64 body part of `raw` whose headers mark it
// as a named attachment. A plain scan, independent of the server's MIME
// parser: each part header block ends at a blank line and its body at the
// next line that starts with "--".
std::set<std::string> Base64AttachmentDigests(const std::string& raw) {
  std::string text;
  for (char c : raw) {
    if (c != '\r')
      text += c;
  }
  const std::string lower_text = Lower(text);
  std::set<std::string> digests;
  size_t position = 0;
  while (true) {
    size_t encoding = lower_text.find("content-transfer-encoding: base64", position);
    if (encoding == std::string::npos)
      break;
    size_t header_start = text.rfind("\n\n", encoding);
    size_t body = text.find("\n\n", encoding);
    if (body == std::string::npos)
      break;
    std::string headers = Lower(
        text.substr(header_start == std::string::npos ? 0 : header_start, body - header_start));
    size_t end = text.find("\n--", body);
    if (end == std::string::npos)
      end = text.size();
    bool named =
        headers.find("filename") != std::string::npos || headers.find("name=") != std::string::npos;
    if (named)
      digests.insert(reclaim::Sha256Hex(
          reclaim::testing::DecodeBase64Reference(text.substr(body, end - body))));
    position = body + 2;
  }
  return digests;
}

// The value of the first header `name` in the header block of `raw`,
// unfolded, or nothing.
std::optional<std::string> Header(const std::string& raw, const std::string& name) {
  std::string block = raw.substr(
      0, raw.find("\r\n\r\n") == std::string::npos ? raw.find("\n\n") : raw.find("\r\n\r\n"));
  std::string lower = "\n" + Lower(block);
  std::string key = "\n" + Lower(name) + ":";
  size_t at = lower.find(key);
  if (at == std::string::npos)
    return std::nullopt;
  size_t start = at + key.size() - 1;  // in `block`, which lacks the leading "\n"
  std::string value;
  for (size_t i = start; i < block.size(); ++i) {
    if (block[i] == '\n' &&
        (i + 1 >= block.size() || (block[i + 1] != ' ' && block[i + 1] != '\t')))
      break;
    if (block[i] != '\r' && block[i] != '\n')
      value += block[i];
  }
  size_t first = value.find_first_not_of(" \t");
  return first == std::string::npos ? std::string() : value.substr(first);
}

// One copy of the sample on disk.
struct CopyOnDisk {
  std::string mailbox;  // local@domain
  std::string folder;   // "INBOX" or the Maildir++ folder name
  std::string flags;    // letters after ":2,"
  std::string path;     // relative to the mailbox
};

std::string FolderOf(const std::string& relative) {
  if (relative.empty() || relative[0] != '.')
    return "INBOX";
  return relative.substr(1, relative.find('/') - 1);
}

std::string FlagsOf(const std::string& relative) {
  size_t info = relative.rfind(":2,");
  return info == std::string::npos ? "" : relative.substr(info + 3);
}

// Every file in every mailbox whose content ends with `raw`: the sample as
// delivered, with the delivery headers in front.
std::vector<CopyOnDisk> FindCopies(const std::string& mail_root, const std::string& raw) {
  std::vector<CopyOnDisk> copies;
  for (const auto& domain : fs::directory_iterator(mail_root)) {
    for (const auto& user : fs::directory_iterator(domain.path())) {
      for (const auto& entry : fs::recursive_directory_iterator(user.path())) {
        std::string parent = entry.path().parent_path().filename().string();
        if (!entry.is_regular_file() || (parent != "cur" && parent != "new"))
          continue;
        std::string content = ReadAll(entry.path());
        if (content.size() < raw.size() ||
            content.compare(content.size() - raw.size(), raw.size(), raw) != 0) {
          continue;
        }
        std::string relative = fs::relative(entry.path(), user.path()).string();
        copies.push_back({user.path().filename().string() + "@" + domain.path().filename().string(),
                          FolderOf(relative), FlagsOf(relative), relative});
      }
    }
  }
  return copies;
}

struct Sample {
  std::string file;
  std::string raw;
  std::string sha256;
  std::string own_recipient;  // the sample's own single To address
};

// Picks the first sample, by file name, with a non-empty attachment that no
// other sample has and whose digest this file's scan reproduces. Its
// headers must name one recipient (To with one plain address, no Cc), so
// that the expected failure rows are known.
std::optional<Sample> PickSample(const std::string& corpus, const json& manifest) {
  std::map<std::string, int> files_with_digest;
  for (const json& file : manifest.at("files")) {
    std::set<std::string> digests;
    for (const json& attachment : file.at("attachments")) {
      digests.insert(attachment.at("sha256").get<std::string>());
    }
    for (const std::string& digest : digests)
      ++files_with_digest[digest];
  }
  std::vector<json> files(manifest.at("files").begin(), manifest.at("files").end());
  std::sort(files.begin(), files.end(), [](const json& a, const json& b) {
    return a.at("file").get<std::string>() < b.at("file").get<std::string>();
  });
  for (const json& file : files) {
    std::string raw = ReadAll(corpus + "/" + file.at("file").get<std::string>());
    std::optional<std::string> to = Header(raw, "To");
    if (!to || Header(raw, "Cc") || to->find_first_of("<>,\" ") != std::string::npos ||
        to->find('@') == std::string::npos) {
      continue;
    }
    std::set<std::string> scanned = Base64AttachmentDigests(raw);
    for (const json& attachment : file.at("attachments")) {
      std::string digest = attachment.at("sha256");
      if (attachment.at("size").get<int>() == 0 || files_with_digest[digest] != 1)
        continue;
      if (scanned.count(digest) == 0)
        continue;
      return Sample{file.at("file"), raw, digest, Lower(*to)};
    }
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("demo end to end with real phishing mail") {
  const std::string corpus = reclaim::testing::ExternalInputsDir() + "/corpus/eml";
  std::optional<std::string> manifest_text = reclaim::testing::ReadFile(corpus + "/MANIFEST.json");
  if (!manifest_text) {
    MESSAGE("skipped: " << corpus << "/MANIFEST.json not found; set RECLAIM_SHARED_INPUTS to"
                        << " the folder that contains corpus/eml");
    return;
  }
  std::optional<Sample> sample = PickSample(corpus, json::parse(*manifest_text));
  REQUIRE_MESSAGE(sample, "no sample in " << corpus << " has a unique attachment and one To");
  INFO("sample " << sample->file << ", attachment " << sample->sha256);

  // First start: the server creates the demo with the samples as the
  // malicious mail, then listens on a port the kernel picks.
  MaildirOrg data;
  const std::string binary = RECLAIM_SERVER_BINARY;
  ServerProcess server(
      {binary, "--data-dir", data.root(), "serve", "--port", "0", "--demo-eml", corpus},
      data.root() + "/server.log");
  int port = server.WaitForPort();
  REQUIRE_MESSAGE(port > 0, "the server did not start: " << server.output() << server.Log());
  CHECK(server.output().find("Demo organisation: 30 users") != std::string::npos);

  auto [token_output, token_exit] = Run(Quote(binary) + " --data-dir " + Quote(data.root()) +
                                        " token create e2e-remediator --role remediator");
  REQUIRE(token_exit == 0);
  std::string token = token_output.substr(0, token_output.find_last_not_of("\n") + 1);
  token = token.substr(token.rfind('\n') + 1);
  REQUIRE_FALSE(token.empty());

  // The copies on disk, and the partner address the demo named on them.
  std::vector<CopyOnDisk> before = FindCopies(data.mail_root(), sample->raw);
  REQUIRE(before.size() >= 3);
  std::string content = ReadAll(
      data.mail_root() + "/" + before[0].mailbox.substr(before[0].mailbox.find('@') + 1) + "/" +
      before[0].mailbox.substr(0, before[0].mailbox.find('@')) + "/" + before[0].path);
  std::optional<std::string> original_to = Header(content, "X-Original-To");
  REQUIRE(original_to);
  std::string partner;
  for (size_t start = 0; start < original_to->size();) {
    size_t end = original_to->find(',', start);
    if (end == std::string::npos)
      end = original_to->size();
    std::string address = original_to->substr(start, end - start);
    address.erase(0, address.find_first_not_of(' '));
    if (address.find(kPartnerDomain) != std::string::npos)
      partner = address;
    start = end + 1;
  }
  REQUIRE_FALSE(partner.empty());
  std::set<std::string> flag_sets;
  for (const CopyOnDisk& copy : before)
    flag_sets.insert(copy.flags);
  MESSAGE("sample " << sample->file << ": " << before.size() << " copies, flags "
                    << flag_sets.size() << " kinds, partner " << partner);

  // Remove every copy through the Mimecast-compatible API. The samples keep
  // their own Date headers, so the window starts long before them.
  json create = {{"data",
                  {{{"hashOrMessageId", sample->sha256},
                    {"reason", "Demo end-to-end test"},
                    {"start", "2000-01-01T00:00:00+0000"},
                    {"end", "2099-12-31T23:59:59+0000"}}}}};
  HttpReply created = Curl(port, "POST", "/api/ttp/remediation/create", token, create.dump());
  INFO("create: " << created.text);
  REQUIRE(created.status == 200);
  REQUIRE(created.body.at("data").size() == 1);
  std::string incident_id = created.body.at("data")[0].at("id");

  HttpReply jobs = Curl(port, "GET", "/api/v1/jobs", token);
  std::string remove_job;
  for (const json& job : jobs.body.at("jobs")) {
    if (job.at("incidentId") == incident_id)
      remove_job = job.at("id");
  }
  REQUIRE_FALSE(remove_job.empty());
  CHECK(WaitForJob(port, token, remove_job).at("state") == "succeeded");

  // Every copy left its folder for the hold folder, with its flags.
  std::vector<CopyOnDisk> in_hold = FindCopies(data.mail_root(), sample->raw);
  CHECK(in_hold.size() == before.size());
  std::multiset<std::pair<std::string, std::string>> expected_held;
  std::multiset<std::pair<std::string, std::string>> actual_held;
  for (const CopyOnDisk& copy : before)
    expected_held.insert({copy.mailbox, copy.flags});
  for (const CopyOnDisk& copy : in_hold) {
    INFO("copy " << copy.mailbox << " " << copy.path);
    CHECK(copy.folder == kHoldFolder);
    actual_held.insert({copy.mailbox, copy.flags});
  }
  CHECK(actual_held == expected_held);

  // The incident: one row per copy, and failures for the partner address
  // and the sample's own recipient, which no demo mailbox serves.
  json get = {{"data", {{{"id", incident_id}}}}};
  HttpReply incident = Curl(port, "POST", "/api/ttp/remediation/get-incident", token, get.dump());
  INFO("get-incident: " << incident.text);
  REQUIRE(incident.status == 200);
  const json& counts = incident.body.at("data")[0];
  const size_t expected_failed = 2;
  CHECK(counts.at("identified") == before.size() + expected_failed);
  CHECK(counts.at("successful") == before.size());
  CHECK(counts.at("failed") == expected_failed);

  HttpReply details = Curl(port, "GET", "/api/v1/incidents/" + incident_id, token);
  REQUIRE(details.status == 200);
  std::map<std::string, json> rows;
  for (const json& row : details.body.at("messages"))
    rows[row.at("recipient")] = row;
  REQUIRE(rows.count(partner) == 1);
  CHECK(rows[partner].at("status") == "failed");
  CHECK(rows[partner].at("failureReason") == kNoConnection);
  REQUIRE(rows.count(sample->own_recipient) == 1);
  CHECK(rows[sample->own_recipient].at("status") == "failed");
  for (const CopyOnDisk& copy : before) {
    INFO("mailbox " << copy.mailbox);
    REQUIRE(rows.count(copy.mailbox) == 1);
    CHECK(rows[copy.mailbox].at("status") == "removed");
    CHECK(rows[copy.mailbox].at("movedTo") == kHoldFolder);
  }

  // Restore through the native API: every copy returns to its folder with
  // its flags.
  HttpReply restore =
      Curl(port, "POST", "/api/v1/incidents/" + incident_id + "/restore", token, "{}");
  INFO("restore: " << restore.text);
  REQUIRE(restore.status == 202);
  CHECK(WaitForJob(port, token, restore.body.at("job").at("id")).at("state") == "succeeded");
  std::vector<CopyOnDisk> restored = FindCopies(data.mail_root(), sample->raw);
  std::multiset<std::tuple<std::string, std::string, std::string>> expected_back;
  std::multiset<std::tuple<std::string, std::string, std::string>> actual_back;
  for (const CopyOnDisk& copy : before)
    expected_back.insert({copy.mailbox, copy.folder, copy.flags});
  for (const CopyOnDisk& copy : restored)
    actual_back.insert({copy.mailbox, copy.folder, copy.flags});
  CHECK(actual_back == expected_back);

  HttpReply after = Curl(port, "POST", "/api/ttp/remediation/get-incident", token, get.dump());
  REQUIRE(after.status == 200);
  CHECK(after.body.at("data")[0].at("restored") == before.size());

  CHECK(server.Stop() == 0);
}
