// SHA-256 (FIPS 180-4) of a byte string, so that evaluation reports can name their video list by a hash
// that `sha256sum` reproduces.
#pragma once
#include <string>

namespace aicl {

// Lower-case hex digest (64 characters) of `bytes`.
std::string sha256_hex(const std::string& bytes);

}  // namespace aicl
