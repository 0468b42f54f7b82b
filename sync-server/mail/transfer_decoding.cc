#include "sync-server/mail/transfer_decoding.h"

#include <array>

#include <cstdint>

namespace reclaim {
namespace {

bool IsSpaceOrTab(char c) {
  return c == ' ' || c == '\t';
}

bool IsWhitespace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
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

std::string ToLower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = ToLowerAscii(c);
  return out;
}

// Digit values of the base64 alphabet, -1 for every other byte. A table,
// because the decoder looks up every byte of every attachment.
constexpr std::array<int8_t, 256> MakeBase64Table() {
  std::array<int8_t, 256> table{};
  for (int i = 0; i < 256; ++i) table[i] = -1;
  for (int i = 0; i < 26; ++i) {
    table['A' + i] = static_cast<int8_t>(i);
    table['a' + i] = static_cast<int8_t>(26 + i);
  }
  for (int i = 0; i < 10; ++i) table['0' + i] = static_cast<int8_t>(52 + i);
  table['+'] = 62;
  table['/'] = 63;
  return table;
}
constexpr std::array<int8_t, 256> kBase64Digits = MakeBase64Table();

// The digit values again, shifted to their place in a group of four digits
// (the first digit carries bits 23..18, the last bits 5..0), and with bit 31
// set for every byte outside the alphabet. ORing the entries of four bytes
// gives the group's 24 bits, or a value with bit 31 set when any byte is no
// digit, without a branch per byte.
constexpr uint32_t kNotADigit = 0x80000000u;
using PlacedDigitTable = std::array<std::array<uint32_t, 256>, 4>;
constexpr PlacedDigitTable MakePlacedDigitTable() {
  PlacedDigitTable table{};
  for (int position = 0; position < 4; ++position) {
    for (int c = 0; c < 256; ++c) {
      const int digit = kBase64Digits[c];
      table[position][c] =
          digit < 0 ? kNotADigit : static_cast<uint32_t>(digit) << (18 - 6 * position);
    }
  }
  return table;
}
constexpr PlacedDigitTable kPlacedDigits = MakePlacedDigitTable();

int Base64Digit(char c) { return kBase64Digits[static_cast<unsigned char>(c)]; }

int HexDigit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

// Appends the bytes of a group of 2 or 3 base64 digits, which carry 1 or 2
// bytes. The low bits left over are padding.
void AppendPartialGroup(uint32_t group, int digit_count, std::string& out) {
  if (digit_count == 2) {
    out += static_cast<char>((group >> 4) & 0xff);
  } else if (digit_count == 3) {
    out += static_cast<char>((group >> 10) & 0xff);
    out += static_cast<char>((group >> 2) & 0xff);
  }
}

// Splits `text` into lines without their CR LF or LF.
std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos)
      end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

// Returns the file name of a `begin <mode> <name>` line, or an empty view
// when the line is not one. The mode is 3 or 4 octal digits.
std::string_view UuencodeBeginName(std::string_view line) {
  constexpr std::string_view kBegin = "begin";
  if (line.substr(0, kBegin.size()) != kBegin)
    return {};
  size_t i = kBegin.size();
  if (i >= line.size() || !IsSpaceOrTab(line[i]))
    return {};
  while (i < line.size() && IsSpaceOrTab(line[i]))
    ++i;
  const size_t mode_start = i;
  while (i < line.size() && line[i] >= '0' && line[i] <= '7')
    ++i;
  const size_t mode_length = i - mode_start;
  if (mode_length < 3 || mode_length > 4 || i >= line.size() || !IsSpaceOrTab(line[i]))
    return {};
  return Trim(line.substr(i));
}

bool IsUuencodeEndLine(std::string_view line) {
  return Trim(line) == "end";
}

// Decodes one uuencoded data line into `out`. The first character gives the
// byte count, and each further character carries 6 bits as (c - 0x20) & 0x3f.
// Characters missing at the end count as spaces (zero bits), because
// transport often strips trailing spaces. Python's binascii.a2b_uu does the
// same. Returns false for a line with characters outside 0x20..0x60, which
// is not uuencode.
bool DecodeUuencodeLine(std::string_view line, std::string& out) {
  if (line.empty())
    return true;  // some encoders write the final zero-length line as empty
  for (char c : line) {
    if (c < 0x20 || c > 0x60)
      return false;
  }
  const auto value_of = [](char c) { return static_cast<uint32_t>(c - 0x20) & 0x3f; };
  const size_t byte_count = value_of(line[0]);
  const std::string_view data = line.substr(1);
  size_t written = 0;
  for (size_t i = 0; written < byte_count; i += 4) {
    uint32_t group = 0;
    for (size_t k = 0; k < 4; ++k)
      group = group << 6 | (i + k < data.size() ? value_of(data[i + k]) : 0);
    for (int shift = 16; shift >= 0 && written < byte_count; shift -= 8, ++written)
      out += static_cast<char>((group >> shift) & 0xff);
  }
  return true;
}

}  // namespace

TransferEncoding ParseTransferEncoding(std::string_view field_value) {
  const std::string value = ToLower(Trim(field_value));
  if (value.empty() || value == "7bit" || value == "8bit" || value == "binary")
    return TransferEncoding::kIdentity;
  if (value == "base64")
    return TransferEncoding::kBase64;
  if (value == "quoted-printable")
    return TransferEncoding::kQuotedPrintable;
  if (value == "x-uuencode" || value == "uuencode" || value == "x-uue")
    return TransferEncoding::kUuencode;
  return TransferEncoding::kUnknown;
}

DecodedBody DecodeBase64(std::string_view text) {
  DecodedBody result;
  result.bytes.reserve(text.size() / 4 * 3);
  uint32_t group = 0;
  int group_length = 0;
  size_t digit_count = 0;
  size_t skipped_count = 0;
  bool padded = false;
  size_t i = 0;

  // Step 1: decode groups of 4 digits up to the end or the first padding.
  // Whole groups are written by index into a buffer sized for the
  // worst case, because appending byte by byte was most of the parse time.
  std::string& out = result.bytes;
  out.resize(text.size() / 4 * 3 + 3);
  size_t written = 0;
  for (; i < text.size() && !padded; ++i) {
    // Fast path: at a group start, take four digits at once while they
    // come in a row, as they do between the line breaks of nearly every
    // body. Anything else goes one character at a time below, with the same
    // result.
    if (group_length == 0) {
      const auto* in = reinterpret_cast<const unsigned char*>(text.data());
      char* data = out.data();
      while (i + 4 <= text.size()) {
        const uint32_t whole = kPlacedDigits[0][in[i]] | kPlacedDigits[1][in[i + 1]] |
                               kPlacedDigits[2][in[i + 2]] | kPlacedDigits[3][in[i + 3]];
        if ((whole & kNotADigit) != 0)
          break;
        data[written] = static_cast<char>((whole >> 16) & 0xff);
        data[written + 1] = static_cast<char>((whole >> 8) & 0xff);
        data[written + 2] = static_cast<char>(whole & 0xff);
        written += 3;
        digit_count += 4;
        i += 4;
      }
      if (i == text.size())
        break;
    }
    const char c = text[i];
    const int fast_digit = Base64Digit(c);
    if (fast_digit >= 0) {
      ++digit_count;
      group = group << 6 | static_cast<uint32_t>(fast_digit);
      if (++group_length == 4) {
        out[written] = static_cast<char>((group >> 16) & 0xff);
        out[written + 1] = static_cast<char>((group >> 8) & 0xff);
        out[written + 2] = static_cast<char>(group & 0xff);
        written += 3;
        group = 0;
        group_length = 0;
      }
      continue;
    }
    if (IsWhitespace(c))
      continue;
    if (c == '=') {
      if (group_length >= 2) {
        out.resize(written);
        AppendPartialGroup(group, group_length, out);
        written = out.size();
        group_length = 0;
        padded = true;
      } else if (group_length == 1) {
        ++skipped_count;  // one digit cannot be padded to a byte
      }
      // At a group start '=' is surplus padding ("QUJD=="), which mailers
      // write and decoders ignore.
      continue;
    }
    ++skipped_count;
  }
  out.resize(written);

  // Step 2: judge what is left over.
  if (digit_count == 0 && skipped_count > 0) {
    result.bytes.clear();
    result.decodable = false;
    result.warnings.push_back("base64 body has no base64 digits");
    return result;
  }
  if (group_length == 1) {
    result.bytes.clear();
    result.decodable = false;
    result.warnings.push_back("base64 body ends with a single digit, which encodes no byte");
    return result;
  }
  if (group_length > 1) {
    AppendPartialGroup(group, group_length, result.bytes);
    result.warnings.push_back("base64 padding is missing");
  }
  if (skipped_count > 0) {
    result.warnings.push_back("skipped " + std::to_string(skipped_count) +
                              " characters outside the base64 alphabet");
  }
  size_t ignored_count = 0;
  for (; i < text.size(); ++i) {
    if (!IsWhitespace(text[i]) && text[i] != '=')
      ++ignored_count;
  }
  result.skipped_characters = skipped_count + ignored_count;
  if (ignored_count > 0) {
    result.warnings.push_back("ignored " + std::to_string(ignored_count) +
                              " characters after the base64 padding");
  }
  return result;
}

std::string DecodeQuotedPrintable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '=') {
      out += c;
      continue;
    }

    // A soft line break is '=' at the end of a line, where transport may
    // have added spaces after it.
    size_t next = i + 1;
    while (next < text.size() && IsSpaceOrTab(text[next]))
      ++next;
    if (next == text.size() || text[next] == '\n') {
      i = next;
      continue;
    }
    if (text[next] == '\r' && next + 1 < text.size() && text[next + 1] == '\n') {
      i = next + 1;
      continue;
    }

    const int high = i + 1 < text.size() ? HexDigit(text[i + 1]) : -1;
    const int low = i + 2 < text.size() ? HexDigit(text[i + 2]) : -1;
    if (high >= 0 && low >= 0) {
      out += static_cast<char>(high << 4 | low);
      i += 2;
    } else {
      out += '=';
    }
  }
  return out;
}

DecodedBody DecodeTransferEncoding(std::string_view body, std::string_view field_value) {
  DecodedBody result;
  switch (ParseTransferEncoding(field_value)) {
    case TransferEncoding::kIdentity:
      result.bytes = std::string(body);
      return result;
    case TransferEncoding::kBase64:
      return DecodeBase64(body);
    case TransferEncoding::kQuotedPrintable:
      result.bytes = DecodeQuotedPrintable(body);
      return result;
    case TransferEncoding::kUuencode: {
      std::vector<UuencodedFile> files = FindUuencodedFiles(body);
      if (files.empty()) {
        result.decodable = false;
        result.warnings.push_back("uuencoded body has no begin line");
        return result;
      }
      return std::move(files.front().body);
    }
    case TransferEncoding::kUnknown:
      break;
  }
  // Python 3.11's email package and GMime 3.2 also keep the bytes of an
  // unknown encoding, so the digests match theirs.
  result.bytes = std::string(body);
  result.warnings.push_back("unknown Content-Transfer-Encoding \"" +
                            std::string(Trim(field_value)) + "\", so the body was used as it is");
  return result;
}

std::vector<UuencodedFile> FindUuencodedFiles(std::string_view text) {
  std::vector<UuencodedFile> files;
  // Every text/plain body is searched, and almost none has a begin line,
  // so a body without the word is not split into lines at all.
  if (text.find("begin") == std::string_view::npos)
    return files;
  const std::vector<std::string_view> lines = SplitLines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string_view name = UuencodeBeginName(lines[i]);
    if (name.empty())
      continue;

    UuencodedFile file;
    file.name = std::string(name);
    bool ended = false;
    for (++i; i < lines.size(); ++i) {
      if (IsUuencodeEndLine(lines[i])) {
        ended = true;
        break;
      }
      if (!DecodeUuencodeLine(lines[i], file.body.bytes)) {
        file.body.bytes.clear();
        file.body.decodable = false;
        file.body.warnings.push_back("uuencoded file \"" + file.name +
                                     "\" has a line that is not uuencode");
        break;
      }
    }
    if (!ended && file.body.decodable) {
      file.body.warnings.push_back(
          "uuencoded file \"" + file.name +
          "\" has no end line, so it was decoded up to the end of the text");
    }
    files.push_back(std::move(file));
  }
  return files;
}

}  // namespace reclaim
