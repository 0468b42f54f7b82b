#include "tests/server/dovecot_harness.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace reclaim {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr char kMailUser[] = "reclaim-mail";
constexpr auto kStartTimeout = std::chrono::seconds(15);
constexpr auto kStopTimeout = std::chrono::seconds(10);
constexpr auto kCommandTimeout = std::chrono::seconds(30);
constexpr int kStartAttempts = 3;

std::string FindProgram(const std::string& name) {
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/sbin:/usr/bin:/sbin:/bin";
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = dir + "/" + name;
    if (!dir.empty() && access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return "";
}

struct ProcessOutput {
  int exit_status = -1;  // the exit code, or -1 when killed by a signal or timed out
  std::string out;
  std::string err;
};

// Runs `argv` without a shell, collecting both output streams, and kills it
// after kCommandTimeout.
Result<ProcessOutput> RunProcess(const std::vector<std::string>& argv) {
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    return Status::Internal(std::string("pipe failed: ") + std::strerror(errno));
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  std::vector<char*> args;
  for (const std::string& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  ProcessOutput output;
  if (spawned != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    return Status::Internal("cannot start " + argv[0] + ": " + std::strerror(spawned));
  }

  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&output.out, &output.err};
  const auto deadline = Clock::now() + kCommandTimeout;
  int open_streams = 2;
  while (open_streams > 0 && Clock::now() < deadline) {
    if (poll(fds, 2, 200) <= 0) {
      continue;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) {
        continue;
      }
      char buffer[4096];
      const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(n));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_streams;
      }
    }
  }

  if (open_streams > 0) {
    kill(pid, SIGKILL);
  }
  for (pollfd& fd : fds) {
    if (fd.fd >= 0) {
      close(fd.fd);
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  output.exit_status = WIFEXITED(status) && open_streams == 0 ? WEXITSTATUS(status) : -1;
  return output;
}

// Creates the system user that owns the mail files, once per machine.
Status EnsureMailUser() {
  if (getpwnam(kMailUser) != nullptr) {
    return Status::Ok();
  }
  const std::string useradd = FindProgram("useradd");
  if (useradd.empty()) {
    return Status::Internal(std::string("user ") + kMailUser +
                            " is missing and useradd was not found");
  }
  Result<ProcessOutput> added =
      RunProcess({useradd, "-r", "-M", "-s", "/usr/sbin/nologin", kMailUser});
  if (!added.ok()) {
    return added.status();
  }
  if (getpwnam(kMailUser) == nullptr) {
    return Status::Internal(std::string("useradd could not create user ") + kMailUser + ": " +
                            added->err);
  }
  return Status::Ok();
}

// Returns a TCP port on 127.0.0.1 that was free a moment ago. Another
// process may take it before Dovecot binds it, so Start() retries.
Result<int> FindFreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return Status::Internal(std::string("socket failed: ") + std::strerror(errno));
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  const bool bound = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                     getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  close(fd);
  if (!bound) {
    return Status::Internal(std::string("cannot bind a port on 127.0.0.1: ") +
                            std::strerror(errno));
  }
  return static_cast<int>(ntohs(address.sin_port));
}

bool PortAcceptsConnections(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  const bool connected = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  close(fd);
  return connected;
}

Status WriteFile(const std::string& path, const std::string& text, bool append = false) {
  std::ofstream file(path, append ? std::ios::app : std::ios::trunc);
  file << text;
  file.close();
  if (!file) {
    return Status::Internal("cannot write " + path);
  }
  return Status::Ok();
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

size_t CollectText(char* data, size_t size, size_t count, void* user_data) {
  static_cast<std::string*>(user_data)->append(data, size * count);
  return size * count;
}

struct UploadSource {
  const std::string* text;
  size_t offset = 0;
};

size_t ReadUpload(char* buffer, size_t size, size_t count, void* user_data) {
  auto* source = static_cast<UploadSource*>(user_data);
  const size_t length = std::min(size * count, source->text->size() - source->offset);
  std::memcpy(buffer, source->text->data() + source->offset, length);
  source->offset += length;
  return length;
}

}  // namespace

std::string DovecotHarness::UnavailableReason() {
  if (FindProgram("dovecot").empty()) {
    return "the dovecot binary was not found (install the dovecot-imapd package)";
  }
  if (FindProgram("doveadm").empty()) {
    return "the doveadm binary was not found (install the dovecot-core package)";
  }
  if (geteuid() != 0) {
    return "tests that start Dovecot must run as root: Dovecot switches to the mail user " +
           std::string(kMailUser);
  }
  return "";
}

Result<std::unique_ptr<DovecotHarness>> DovecotHarness::Start() {
  const std::string reason = UnavailableReason();
  if (!reason.empty()) {
    return Status::Unavailable(reason);
  }
  Status user = EnsureMailUser();
  if (!user.ok()) {
    return user;
  }
  std::unique_ptr<DovecotHarness> harness(new DovecotHarness());
  char root_template[] = "/tmp/reclaim-dovecot-XXXXXX";
  if (mkdtemp(root_template) == nullptr) {
    return Status::Internal(std::string("mkdtemp failed: ") + std::strerror(errno));
  }
  harness->root_ = root_template;
  harness->config_path_ = harness->root_ + "/dovecot.conf";
  const passwd* mail_user = getpwnam(kMailUser);
  fs::create_directory(harness->root_ + "/mail");
  // Dovecot's unprivileged processes (dovenull, dovecot, reclaim-mail) must
  // reach the folder, and the mail processes write the Maildirs.
  if (chmod(harness->root_.c_str(), 0755) != 0 ||
      chown((harness->root_ + "/mail").c_str(), mail_user->pw_uid, mail_user->pw_gid) != 0) {
    return Status::Internal("cannot set permissions in " + harness->root_ + ": " +
                            std::strerror(errno));
  }
  Status written = WriteFile(harness->root_ + "/users", "");
  if (written.ok()) {
    written = WriteFile(harness->root_ + "/master-users",
                        harness->master_user_ + ":{PLAIN}" + harness->master_password_ + "\n");
  }
  if (!written.ok()) {
    return written;
  }
  Status started;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    started = harness->Launch();
    if (started.ok() || harness->LogTail().find("Address already in use") == std::string::npos) {
      break;
    }
  }
  if (!started.ok()) {
    return started;
  }
  return harness;
}

Status DovecotHarness::WriteConfig() const {
  const passwd* mail_user = getpwnam(kMailUser);
  std::ostringstream conf;
  conf << "# Written by the Reclaim test harness; removed when the test ends.\n"
       << "base_dir = " << root_ << "/run\n"
       << "state_dir = " << root_ << "/state\n"
       << "log_path = " << root_ << "/dovecot.log\n"
       << "protocols = imap\n"
       << "listen = 127.0.0.1\n"
       << "ssl = no\n"
       << "disable_plaintext_auth = no\n"
       << "auth_mechanisms = plain login\n"
       << "auth_master_user_separator = *\n"
       << "auth_verbose = yes\n"
       << "auth_failure_delay = 0\n"
       << "default_login_user = dovenull\n"
       << "default_internal_user = dovecot\n"
       << "first_valid_uid = " << mail_user->pw_uid << "\n"
       << "mail_location = maildir:" << root_ << "/mail/%u\n"
       << "service imap-login {\n"
       << "  inet_listener imap {\n"
       << "    address = 127.0.0.1\n"
       << "    port = " << port_ << "\n"
       << "  }\n"
       << "  inet_listener imaps {\n"
       << "    port = 0\n"
       << "  }\n"
       << "}\n"
       // Without the penalty socket, failed logins are not slowed down.
       << "service anvil {\n"
       << "  unix_listener anvil-auth-penalty {\n"
       << "    mode = 0\n"
       << "  }\n"
       << "}\n"
       // `pass = yes` makes a master login also look the user up in the
       // normal passdb, so a login to an unknown user fails with
       // AUTHORIZATIONFAILED.
       << "passdb {\n"
       << "  driver = passwd-file\n"
       << "  args = scheme=PLAIN username_format=%u " << root_ << "/master-users\n"
       << "  master = yes\n"
       << "  pass = yes\n"
       << "}\n"
       << "passdb {\n"
       << "  driver = passwd-file\n"
       << "  args = scheme=PLAIN username_format=%u " << root_ << "/users\n"
       << "}\n"
       << "userdb {\n"
       << "  driver = static\n"
       << "  args = uid=" << mail_user->pw_uid << " gid=" << mail_user->pw_gid << " home=" << root_
       << "/mail/%u\n"
       << "}\n";
  return WriteFile(config_path_, conf.str());
}

Status DovecotHarness::Launch() {
  Result<int> port = FindFreePort();
  if (!port.ok()) {
    return port.status();
  }
  port_ = *port;
  url_ = "imap://127.0.0.1:" + std::to_string(port_);
  Status written = WriteConfig();
  if (!written.ok()) {
    return written;
  }

  const std::string dovecot = FindProgram("dovecot");
  const std::string output = root_ + "/dovecot.out";
  std::error_code ignored;
  fs::remove(root_ + "/dovecot.log", ignored);  // Start() reads the log of this attempt only
  std::vector<std::string> argv = {dovecot, "-F", "-c", config_path_};
  std::vector<char*> args;
  for (std::string& arg : argv) {
    args.push_back(arg.data());
  }
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, output.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  // A process group of its own lets Stop() kill Dovecot's children too.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);
  const int spawned =
      posix_spawn(&pid_, dovecot.c_str(), &actions, &attributes, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (spawned != 0) {
    pid_ = -1;
    return Status::Unavailable("cannot start " + dovecot + ": " + std::strerror(spawned));
  }
  return WaitUntilReady();
}

Status DovecotHarness::WaitUntilReady() {
  const auto deadline = Clock::now() + kStartTimeout;
  while (Clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Status::Unavailable("dovecot exited during start-up (status " +
                                 std::to_string(status) + "). Output:\n" +
                                 ReadFile(root_ + "/dovecot.out") + "Log:\n" + LogTail());
    }
    if (PortAcceptsConnections(port_)) {
      return Status::Ok();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Stop();
  return Status::Unavailable("dovecot did not accept connections on " + url_ + " within " +
                             std::to_string(kStartTimeout.count()) + " s. Log:\n" + LogTail());
}

void DovecotHarness::Stop() {
  if (pid_ <= 0) {
    return;
  }
  kill(pid_, SIGTERM);
  const auto deadline = Clock::now() + kStopTimeout;
  int status = 0;
  while (Clock::now() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(-pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

DovecotHarness::~DovecotHarness() {
  Stop();
  if (!root_.empty()) {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }
}

Status DovecotHarness::AddUser(const std::string& address, const std::string& password) {
  const auto unsafe = [](const std::string& text) {
    return text.empty() || text.find_first_of(": \t\r\n") != std::string::npos;
  };
  if (unsafe(address) || unsafe(password)) {
    return Status::Invalid("address", "test user '" + address +
                                          "' or its password is empty or contains ':', a space "
                                          "or a line break");
  }
  return WriteFile(root_ + "/users", address + ":{PLAIN}" + password + "\n", /*append=*/true);
}

Result<std::string> DovecotHarness::Doveadm(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {FindProgram("doveadm"), "-c", config_path_};
  argv.insert(argv.end(), args.begin(), args.end());
  Result<ProcessOutput> output = RunProcess(argv);
  if (!output.ok()) {
    return output.status();
  }
  if (output->exit_status != 0) {
    std::string command;
    for (const std::string& arg : args) {
      command += " " + arg;
    }
    return Status::Internal("doveadm" + command + " failed with status " +
                            std::to_string(output->exit_status) + ": " + output->err);
  }
  return output->out;
}

Result<uint32_t> DovecotHarness::Append(const std::string& user, const std::string& folder,
                                        const std::string& message, const std::string& flags) {
  if (folder != "INBOX") {
    Result<std::string> created = Doveadm({"mailbox", "create", "-u", user, folder});
    if (!created.ok() && created.status().message().find("exists") == std::string::npos) {
      return created.status();
    }
  }
  CURL* curl = curl_easy_init();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> owner(curl, curl_easy_cleanup);
  char* escaped = curl_easy_escape(curl, folder.c_str(), static_cast<int>(folder.size()));
  const std::string folder_url = url_ + "/" + escaped;
  curl_free(escaped);
  const std::string login = user + "*" + master_user_;
  std::string lines;
  UploadSource source{&message};
  curl_easy_setopt(curl, CURLOPT_URL, folder_url.c_str());
  curl_easy_setopt(curl, CURLOPT_USERNAME, login.c_str());
  curl_easy_setopt(curl, CURLOPT_PASSWORD, master_password_.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, CollectText);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &lines);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadUpload);
  curl_easy_setopt(curl, CURLOPT_READDATA, &source);
  curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
  CURLcode code = curl_easy_perform(curl);
  const size_t found = lines.find("[APPENDUID ");
  if (code != CURLE_OK || found == std::string::npos) {
    return Status::Internal("IMAP APPEND to " + folder_url + " as " + login +
                            " failed: " + curl_easy_strerror(code) + "\n" + lines);
  }
  // The tagged OK contains `[APPENDUID <uidvalidity> <uid>]`.
  std::istringstream fields(lines.substr(found + 11));
  uint32_t uid_validity = 0;
  uint32_t uid = 0;
  fields >> uid_validity >> uid;
  // libcurl 7.88 appends with (\Seen); this STORE sets exactly `flags`.
  const std::string store = "UID STORE " + std::to_string(uid) + " FLAGS (" + flags + ")";
  lines.clear();
  std::string untagged;
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 0L);
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, store.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, CollectText);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &untagged);
  code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    return Status::Internal("IMAP '" + store + "' in " + folder_url +
                            " failed: " + curl_easy_strerror(code) + "\n" + lines);
  }
  return uid;
}

std::string DovecotHarness::LogTail(size_t lines) const {
  std::ifstream log(root_ + "/dovecot.log");
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(log, line)) {
    tail.push_back(line);
    if (tail.size() > lines) {
      tail.pop_front();
    }
  }
  std::string text;
  for (const std::string& kept : tail) {
    text += kept + "\n";
  }
  return text;
}

}  // namespace reclaim
