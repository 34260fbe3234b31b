// libFuzzer target: aicl::parse_npy on arbitrary bytes (errors must be aicl::Error; accepted files round-trip).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/base/error.h"
#include "data/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  aicl::NpyMatrix m;
  try {
    m = aicl::parse_npy(bytes, "fuzz.npy");
  } catch (const aicl::Error&) {
    return 0;  // rejected with the one-line message the CLIs print: the expected outcome for bad bytes
  }
  // Accepted: the shape must describe exactly the data, and writing it back must read back the same values.
  size_t n = 0;
  if (__builtin_mul_overflow(m.rows, m.cols, &n) || n != m.data.size()) std::abort();
  const aicl::NpyMatrix again = aicl::parse_npy(aicl::npy_bytes(m.data.data(), m.rows, m.cols), "roundtrip.npy");
  if (again.rows != m.rows || again.cols != m.cols) std::abort();
  if (!m.data.empty() && std::memcmp(again.data.data(), m.data.data(), m.data.size() * sizeof(float)) != 0) std::abort();
  // The width check must reject every other width.
  if (m.cols > 0) {
    try {
      aicl::parse_npy(bytes, "fuzz.npy", m.cols + 1);
      std::abort();
    } catch (const aicl::Error&) {
    }
  }
  return 0;
}
