// Header text to UTF-8: unfolding (RFC 5322), encoded-words (RFC 2047) and
// charset conversion.
//
// The decoder is written for the damage seen in real mail, which GMime 3.2's
// own decoder handles differently: an encoded-word in an unknown charset is
// kept as written and reported, where GMime silently reads it as ASCII.
// Thread-safe once GMime is initialised (InitMimeParser), because each
// thread keeps its own iconv descriptors. Nothing here throws, except
// std::bad_alloc.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reclaim {

// Joins folded lines (a CR LF or LF followed by a space or tab loses the
// line break and keeps the space) and drops any line break at the end.
std::string UnfoldHeaderValue(std::string_view raw);

// Converts `bytes` from `charset` to UTF-8. Charset names are resolved with
// GMime's alias table (so "latin1" and "ks_c_5601-1987" work). Bytes that are
// invalid in the charset become U+FFFD. Returns nothing when the charset is
// unknown to iconv.
std::optional<std::string> ConvertToUtf8(std::string_view bytes, std::string_view charset);

// Returns true when ConvertToUtf8 accepts `charset`, without converting.
bool IsConvertibleToUtf8(std::string_view charset);

// Opens a conversion to UTF-8 from each charset common in mail and keeps it
// open for the life of the process, so that glibc keeps their gconv modules
// loaded. glibc 2.36 unloads a module soon after its last descriptor closes,
// and GMime 3.2.13 opens and closes a descriptor for each piece of header
// text it decodes, so without this most messages in such a charset would
// load its module again. InitMimeParser() calls it, and later calls do
// nothing.
void KeepCommonCharsetsLoaded();

// Returns `text` when it is valid UTF-8, and otherwise reads it as
// windows-1252 (the usual charset of unlabelled 8-bit header text) and sets
// `*converted`.
std::string EnsureUtf8(std::string_view text, bool* converted);

// Decodes unfolded header text to UTF-8. Encoded-words are decoded wherever
// they start, even glued to the text before them. Adjacent encoded-words in
// one charset are joined as bytes before conversion, so a character split
// across two words survives, and whitespace between adjacent encoded-words
// is dropped. An encoded-word in an unknown charset, or whose base64 is
// broken, stays as written. Each problem adds a sentence to `warnings`,
// which names `field`.
std::string DecodeHeaderText(std::string_view unfolded, std::string_view field,
                             std::vector<std::string>& warnings);

}  // namespace reclaim
