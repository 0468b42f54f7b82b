// Message-ID normalisation and comparison (RFC 5322 msg-id).
//
// Raw header values arrive folded, padded, with comments, with or without
// angle brackets. Normalisation unfolds the value, drops CFWS around the id
// and adds missing brackets, so that the stored form is `<left@right>`.
// Two ids are equal when the left parts match exactly and the right parts
// match case-insensitively (the right part is usually a domain).
#pragma once

#include <string>
#include <string_view>

#include "shared/status.h"

namespace reclaim {

struct MessageId {
  std::string value;       // `<left@right>`; when malformed, the id as written, in brackets
  bool malformed = false;  // not exactly one `@`, spaces inside, empty part, ...
};

// Normalises a header value or a lookup typed by a person. An empty value
// (blank, `<>`, only a comment) is an error naming `field`: remediation by
// an empty id would otherwise match every message without one.
Result<MessageId> NormalizeMessageId(std::string_view raw, const std::string& field = "messageId");

// Key for exact index lookup: the normalised id with its right part lower
// cased. A malformed id is its own key, unchanged. Two ids are equal exactly
// when their keys are equal.
std::string MessageIdKey(const MessageId& id);

// Compares two normalised ids by the rule above.
bool MessageIdsEqual(const MessageId& a, const MessageId& b);

}  // namespace reclaim
