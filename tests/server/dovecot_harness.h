// A private Dovecot IMAP server for tests, listening only on 127.0.0.1.
//
// Start() writes a dovecot.conf into a new folder under /tmp (Maildir
// storage, passwd-file users with {PLAIN} passwords, a master user with the
// `*` separator, no TLS), starts `dovecot -F` as a child process on a free
// port and waits until the port accepts connections. The destructor stops
// it and removes the folder. Mail is stored as the system user
// `reclaim-mail`, which Start() creates with useradd when it is missing,
// because Dovecot refuses to run mail processes as root.
//
// Needs root and the dovecot-imapd package. UnavailableReason() returns
// which is missing. Not thread-safe: each test starts its own instance.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "shared/status.h"

namespace reclaim {

class DovecotHarness {
 public:
  // Returns why Dovecot cannot run here (no dovecot or doveadm binary, not
  // root), or an empty string when it can.
  static std::string UnavailableReason();

  // Starts Dovecot.
  // kUnavailable: Dovecot exited or did not accept connections within 15 s
  // (the message contains its log tail).
  // kInternal: the mail user or the folder could not be created.
  static Result<std::unique_ptr<DovecotHarness>> Start();

  // Stops Dovecot (SIGTERM, then SIGKILL to its process group after 10 s)
  // and removes the folder.
  ~DovecotHarness();
  DovecotHarness(const DovecotHarness&) = delete;
  DovecotHarness& operator=(const DovecotHarness&) = delete;

  const std::string& url() const { return url_; }  // imap://127.0.0.1:<port>
  int port() const { return port_; }
  const std::string& master_user() const { return master_user_; }
  const std::string& master_password() const { return master_password_; }
  const std::string& config_path() const { return config_path_; }

  // Adds a user with its own password. kInvalidArgument for a name or
  // password with ':', a line break or a space.
  Status AddUser(const std::string& address, const std::string& password);

  // Appends `message` to `folder` of `user` through IMAP APPEND (with the
  // master login) and sets exactly `flags` on it, for example
  // "\\Seen $Label1" or "". `folder` is the server's name, with '.' between
  // levels (Dovecot's Maildir default); a missing folder is created with
  // doveadm. Returns the new UID.
  Result<uint32_t> Append(const std::string& user, const std::string& folder,
                          const std::string& message, const std::string& flags = "");

  // Runs `doveadm -c <config> args...` and returns its standard output.
  // kInternal with the exit status and standard error when it fails.
  Result<std::string> Doveadm(const std::vector<std::string>& args) const;

  // Returns the last `lines` lines of Dovecot's log.
  std::string LogTail(size_t lines = 30) const;

 private:
  DovecotHarness() = default;
  Status WriteConfig() const;
  Status Launch();
  Status WaitUntilReady();
  void Stop();

  std::string root_;
  std::string config_path_;
  std::string url_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::string master_user_ = "reclaim-admin";
  std::string master_password_ = "master-secret";
};

}  // namespace reclaim
