// Index record of one message: identity, addresses, subject, date
// and every attachment's hashes. Produced by ParseMessage (mime_parser.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shared/time_util.h"

namespace reclaim {

// Source of an attachment's bytes.
enum class AttachmentOrigin : uint8_t {
  kMimePart,         // a MIME leaf part with a filename or a non-text type
  kUuencodedInBody,  // a `begin NNN name` ... `end` block inside a text part
  kEmbeddedMessage,  // the raw bytes of a message/rfc822 part
};

struct Attachment {
  std::string filename;      // decoded (RFC 2231 / RFC 2047), UTF-8, may be empty
  std::string content_type;  // lower case, e.g. "application/pdf"
  uint64_t size = 0;         // decoded size in bytes
  std::string sha256;        // lower-case hex of the decoded bytes
  std::string md5;           // lower-case hex of the decoded bytes
  // 0 at top level, +1 inside each message/rfc822 part. An embedded message
  // itself has the depth of the part that contains it.
  int depth = 0;
  AttachmentOrigin origin = AttachmentOrigin::kMimePart;
  bool undecodable = false;  // the transfer encoding could not be decoded
};

struct ParsedMessage {
  // Primary Message-ID in normalised form (see shared/message_id.h), empty
  // when the message has none or an empty one; then `synthetic_key` is set.
  std::string message_id;
  bool message_id_malformed = false;
  // "sha256:<hex of the raw message>" for messages without a usable
  // Message-ID, so that two of them never share a key.
  std::string synthetic_key;
  // Further ids a lookup must find this message by: a second Message-ID
  // field, and the Message-IDs of messages embedded as message/rfc822.
  std::vector<std::string> alias_ids;
  std::vector<std::string> contained_ids;
  std::string in_reply_to;

  std::string sender;          // address of From (lower-cased domain)
  std::string sender_display;  // From as decoded text
  // Addresses of To, Cc, Delivered-To and X-Original-To in that field order,
  // domains lower-cased, without case-insensitive duplicates.
  std::vector<std::string> recipients;
  std::string subject;      // decoded
  std::string raw_subject;  // as in the header, unfolded, with non-UTF-8 text read as windows-1252
  UnixSeconds date = 0;     // Date header, 0 when missing or unreadable
  uint64_t size = 0;        // raw bytes
  std::vector<Attachment> attachments;
  // The body as UTF-8 plain text, for reading the message: the first
  // text/plain part that is not an attachment, else the first such
  // text/html part with its markup removed. Line ends are LF, trailing
  // whitespace is dropped, and the text is cut at kMaxTextBodyBytes. The
  // index does not store it. Empty for embedded messages.
  std::string text_body;
  bool text_body_truncated = false;  // the body was longer than kMaxTextBodyBytes
  std::vector<std::string> warnings;  // what could not be read, for the index
};

constexpr size_t kMaxTextBodyBytes = 256 * 1024;

}  // namespace reclaim
