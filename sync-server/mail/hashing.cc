#include "sync-server/mail/hashing.h"

#include <openssl/evp.h>

namespace reclaim {
namespace {

// Returns the digest of `bytes` under `algorithm` as lower-case hex, or an
// empty string when OpenSSL fails, for example when out of memory or when
// only the FIPS provider, which has no MD5, is loaded.
std::string DigestHex(const EVP_MD* algorithm, std::string_view bytes) {
  if (algorithm == nullptr)
    return {};
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &digest_length, algorithm, nullptr) != 1)
    return {};

  static constexpr char kHexDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * digest_length);
  for (unsigned int i = 0; i < digest_length; ++i) {
    hex += kHexDigits[digest[i] >> 4];
    hex += kHexDigits[digest[i] & 0x0f];
  }
  return hex;
}

}  // namespace

std::string Sha256Hex(std::string_view bytes) {
  return DigestHex(EVP_sha256(), bytes);
}

std::string Md5Hex(std::string_view bytes) {
  return DigestHex(EVP_md5(), bytes);
}

}  // namespace reclaim
