// Set-up shared by the tests that run the IMAP connector against a real
// Dovecot on 127.0.0.1 (tests/server/dovecot_harness.h). Include it only
// from doctest test files: it uses doctest's MESSAGE and REQUIRE.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sync-server/mailbox/imap_connector.h"
#include "tests/server/dovecot_harness.h"

namespace reclaim::testing {

// Returns a started Dovecot with `user` and `password`, or nullptr after a
// MESSAGE that says why when Dovecot cannot run on this machine.
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

}  // namespace reclaim::testing
