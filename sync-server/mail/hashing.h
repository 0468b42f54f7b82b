// SHA-256 and MD5 digests as lower-case hex, through OpenSSL.
#pragma once

#include <string>
#include <string_view>

namespace reclaim {

// Each returns an empty string if OpenSSL fails (out of memory, or MD5
// unavailable under a FIPS-only configuration).
std::string Sha256Hex(std::string_view bytes);
std::string Md5Hex(std::string_view bytes);

// The digests of the empty file, which match every empty attachment and so
// must never be used to remediate.
constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr std::string_view kEmptyMd5 = "d41d8cd98f00b204e9800998ecf8427e";

}  // namespace reclaim
