// Set-up shared by the tests that run the IMAP connector against a real
// Dovecot on 127.0.0.1 (tests/server/dovecot_harness.h). Include it only
// from doctest test files: it uses doctest's MESSAGE and REQUIRE.
#pragma once

#include <doctest/doctest.h>
#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sync-server/mailbox/imap_connector.h"
#include "tests/server/dovecot_harness.h"

namespace reclaim::testing {

// Returns a started Dovecot with `user` and `password`, or nullptr after a
// MESSAGE with the reason when Dovecot cannot run on this machine.
inline std::unique_ptr<DovecotHarness> StartDovecotWithUser(const std::string& user,
                                                           const std::string& password) {
  const std::string reason = DovecotHarness::UnavailableReason();
  if (!reason.empty()) {
    MESSAGE("skipped, Dovecot cannot run here: " << reason);
    return nullptr;
  }
  Result<std::unique_ptr<DovecotHarness>> started = DovecotHarness::Start();
  INFO(started.status().message());
  REQUIRE(started.ok());
  std::unique_ptr<DovecotHarness> dovecot = std::move(started).value();
  REQUIRE(dovecot->AddUser(user, password).ok());
  return dovecot;
}

// Connector settings that log in to `dovecot` with its master user, serve
// the domain example.test and list `mailboxes` for indexing.
inline ImapSettings ImapSettingsFor(const DovecotHarness& dovecot,
                                    std::vector<std::string> mailboxes, int timeout_seconds) {
  ImapSettings settings;
  settings.name = "test-imap";
  settings.url = dovecot.url();
  settings.master_user = dovecot.master_user();
  settings.password = dovecot.master_password();
  settings.domains = {"example.test"};
  settings.mailboxes = std::move(mailboxes);
  settings.timeout_seconds = timeout_seconds;
  return settings;
}

// Returns the sorted process ids of the IMAP connections that Dovecot
// serves for `user`, from `doveadm who -1` (one line per connection: user,
// protocol, pid, address).
inline std::vector<pid_t> ImapConnectionPids(const DovecotHarness& dovecot,
                                             const std::string& user) {
  Result<std::string> listed = dovecot.Doveadm({"who", "-1", user});
  INFO(listed.status().message());
  REQUIRE(listed.ok());
  std::vector<pid_t> pids;
  std::istringstream lines(*listed);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string name;
    std::string protocol;
    long pid = 0;
    if (words >> name >> protocol >> pid && name == user && protocol == "imap") {
      pids.push_back(static_cast<pid_t>(pid));
    }
  }
  std::sort(pids.begin(), pids.end());
  return pids;
}

// Waits up to 10 s until Dovecot lists `count` IMAP connections of `user`
// and returns the last list. A connection that the client closed leaves
// Dovecot's list a moment later, so a test waits instead of reading once.
inline std::vector<pid_t> WaitForImapConnections(const DovecotHarness& dovecot,
                                                 const std::string& user, size_t count) {
  std::vector<pid_t> pids;
  for (int attempt = 0; attempt < 100; ++attempt) {
    pids = ImapConnectionPids(dovecot, user);
    if (pids.size() == count) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return pids;
}

}  // namespace reclaim::testing
