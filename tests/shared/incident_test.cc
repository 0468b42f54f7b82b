#include <doctest/doctest.h>

#include <string>

#include "shared/incident.h"

using namespace reclaim;

TEST_CASE("incident type names") {
  struct Row {
    IncidentType type;
    const char* display;
    const char* api;
    char letter;
  };
  const Row rows[] = {
      {IncidentType::kManual, "Manual", "manual", 'M'},
      {IncidentType::kAutomatic, "Automatic", "automatic", 'A'},
      {IncidentType::kRestore, "Restore", "restore", 'R'},
      {IncidentType::kNotifyOnly, "Notify Only", "notify_only", 'N'},
      {IncidentType::kMepClawback, "MEP Clawback", "mep_clawback", 'C'},
  };
  for (const Row& row : rows) {
    INFO("type " << row.api);
    CHECK(DisplayName(row.type) == row.display);
    CHECK(ApiName(row.type) == row.api);
    CHECK(CodeLetter(row.type) == row.letter);
    CHECK(IncidentTypeFromApiName(row.api) == row.type);
    CHECK(IncidentTypeFromCodeLetter(row.letter) == row.type);
  }
  CHECK_FALSE(IncidentTypeFromApiName("Manual").has_value());
  CHECK_FALSE(IncidentTypeFromApiName("").has_value());
  CHECK_FALSE(IncidentTypeFromCodeLetter('m').has_value());
  CHECK_FALSE(IncidentTypeFromCodeLetter('X').has_value());
}

TEST_CASE("message status names") {
  CHECK(ApiName(MessageStatus::kIdentified) == "identified");
  CHECK(ApiName(MessageStatus::kRemoved) == "removed");
  CHECK(ApiName(MessageStatus::kFailed) == "failed");
  CHECK(ApiName(MessageStatus::kRestored) == "restored");
  CHECK(DisplayName(MessageStatus::kRestored) == "Restored");
  CHECK(MessageStatusFromApiName("failed") == MessageStatus::kFailed);
  CHECK_FALSE(MessageStatusFromApiName("deleted").has_value());
}

TEST_CASE("failure reason texts are exact") {
  struct Row {
    FailureReason reason;
    const char* text;
  };
  const Row rows[] = {
      {FailureReason::kNotFoundInMailbox, "Message was not found in mailbox."},
      {FailureReason::kNotRestored, "Message was not restored."},
      {FailureReason::kNoRecipientAddress, "No recipient address was found on the email."},
      {FailureReason::kNoConnectionsConfigured, "No connections are configured for the mailbox."},
      {FailureReason::kNoConnectionForUser, "No connection for the user."},
  };
  for (const Row& row : rows) {
    INFO("reason text " << row.text);
    CHECK(FailureText(row.reason) == row.text);
    CHECK(FailureReasonFromText(row.text) == row.reason);
  }
  CHECK(FailureText(FailureReason::kNone).empty());
  CHECK(FailureReasonFromText("") == FailureReason::kNone);
  CHECK(FailureReasonFromText("IMAP timed out after 30 s") == FailureReason::kOther);
  // A near miss is not one of the five: the texts are compared exactly.
  CHECK(FailureReasonFromText("Message was not found in mailbox") == FailureReason::kOther);
}

TEST_CASE("incident code formatting") {
  struct Row {
    IncidentCode code;
    const char* text;
  };
  const Row rows[] = {
      {{"ACME", 42, IncidentType::kManual}, "TR-ACME-00042-M"},
      {{"ACME", 0, IncidentType::kAutomatic}, "TR-ACME-00000-A"},
      {{"X1", 99999, IncidentType::kRestore}, "TR-X1-99999-R"},
      {{"ORG", 100000, IncidentType::kNotifyOnly}, "TR-ORG-100000-N"},
      {{"BIGCORP", 1234567, IncidentType::kMepClawback}, "TR-BIGCORP-1234567-C"},
  };
  for (const Row& row : rows) {
    INFO("code " << row.text);
    CHECK(FormatIncidentCode(row.code) == row.text);
    Result<IncidentCode> parsed = ParseIncidentCode(row.text);
    REQUIRE(parsed.ok());
    CHECK(parsed->org == row.code.org);
    CHECK(parsed->sequence == row.code.sequence);
    CHECK(parsed->type == row.code.type);
  }
}

TEST_CASE("incident code parsing rejects malformed codes") {
  const char* bad[] = {
      "",
      "TR",
      "TR-",
      "tr-ACME-00042-M",
      "TR-acme-00042-M",
      "TR--00042-M",
      "TR-ACME-0042-M",
      "TR-ACME-00042-",
      "TR-ACME-00042-X",
      "TR-ACME-00042-m",
      "TR-ACME-00042-MM",
      "TR-ACME-000042-M",
      "TR-ACME-0004a-M",
      "TR-ACME-1234567890-M",
      "TR-ACME-00042",
      "TR-AC-ME-00042-M",
      " TR-ACME-00042-M",
      "TR-ACME-00042-M ",
      "TR-ABCDEFGHIJKLMNOPQ-00042-M",
  };
  for (const char* text : bad) {
    INFO("code '" << text << "'");
    Result<IncidentCode> parsed = ParseIncidentCode(text, "incident");
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().code() == StatusCode::kInvalidArgument);
    CHECK(parsed.status().field() == "incident");
    CHECK(parsed.status().message().find("TR-<ORG>-<NNNNN>-<T>") != std::string::npos);
  }
}

TEST_CASE("organisation code validation") {
  CHECK(ValidateOrgCode("ACME").ok());
  CHECK(ValidateOrgCode("A").ok());
  CHECK(ValidateOrgCode("ABCDEFGHIJKLMNOP").ok());
  const char* bad[] = {"", "acme", "AC-ME", "AC ME", "ABCDEFGHIJKLMNOPQ", "ÄCME"};
  for (const char* org : bad) {
    INFO("org '" << org << "'");
    Status s = ValidateOrgCode(org, "organisation");
    CHECK_FALSE(s.ok());
    CHECK(s.field() == "organisation");
  }
}

TEST_CASE("identifier classification") {
  struct Row {
    std::string identifier;
    IdentifierKind kind;
  };
  const Row rows[] = {
      {std::string(64, 'a'), IdentifierKind::kSha256},
      {"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", IdentifierKind::kSha256},
      {std::string(32, '0'), IdentifierKind::kMd5},
      {std::string(63, 'a'), IdentifierKind::kMessageId},
      {std::string(64, 'g'), IdentifierKind::kMessageId},
      {"<abc@example.com>", IdentifierKind::kMessageId},
      {"", IdentifierKind::kMessageId},
  };
  for (const Row& row : rows) {
    INFO("identifier " << row.identifier);
    CHECK(ClassifyIdentifier(row.identifier) == row.kind);
  }
}

TEST_CASE("message counts follow statuses") {
  std::vector<MessageRow> rows(7);
  rows[0].status = MessageStatus::kRemoved;
  rows[1].status = MessageStatus::kRemoved;
  rows[2].status = MessageStatus::kFailed;
  rows[3].status = MessageStatus::kRestored;
  rows[4].status = MessageStatus::kIdentified;
  rows[5].status = MessageStatus::kRemoved;
  rows[6].status = MessageStatus::kFailed;
  MessageCounts counts = CountMessages(rows);
  CHECK(counts.identified == 7);
  CHECK(counts.removed == 3);
  CHECK(counts.failed == 2);
  CHECK(counts.restored == 1);
  CHECK(CountMessages({}).identified == 0);
}

TEST_CASE("failure display text") {
  MessageRow row;
  CHECK(FailureDisplay(row).empty());
  row.failure = FailureReason::kNoConnectionForUser;
  CHECK(FailureDisplay(row) == "No connection for the user.");
  row.failure = FailureReason::kOther;
  row.failure_detail = "read timed out after 30 s";
  CHECK(FailureDisplay(row) == "read timed out after 30 s");
}
