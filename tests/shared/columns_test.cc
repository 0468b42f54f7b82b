#include "shared/columns.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace reclaim {
namespace {

struct IncidentColumnCase {
  IncidentColumn column;
  const char* display;
  const char* api;
};

struct MessageColumnCase {
  MessageColumn column;
  const char* display;
  const char* api;
};

// Written out by hand from the console's column headers, in enum order.
const IncidentColumnCase kIncidentCases[] = {
    {IncidentColumn::kCode, "Incident ID", "code"},
    {IncidentColumn::kType, "Type", "type"},
    {IncidentColumn::kCreated, "Date Created", "create"},
    {IncidentColumn::kModified, "Last Updated", "modified"},
    {IncidentColumn::kIdentifier, "File Hash / Message ID", "identifier"},
    {IncidentColumn::kReason, "Reason", "reason"},
    {IncidentColumn::kIdentified, "Identified Messages", "identified"},
    {IncidentColumn::kRemoved, "Removed Messages", "removed"},
    {IncidentColumn::kFailed, "Failed Messages", "failed"},
    {IncidentColumn::kRestored, "Restored Messages", "restored"},
};

const MessageColumnCase kMessageCases[] = {
    {MessageColumn::kRecipient, "Recipient", "recipient"},
    {MessageColumn::kSender, "Sender", "sender"},
    {MessageColumn::kSubject, "Subject", "subject"},
    {MessageColumn::kDelivered, "Delivered", "delivered"},
    {MessageColumn::kMailbox, "Mailbox", "mailbox"},
    {MessageColumn::kFolder, "Folder", "folder"},
    {MessageColumn::kMovedTo, "Moved To", "movedTo"},
    {MessageColumn::kStatus, "Status", "status"},
    {MessageColumn::kFailureReason, "Failure Reason", "failureReason"},
    {MessageColumn::kLastAction, "Last Action", "lastAction"},
};

TEST_CASE("incident column names") {
  for (const IncidentColumnCase& c : kIncidentCases) {
    INFO("column index ", static_cast<int>(c.column), ", expected api name ", c.api);
    CHECK(DisplayName(c.column) == c.display);
    CHECK(ApiName(c.column) == c.api);
    const auto parsed = IncidentColumnFromApiName(c.api);
    REQUIRE(parsed.has_value());
    CHECK(*parsed == c.column);
  }
}

TEST_CASE("message column names") {
  for (const MessageColumnCase& c : kMessageCases) {
    INFO("column index ", static_cast<int>(c.column), ", expected api name ", c.api);
    CHECK(DisplayName(c.column) == c.display);
    CHECK(ApiName(c.column) == c.api);
    const auto parsed = MessageColumnFromApiName(c.api);
    REQUIRE(parsed.has_value());
    CHECK(*parsed == c.column);
  }
}

TEST_CASE("column lists in enum order") {
  const std::vector<IncidentColumn> incident_columns = AllIncidentColumns();
  REQUIRE(incident_columns.size() == std::size(kIncidentCases));
  for (size_t i = 0; i < incident_columns.size(); ++i) {
    INFO("position ", i);
    CHECK(incident_columns[i] == kIncidentCases[i].column);
  }

  const std::vector<MessageColumn> message_columns = AllMessageColumns();
  REQUIRE(message_columns.size() == std::size(kMessageCases));
  for (size_t i = 0; i < message_columns.size(); ++i) {
    INFO("position ", i);
    CHECK(message_columns[i] == kMessageCases[i].column);
  }
}

TEST_CASE("column api names reject near misses") {
  // Display names, other case, padding and the other enum's names are not API names.
  const std::string kRejected[] = {"",          "Code",         "CODE",           " code",
                                   "code ",     "Date Created", "created",        "Incident ID",
                                   "moved_to",  "movedto",      "failure_reason", "FailureReason",
                                   "recipients"};
  for (const std::string& name : kRejected) {
    INFO("name \"", name, "\"");
    CHECK_FALSE(IncidentColumnFromApiName(name).has_value());
    CHECK_FALSE(MessageColumnFromApiName(name).has_value());
  }

  // Each enum's names belong to that enum only.
  CHECK_FALSE(IncidentColumnFromApiName("recipient").has_value());
  CHECK_FALSE(MessageColumnFromApiName("identifier").has_value());
}

TEST_CASE("column out of range has empty names") {
  const auto bad_incident = static_cast<IncidentColumn>(kIncidentColumnCount);
  const auto bad_message = static_cast<MessageColumn>(200);
  CHECK(DisplayName(bad_incident).empty());
  CHECK(ApiName(bad_incident).empty());
  CHECK(DisplayName(bad_message).empty());
  CHECK(ApiName(bad_message).empty());
}

}  // namespace
}  // namespace reclaim
