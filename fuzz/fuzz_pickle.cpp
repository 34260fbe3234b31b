// libFuzzer target: the restricted unpickler (data/pickle.h) on arbitrary bytes, in memory and lazily from a
// stream, plus the W-TALC accessors on what it accepts. Errors must be aicl::Error; nothing may crash or leak.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include "core/base/error.h"
#include "data/pickle.h"
#include "data/wtalc.h"

namespace {

// The accessors import applies to each annotation array: every outcome is a value or an aicl::Error.
void walk(const aicl::PyValue& v) {
  (void)aicl::describe_value(v);
  try { (void)aicl::string_list(v, "fuzz: video 'v'"); } catch (const aicl::Error&) {}
  try { (void)aicl::segment_list(v, "fuzz: video 'v'"); } catch (const aicl::Error&) {}
  if (v.kind == aicl::PyValue::Kind::kArray && v.array) {
    try { (void)aicl::npy_strings(*v.array, "fuzz.npy"); } catch (const aicl::Error&) {}
    try { (void)aicl::npy_numbers(*v.array, "fuzz.npy"); } catch (const aicl::Error&) {}
    for (const auto& o : v.array->objects)
      if (o) walk(*o);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  aicl::PyPtr in_memory, lazy;
  try {
    in_memory = aicl::unpickle_bytes(bytes, "fuzz.pkl");
  } catch (const aicl::Error&) {
  }
  // The streaming reader (payloads of >= 8 bytes left in the "file") must accept exactly what the in-memory one
  // accepts: they are one parser.
  std::istringstream stream(bytes);
  aicl::UnpickleOptions options;
  options.lazy_bytes = 8;
  try {
    lazy = aicl::unpickle(stream, 0, bytes.size(), "fuzz.pkl", options);
  } catch (const aicl::Error&) {
  }
  if ((in_memory == nullptr) != (lazy == nullptr)) std::abort();
  if (in_memory) walk(*in_memory);
  return 0;
}
