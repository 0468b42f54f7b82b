// A base64 decoder for tests, written apart from the server's own
// (sync-server/mail/transfer_decoding.h) so that a digest a test computes
// does not depend on the code under test.
#pragma once

#include <cstdint>
#include <string>

namespace reclaim::testing {

// Decodes standard base64 up to the first '=', skipping line breaks and any
// other character outside the alphabet.
inline std::string DecodeBase64Reference(const std::string& text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z')
      return c - 'A';
    if (c >= 'a' && c <= 'z')
      return c - 'a' + 26;
    if (c >= '0' && c <= '9')
      return c - '0' + 52;
    if (c == '+')
      return 62;
    if (c == '/')
      return 63;
    return -1;
  };
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=')
      break;
    int v = value(c);
    if (v < 0)
      continue;
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

}  // namespace reclaim::testing
