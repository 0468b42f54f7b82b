#include "sync-server/mail/encoded_words.h"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sync-server/mail/mime_parser.h"

namespace reclaim {
namespace {

TEST_CASE("UnfoldHeaderValue removes line breaks") {
  CHECK(UnfoldHeaderValue(" a\r\n b\r\n") == " a b");
  CHECK(UnfoldHeaderValue("\r\n\t<id@example.com>\n") == "\t<id@example.com>");
  CHECK(UnfoldHeaderValue("plain") == "plain");
}

TEST_CASE("ConvertToUtf8 charsets") {
  InitMimeParser();
  CHECK(ConvertToUtf8("caf\xE9", "iso-8859-1") == std::optional<std::string>("caf\xC3\xA9"));
  CHECK(ConvertToUtf8("caf\xE9", "latin1") == std::optional<std::string>("caf\xC3\xA9"));
  CHECK(ConvertToUtf8("\x93q\x94", "windows-1252") ==
        std::optional<std::string>("\xE2\x80\x9Cq\xE2\x80\x9D"));
  CHECK(ConvertToUtf8("bad\xFF", "utf-8") == std::optional<std::string>("bad\xEF\xBF\xBD"));
  CHECK_FALSE(ConvertToUtf8("abc", "x-no-such-charset").has_value());
}

TEST_CASE("ConvertToUtf8 starts each call afresh") {
  InitMimeParser();
  // ISO-2022-JP switches to JIS X 0208 with ESC $ B. Text cut before the
  // switch back leaves the converter shifted, and the next call with the
  // same charset must still read ASCII as ASCII.
  const std::string shifted_and_cut = "\x1b$B$3$s";
  CHECK(ConvertToUtf8(shifted_and_cut, "iso-2022-jp") ==
        std::optional<std::string>("\xE3\x81\x93\xE3\x82\x93"));
  CHECK(ConvertToUtf8("abc", "iso-2022-jp") == std::optional<std::string>("abc"));
}

TEST_CASE("ConvertToUtf8 with many charset names") {
  InitMimeParser();
  // 64 spellings of one charset, more than a thread keeps converters for,
  // each converted twice so that evicted names are opened again.
  const std::string name = "windows-1252";
  std::vector<std::string> spellings;
  for (int mask = 0; mask < 64; ++mask) {
    std::string spelling = name;
    int bit = 0;
    for (char& c : spelling) {
      if (c >= 'a' && c <= 'z' && bit < 6 && (mask >> bit++ & 1) != 0)
        c = static_cast<char>(c - 'a' + 'A');
    }
    spellings.push_back(spelling);
  }
  for (int round = 0; round < 2; ++round) {
    for (const std::string& spelling : spellings) {
      INFO("charset: " << spelling << ", round " << round);
      CHECK(ConvertToUtf8("\x93q\x94", spelling) ==
            std::optional<std::string>("\xE2\x80\x9Cq\xE2\x80\x9D"));
    }
  }
}

TEST_CASE("IsConvertibleToUtf8 agrees with ConvertToUtf8") {
  InitMimeParser();
  const std::string_view charsets[] = {"utf-8",
                                       "iso-8859-1",
                                       "latin1",
                                       "koi8-r",
                                       "x-no-such-charset",
                                       "x-unknown",
                                       "X-Unknown",
                                       std::string_view("utf-8\0junk", 10)};
  for (const std::string_view charset : charsets) {
    INFO("charset: " << std::string(charset.substr(0, charset.find('\0'))));
    CHECK(IsConvertibleToUtf8(charset) == ConvertToUtf8("abc", charset).has_value());
  }
  CHECK(IsConvertibleToUtf8("iso-8859-1"));
  CHECK_FALSE(IsConvertibleToUtf8("x-no-such-charset"));
  CHECK_FALSE(IsConvertibleToUtf8("x-unknown"));
}

TEST_CASE("EnsureUtf8 reads 8-bit text as windows-1252") {
  InitMimeParser();
  bool converted = false;
  CHECK(EnsureUtf8("caf\xC3\xA9", &converted) == "caf\xC3\xA9");
  CHECK_FALSE(converted);
  CHECK(EnsureUtf8("caf\xE9", &converted) == "caf\xC3\xA9");
  CHECK(converted);
}

TEST_CASE("DecodeHeaderText table") {
  InitMimeParser();
  struct HeaderCase {
    const char* input;
    const char* expected;
    size_t warning_count;
  };
  const HeaderCase cases[] = {
      {"plain text", "plain text", 0},
      {"=?utf-8?Q?caf=C3=A9?=", "caf\xC3\xA9", 0},
      {"=?UTF-8?B?Y2Fmw6k=?=", "caf\xC3\xA9", 0},
      {"=?UTF-8?B?Y2Fmw6k?=", "caf\xC3\xA9", 0},  // padding missing
      {"[TAG]=?utf-8?q?glued?=", "[TAG]glued", 0},
      {"=?utf-8?q?glued?=after", "gluedafter", 0},
      // U+20AC (E2 82 AC) split across two words in different case of one charset.
      {"=?utf-8?B?4oI=?= =?UTF-8?B?rA==?=", "\xE2\x82\xAC", 0},
      {"=?utf-8?q?a?=  \t =?utf-8?q?b?=", "ab", 0},
      {"=?utf-8?q?a?= x =?utf-8?q?b?=", "a x b", 0},
      {"=?iso-8859-1?q?caf=E9?= =?utf-8?q?_ok?=", "caf\xC3\xA9 ok", 0},
      {"=?utf-8*en?q?lang?=", "lang", 0},
      {"=?utf-8?q?hello world?=", "hello world", 0},
      {"=?koi8-r?B?8NLJ18XU?=", "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82", 0},
      {"=?utf-8?q?bad=FFbyte?=",
       "bad\xEF\xBF\xBD"
       "byte",
       0},
      {"=?x-unknown?B?SGVsbG8=?=", "=?x-unknown?B?SGVsbG8=?=", 1},
      {"=?x-unknown?B?SGVsbG8=?= =?x-unknown?B?SGk=?=",
       "=?x-unknown?B?SGVsbG8=?= =?x-unknown?B?SGk=?=", 1},
      {"=?x-unknown?B?SGk=?= =?utf-8?q?ok?=", "=?x-unknown?B?SGk=?= ok", 1},
      {"=?utf-8?B?!!!?=", "=?utf-8?B?!!!?=", 1},
      {"=?utf-8?X?abc?=", "=?utf-8?X?abc?=", 0},
      {"=?utf-8?q?unterminated", "=?utf-8?q?unterminated", 0},
      {"a =? b", "a =? b", 0},
      {"Caf\xE9 latin-1", "Caf\xC3\xA9 latin-1", 1},
  };
  for (const HeaderCase& test : cases) {
    INFO("input: \"" << std::string(test.input) << "\"");
    std::vector<std::string> warnings;
    CHECK(DecodeHeaderText(test.input, "Subject", warnings) == test.expected);
    CHECK(warnings.size() == test.warning_count);
  }
}

TEST_CASE("DecodeHeaderText names the field in warnings") {
  InitMimeParser();
  std::vector<std::string> warnings;
  DecodeHeaderText("=?x-unknown?B?SGk=?=", "From", warnings);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].rfind("From: ", 0) == 0);
  CHECK(warnings[0].find("x-unknown") != std::string::npos);
}

}  // namespace
}  // namespace reclaim
