// The Philox draw of kernels/dropout.h, shared verbatim by the CPU (dropout.cpu.cpp) and the GPU (dropout.cu).
#pragma once
#include <Random123/philox.h>

#include <cstddef>
#include <cstdint>

#ifdef __CUDACC__
#define AICL_HOST_DEVICE __host__ __device__
#else
#define AICL_HOST_DEVICE
#endif

namespace aicl::dropout_detail {

// The four uniforms of Philox block `block` (mask indices 4·block .. 4·block + 3), each with 24 random bits (exact
// in float), from one Philox4x32-10 evaluation.
AICL_HOST_DEVICE inline void uniforms4(std::uint64_t seed, std::uint32_t step, std::uint32_t tensor,
                                       std::uint64_t block, float u[4]) {
  r123::Philox4x32 rng;
  const r123::Philox4x32::ctr_type ctr = {{static_cast<std::uint32_t>(block), static_cast<std::uint32_t>(block >> 32),
                                           tensor, step}};
  const r123::Philox4x32::key_type key = {{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}};
  const r123::Philox4x32::ctr_type r = rng(ctr, key);
  for (int k = 0; k < 4; ++k) u[k] = static_cast<float>(r.v[k] >> 8) * (1.0f / 16777216.0f);
}

// u_i in [0, 1) with 24 random bits (exact in float), from word i % 4 of one Philox4x32-10 block.
AICL_HOST_DEVICE inline float uniform(std::uint64_t seed, std::uint32_t step, std::uint32_t tensor, std::size_t i) {
  float u[4];
  uniforms4(seed, step, tensor, static_cast<std::uint64_t>(i) / 4, u);
  const std::size_t k = i % 4;  // selected, not indexed: a device keeps u in registers
  return k == 0 ? u[0] : k == 1 ? u[1] : k == 2 ? u[2] : u[3];
}

// Keep when u < 1 − p (the threshold rounded to float once, the same on both devices).
AICL_HOST_DEVICE inline bool keep(std::uint64_t seed, std::uint32_t step, std::uint32_t tensor, std::size_t i,
                                  float keep_prob) {
  return uniform(seed, step, tensor, i) < keep_prob;
}

}  // namespace aicl::dropout_detail
