#include "sync-server/mail/hashing.h"

#include <doctest/doctest.h>

#include <string>

namespace reclaim {
namespace {

// Digests from the FIPS 180-2 and RFC 1321 test suites and from the
// commonly published "quick brown fox" vectors.
struct DigestCase {
  const char* input;
  const char* sha256;
  const char* md5;
};

constexpr DigestCase kDigestCases[] = {
    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "d41d8cd98f00b204e9800998ecf8427e"},
    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
     "900150983cd24fb0d6963f7d28e17f72"},
    {"The quick brown fox jumps over the lazy dog",
     "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592",
     "9e107d9d372bb6826bd81d3542a419d6"},
};

TEST_CASE("Sha256Hex and Md5Hex known vectors") {
  for (const DigestCase& test : kDigestCases) {
    INFO("input: \"" << std::string(test.input) << "\"");
    CHECK(Sha256Hex(test.input) == test.sha256);
    CHECK(Md5Hex(test.input) == test.md5);
  }
}

TEST_CASE("Sha256Hex hashes bytes past a NUL") {
  const std::string with_nul("a\0b", 3);
  CHECK(Sha256Hex(with_nul) != Sha256Hex("a"));
  CHECK(Sha256Hex(with_nul).size() == 64);
}

TEST_CASE("Sha256AndMd5Hex known vectors") {
  for (const DigestCase& test : kDigestCases) {
    INFO("input: \"" << std::string(test.input) << "\"");
    const Sha256AndMd5 digests = Sha256AndMd5Hex(test.input);
    CHECK(digests.sha256 == test.sha256);
    CHECK(digests.md5 == test.md5);
  }
}

TEST_CASE("Sha256AndMd5Hex across block boundaries") {
  // Sizes around the 16 KiB blocks that the function hashes at a time.
  for (const size_t size : {16383u, 16384u, 16385u, 100003u}) {
    std::string bytes(size, '\0');
    for (size_t i = 0; i < size; ++i)
      bytes[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
    INFO("size: " << size);
    const Sha256AndMd5 digests = Sha256AndMd5Hex(bytes);
    CHECK(digests.sha256 == Sha256Hex(bytes));
    CHECK(digests.md5 == Md5Hex(bytes));
  }
}

TEST_CASE("empty-file digest constants") {
  CHECK(Sha256Hex("") == kEmptySha256);
  CHECK(Md5Hex("") == kEmptyMd5);
}

}  // namespace
}  // namespace reclaim
