#include "sync-server/mailbox/imap_protocol.h"

#include <algorithm>
#include <limits>

namespace reclaim {
namespace {

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

bool IsStatusName(std::string_view upper_name) {
  return upper_name == "OK" || upper_name == "NO" || upper_name == "BAD" || upper_name == "BYE" ||
         upper_name == "PREAUTH";
}

// Parses a decimal number of 1 to 10 digits that fits in uint32_t.
bool ParseUint32(std::string_view digits, uint32_t& value) {
  if (digits.empty() || digits.size() > 10) {
    return false;
  }
  uint64_t total = 0;
  for (char c : digits) {
    if (!IsDigit(c)) {
      return false;
    }
    total = total * 10 + static_cast<uint64_t>(c - '0');
  }
  if (total > std::numeric_limits<uint32_t>::max()) {
    return false;
  }
  value = static_cast<uint32_t>(total);
  return true;
}

// When the line that ends just before `line_end` (the index of its '\n')
// ends with a literal length `{N}` or `{N+}`, stores N and returns true.
bool LiteralLengthAtLineEnd(std::string_view buffer, size_t line_end, size_t& length) {
  size_t end = line_end;
  if (end > 0 && buffer[end - 1] == '\r') {
    --end;
  }
  if (end == 0 || buffer[end - 1] != '}') {
    return false;
  }
  size_t digits_end = end - 1;
  if (digits_end > 0 && buffer[digits_end - 1] == '+') {
    --digits_end;  // LITERAL+ form, which servers do not send but which parses the same
  }
  size_t open = digits_end;
  while (open > 0 && IsDigit(buffer[open - 1])) {
    --open;
  }
  if (open == 0 || buffer[open - 1] != '{' || open == digits_end || digits_end - open > 12) {
    return false;
  }
  length = 0;
  for (size_t i = open; i < digits_end; ++i) {
    length = length * 10 + static_cast<size_t>(buffer[i] - '0');
  }
  return true;
}

// Returns whether the first line of a response (from its start to the
// '\n') is a status or continuation response, which carries no literals.
bool IsStatusLine(std::string_view line) {
  const size_t tag_end = line.find(' ');
  if (tag_end == std::string_view::npos) {
    return true;  // a bare tag or `+`: nothing can follow on later lines
  }
  if (line.substr(0, tag_end) == "+") {
    return true;
  }
  std::string_view rest = line.substr(tag_end + 1);
  const size_t word_end = rest.find_first_of(" \r\n");
  return IsStatusName(ImapUpperCase(rest.substr(0, word_end)));
}

// A read position in one raw response, for ParseImapResponse().
class ResponseCursor {
 public:
  explicit ResponseCursor(std::string_view raw) : raw_(raw) {}

  bool AtEnd() const { return pos_ >= raw_.size(); }
  char Peek() const { return AtEnd() ? '\0' : raw_[pos_]; }
  bool AtLineEnd() const { return Peek() == '\r' || Peek() == '\n'; }

  void SkipSpaces() {
    while (Peek() == ' ') {
      ++pos_;
    }
  }

  // Consumes CRLF (or a bare LF) and returns whether one was there.
  bool ConsumeLineEnd() {
    if (Peek() == '\r') {
      ++pos_;
    }
    if (Peek() != '\n') {
      return false;
    }
    ++pos_;
    return true;
  }

  // Returns the text up to the next space or line end.
  std::string_view Word() {
    const size_t start = pos_;
    while (!AtEnd() && Peek() != ' ' && !AtLineEnd()) {
      ++pos_;
    }
    return raw_.substr(start, pos_ - start);
  }

  // Returns the rest of the current line, without its line end.
  std::string_view RestOfLine() {
    const size_t start = pos_;
    while (!AtEnd() && !AtLineEnd()) {
      ++pos_;
    }
    return raw_.substr(start, pos_ - start);
  }

  Result<ImapValue> Value(int depth);

 private:
  Result<ImapValue> List(int depth);
  Result<ImapValue> Quoted();
  Result<ImapValue> Literal();
  Result<ImapValue> Atom();

  std::string_view raw_;
  size_t pos_ = 0;
};

Status Malformed(std::string_view problem) {
  return Status::Internal("malformed IMAP response: " + std::string(problem));
}

Result<ImapValue> ResponseCursor::Value(int depth) {
  if (depth > 64) {
    return Malformed("lists nested deeper than 64 levels");
  }
  switch (Peek()) {
    case '(':
      return List(depth);
    case '"':
      return Quoted();
    case '{':
      return Literal();
    default:
      return Atom();
  }
}

Result<ImapValue> ResponseCursor::List(int depth) {
  ImapValue list;
  list.kind = ImapValue::Kind::kList;
  ++pos_;  // '('
  while (true) {
    SkipSpaces();
    if (Peek() == ')') {
      ++pos_;
      return list;
    }
    if (AtEnd() || AtLineEnd()) {
      return Malformed("unclosed list");
    }
    Result<ImapValue> item = Value(depth + 1);
    if (!item.ok()) {
      return item.status();
    }
    list.items.push_back(std::move(item).value());
  }
}

Result<ImapValue> ResponseCursor::Quoted() {
  ImapValue value;
  value.kind = ImapValue::Kind::kString;
  ++pos_;  // opening quote
  while (!AtEnd() && !AtLineEnd()) {
    char c = raw_[pos_++];
    if (c == '"') {
      return value;
    }
    if (c == '\\') {
      if (AtEnd()) {
        break;
      }
      c = raw_[pos_++];
    }
    value.text += c;
  }
  return Malformed("unclosed quoted string");
}

Result<ImapValue> ResponseCursor::Literal() {
  const size_t close = raw_.find('}', pos_);
  if (close == std::string_view::npos) {
    return Malformed("unclosed literal length");
  }
  std::string_view digits = raw_.substr(pos_ + 1, close - pos_ - 1);
  if (!digits.empty() && digits.back() == '+') {
    digits.remove_suffix(1);
  }
  uint32_t length = 0;
  if (!ParseUint32(digits, length)) {
    return Malformed("invalid literal length {" + std::string(digits) + "}");
  }
  pos_ = close + 1;
  if (!ConsumeLineEnd()) {
    return Malformed("literal length not followed by a line end");
  }
  if (raw_.size() - pos_ < length) {
    return Malformed("literal shorter than its length");
  }
  ImapValue value;
  value.kind = ImapValue::Kind::kString;
  value.text.assign(raw_.substr(pos_, length));
  pos_ += length;
  return value;
}

// Reads an atom. Brackets are part of the atom and may enclose spaces and
// lists, as in `BODY[HEADER.FIELDS (MESSAGE-ID)]`.
Result<ImapValue> ResponseCursor::Atom() {
  const size_t start = pos_;
  int brackets = 0;
  while (!AtEnd() && !AtLineEnd()) {
    const char c = Peek();
    if (brackets == 0 && (c == ' ' || c == '(' || c == ')')) {
      break;
    }
    if (c == '[') {
      ++brackets;
    } else if (c == ']' && brackets > 0) {
      --brackets;
    }
    ++pos_;
  }
  if (brackets != 0) {
    return Malformed("unclosed '[' in an atom");
  }
  if (pos_ == start) {
    return Malformed(std::string("unexpected character '") + Peek() + "'");
  }
  ImapValue value;
  value.text.assign(raw_.substr(start, pos_ - start));
  value.kind = ImapUpperCase(value.text) == "NIL" ? ImapValue::Kind::kNil : ImapValue::Kind::kAtom;
  if (value.kind == ImapValue::Kind::kNil) {
    value.text.clear();
  }
  return value;
}

// Parses the `[code] text` part of a status response.
void ParseResponseText(ResponseCursor& cursor, ImapResponse& response) {
  cursor.SkipSpaces();
  std::string_view rest = cursor.RestOfLine();
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close != std::string_view::npos) {
      response.code.assign(rest.substr(1, close - 1));
      rest.remove_prefix(close + 1);
      while (!rest.empty() && rest.front() == ' ') {
        rest.remove_prefix(1);
      }
    }
  }
  response.text.assign(rest);
}

Status ParseDataValues(ResponseCursor& cursor, ImapResponse& response) {
  while (true) {
    cursor.SkipSpaces();
    if (cursor.AtLineEnd()) {
      cursor.ConsumeLineEnd();
      if (!cursor.AtEnd()) {
        return Malformed("bytes after the end of the response");
      }
      return Status::Ok();
    }
    if (cursor.AtEnd()) {
      return Malformed("response without a line end");
    }
    Result<ImapValue> value = cursor.Value(0);
    if (!value.ok()) {
      return value.status();
    }
    response.values.push_back(std::move(value).value());
  }
}

// Decodes the UTF-8 sequence at text[pos], advancing pos. Returns false for
// invalid UTF-8 (overlong forms, surrogates and values above U+10FFFF).
bool DecodeUtf8(std::string_view text, size_t& pos, uint32_t& code_point) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(pos);
  size_t length = 0;
  uint32_t minimum = 0;
  if (lead < 0x80) {
    code_point = lead;
    ++pos;
    return true;
  } else if ((lead & 0xe0) == 0xc0) {
    length = 2, code_point = lead & 0x1f, minimum = 0x80;
  } else if ((lead & 0xf0) == 0xe0) {
    length = 3, code_point = lead & 0x0f, minimum = 0x800;
  } else if ((lead & 0xf8) == 0xf0) {
    length = 4, code_point = lead & 0x07, minimum = 0x10000;
  } else {
    return false;
  }
  if (pos + length > text.size()) {
    return false;
  }
  for (size_t i = 1; i < length; ++i) {
    if ((byte(pos + i) & 0xc0) != 0x80) {
      return false;
    }
    code_point = (code_point << 6) | (byte(pos + i) & 0x3f);
  }
  if (code_point < minimum || code_point > 0x10ffff ||
      (code_point >= 0xd800 && code_point <= 0xdfff)) {
    return false;
  }
  pos += length;
  return true;
}

void AppendUtf8(uint32_t code_point, std::string& out) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xc0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3f));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xe0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (code_point & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (code_point & 0x3f));
  }
}

// Appends `&<modified base64 of the UTF-16BE units>-`.
void AppendShiftedRun(const std::vector<uint16_t>& units, std::string& out) {
  std::string bytes;
  for (uint16_t unit : units) {
    bytes += static_cast<char>(unit >> 8);
    bytes += static_cast<char>(unit & 0xff);
  }
  out += '&';
  uint32_t bits = 0;
  int bit_count = 0;
  for (unsigned char b : bytes) {
    bits = (bits << 8) | b;
    bit_count += 8;
    while (bit_count >= 6) {
      bit_count -= 6;
      out += kBase64Alphabet[(bits >> bit_count) & 0x3f];
    }
  }
  if (bit_count > 0) {
    out += kBase64Alphabet[(bits << (6 - bit_count)) & 0x3f];
  }
  out += '-';
}

// Decodes the modified base64 between '&' and '-' into UTF-8.
bool DecodeShiftedRun(std::string_view run, std::string& out) {
  std::vector<uint16_t> units;
  uint32_t bits = 0;
  int bit_count = 0;
  std::string bytes;
  for (char c : run) {
    const char* found = std::char_traits<char>::find(kBase64Alphabet, 64, c);
    if (found == nullptr) {
      return false;
    }
    bits = (bits << 6) | static_cast<uint32_t>(found - kBase64Alphabet);
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      bytes += static_cast<char>((bits >> bit_count) & 0xff);
    }
  }
  // Leftover bits are padding and must be zero (RFC 2152).
  if (bytes.empty() || bytes.size() % 2 != 0 || (bits & ((1u << bit_count) - 1)) != 0) {
    return false;
  }
  for (size_t i = 0; i < bytes.size(); i += 2) {
    units.push_back(static_cast<uint16_t>((static_cast<unsigned char>(bytes[i]) << 8) |
                                          static_cast<unsigned char>(bytes[i + 1])));
  }
  for (size_t i = 0; i < units.size(); ++i) {
    uint32_t code_point = units[i];
    if (code_point >= 0xd800 && code_point <= 0xdbff) {
      if (i + 1 >= units.size() || units[i + 1] < 0xdc00 || units[i + 1] > 0xdfff) {
        return false;
      }
      code_point = 0x10000 + ((code_point - 0xd800) << 10) + (units[++i] - 0xdc00);
    } else if (code_point >= 0xdc00 && code_point <= 0xdfff) {
      return false;
    }
    // Printable ASCII must be written directly, so an encoder never shifts it.
    if (code_point >= 0x20 && code_point <= 0x7e) {
      return false;
    }
    AppendUtf8(code_point, out);
  }
  return true;
}

}  // namespace

bool ImapResponse::IsStatus() const {
  return tag != "+" && !has_number && IsStatusName(name);
}

ImapResponseReader::ImapResponseReader(size_t max_response_bytes)
    : max_response_bytes_(max_response_bytes) {}

void ImapResponseReader::Append(std::string_view bytes) {
  // Drops consumed responses once they fill half the buffer, so that many
  // small responses cost linear time.
  if (start_ > 0 && start_ >= buffer_.size() / 2) {
    buffer_.erase(0, start_);
    scan_ -= start_;
    start_ = 0;
  }
  buffer_.append(bytes);
}

void ImapResponseReader::Clear() {
  buffer_.clear();
  start_ = 0;
  scan_ = 0;
  first_line_seen_ = false;
  status_line_ = false;
}

Result<bool> ImapResponseReader::Next(std::string& raw) {
  while (scan_ <= buffer_.size()) {
    const size_t line_end = buffer_.find('\n', scan_);
    if (line_end == std::string::npos) {
      scan_ = buffer_.size();
      break;
    }
    if (!first_line_seen_) {
      first_line_seen_ = true;
      status_line_ = IsStatusLine(std::string_view(buffer_).substr(start_, line_end + 1 - start_));
    }
    size_t literal_length = 0;
    if (!status_line_ && LiteralLengthAtLineEnd(buffer_, line_end, literal_length)) {
      if (literal_length > max_response_bytes_) {
        return Status::Internal("IMAP literal of " + std::to_string(literal_length) +
                                " bytes is larger than the maximum of " +
                                std::to_string(max_response_bytes_) + " bytes per response");
      }
      scan_ = line_end + 1 + literal_length;
      continue;
    }
    raw.assign(buffer_, start_, line_end + 1 - start_);
    start_ = line_end + 1;
    scan_ = start_;
    first_line_seen_ = false;
    status_line_ = false;
    return true;
  }
  if (buffer_.size() - start_ > max_response_bytes_) {
    return Status::Internal("IMAP response is larger than the maximum of " +
                            std::to_string(max_response_bytes_) + " bytes");
  }
  return false;
}

Result<ImapResponse> ParseImapResponse(std::string_view raw) {
  ResponseCursor cursor(raw);
  ImapResponse response;
  response.tag.assign(cursor.Word());
  if (response.tag.empty()) {
    return Malformed("empty tag");
  }

  if (response.tag == "+") {
    cursor.SkipSpaces();
    response.text.assign(cursor.RestOfLine());
    return response;
  }

  cursor.SkipSpaces();
  std::string_view word = cursor.Word();
  if (!word.empty() && IsDigit(word.front())) {
    if (!ParseUint32(word, response.number)) {
      return Malformed("invalid message number '" + std::string(word) + "'");
    }
    response.has_number = true;
    cursor.SkipSpaces();
    word = cursor.Word();
  }
  if (word.empty()) {
    return Malformed("missing response name after '" + response.tag + "'");
  }

  response.name = ImapUpperCase(word);
  if (response.IsStatus()) {
    ParseResponseText(cursor, response);
    return response;
  }
  Status parsed = ParseDataValues(cursor, response);
  if (!parsed.ok()) {
    return parsed;
  }
  return response;
}

Result<std::string> QuoteImapString(std::string_view text, const std::string& field) {
  std::string quoted = "\"";
  for (char c : text) {
    const unsigned char byte = static_cast<unsigned char>(c);
    if (byte == 0 || c == '\r' || c == '\n' || byte > 0x7f) {
      return Status::Invalid(field, "'" + std::string(text) +
                                        "' contains NUL, CR, LF or a non-ASCII byte, which an "
                                        "IMAP quoted string cannot carry");
    }
    if (c == '"' || c == '\\') {
      quoted += '\\';
    }
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

Result<std::string> EncodeMailboxName(std::string_view utf8, const std::string& field) {
  std::string out;
  std::vector<uint16_t> run;  // UTF-16 units of the pending non-ASCII run
  size_t pos = 0;
  while (pos < utf8.size()) {
    uint32_t code_point = 0;
    if (!DecodeUtf8(utf8, pos, code_point)) {
      return Status::Invalid(field, "folder name '" + std::string(utf8) + "' is not valid UTF-8");
    }
    if (code_point < 0x20 || code_point == 0x7f) {
      return Status::Invalid(
          field, "folder name '" + std::string(utf8) + "' contains a control character");
    }
    if (code_point <= 0x7e) {
      if (!run.empty()) {
        AppendShiftedRun(run, out);
        run.clear();
      }
      out += code_point == '&' ? std::string("&-") : std::string(1, static_cast<char>(code_point));
      continue;
    }
    if (code_point >= 0x10000) {
      const uint32_t offset = code_point - 0x10000;
      run.push_back(static_cast<uint16_t>(0xd800 + (offset >> 10)));
      run.push_back(static_cast<uint16_t>(0xdc00 + (offset & 0x3ff)));
    } else {
      run.push_back(static_cast<uint16_t>(code_point));
    }
  }
  if (!run.empty()) {
    AppendShiftedRun(run, out);
  }
  return out;
}

Result<std::string> DecodeMailboxName(std::string_view encoded) {
  std::string out;
  size_t pos = 0;
  while (pos < encoded.size()) {
    const char c = encoded[pos];
    if (c != '&') {
      out += c;
      ++pos;
      continue;
    }
    const size_t end = encoded.find('-', pos + 1);
    if (end == std::string_view::npos) {
      return Status::Internal("mailbox name '" + std::string(encoded) +
                              "' has an unterminated modified UTF-7 run");
    }
    if (end == pos + 1) {
      out += '&';
    } else if (!DecodeShiftedRun(encoded.substr(pos + 1, end - pos - 1), out)) {
      return Status::Internal("mailbox name '" + std::string(encoded) +
                              "' is not valid modified UTF-7");
    }
    pos = end + 1;
  }
  return out;
}

Result<std::vector<uint32_t>> ParseUidSet(std::string_view set, size_t max_uids) {
  std::vector<uint32_t> uids;
  const auto invalid = [&]() {
    return Status::Internal("invalid UID set '" + std::string(set) + "'");
  };
  size_t start = 0;
  while (start <= set.size()) {
    size_t comma = set.find(',', start);
    if (comma == std::string_view::npos) {
      comma = set.size();
    }
    const std::string_view part = set.substr(start, comma - start);
    const size_t colon = part.find(':');
    uint32_t first = 0;
    uint32_t last = 0;
    if (!ParseUint32(part.substr(0, colon), first) || first == 0) {
      return invalid();
    }
    last = first;
    if (colon != std::string_view::npos &&
        (!ParseUint32(part.substr(colon + 1), last) || last == 0)) {
      return invalid();
    }
    if (first > last) {
      std::swap(first, last);
    }
    if (uids.size() + (static_cast<uint64_t>(last) - first + 1) > max_uids) {
      return Status::Internal("UID set '" + std::string(set) + "' lists more than " +
                              std::to_string(max_uids) + " UIDs");
    }
    for (uint64_t uid = first; uid <= last; ++uid) {
      uids.push_back(static_cast<uint32_t>(uid));
    }
    start = comma + 1;
  }
  return uids;
}

uint32_t CopyUid::DestinationOf(uint32_t source_uid) const {
  for (const auto& [source, destination] : pairs) {
    if (source == source_uid) {
      return destination;
    }
  }
  return 0;
}

Result<CopyUid> ParseCopyUid(std::string_view code) {
  const std::string original(code);
  if (!code.empty() && code.front() == '[') {
    code.remove_prefix(1);
    if (code.empty() || code.back() != ']') {
      return Status::Internal("COPYUID code '" + original + "' has no closing bracket");
    }
    code.remove_suffix(1);
  }

  std::vector<std::string_view> words;
  size_t start = 0;
  while (start < code.size()) {
    size_t space = code.find(' ', start);
    if (space == std::string_view::npos) {
      space = code.size();
    }
    if (space > start) {
      words.push_back(code.substr(start, space - start));
    }
    start = space + 1;
  }

  CopyUid result;
  if (words.size() != 4 || ImapUpperCase(words[0]) != "COPYUID" ||
      !ParseUint32(words[1], result.uid_validity) || result.uid_validity == 0) {
    return Status::Internal("'" + original +
                            "' is not a COPYUID code (COPYUID <uidvalidity> <set> <set>)");
  }

  Result<std::vector<uint32_t>> sources = ParseUidSet(words[2]);
  Result<std::vector<uint32_t>> destinations = ParseUidSet(words[3]);
  if (!sources.ok()) {
    return sources.status();
  }
  if (!destinations.ok()) {
    return destinations.status();
  }
  if (sources->size() != destinations->size()) {
    return Status::Internal("COPYUID code '" + original + "' lists " +
                            std::to_string(sources->size()) + " source UIDs but " +
                            std::to_string(destinations->size()) + " destination UIDs");
  }

  for (size_t i = 0; i < sources->size(); ++i) {
    result.pairs.emplace_back((*sources)[i], (*destinations)[i]);
  }
  return result;
}

std::string ImapUpperCase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
    }
  }
  return out;
}

bool IsInboxName(std::string_view name) {
  return ImapUpperCase(name) == "INBOX";
}

uint32_t ParseImapUid(std::string_view text) {
  uint32_t uid = 0;
  return ParseUint32(text, uid) ? uid : 0;
}

std::string FormatUidSet(const std::vector<uint32_t>& uids) {
  std::string set;
  for (uint32_t uid : uids) {
    if (!set.empty()) {
      set += ',';
    }
    set += std::to_string(uid);
  }
  return set;
}

std::string JoinImapFlags(const ImapValue& flag_list) {
  std::string flags;
  for (const ImapValue& flag : flag_list.items) {
    if (flag.kind != ImapValue::Kind::kAtom || ImapUpperCase(flag.text) == "\\RECENT") {
      continue;
    }
    if (!flags.empty()) {
      flags += ' ';
    }
    flags += flag.text;
  }
  return flags;
}

std::map<std::string, const ImapValue*> FetchItems(const ImapResponse& response) {
  std::map<std::string, const ImapValue*> items;
  if (response.values.empty() || response.values[0].kind != ImapValue::Kind::kList) {
    return items;
  }
  const std::vector<ImapValue>& list = response.values[0].items;
  for (size_t i = 0; i + 1 < list.size(); i += 2) {
    items[ImapUpperCase(list[i].text)] = &list[i + 1];
  }
  return items;
}

uint32_t FetchUid(const std::map<std::string, const ImapValue*>& items) {
  auto found = items.find("UID");
  if (found == items.end() || found->second->kind != ImapValue::Kind::kAtom) {
    return 0;
  }
  return ParseImapUid(found->second->text);
}

}  // namespace reclaim
