#include "shared/message_id.h"

#include <algorithm>
#include <cstdio>

namespace reclaim {
namespace {

bool IsWhitespace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool IsControl(char c) {
  const unsigned char byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7f;
}

char ToLowerAscii(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsWhitespace(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && IsWhitespace(text.back()))
    text.remove_suffix(1);
  return text;
}

// Removes every line break (CRLF or LF) that is followed by a space or tab,
// which is how RFC 5322 section 2.2.3 unfolds a header field. Other line
// breaks stay and count as whitespace later.
std::string Unfold(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    size_t break_length = 0;
    if (raw[i] == '\n') {
      break_length = 1;
    } else if (raw[i] == '\r' && i + 1 < raw.size() && raw[i + 1] == '\n') {
      break_length = 2;
    }
    const size_t next = i + break_length;
    if (break_length > 0 && next < raw.size() && (raw[next] == ' ' || raw[next] == '\t')) {
      i = next - 1;  // the loop's ++i moves to the space or tab, which stays
      continue;
    }
    out += raw[i];
  }
  return out;
}

// Returns the index just past the comment that opens at text[open]. Comments
// nest, and a backslash quotes the next character, so "\)" does not close
// one. An unclosed comment runs to the end of the text.
size_t SkipComment(std::string_view text, size_t open) {
  int depth = 0;
  for (size_t i = open; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == '(') {
      ++depth;
    } else if (text[i] == ')' && --depth == 0) {
      return i + 1;
    }
  }
  return text.size();
}

// Returns the id without angle brackets. That is the trimmed text inside the
// first <...> outside comments or, when there is no '<', all text outside
// comments minus a stray trailing '>'. Text inside the brackets stays as
// written, so that a malformed id can still be looked up exactly.
std::string ExtractId(std::string_view unfolded) {
  std::string outside;
  for (size_t i = 0; i < unfolded.size();) {
    const char c = unfolded[i];
    if (c == '(') {
      i = SkipComment(unfolded, i);
      continue;
    }
    if (c == '<') {
      // A missing '>' is added, like a missing pair of brackets.
      const size_t close = unfolded.find('>', i + 1);
      const size_t length =
          close == std::string_view::npos ? std::string_view::npos : close - i - 1;
      return std::string(Trim(unfolded.substr(i + 1, length)));
    }
    outside += c;
    ++i;
  }
  std::string_view bare = Trim(outside);
  if (!bare.empty() && bare.back() == '>')
    bare = Trim(bare.substr(0, bare.size() - 1));
  return std::string(bare);
}

// Returns true when the id has exactly one '@' between two non-empty parts
// and no whitespace, control character or angle bracket. Other characters
// that RFC 5322 leaves out of ids are accepted, because they do not affect
// an exact lookup.
bool IsWellFormed(std::string_view id) {
  const bool bad_char = std::any_of(id.begin(), id.end(), [](char c) {
    return IsWhitespace(c) || IsControl(c) || c == '<' || c == '>';
  });
  if (bad_char)
    return false;
  const size_t at = id.find('@');
  if (at == std::string_view::npos || id.find('@', at + 1) != std::string_view::npos)
    return false;
  return at > 0 && at + 1 < id.size();
}

// The text in double quotes with line breaks, tabs and other control
// characters escaped, so an error message stays on one line.
std::string QuoteForMessage(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (IsControl(c)) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", static_cast<unsigned char>(c));
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

Result<MessageId> NormalizeMessageId(std::string_view raw, const std::string& field) {
  const std::string id = ExtractId(Unfold(raw));
  if (id.empty()) {
    return Status::Invalid(field, "Message-ID " + QuoteForMessage(raw) +
                                      " is empty; expected an id of the form <left@right>, for "
                                      "example <20240306.0001@mail.example.org>");
  }
  MessageId result;
  result.value = "<" + id + ">";
  result.malformed = !IsWellFormed(id);
  return result;
}

std::string MessageIdKey(const MessageId& id) {
  // A malformed id has no reliable right part, so it is its own key.
  if (id.malformed)
    return id.value;
  std::string key = id.value;
  const size_t at = key.find('@');
  if (at == std::string::npos)
    return key;
  // Only ASCII letters are folded, so UTF-8 bytes of an internationalised
  // domain stay as they are.
  std::transform(key.begin() + at + 1, key.end(), key.begin() + at + 1, ToLowerAscii);
  return key;
}

bool MessageIdsEqual(const MessageId& a, const MessageId& b) {
  return MessageIdKey(a) == MessageIdKey(b);
}

}  // namespace reclaim
