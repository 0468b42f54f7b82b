#include "sync-server/mail/transfer_decoding.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace reclaim {
namespace {

// Escapes line breaks, tabs and non-printable bytes so that INFO shows them.
std::string Visible(std::string_view text) {
  std::string out;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (byte < 0x20 || byte >= 0x7f) {
      static constexpr char kHexDigits[] = "0123456789abcdef";
      out += "\\x";
      out += kHexDigits[byte >> 4];
      out += kHexDigits[byte & 0x0f];
    } else {
      out += c;
    }
  }
  return out;
}

bool HasWarningContaining(const DecodedBody& body, std::string_view text) {
  for (const std::string& warning : body.warnings) {
    if (warning.find(text) != std::string::npos)
      return true;
  }
  return false;
}

TEST_CASE("ParseTransferEncoding trims and ignores case") {
  struct EncodingCase {
    const char* value;
    TransferEncoding expected;
  };
  const EncodingCase cases[] = {
      {"base64", TransferEncoding::kBase64},
      {"Base64  ", TransferEncoding::kBase64},
      {" BASE64\t\r\n", TransferEncoding::kBase64},
      {"quoted-printable", TransferEncoding::kQuotedPrintable},
      {"Quoted-Printable ", TransferEncoding::kQuotedPrintable},
      {"7bit", TransferEncoding::kIdentity},
      {"8BIT", TransferEncoding::kIdentity},
      {"binary", TransferEncoding::kIdentity},
      {"", TransferEncoding::kIdentity},
      {"x-uuencode", TransferEncoding::kUuencode},
      {"X-UUE", TransferEncoding::kUuencode},
      {"8bit+", TransferEncoding::kUnknown},
      {"base-64", TransferEncoding::kUnknown},
  };
  for (const EncodingCase& test : cases) {
    INFO("value: \"" << Visible(test.value) << "\"");
    CHECK(ParseTransferEncoding(test.value) == test.expected);
  }
}

TEST_CASE("DecodeBase64 tolerates damage") {
  struct Base64Case {
    const char* text;
    const char* expected;
    bool padding_warning;
    size_t skipped;
  };
  const Base64Case cases[] = {
      {"QUJD", "ABC", false, 0},
      {"QUI=", "AB", false, 0},
      {"QUI", "AB", true, 0},
      {"QQ", "A", true, 0},
      {" Q U\r\nJ D ", "ABC", false, 0},
      {"QUJD\n   RA", "ABCD", true, 0},
      {"QUJD==", "ABC", false, 0},
      {"QU*JD", "ABC", false, 1},
      {"QQ==QkI=", "A", false, 3},
      {"", "", false, 0},
      {"\r\n  \r\n", "", false, 0},
  };
  for (const Base64Case& test : cases) {
    INFO("text: \"" << Visible(test.text) << "\"");
    const DecodedBody body = DecodeBase64(test.text);
    CHECK(body.decodable);
    CHECK(Visible(body.bytes) == Visible(test.expected));
    CHECK(HasWarningContaining(body, "padding is missing") == test.padding_warning);
    CHECK(body.skipped_characters == test.skipped);
  }
}

TEST_CASE("DecodeBase64 rejects undecodable text") {
  const char* const cases[] = {"QUJDR", "Q", "***", "-----\r\n"};
  for (const char* text : cases) {
    INFO("text: \"" << Visible(text) << "\"");
    const DecodedBody body = DecodeBase64(text);
    CHECK_FALSE(body.decodable);
    CHECK(body.bytes.empty());
    CHECK_FALSE(body.warnings.empty());
  }
}

TEST_CASE("DecodeBase64 decodes every byte value") {
  std::string all_bytes;
  for (int value = 0; value < 256; ++value)
    all_bytes += static_cast<char>(value);
  // The base64 form of bytes 0..255, as printed by `base64 -w0`.
  const char* encoded =
      "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4"
      "OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3Bx"
      "cnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmq"
      "q6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj"
      "5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/w==";
  const DecodedBody body = DecodeBase64(encoded);
  CHECK(body.decodable);
  CHECK(body.warnings.empty());
  CHECK(body.bytes == all_bytes);
}

// Returns the base64 form of `bytes` with padding and no line breaks.
std::string EncodeBase64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t group = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (i + 1 < bytes.size())
      group |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    if (i + 2 < bytes.size())
      group |= static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(group >> 18) & 0x3f];
    out += kAlphabet[(group >> 12) & 0x3f];
    out += i + 1 < bytes.size() ? kAlphabet[(group >> 6) & 0x3f] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[group & 0x3f] : '=';
  }
  return out;
}

// Splits `text` into lines of `width` characters, each ended by `line_end`.
std::string WrapLines(std::string_view text, size_t width, std::string_view line_end) {
  std::string out;
  for (size_t i = 0; i < text.size(); i += width) {
    out += text.substr(i, width);
    out += line_end;
  }
  return out;
}

TEST_CASE("DecodeBase64 long bodies") {
  std::string bytes;
  for (int i = 0; i < 1000; ++i)
    bytes += static_cast<char>((i * 37 + i / 3) & 0xff);
  const std::string encoded = EncodeBase64(bytes);  // 1336 characters, ending in "=="
  REQUIRE(encoded.size() == 1336);

  struct LongCase {
    const char* name;
    std::string text;
    size_t skipped;
    bool padding_warning;
  };
  std::string stray_in_group = WrapLines(encoded, 76, "\r\n");
  stray_in_group.insert(101, "*");  // inside a group of the second line
  std::string spaces_in_groups = encoded;
  spaces_in_groups.insert(203, "\r\n");
  spaces_in_groups.insert(50, " ");
  const LongCase cases[] = {
      {"CRLF every 76", WrapLines(encoded, 76, "\r\n"), 0, false},
      {"LF every 64", WrapLines(encoded, 64, "\n"), 0, false},
      {"one line", encoded, 0, false},
      {"stray byte inside a group", stray_in_group, 1, false},
      {"whitespace inside groups", spaces_in_groups, 0, false},
      {"padding cut", encoded.substr(0, encoded.size() - 2), 0, true},
  };
  for (const LongCase& test : cases) {
    INFO("case: " << test.name);
    const DecodedBody body = DecodeBase64(test.text);
    CHECK(body.decodable);
    CHECK(body.bytes == bytes);
    CHECK(body.skipped_characters == test.skipped);
    CHECK(HasWarningContaining(body, "padding is missing") == test.padding_warning);
  }
}

TEST_CASE("DecodeQuotedPrintable cases") {
  struct QuotedPrintableCase {
    const char* text;
    const char* expected;
  };
  const QuotedPrintableCase cases[] = {
      {"caf=C3=A9", "caf\xC3\xA9"},
      {"a=3db", "a=b"},
      {"soft=\r\nbreak", "softbreak"},
      {"soft=\nbreak", "softbreak"},
      {"soft=  \r\nbreak", "softbreak"},
      {"keep =ZZ and =4", "keep =ZZ and =4"},
      {"trailing  \r\nspace", "trailing  \r\nspace"},
      {"end=", "end"},
  };
  for (const QuotedPrintableCase& test : cases) {
    INFO("text: \"" << Visible(test.text) << "\"");
    CHECK(Visible(DecodeQuotedPrintable(test.text)) == Visible(test.expected));
  }
}

TEST_CASE("DecodeTransferEncoding dispatch") {
  SUBCASE("base64 with odd field value") {
    const DecodedBody body = DecodeTransferEncoding("SGk=", "Base64  ");
    CHECK(body.bytes == "Hi");
  }
  SUBCASE("identity keeps bytes") {
    const DecodedBody body = DecodeTransferEncoding("a=3Db\r\n", "7bit");
    CHECK(body.bytes == "a=3Db\r\n");
    CHECK(body.warnings.empty());
  }
  SUBCASE("unknown value keeps bytes with a warning") {
    const DecodedBody body = DecodeTransferEncoding("raw", "8bit+");
    CHECK(body.decodable);
    CHECK(body.bytes == "raw");
    CHECK(HasWarningContaining(body, "\"8bit+\""));
  }
  SUBCASE("x-uuencode body") {
    const DecodedBody body =
        DecodeTransferEncoding("begin 644 hi.txt\n#2&DA\n`\nend\n", "x-uuencode");
    CHECK(body.decodable);
    CHECK(body.bytes == "Hi!");
  }
  SUBCASE("x-uuencode without begin line") {
    const DecodedBody body = DecodeTransferEncoding("#2&DA\n", "x-uuencode");
    CHECK_FALSE(body.decodable);
  }
}

TEST_CASE("FindUuencodedFiles finds blocks") {
  // Data lines are Python's binascii.b2a_uu output for the expected bytes.
  const std::string text =
      "Hello,\r\n"
      "begin here with the attached tool.\r\n"
      "begin 644\r\n"
      "begin 644 abc.txt\r\n"
      "#86)C\r\n"
      "`\r\n"
      "end\r\n"
      "between\r\n"
      "begin 0600 name with spaces.bin\r\n"
      "#\r\n"  // "#    " with its trailing spaces stripped: three zero bytes
      "end\r\n";
  const std::vector<UuencodedFile> files = FindUuencodedFiles(text);
  REQUIRE(files.size() == 2);
  CHECK(files[0].name == "abc.txt");
  CHECK(files[0].body.decodable);
  CHECK(files[0].body.bytes == "abc");
  CHECK(files[0].body.warnings.empty());
  CHECK(files[1].name == "name with spaces.bin");
  CHECK(files[1].body.bytes == std::string(3, '\0'));
}

TEST_CASE("FindUuencodedFiles damaged blocks") {
  SUBCASE("no end line") {
    const std::vector<UuencodedFile> files = FindUuencodedFiles("begin 644 cut.bin\n#86)C\n");
    REQUIRE(files.size() == 1);
    CHECK(files[0].body.decodable);
    CHECK(files[0].body.bytes == "abc");
    CHECK(HasWarningContaining(files[0].body, "no end line"));
  }
  SUBCASE("prose inside the block") {
    const std::vector<UuencodedFile> files =
        FindUuencodedFiles("begin 644 bad.bin\n#86)C\nRegards, the sender\nend\n");
    REQUIRE(files.size() == 1);
    CHECK_FALSE(files[0].body.decodable);
    CHECK(files[0].body.bytes.empty());
  }
  SUBCASE("mode with too many digits") {
    CHECK(FindUuencodedFiles("begin 64444 x.bin\n#86)C\nend\n").empty());
  }
}

}  // namespace
}  // namespace reclaim
