// Remediation of real phishing mail (kept outside the repository) delivered
// into Maildir mailboxes: three recipients in two domains get every
// message, with a Delivered-To header as a delivery agent writes it.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>

#include "tests/server/maildir_engine.h"
#include "tests/shared/test_inputs.h"

using namespace reclaim;
using reclaim::testing::Engine;
using reclaim::testing::MaildirOrg;

namespace {

struct Recipient {
  const char* local;
  const char* domain;
  const char* flags;  // as a mail client leaves them
};
const Recipient kRecipients[] = {
    {"alice", "example.com", "S"}, {"bob", "example.com", ""}, {"dave", "example.org", "FS"}};

// The manifest lists each corpus file with its Message-ID and attachments.
std::optional<nlohmann::json> LoadManifest() {
  std::optional<std::string> text =
      reclaim::testing::ReadFile(reclaim::testing::ExternalInputsDir() + "/corpus/eml/MANIFEST.json");
  if (!text) return std::nullopt;
  return nlohmann::json::parse(*text);
}

std::string ManifestFile(const nlohmann::json& manifest, const std::string& name) {
  for (const nlohmann::json& file : manifest["files"]) {
    if (file["file"] == name) return file.dump();
  }
  return {};
}

}  // namespace

TEST_CASE("corpus remediation by hash and message id") {
  std::optional<nlohmann::json> manifest = LoadManifest();
  if (!manifest) {
    MESSAGE("skipped: corpus/eml/MANIFEST.json not found under "
            << reclaim::testing::ExternalInputsDir() << "; set RECLAIM_SHARED_INPUTS");
    return;
  }
  MaildirOrg org;
  for (const Recipient& r : kRecipients) org.AddUser(r.local, r.domain);
  int delivered = 0;
  for (const nlohmann::json& file : (*manifest)["files"]) {
    std::string name = file["file"];
    std::optional<std::string> raw = reclaim::testing::ReadFile(
        reclaim::testing::ExternalInputsDir() + "/corpus/eml/" + name);
    REQUIRE(raw.has_value());
    for (const Recipient& r : kRecipients) {
      std::string copy = "Delivered-To: " + std::string(r.local) + "@" + r.domain + "\r\n" + *raw;
      org.Deliver(r.local, r.domain, copy, r.flags);
      ++delivered;
    }
  }
  Engine engine(&org);
  engine.Index();

  // Statement.pdf: the same bytes in sample-1951 and sample-1968, so two
  // messages per mailbox. sample-1968 is also addressed to phishing@pot, a
  // domain without a connection.
  std::string statement_sha256;
  for (const nlohmann::json& file : (*manifest)["files"]) {
    if (file["file"] != "sample-1951.eml") continue;
    statement_sha256 = file["attachments"][0]["sha256"];
  }
  REQUIRE(statement_sha256.size() == 64);
  RemediationRequest request;
  request.identifier = statement_sha256;
  request.reason = "Statement.pdf credential phish";
  request.start = reclaim::testing::kNow - 3650 * kSecondsPerDay;
  Incident incident = engine.Remove(request);
  CHECK(incident.counts.removed == 6);
  CHECK(incident.counts.identified == incident.counts.removed + incident.counts.failed);

  int held_rows = 0;
  Result<std::vector<StoredRow>> rows = engine.repository->Rows(incident.id);
  REQUIRE(rows.ok());
  for (const StoredRow& row : *rows) {
    INFO("recipient " << row.view.recipient);
    if (row.view.status == MessageStatus::kRemoved) {
      ++held_rows;
      CHECK(row.view.moved_to == "Reclaim-Hold");
    } else {
      CHECK(row.view.status == MessageStatus::kFailed);
      CHECK(FailureDisplay(row.view) == "No connections are configured for the mailbox.");
      CHECK(row.view.recipient == "phishing@pot");
    }
  }
  CHECK(held_rows == 6);
  for (const Recipient& r : kRecipients) {
    INFO("mailbox " << r.local << "@" << r.domain);
    std::vector<std::string> files = org.FilesContaining(r.local, r.domain, "Statement.pdf");
    REQUIRE(files.size() == 2);
    for (const std::string& path : files) CHECK(path.rfind(".Reclaim-Hold/", 0) == 0);
  }

  // sample-10's Message-ID is folded onto a continuation line in the header.
  std::string sample10 = ManifestFile(*manifest, "sample-10.eml");
  REQUIRE_FALSE(sample10.empty());
  std::string id = nlohmann::json::parse(sample10)["message_id_header_unfolded"];
  RemediationRequest by_id = request;
  by_id.identifier = id;
  Incident second = engine.Remove(by_id);
  CHECK(second.counts.removed == 3);

  // Restore the first incident: the copies go back to INBOX with their flags.
  Result<Incident> restore = engine.remediator->PrepareRestore(incident.id, {}, "");
  REQUIRE(restore.ok());
  JobControl control;
  REQUIRE(engine.remediator->Restore(restore->id, &control).ok());
  CHECK(engine.repository->Get(restore->id)->counts.restored == 6);
  for (const Recipient& r : kRecipients) {
    INFO("mailbox " << r.local << "@" << r.domain);
    std::vector<std::string> files = org.FilesContaining(r.local, r.domain, "Statement.pdf");
    REQUIRE(files.size() == 2);
    for (const std::string& path : files) {
      std::string flags = r.flags;
      if (flags.empty()) {
        CHECK(path.rfind("new/", 0) == 0);
      } else {
        CHECK(path.rfind("cur/", 0) == 0);
        CHECK(path.substr(path.size() - flags.size() - 3) == ":2," + flags);
      }
    }
  }
}
