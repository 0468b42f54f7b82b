// The columns of the incident queue and of one incident's message list, with
// their display names (console headers, CSV headers) and API names (query
// parameters, column choices).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace reclaim {

enum class IncidentColumn : uint8_t {
  kCode,
  kType,
  kCreated,
  kModified,
  kIdentifier,
  kReason,
  kIdentified,
  kRemoved,
  kFailed,
  kRestored,
};
constexpr int kIncidentColumnCount = 10;
std::string_view DisplayName(IncidentColumn column);  // "Date Created"
std::string_view ApiName(IncidentColumn column);      // "create"
std::optional<IncidentColumn> IncidentColumnFromApiName(std::string_view name);
std::vector<IncidentColumn> AllIncidentColumns();

enum class MessageColumn : uint8_t {
  kRecipient,
  kSender,
  kSubject,
  kDelivered,
  kMailbox,
  kFolder,
  kMovedTo,
  kStatus,
  kFailureReason,
  kLastAction,
};
constexpr int kMessageColumnCount = 10;
std::string_view DisplayName(MessageColumn column);  // "Failure Reason"
std::string_view ApiName(MessageColumn column);      // "failureReason"
std::optional<MessageColumn> MessageColumnFromApiName(std::string_view name);
std::vector<MessageColumn> AllMessageColumns();

}  // namespace reclaim
