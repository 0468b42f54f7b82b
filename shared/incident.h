// The incident model: types, message statuses, failure reasons, incident
// codes and the records exchanged between the server and the client.
//
// Every displayed enum has one name table in incident.cc whose size is
// checked against the enum at compile time.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shared/status.h"
#include "shared/time_util.h"

namespace reclaim {

enum class IncidentType : uint8_t {
  kManual,
  kAutomatic,
  kRestore,
  kNotifyOnly,
  kMepClawback,
};
constexpr int kIncidentTypeCount = 5;
constexpr std::array<IncidentType, kIncidentTypeCount> kAllIncidentTypes = {
    IncidentType::kManual, IncidentType::kAutomatic, IncidentType::kRestore,
    IncidentType::kNotifyOnly, IncidentType::kMepClawback};

// "Manual", "Notify Only", ... as shown in the console.
std::string_view DisplayName(IncidentType type);
// "manual", "notify_only", ... as used in JSON and query parameters.
std::string_view ApiName(IncidentType type);
// 'M', 'A', 'R', 'N', 'C': the last part of an incident code.
char CodeLetter(IncidentType type);
std::optional<IncidentType> IncidentTypeFromApiName(std::string_view name);
std::optional<IncidentType> IncidentTypeFromCodeLetter(char letter);

// A set of incident types as a bit mask (bit i is type i).
using TypeMask = uint8_t;
constexpr TypeMask kAllTypesMask = (1u << kIncidentTypeCount) - 1;
constexpr TypeMask TypeBit(IncidentType type) {
  return static_cast<TypeMask>(1u << static_cast<unsigned>(type));
}

// State of one recipient's copy within an incident.
enum class MessageStatus : uint8_t {
  kIdentified,
  kRemoved,
  kFailed,
  kRestored,
};
constexpr int kMessageStatusCount = 4;
std::string_view ApiName(MessageStatus status);
std::string_view DisplayName(MessageStatus status);
std::optional<MessageStatus> MessageStatusFromApiName(std::string_view name);

// Reason a copy could not be acted on. kOther carries its own text in
// MessageRow::failure_detail (a timeout, an I/O error).
enum class FailureReason : uint8_t {
  kNone,
  kNotFoundInMailbox,
  kNotRestored,
  kNoRecipientAddress,
  kNoConnectionsConfigured,
  kNoConnectionForUser,
  kOther,
};
constexpr int kFailureReasonCount = 7;
// The exact text shown to administrators, for example
// "Message was not found in mailbox.". Empty for kNone and kOther.
std::string_view FailureText(FailureReason reason);
// Maps an exact failure text back to its reason; any other non-empty text is
// kOther and an empty text is kNone.
FailureReason FailureReasonFromText(std::string_view text);

// Incident code `TR-<ORG>-<NNNNN>-<T>`. ORG is 1 to 16 upper-case letters or
// digits; the sequence number is written with at least five digits.
struct IncidentCode {
  std::string org;
  uint32_t sequence = 0;
  IncidentType type = IncidentType::kManual;
};
constexpr size_t kMaxOrgLength = 16;
constexpr uint32_t kMaxSequence = 999999999;

std::string FormatIncidentCode(const IncidentCode& code);
// Rejects anything not of the exact form above, naming `field` in the error.
Result<IncidentCode> ParseIncidentCode(std::string_view text, const std::string& field = "code");
// Checks an organisation code on its own (configuration, settings API).
Status ValidateOrgCode(std::string_view org, const std::string& field = "org");

// Search criteria of a remediation: the identifier and optional narrowing.
struct SearchCriteria {
  std::string identifier;  // SHA-256 (64 hex), MD5 (32 hex) or <message-id>
  std::string from;        // sender address, empty when not given
  std::string to;          // recipient address, empty when not given
  UnixSeconds start = 0;   // delivery window, start inclusive
  UnixSeconds end = 0;     // delivery window, end inclusive
};

enum class IdentifierKind : uint8_t { kSha256, kMd5, kMessageId };
// Classifies an identifier: 64 hex digits are a SHA-256, 32 an MD5, and
// anything else is taken as a Message-ID.
IdentifierKind ClassifyIdentifier(std::string_view identifier);

struct MessageCounts {
  uint32_t identified = 0;
  uint32_t removed = 0;
  uint32_t failed = 0;
  uint32_t restored = 0;
};

struct Incident {
  std::string id;  // opaque, stable, used in URLs
  IncidentCode code;
  UnixSeconds created = 0;
  UnixSeconds modified = 0;
  std::string reason;
  MessageCounts counts;
  SearchCriteria criteria;
  std::string restores;  // for Restore incidents, the code of the original
};

// One recipient's copy of the message an incident acts on.
struct MessageRow {
  std::string id;  // opaque, stable within the incident
  std::string recipient;
  std::string sender;
  std::string subject;
  UnixSeconds delivered = 0;
  std::string mailbox;   // where the copy was found (usually the recipient)
  std::string folder;    // folder it was found in
  std::string moved_to;  // folder it was moved to, empty when not moved
  MessageStatus status = MessageStatus::kIdentified;
  FailureReason failure = FailureReason::kNone;
  std::string failure_detail;   // text for FailureReason::kOther
  UnixSeconds last_action = 0;  // 0 when nothing was done yet
};

// The text to show for a row's failure: the exact reason text, or the
// detail for kOther, or empty.
std::string FailureDisplay(const MessageRow& row);

// Recomputes an incident's counts from its message rows: every row counts
// as identified, and each status adds to its own count.
MessageCounts CountMessages(const std::vector<MessageRow>& rows);

}  // namespace reclaim
