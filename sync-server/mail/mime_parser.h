// Parsing of raw RFC 5322 messages for the index, on top of GMime 3.
//
// Malformed mail never fails the parse: what can be read is returned and
// each problem is added to ParsedMessage::warnings.
#pragma once

#include <string_view>

#include "sync-server/mail/parsed_message.h"

namespace reclaim {

// Optional work of ParseMessage, beyond the fields that the index stores.
struct ParseOptions {
  // Fills ParsedMessage::text_body. The index does not store the text, and
  // converting a large HTML body to text can cost more than the rest of the
  // parse, so the index turns this off. The warnings about the body are the
  // same either way.
  bool text_body = true;
  // Lets GMime read the whole body of a message whose top-level part is a
  // leaf (not a multipart or an embedded message). When off, GMime parses
  // only the header block and the start of the body of such a message, and
  // the body is read from `raw` directly. The result is the same without
  // GMime's pass over a large body. Tests turn it on to compare.
  bool scan_leaf_bodies = false;
};

// Parses `raw` (CRLF or LF line ends). Thread-safe, and calls
// InitMimeParser() itself. Does not throw, except std::bad_alloc.
ParsedMessage ParseMessage(std::string_view raw, const ParseOptions& options = {});

// Initialises GMime once per process; safe to call more than once.
void InitMimeParser();

}  // namespace reclaim
