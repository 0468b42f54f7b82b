#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "sync-server/index/message_index.h"
#include "sync-server/mail/mime_parser.h"
#include "sync-server/mailbox/maildir_connector.h"
#include "sync-server/remediation/remediator.h"
#include "tests/server/maildir_engine.h"
#include "tests/server/maildir_org.h"

using namespace reclaim;
using reclaim::testing::InvoiceMessage;
using reclaim::testing::kInvoiceMd5;
using reclaim::testing::kInvoiceSha256;
using reclaim::testing::MaildirOrg;
using reclaim::testing::Engine;
using reclaim::testing::kNow;

namespace {

RemediationRequest ByIdentifier(const std::string& identifier) {
  RemediationRequest request;
  request.identifier = identifier;
  request.reason = "Phishing campaign";
  request.start = kNow - 365 * kSecondsPerDay;
  return request;
}

bool StartsWith(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

TEST_CASE("remove by hash and restore") {
  MaildirOrg org;
  for (const char* user : {"alice", "bob", "carol"}) org.AddUser(user, "example.com");
  org.AddUser("dave", "example.org");
  std::string to =
      "alice@example.com, bob@example.com, dave@example.org, ghost@example.com,"
      " zed@partner.example";
  std::string phish = InvoiceMessage("<inv4471@invoices.example.net>", to);
  std::string alice_file = org.Deliver("alice", "example.com", phish, "FS");
  org.Deliver("bob", "example.com", phish);
  org.Deliver("dave", "example.org", phish, "S", "Archive");
  org.Deliver("carol", "example.com", InvoiceMessage("<other@example.net>", "carol@example.com"));

  Engine engine(&org);
  engine.Index();
  Incident incident = engine.Remove(ByIdentifier(kInvoiceSha256));

  // Four copies moved (carol's message is another one with the same
  // attachment), one user without a mailbox, one domain without a
  // connection.
  std::map<std::string, StoredRow> rows = engine.RowsByRecipient(incident.id);
  CHECK(FormatIncidentCode(incident.code) == "TR-ACME-00001-M");
  CHECK(incident.counts.identified == 6);
  CHECK(incident.counts.removed == 4);
  CHECK(incident.counts.failed == 2);
  CHECK(incident.counts.restored == 0);
  REQUIRE(rows.size() == 6);
  CHECK(rows["ghost@example.com"].view.status == MessageStatus::kFailed);
  CHECK(FailureDisplay(rows["ghost@example.com"].view) == "No connection for the user.");
  CHECK(FailureDisplay(rows["zed@partner.example"].view) ==
        "No connections are configured for the mailbox.");
  for (const char* who : {"alice@example.com", "bob@example.com", "dave@example.org",
                          "carol@example.com"}) {
    INFO("recipient " << who);
    CHECK(rows[who].view.status == MessageStatus::kRemoved);
    CHECK(rows[who].view.moved_to == "Reclaim-Hold");
  }
  CHECK(rows["dave@example.org"].view.folder == "Archive");

  // On disk: each copy is in the hold folder, once, with its flags.
  std::vector<std::string> alice = org.FilesContaining("alice", "example.com", "inv4471@");
  REQUIRE(alice.size() == 1);
  CHECK(StartsWith(alice[0], ".Reclaim-Hold/cur/"));
  CHECK(alice[0].substr(alice[0].size() - 5) == ":2,FS");
  std::vector<std::string> bob = org.FilesContaining("bob", "example.com", "inv4471@");
  REQUIRE(bob.size() == 1);
  CHECK(StartsWith(bob[0], ".Reclaim-Hold/new/"));
  CHECK_FALSE(std::filesystem::exists(org.UserDir("alice", "example.com") + "/" + alice_file));

  // Restore all: a Restore incident, copies back where they were.
  Result<Incident> restore = engine.remediator->PrepareRestore(incident.id, {}, "");
  REQUIRE(restore.ok());
  CHECK(restore->code.type == IncidentType::kRestore);
  CHECK(restore->restores == "TR-ACME-00001-M");
  CHECK(restore->reason == "Restoring messages");
  JobControl control;
  REQUIRE(engine.remediator->Restore(restore->id, &control).ok());
  CHECK(control.done == 4);
  Incident restored = *engine.repository->Get(restore->id);
  CHECK(restored.counts.identified == 4);
  CHECK(restored.counts.restored == 4);
  CHECK(restored.counts.failed == 0);
  Incident original = *engine.repository->Get(incident.id);
  CHECK(original.counts.restored == 4);

  alice = org.FilesContaining("alice", "example.com", "inv4471@");
  REQUIRE(alice.size() == 1);
  CHECK(StartsWith(alice[0], "cur/"));
  CHECK(alice[0].substr(alice[0].size() - 5) == ":2,FS");
  std::vector<std::string> dave = org.FilesContaining("dave", "example.org", "inv4471@");
  REQUIRE(dave.size() == 1);
  CHECK(StartsWith(dave[0], ".Archive/cur/"));
  CHECK(dave[0].substr(dave[0].size() - 4) == ":2,S");
}

TEST_CASE("remove by message id with criteria") {
  MaildirOrg org;
  org.AddUser("alice", "example.com");
  org.AddUser("bob", "example.com");
  org.AddUser("carol", "example.com");  // has a mailbox but no copy
  std::string id = "<Campaign.7@Mail.Example.NET>";
  org.Deliver("alice", "example.com", InvoiceMessage(id, "alice@example.com, bob@example.com"));
  org.Deliver("bob", "example.com", InvoiceMessage(id, "alice@example.com, bob@example.com"));
  Engine engine(&org);
  engine.Index();

  // The bare id, another case on the right-hand side, and a recipient filter.
  RemediationRequest request = ByIdentifier("Campaign.7@mail.example.net");
  request.to = "bob@example.com";
  Incident incident = engine.Remove(request);
  // The identifier is stored as typed, with the brackets added.
  CHECK(incident.criteria.identifier == "<Campaign.7@mail.example.net>");
  CHECK(incident.counts.identified == 1);
  CHECK(incident.counts.removed == 1);
  CHECK(org.FilesContaining("alice", "example.com", "Campaign.7@").front().rfind("new/", 0) == 0);
  CHECK(org.FilesContaining("bob", "example.com", "Campaign.7@").front().rfind(".Reclaim-Hold/", 0) ==
        0);

  // Running it again without the filter moves alice's copy. Bob's copy is
  // already held, so his row reports it is no longer in his mailbox.
  RemediationRequest again = ByIdentifier(id);
  Incident second = engine.Remove(again);
  CHECK(second.counts.identified == 2);
  CHECK(second.counts.removed == 1);
  CHECK(second.counts.failed == 1);
  CHECK(FailureDisplay(engine.RowsByRecipient(second.id)["bob@example.com"].view) ==
        "Message was not found in mailbox.");
  CHECK(org.FilesContaining("bob", "example.com", "Campaign.7@").size() == 1);

  // A recipient filter naming someone without a copy reports that recipient.
  const std::pair<std::string, std::string> absent[] = {
      {"carol@example.com", "Message was not found in mailbox."},
      {"erin@example.com", "No connection for the user."},
      {"dana@partner.example.net", "No connections are configured for the mailbox."},
  };
  for (const auto& [address, failure] : absent) {
    INFO("to " << address);
    RemediationRequest only = ByIdentifier(id);
    only.to = address;
    Incident third = engine.Remove(only);
    CHECK(third.counts.identified == 1);
    CHECK(third.counts.failed == 1);
    CHECK(FailureDisplay(engine.RowsByRecipient(third.id)[address].view) == failure);
  }
}

TEST_CASE("remediation failure reasons") {
  MaildirOrg org;
  org.AddUser("alice", "example.com");
  org.AddUser("bob", "example.com");
  std::string no_recipient =
      "From: x@evil.example\r\nSubject: hi\r\nMessage-ID: <norcpt@evil.example>\r\n\r\nbody\r\n";
  org.Deliver("alice", "example.com", no_recipient);
  std::string gone_file =
      org.Deliver("bob", "example.com", InvoiceMessage("<gone@example.net>", "bob@example.com"));
  Engine engine(&org);
  engine.Index();

  SUBCASE("no recipient address") {
    Incident incident = engine.Remove(ByIdentifier("<norcpt@evil.example>"));
    std::map<std::string, StoredRow> rows = engine.RowsByRecipient(incident.id);
    REQUIRE(rows.size() == 1);
    CHECK(FailureDisplay(rows.begin()->second.view) ==
          "No recipient address was found on the email.");
    CHECK(incident.counts.failed == 1);
    CHECK(org.FilesContaining("alice", "example.com", "norcpt@").front().rfind("new/", 0) == 0);
  }
  SUBCASE("copy deleted after indexing") {
    std::filesystem::remove(org.UserDir("bob", "example.com") + "/" + gone_file);
    Incident incident = engine.Remove(ByIdentifier("<gone@example.net>"));
    std::map<std::string, StoredRow> rows = engine.RowsByRecipient(incident.id);
    REQUIRE(rows.count("bob@example.com") == 1);
    CHECK(FailureDisplay(rows["bob@example.com"].view) == "Message was not found in mailbox.");
    CHECK(incident.counts.failed == 1);
    CHECK(incident.counts.removed == 0);
  }
  SUBCASE("held copy deleted before restore") {
    Incident incident = engine.Remove(ByIdentifier("<gone@example.net>"));
    REQUIRE(incident.counts.removed == 1);
    for (const std::string& file : org.FilesContaining("bob", "example.com", "gone@example")) {
      std::filesystem::remove(org.UserDir("bob", "example.com") + "/" + file);
    }
    Result<Incident> restore = engine.remediator->PrepareRestore(incident.id, {}, "Safe after all");
    REQUIRE(restore.ok());
    JobControl control;
    REQUIRE(engine.remediator->Restore(restore->id, &control).ok());
    std::map<std::string, StoredRow> rows = engine.RowsByRecipient(restore->id);
    CHECK(FailureDisplay(rows["bob@example.com"].view) == "Message was not restored.");
    CHECK(engine.repository->Get(restore->id)->counts.failed == 1);
    CHECK(engine.repository->Get(restore->id)->reason == "Safe after all");
  }
}

TEST_CASE("remediation request validation") {
  MaildirOrg org;
  Engine engine(&org);
  struct Row {
    std::string identifier;
    std::string reason;
    std::string from;
    const char* field;
  };
  const Row rows[] = {
      {"", "r", "", "identifier"},
      {"<>", "r", "", "identifier"},
      {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "r", "", "identifier"},
      {"D41D8CD98F00B204E9800998ECF8427E", "r", "", "identifier"},
      {kInvoiceMd5, "", "", "reason"},
      {kInvoiceMd5, "r", "not an address", "from"},
  };
  for (const Row& row : rows) {
    INFO("identifier '" << row.identifier << "' reason '" << row.reason << "'");
    RemediationRequest request = ByIdentifier(row.identifier);
    request.reason = row.reason;
    request.from = row.from;
    Result<Incident> incident = engine.remediator->Identify(request);
    REQUIRE_FALSE(incident.ok());
    CHECK(incident.status().field() == row.field);
    CHECK(incident.status().code() == StatusCode::kInvalidArgument);
  }
  RemediationRequest inverted = ByIdentifier(kInvoiceMd5);
  inverted.start = kNow;
  inverted.end = kNow - 10;
  CHECK(engine.remediator->Identify(inverted).status().field() == "end");

  // Values without an @ are neither hashes nor Message-IDs. The message
  // names the most likely mistake.
  struct Mistake {
    std::string identifier;
    std::string expected_text;
  };
  const std::string sha256 = "4f3c2a1b0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b";
  const Mistake mistakes[] = {
      {sha256.substr(0, 63), "looks like a hash but has 63 characters: a SHA-256 has 64"},
      {"<" + sha256.substr(0, 31) + ">", "looks like a hash but has 31 characters"},
      {sha256.substr(0, 63) + "g", "has 64 characters, one of them not a hex digit"},
      {"not-hex-zz", "is neither an attachment hash"},
      {"<12345.67890>", "is neither an attachment hash"},
  };
  for (const Mistake& mistake : mistakes) {
    INFO("identifier '" << mistake.identifier << "'");
    Result<Incident> incident = engine.remediator->Identify(ByIdentifier(mistake.identifier));
    REQUIRE_FALSE(incident.ok());
    CHECK(incident.status().field() == "identifier");
    CHECK(incident.status().message().find(mistake.expected_text) != std::string::npos);
  }
  // Nothing was half-written by the rejected requests.
  CHECK(engine.repository->All()->empty());
}
