#include "shared/incident.h"

#include <cstdio>
#include <iterator>

namespace reclaim {
namespace {

struct TypeNames {
  IncidentType type;
  char letter;
  std::string_view display;
  std::string_view api;
};
constexpr TypeNames kTypeNames[] = {
    {IncidentType::kManual, 'M', "Manual", "manual"},
    {IncidentType::kAutomatic, 'A', "Automatic", "automatic"},
    {IncidentType::kRestore, 'R', "Restore", "restore"},
    {IncidentType::kNotifyOnly, 'N', "Notify Only", "notify_only"},
    {IncidentType::kMepClawback, 'C', "MEP Clawback", "mep_clawback"},
};
static_assert(std::size(kTypeNames) == kIncidentTypeCount, "one name row per incident type");

struct StatusNames {
  MessageStatus status;
  std::string_view display;
  std::string_view api;
};
constexpr StatusNames kStatusNames[] = {
    {MessageStatus::kIdentified, "Identified", "identified"},
    {MessageStatus::kRemoved, "Removed", "removed"},
    {MessageStatus::kFailed, "Failed", "failed"},
    {MessageStatus::kRestored, "Restored", "restored"},
};
static_assert(std::size(kStatusNames) == kMessageStatusCount, "one name row per status");

struct FailureTexts {
  FailureReason reason;
  std::string_view text;
};
constexpr FailureTexts kFailureTexts[] = {
    {FailureReason::kNone, ""},
    {FailureReason::kNotFoundInMailbox, "Message was not found in mailbox."},
    {FailureReason::kNotRestored, "Message was not restored."},
    {FailureReason::kNoRecipientAddress, "No recipient address was found on the email."},
    {FailureReason::kNoConnectionsConfigured, "No connections are configured for the mailbox."},
    {FailureReason::kNoConnectionForUser, "No connection for the user."},
    {FailureReason::kOther, ""},
};
static_assert(std::size(kFailureTexts) == kFailureReasonCount, "one text row per reason");

// The tables are indexed by the enum value; this checks the rows are in order.
constexpr bool TablesInEnumOrder() {
  for (size_t i = 0; i < std::size(kTypeNames); ++i) {
    if (static_cast<size_t>(kTypeNames[i].type) != i)
      return false;
  }
  for (size_t i = 0; i < std::size(kStatusNames); ++i) {
    if (static_cast<size_t>(kStatusNames[i].status) != i)
      return false;
  }
  for (size_t i = 0; i < std::size(kFailureTexts); ++i) {
    if (static_cast<size_t>(kFailureTexts[i].reason) != i)
      return false;
  }
  return true;
}
static_assert(TablesInEnumOrder(), "name tables must list the enum values in order");

bool IsOrgChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsHexDigit(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace

std::string_view DisplayName(IncidentType type) {
  return kTypeNames[static_cast<size_t>(type)].display;
}
std::string_view ApiName(IncidentType type) {
  return kTypeNames[static_cast<size_t>(type)].api;
}
char CodeLetter(IncidentType type) {
  return kTypeNames[static_cast<size_t>(type)].letter;
}

std::optional<IncidentType> IncidentTypeFromApiName(std::string_view name) {
  for (const TypeNames& row : kTypeNames) {
    if (row.api == name)
      return row.type;
  }
  return std::nullopt;
}

std::optional<IncidentType> IncidentTypeFromCodeLetter(char letter) {
  for (const TypeNames& row : kTypeNames) {
    if (row.letter == letter)
      return row.type;
  }
  return std::nullopt;
}

std::string_view ApiName(MessageStatus status) {
  return kStatusNames[static_cast<size_t>(status)].api;
}
std::string_view DisplayName(MessageStatus status) {
  return kStatusNames[static_cast<size_t>(status)].display;
}
std::optional<MessageStatus> MessageStatusFromApiName(std::string_view name) {
  for (const StatusNames& row : kStatusNames) {
    if (row.api == name)
      return row.status;
  }
  return std::nullopt;
}

std::string_view FailureText(FailureReason reason) {
  return kFailureTexts[static_cast<size_t>(reason)].text;
}

FailureReason FailureReasonFromText(std::string_view text) {
  if (text.empty())
    return FailureReason::kNone;
  for (const FailureTexts& row : kFailureTexts) {
    if (!row.text.empty() && row.text == text)
      return row.reason;
  }
  return FailureReason::kOther;
}

std::string FormatIncidentCode(const IncidentCode& code) {
  char digits[16];
  std::snprintf(digits, sizeof digits, "%05u", code.sequence);
  std::string out = "TR-";
  out += code.org;
  out += '-';
  out += digits;
  out += '-';
  out += CodeLetter(code.type);
  return out;
}

Status ValidateOrgCode(std::string_view org, const std::string& field) {
  bool ok = !org.empty() && org.size() <= kMaxOrgLength;
  for (char c : org)
    ok = ok && IsOrgChar(c);
  if (ok)
    return Status::Ok();
  return Status::Invalid(field, "invalid organisation code '" + std::string(org) +
                                    "': use 1 to 16 upper-case letters or digits, like ACME");
}

Result<IncidentCode> ParseIncidentCode(std::string_view text, const std::string& field) {
  auto invalid = [&](const std::string& why) {
    return Status::Invalid(field, "invalid incident code '" + std::string(text) + "': " + why +
                                      "; expected TR-<ORG>-<NNNNN>-<T> such as TR-ACME-00042-M");
  };
  if (text.size() < 3 || text.substr(0, 3) != "TR-")
    return invalid("it must start with TR-");

  // TR- ORG - DIGITS - LETTER, split from both ends because ORG has no dash.
  size_t org_end = text.find('-', 3);
  if (org_end == std::string_view::npos)
    return invalid("the parts are missing");
  size_t letter_dash = text.rfind('-');
  if (letter_dash <= org_end || letter_dash + 2 != text.size()) {
    return invalid("the type letter is missing");
  }
  IncidentCode code;
  code.org = std::string(text.substr(3, org_end - 3));
  if (!ValidateOrgCode(code.org).ok())
    return invalid("the organisation part is not 1 to 16 A-Z/0-9");

  std::string_view digits = text.substr(org_end + 1, letter_dash - org_end - 1);
  if (digits.size() < 5 || digits.size() > 9)
    return invalid("the number must have 5 to 9 digits");
  uint64_t sequence = 0;
  for (char c : digits) {
    if (!IsDigit(c))
      return invalid("the number part has a non-digit");
    sequence = sequence * 10 + static_cast<uint64_t>(c - '0');
  }
  // A longer form than needed (000123456 for 123456) would make two codes
  // for one incident, so only the canonical width is accepted.
  if (digits.size() > 5 && digits[0] == '0')
    return invalid("the number has extra leading zeros");
  code.sequence = static_cast<uint32_t>(sequence);

  std::optional<IncidentType> type = IncidentTypeFromCodeLetter(text.back());
  if (!type)
    return invalid("the type letter must be one of M, A, R, N, C");
  code.type = *type;
  return code;
}

IdentifierKind ClassifyIdentifier(std::string_view identifier) {
  bool all_hex = !identifier.empty();
  for (char c : identifier)
    all_hex = all_hex && IsHexDigit(c);
  if (all_hex && identifier.size() == 64)
    return IdentifierKind::kSha256;
  if (all_hex && identifier.size() == 32)
    return IdentifierKind::kMd5;
  return IdentifierKind::kMessageId;
}

std::string FailureDisplay(const MessageRow& row) {
  if (row.failure == FailureReason::kOther)
    return row.failure_detail;
  return std::string(FailureText(row.failure));
}

MessageCounts CountMessages(const std::vector<MessageRow>& rows) {
  MessageCounts counts;
  for (const MessageRow& row : rows) {
    ++counts.identified;
    switch (row.status) {
      case MessageStatus::kIdentified:
        break;
      case MessageStatus::kRemoved:
        ++counts.removed;
        break;
      case MessageStatus::kFailed:
        ++counts.failed;
        break;
      case MessageStatus::kRestored:
        ++counts.restored;
        break;
    }
  }
  return counts;
}

}  // namespace reclaim
