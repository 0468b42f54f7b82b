// SHA-256 and MD5 digests as lower-case hex, through OpenSSL.
#pragma once

#include <string>
#include <string_view>

namespace reclaim {

// Each returns an empty string if OpenSSL fails (out of memory, or MD5
// unavailable under a FIPS-only configuration).
std::string Sha256Hex(std::string_view bytes);
std::string Md5Hex(std::string_view bytes);

// Both digests of one byte string, as Sha256Hex and Md5Hex return them.
struct Sha256AndMd5 {
  std::string sha256;
  std::string md5;
};

// Computes both digests in one pass over `bytes`: each block goes through
// SHA-256 and then MD5 while it is still in the CPU cache. Either digest is
// empty where Sha256Hex or Md5Hex would return an empty string.
Sha256AndMd5 Sha256AndMd5Hex(std::string_view bytes);

// The digests of the empty file, which match every empty attachment and so
// must never be used to remediate.
constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr std::string_view kEmptyMd5 = "d41d8cd98f00b204e9800998ecf8427e";

}  // namespace reclaim
