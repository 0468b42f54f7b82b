// Parsing of raw RFC 5322 messages for the index, on top of GMime 3.
//
// Malformed mail never fails the parse: what can be read is returned and
// each problem is added to ParsedMessage::warnings.
#pragma once

#include <string_view>

#include "sync-server/mail/parsed_message.h"

namespace reclaim {

// Parses `raw` (CRLF or LF line ends). Thread-safe, and calls
// InitMimeParser() itself. Does not throw, except std::bad_alloc.
ParsedMessage ParseMessage(std::string_view raw);

// Initialises GMime once per process; safe to call more than once.
void InitMimeParser();

}  // namespace reclaim
