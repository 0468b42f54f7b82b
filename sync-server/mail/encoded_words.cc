#include "sync-server/mail/encoded_words.h"

#include <iconv.h>

#include <cerrno>
#include <mutex>

#include <gmime/gmime.h>

#include "sync-server/mail/transfer_decoding.h"

namespace reclaim {
namespace {

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

bool IsWhitespace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool IsAllWhitespace(std::string_view text) {
  for (char c : text) {
    if (!IsWhitespace(c))
      return false;
  }
  return true;
}

char ToLowerAscii(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLowerAscii(a[i]) != ToLowerAscii(b[i]))
      return false;
  }
  return true;
}

const iconv_t kNoConverter = reinterpret_cast<iconv_t>(-1);

// Conversion descriptors to UTF-8 by charset name, for one thread. GMime
// 3.2.13's g_mime_iconv_open calls iconv_open(3) every time, which looks the
// charset up in glibc's gconv tables and may load its module again. An iconv
// descriptor is not safe for concurrent use, so every thread keeps its own.
class Utf8Converters {
 public:
  Utf8Converters() = default;
  Utf8Converters(const Utf8Converters&) = delete;
  Utf8Converters& operator=(const Utf8Converters&) = delete;
  ~Utf8Converters() {
    for (const Entry& entry : entries_)
      Close(entry.converter);
  }

  // Returns the descriptor for `charset` in its initial shift state, or
  // kNoConverter when iconv does not know the charset. Names are compared
  // exactly, so "UTF-8" and "utf-8" take two entries.
  iconv_t Get(std::string_view charset) {
    for (const Entry& entry : entries_) {
      if (entry.charset == charset) {
        if (entry.converter != kNoConverter)
          iconv(entry.converter, nullptr, nullptr, nullptr, nullptr);
        return entry.converter;
      }
    }
    // Mail names charsets freely, so the oldest entry makes room for a new
    // one, and hostile input cannot grow the list without bound.
    if (entries_.size() == kMaxEntries) {
      Close(entries_.front().converter);
      entries_.erase(entries_.begin());
    }
    Entry entry;
    entry.charset = std::string(charset);
    entry.converter = g_mime_iconv_open("UTF-8", entry.charset.c_str());
    entries_.push_back(std::move(entry));
    return entries_.back().converter;
  }

 private:
  // NOTE: 32 is a guess, several times the charsets of a typical mailbox.
  static constexpr size_t kMaxEntries = 32;

  struct Entry {
    std::string charset;
    iconv_t converter = kNoConverter;
  };

  static void Close(iconv_t converter) {
    if (converter != kNoConverter)
      g_mime_iconv_close(converter);
  }

  std::vector<Entry> entries_;
};

int HexDigit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

// One `=?charset?encoding?text?=` in a header value.
struct EncodedWord {
  size_t begin = 0;          // offset of "=?"
  size_t end = 0;            // offset just past "?="
  std::string_view charset;  // without an RFC 2231 `*language` suffix
  char encoding = 'b';       // 'b' or 'q'
  std::string_view encoded_text;
};

// Parses the encoded-word that starts at text[begin] ("=?"). The text ends
// at the first "?=", so Q text may contain spaces, which broken mailers
// write and Python's decoder also accepts.
std::optional<EncodedWord> ParseEncodedWordAt(std::string_view text, size_t begin) {
  const size_t charset_begin = begin + 2;
  const size_t charset_end = text.find('?', charset_begin);
  if (charset_end == std::string_view::npos || charset_end == charset_begin)
    return std::nullopt;
  std::string_view charset = text.substr(charset_begin, charset_end - charset_begin);
  for (char c : charset) {
    if (IsWhitespace(c))
      return std::nullopt;
  }
  if (charset_end + 2 >= text.size() || text[charset_end + 2] != '?')
    return std::nullopt;
  const char encoding = ToLowerAscii(text[charset_end + 1]);
  if (encoding != 'b' && encoding != 'q')
    return std::nullopt;
  const size_t text_begin = charset_end + 3;
  const size_t close = text.find("?=", text_begin);
  if (close == std::string_view::npos)
    return std::nullopt;

  EncodedWord word;
  word.begin = begin;
  word.end = close + 2;
  word.charset = charset.substr(0, charset.find('*'));
  word.encoding = encoding;
  word.encoded_text = text.substr(text_begin, close - text_begin);
  return word;
}

// The Q encoding of RFC 2047 section 4.2: '_' is a space, =XX a byte.
std::string DecodeQText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const int high = c == '=' && i + 1 < text.size() ? HexDigit(text[i + 1]) : -1;
    const int low = c == '=' && i + 2 < text.size() ? HexDigit(text[i + 2]) : -1;
    if (c == '_') {
      out += ' ';
    } else if (high >= 0 && low >= 0) {
      out += static_cast<char>(high << 4 | low);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

// Returns the bytes that an encoded-word carries, or nothing when its base64
// is broken. Missing base64 padding is accepted without a warning, because
// many mailers omit it in headers.
std::optional<std::string> DecodeWordBytes(const EncodedWord& word) {
  if (word.encoding == 'q')
    return DecodeQText(word.encoded_text);
  DecodedBody decoded = DecodeBase64(word.encoded_text);
  if (!decoded.decodable || decoded.skipped_characters > 0)
    return std::nullopt;
  return std::move(decoded.bytes);
}

// Adjacent encoded-words in one charset whose bytes are converted together.
struct WordRun {
  bool active = false;
  std::string charset;
  std::string bytes;
  size_t begin = 0;  // offset of the first word
  size_t end = 0;    // offset just past the last word
};

// Returns this thread's descriptor from `charset` to UTF-8 in its initial
// state, or kNoConverter when ConvertToUtf8 does not accept the charset.
iconv_t Utf8ConverterFor(std::string_view charset) {
  // Charset names reach iconv as C strings, which end at the first NUL.
  charset = charset.substr(0, charset.find('\0'));
  // GMime 3.2 opens "x-unknown" as the process's locale charset, which
  // would make the result depend on the server's environment.
  if (EqualsIgnoringCase(charset, "x-unknown"))
    return kNoConverter;
  thread_local Utf8Converters converters;
  return converters.Get(charset);
}

}  // namespace

std::string UnfoldHeaderValue(std::string_view raw) {
  // A header value can hold a line break only where it was folded or at its
  // end, so removing every CR and LF unfolds it.
  std::string out;
  out.reserve(raw.size());
  for (char c : raw) {
    if (c != '\r' && c != '\n')
      out += c;
  }
  return out;
}

bool IsConvertibleToUtf8(std::string_view charset) {
  return Utf8ConverterFor(charset) != kNoConverter;
}

std::optional<std::string> ConvertToUtf8(std::string_view bytes, std::string_view charset) {
  iconv_t converter = Utf8ConverterFor(charset);
  if (converter == kNoConverter)
    return std::nullopt;

  std::string out;
  out.reserve(bytes.size());
  char* in = const_cast<char*>(bytes.data());  // iconv's signature lacks const
  size_t in_left = bytes.size();
  char buffer[4096];
  while (in_left > 0) {
    char* out_next = buffer;
    size_t out_left = sizeof buffer;
    const size_t result = iconv(converter, &in, &in_left, &out_next, &out_left);
    out.append(buffer, static_cast<size_t>(out_next - buffer));
    if (result == static_cast<size_t>(-1) && errno != E2BIG) {
      // EILSEQ (invalid byte) or EINVAL (truncated sequence at the end).
      out += kReplacementCharacter;
      ++in;
      --in_left;
    }
  }
  // Stateful charsets such as ISO-2022-JP may still owe a shift sequence.
  char* out_next = buffer;
  size_t out_left = sizeof buffer;
  iconv(converter, nullptr, nullptr, &out_next, &out_left);
  out.append(buffer, static_cast<size_t>(out_next - buffer));
  return out;
}

void KeepCommonCharsetsLoaded() {
  // NOTE: the list is a judgement of the charsets that mail commonly uses
  // (the ISO 8859 and Windows code pages, KOI8, the CJK encodings and
  // UTF-7). A charset missing here still converts, only more slowly.
  static constexpr const char* kCharsets[] = {
      "iso-8859-1",   "iso-8859-2",   "iso-8859-3",   "iso-8859-4",   "iso-8859-5",
      "iso-8859-6",   "iso-8859-7",   "iso-8859-8",   "iso-8859-9",   "iso-8859-10",
      "iso-8859-13",  "iso-8859-14",  "iso-8859-15",  "iso-8859-16",  "windows-1250",
      "windows-1251", "windows-1252", "windows-1253", "windows-1254", "windows-1255",
      "windows-1256", "windows-1257", "windows-1258", "koi8-r",       "koi8-u",
      "iso-2022-jp",  "shift_jis",    "euc-jp",       "gb2312",       "gbk",
      "gb18030",      "big5",         "euc-kr",       "utf-7",        "tis-620",
  };
  static std::once_flag opened;
  std::call_once(opened, [] {
    // The descriptors are never used or closed, because only holding them
    // open matters.
    static std::vector<iconv_t> descriptors;
    for (const char* charset : kCharsets) {
      const iconv_t descriptor = g_mime_iconv_open("UTF-8", charset);
      if (descriptor != kNoConverter)
        descriptors.push_back(descriptor);
    }
  });
}

std::string EnsureUtf8(std::string_view text, bool* converted) {
  if (g_utf8_validate(text.data(), static_cast<gssize>(text.size()), nullptr))
    return std::string(text);
  *converted = true;
  std::optional<std::string> utf8 = ConvertToUtf8(text, "windows-1252");
  if (!utf8)
    utf8 = ConvertToUtf8(text, "iso-8859-1");
  return utf8 ? *utf8 : std::string();
}

std::string DecodeHeaderText(std::string_view unfolded, std::string_view field,
                             std::vector<std::string>& warnings) {
  const std::string field_name(field);
  std::string out;
  bool literal_converted = false;
  WordRun run;

  // Converts the pending run and appends it. Returns false when nothing was
  // decoded (no run, or an unknown charset whose words stay as written).
  const auto flush_run = [&]() {
    if (!run.active)
      return false;
    run.active = false;
    std::optional<std::string> utf8 = ConvertToUtf8(run.bytes, run.charset);
    if (utf8) {
      out += *utf8;
      return true;
    }
    out += EnsureUtf8(unfolded.substr(run.begin, run.end - run.begin), &literal_converted);
    warnings.push_back(field_name + ": encoded-word in unknown charset \"" + run.charset +
                       "\" was kept as written");
    return false;
  };

  size_t literal_begin = 0;
  size_t search_from = 0;
  while (true) {
    const size_t start = unfolded.find("=?", search_from);
    if (start == std::string_view::npos)
      break;
    const std::optional<EncodedWord> word = ParseEncodedWordAt(unfolded, start);
    if (!word) {
      search_from = start + 2;
      continue;
    }
    std::optional<std::string> bytes = DecodeWordBytes(*word);
    if (!bytes) {
      warnings.push_back(field_name + ": encoded-word \"" +
                         std::string(unfolded.substr(word->begin, word->end - word->begin)) +
                         "\" has invalid base64 and was kept as written");
      search_from = word->end;  // the word stays part of the literal text
      continue;
    }

    const std::string_view literal = unfolded.substr(literal_begin, start - literal_begin);
    const bool adjacent = run.active && IsAllWhitespace(literal);
    if (adjacent && EqualsIgnoringCase(run.charset, word->charset)) {
      run.bytes += *bytes;
      run.end = word->end;
    } else {
      // RFC 2047 section 6.2: whitespace between adjacent encoded-words is
      // not displayed, unless the word before it could not be decoded.
      const bool previous_decoded = flush_run();
      if (!adjacent || !previous_decoded)
        out += EnsureUtf8(literal, &literal_converted);
      run.active = true;
      run.charset = std::string(word->charset);
      run.bytes = std::move(*bytes);
      run.begin = word->begin;
      run.end = word->end;
    }
    literal_begin = search_from = word->end;
  }
  flush_run();
  out += EnsureUtf8(unfolded.substr(literal_begin), &literal_converted);

  if (literal_converted) {
    warnings.push_back(field_name + ": 8-bit text that is not UTF-8 was read as windows-1252");
  }
  return out;
}

}  // namespace reclaim
