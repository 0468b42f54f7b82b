#include "shared/columns.h"

#include <iterator>

namespace reclaim {
namespace {

template <typename Column>
struct ColumnNames {
  Column column;
  std::string_view display;
  std::string_view api;
};

// Each table lists its enum's values in declaration order, so a column's
// value is its index. The static_asserts below catch a missing, extra or
// misplaced entry when the enum changes.
constexpr ColumnNames<IncidentColumn> kIncidentColumnNames[] = {
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

constexpr ColumnNames<MessageColumn> kMessageColumnNames[] = {
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

template <typename Column, size_t N>
constexpr bool IsInEnumOrder(const ColumnNames<Column> (&table)[N]) {
  for (size_t i = 0; i < N; ++i) {
    if (static_cast<size_t>(table[i].column) != i)
      return false;
  }
  return true;
}

static_assert(std::size(kIncidentColumnNames) == kIncidentColumnCount,
              "kIncidentColumnNames needs one entry per IncidentColumn");
static_assert(static_cast<int>(IncidentColumn::kRestored) + 1 == kIncidentColumnCount,
              "kIncidentColumnCount must match the last IncidentColumn");
static_assert(IsInEnumOrder(kIncidentColumnNames), "kIncidentColumnNames is out of enum order");

static_assert(std::size(kMessageColumnNames) == kMessageColumnCount,
              "kMessageColumnNames needs one entry per MessageColumn");
static_assert(static_cast<int>(MessageColumn::kLastAction) + 1 == kMessageColumnCount,
              "kMessageColumnCount must match the last MessageColumn");
static_assert(IsInEnumOrder(kMessageColumnNames), "kMessageColumnNames is out of enum order");

// Out-of-range values (a bad cast) get an empty name, not undefined behaviour.
template <typename Column, size_t N>
const ColumnNames<Column>* FindByColumn(const ColumnNames<Column> (&table)[N], Column column) {
  const auto index = static_cast<size_t>(column);
  return index < N ? &table[index] : nullptr;
}

template <typename Column, size_t N>
std::optional<Column> FindByApiName(const ColumnNames<Column> (&table)[N], std::string_view name) {
  for (const ColumnNames<Column>& entry : table) {
    if (entry.api == name)
      return entry.column;
  }
  return std::nullopt;
}

template <typename Column, size_t N>
std::vector<Column> ListColumns(const ColumnNames<Column> (&table)[N]) {
  std::vector<Column> columns;
  columns.reserve(N);
  for (const ColumnNames<Column>& entry : table)
    columns.push_back(entry.column);
  return columns;
}

}  // namespace

std::string_view DisplayName(IncidentColumn column) {
  const auto* entry = FindByColumn(kIncidentColumnNames, column);
  return entry ? entry->display : std::string_view();
}

std::string_view ApiName(IncidentColumn column) {
  const auto* entry = FindByColumn(kIncidentColumnNames, column);
  return entry ? entry->api : std::string_view();
}

std::optional<IncidentColumn> IncidentColumnFromApiName(std::string_view name) {
  return FindByApiName(kIncidentColumnNames, name);
}

std::vector<IncidentColumn> AllIncidentColumns() {
  return ListColumns(kIncidentColumnNames);
}

std::string_view DisplayName(MessageColumn column) {
  const auto* entry = FindByColumn(kMessageColumnNames, column);
  return entry ? entry->display : std::string_view();
}

std::string_view ApiName(MessageColumn column) {
  const auto* entry = FindByColumn(kMessageColumnNames, column);
  return entry ? entry->api : std::string_view();
}

std::optional<MessageColumn> MessageColumnFromApiName(std::string_view name) {
  return FindByApiName(kMessageColumnNames, name);
}

std::vector<MessageColumn> AllMessageColumns() {
  return ListColumns(kMessageColumnNames);
}

}  // namespace reclaim
