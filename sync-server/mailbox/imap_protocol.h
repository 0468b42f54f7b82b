// IMAP4rev1 wire format (RFC 3501) for the IMAP connector: splitting the
// server's byte stream into responses, parsing them, quoting strings,
// modified UTF-7 mailbox names and the UIDPLUS COPYUID code (RFC 4315).
//
// Everything here is pure: no I/O and no shared state, so every function is
// safe to call from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shared/status.h"

namespace reclaim {

// One value of a data response: an atom (`FETCH`, `\Seen`, `BODY[]`,
// `1:*`), a string (quoted or literal, with its bytes decoded), NIL or a
// parenthesised list.
struct ImapValue {
  enum class Kind { kAtom, kString, kNil, kList };
  Kind kind = Kind::kAtom;
  std::string text;              // atom text or string bytes
  std::vector<ImapValue> items;  // list elements
};

// One server response.
//   tagged status:     `R0001 OK [COPYUID 9 4 7] Copy completed`
//   untagged status:   `* OK [UIDVALIDITY 9] UIDs valid`, `* BYE ...`
//   untagged data:     `* 4 FETCH (UID 7 FLAGS (\Seen))`, `* SEARCH 2 3`
//   continuation:      `+ OK`
struct ImapResponse {
  std::string tag;                // "*", "+" or the command tag
  bool has_number = false;        // true for `* 4 EXISTS` and `* 4 FETCH ...`
  uint32_t number = 0;            // the 4 above
  std::string name;               // upper case: OK, NO, BAD, BYE, PREAUTH, FETCH, SEARCH, ...
  std::string code;               // status responses: the response code without brackets
  std::string text;               // status and continuation responses: the text for people
  std::vector<ImapValue> values;  // data responses: the values after the name

  bool IsStatus() const;
};

// Splits the bytes a server sends into complete responses. A response ends
// at the CRLF that follows its last literal. Status responses never contain
// literals (RFC 3501 resp-text), so a `{5}` at the end of their text is text.
// Because literals are skipped by their byte count, a message body line such
// as `R0005 OK` is never read as a response.
class ImapResponseReader {
 public:
  // `max_response_bytes` bounds one response, literals included.
  explicit ImapResponseReader(size_t max_response_bytes);

  void Append(std::string_view bytes);

  // Moves the next complete response into `raw` and returns true, or returns
  // false when more bytes are needed. Errors (kInternal): a malformed literal
  // length or a response above the bound.
  Result<bool> Next(std::string& raw);

  void Clear();

  // Whether no byte of a response is waiting, as between two commands.
  bool empty() const { return start_ == buffer_.size(); }

 private:
  size_t max_response_bytes_;
  std::string buffer_;
  size_t start_ = 0;              // offset in buffer_ of the current response
  size_t scan_ = 0;               // offset in buffer_ where the search for a line end resumes
  bool first_line_seen_ = false;  // the current response's first line has arrived
  bool status_line_ = false;      // ... and makes it a status or continuation response
};

// Parses one complete response as returned by ImapResponseReader::Next().
// kInternal when it is not valid IMAP.
Result<ImapResponse> ParseImapResponse(std::string_view raw);

// Returns `text` as an IMAP quoted string. kInvalidArgument naming `field`
// when it contains NUL, CR, LF or bytes above 0x7f, which a quoted string
// cannot carry (send those as a literal).
Result<std::string> QuoteImapString(std::string_view text, const std::string& field);

// Encodes one UTF-8 mailbox name in modified UTF-7 (RFC 3501 section
// 5.1.3). kInvalidArgument naming `field` when `utf8` is not valid UTF-8 or
// contains control characters.
Result<std::string> EncodeMailboxName(std::string_view utf8, const std::string& field);

// Decodes a modified UTF-7 mailbox name to UTF-8. kInternal when the server
// sent an invalid encoding.
Result<std::string> DecodeMailboxName(std::string_view encoded);

// Expands a UID set such as `4,7:9` in the order written. Each range is
// ascending, whichever end is written first (RFC 4315 section 4: `4:2` is
// `2,3,4`). kInternal when malformed, when it contains `*` or 0, or when it
// expands to more than `max_uids` UIDs.
Result<std::vector<uint32_t>> ParseUidSet(std::string_view set, size_t max_uids = 100000);

// The COPYUID response code that UIDPLUS servers send after COPY and MOVE.
struct CopyUid {
  uint32_t uid_validity = 0;  // of the destination folder
  // (source UID, destination UID), paired in the order the two sets list them.
  std::vector<std::pair<uint32_t, uint32_t>> pairs;

  // Returns the destination UID of `source_uid`, or 0 when it is not listed.
  uint32_t DestinationOf(uint32_t source_uid) const;
};

// Parses a response code such as `COPYUID 1234 186:187 22:23`, with or
// without the surrounding brackets. kInternal when it is not a COPYUID code,
// a set is malformed, or the two sets differ in size.
Result<CopyUid> ParseCopyUid(std::string_view code);

// Returns `text` with ASCII letters in upper case, for comparing IMAP atoms,
// which are case-insensitive.
std::string ImapUpperCase(std::string_view text);

// Returns whether `name` is INBOX, which IMAP matches case-insensitively.
bool IsInboxName(std::string_view name);

// Returns the UID in `text` (1 to 2^32-1), or 0 when `text` is not exactly
// one such number.
uint32_t ParseImapUid(std::string_view text);

// Returns `uids` as a UID set, for example `3,5,9`.
std::string FormatUidSet(const std::vector<uint32_t>& uids);

// Returns the flags of a FLAGS list as Reclaim stores them (`\Seen \Flagged
// $Label1`), without `\Recent`, which belongs to one session and cannot be
// set or kept by a move.
std::string JoinImapFlags(const ImapValue& flag_list);

// Returns the items of a FETCH response by upper-case name, for example
// "UID", "FLAGS", "BODY[]"; the values point into `response`.
std::map<std::string, const ImapValue*> FetchItems(const ImapResponse& response);

// Returns the UID item of FetchItems(), or 0 when it is missing or invalid.
uint32_t FetchUid(const std::map<std::string, const ImapValue*>& items);

}  // namespace reclaim
