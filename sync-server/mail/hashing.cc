#include "sync-server/mail/hashing.h"

#include <openssl/evp.h>

#include <memory>

namespace reclaim {
namespace {

enum class Algorithm { kSha256, kMd5 };

struct MdDeleter {
  void operator()(EVP_MD* algorithm) const { EVP_MD_free(algorithm); }
};
using MdPtr = std::unique_ptr<EVP_MD, MdDeleter>;

struct MdContextDeleter {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};
using MdContextPtr = std::unique_ptr<EVP_MD_CTX, MdContextDeleter>;

// Returns the implementation from the default library context, fetched once
// per process, or nullptr when no loaded provider has it (MD5 when only the
// FIPS provider is loaded). With EVP_sha256() or EVP_md5(), OpenSSL 3 fetches
// the implementation again on every digest (crypto(7), "Performance").
const EVP_MD* Implementation(Algorithm algorithm) {
  static const MdPtr sha256(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  static const MdPtr md5(EVP_MD_fetch(nullptr, "MD5", nullptr));
  return algorithm == Algorithm::kSha256 ? sha256.get() : md5.get();
}

// Returns this thread's context for `algorithm`, or nullptr when out of
// memory. A context is reused to save an allocation per digest, and kept per
// thread because it is not safe for concurrent use.
EVP_MD_CTX* ThreadContext(Algorithm algorithm) {
  thread_local const MdContextPtr sha256(EVP_MD_CTX_new());
  thread_local const MdContextPtr md5(EVP_MD_CTX_new());
  return algorithm == Algorithm::kSha256 ? sha256.get() : md5.get();
}

// One digest in progress on this thread's context for its algorithm, so at
// most one Digest per algorithm may exist on a thread at a time.
class Digest {
 public:
  explicit Digest(Algorithm algorithm)
      : implementation_(Implementation(algorithm)), context_(ThreadContext(algorithm)) {
    ok_ = implementation_ != nullptr && context_ != nullptr &&
          EVP_DigestInit_ex(context_, implementation_, nullptr) == 1;
  }
  Digest(const Digest&) = delete;
  Digest& operator=(const Digest&) = delete;

  void Update(std::string_view bytes) {
    ok_ = ok_ && EVP_DigestUpdate(context_, bytes.data(), bytes.size()) == 1;
  }

  // Returns the digest as lower-case hex, or an empty string when OpenSSL
  // failed at any step.
  std::string FinishHex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_length = 0;
    if (!ok_ || EVP_DigestFinal_ex(context_, digest, &digest_length) != 1)
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

 private:
  const EVP_MD* implementation_;
  EVP_MD_CTX* context_;
  bool ok_ = false;
};

std::string DigestHex(Algorithm algorithm, std::string_view bytes) {
  Digest digest(algorithm);
  digest.Update(bytes);
  return digest.FinishHex();
}

}  // namespace

std::string Sha256Hex(std::string_view bytes) {
  return DigestHex(Algorithm::kSha256, bytes);
}

std::string Md5Hex(std::string_view bytes) {
  return DigestHex(Algorithm::kMd5, bytes);
}

Sha256AndMd5 Sha256AndMd5Hex(std::string_view bytes) {
  // NOTE: 16 KiB is a guess at a block that stays in the L1 data cache
  // between the two updates; it is not tuned.
  constexpr size_t kBlockBytes = 16 * 1024;
  Digest sha256(Algorithm::kSha256);
  Digest md5(Algorithm::kMd5);
  for (size_t offset = 0; offset < bytes.size(); offset += kBlockBytes) {
    const std::string_view block = bytes.substr(offset, kBlockBytes);
    sha256.Update(block);
    md5.Update(block);
  }
  return {sha256.FinishHex(), md5.FinishHex()};
}

}  // namespace reclaim
