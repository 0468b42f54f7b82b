// Decoding of MIME content transfer encodings (RFC 2045) and of uuencoded
// files, tolerant of the damage that real mail shows.
//
// Every function here is pure and thread-safe. None of them throws: a body
// that cannot be decoded is reported through DecodedBody::decodable.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace reclaim {

enum class TransferEncoding {
  kIdentity,  // 7bit, 8bit, binary, or no Content-Transfer-Encoding field
  kBase64,
  kQuotedPrintable,
  kUuencode,  // x-uuencode, uuencode, x-uue: one `begin` ... `end` block
  kUnknown,   // any other value: the bytes are used as they are
};

// Maps a Content-Transfer-Encoding field value to an encoding. The value is
// trimmed and compared without case, so "Base64  " is base64.
TransferEncoding ParseTransferEncoding(std::string_view field_value);

struct DecodedBody {
  std::string bytes;
  // False when the text cannot be decoded: then `bytes` is empty and must not
  // be hashed as if it were the file.
  bool decodable = true;
  // Base64 only: characters skipped as outside the alphabet or ignored after
  // the padding.
  size_t skipped_characters = 0;
  std::vector<std::string> warnings;  // tolerated damage, as sentences
};

// Decodes base64 as mail clients do: whitespace anywhere is ignored, other
// characters outside the alphabet are skipped with a warning, and missing
// padding is accepted with a warning. Decoding stops after the first padded
// group (as Python's binascii does), and a warning counts what follows.
// Undecodable: a final group of a single character, or text that has
// characters but no base64 digits.
DecodedBody DecodeBase64(std::string_view text);

// Decodes quoted-printable: `=XX` (either case of hex digit) becomes the
// byte, `=` before a line break joins the lines, and a malformed `=`
// sequence stays as written. Line breaks and trailing spaces stay as they
// are, as in Python's and GMime's decoders, so digests agree with them.
std::string DecodeQuotedPrintable(std::string_view text);

// Decodes the body of a part by its Content-Transfer-Encoding field value.
// An unknown value keeps the bytes, with a warning naming the value.
DecodedBody DecodeTransferEncoding(std::string_view body, std::string_view field_value);

// A file found between a `begin <mode> <name>` line and an `end` line.
struct UuencodedFile {
  std::string name;  // as written on the begin line, trimmed
  DecodedBody body;
};

// Finds every uuencoded block in `text`. A begin line needs 3 or 4 octal
// digits of file mode and a name. A block that reaches the end of the text
// without an `end` line is still returned, with a warning.
std::vector<UuencodedFile> FindUuencodedFiles(std::string_view text);

}  // namespace reclaim
