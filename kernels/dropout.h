// Dropout whose mask comes from a counter-based RNG (Philox4x32-10, Random123), so that the CPU and the GPU draw the
// same mask for the same seed, step and tensor, and the backward regenerates it instead of storing it.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/stream.h"

namespace aicl {

// Which draw: the run's seed, the optimizer step and the tensor (a method numbers its dropout sites). Element i
// keeps its value when u_i < 1 − p, where u_i is word i % 4 of Philox4x32-10 with counter
// {i/4 low 32 bits, i/4 high 32 bits, tensor, step} and key {seed low, seed high}, as 24-bit uniform in [0, 1).
struct DropoutKey {
  std::uint64_t seed = 0;
  std::uint32_t step = 0;
  std::uint32_t tensor = 0;
};

// Whether element i is kept (the mask both devices use).
bool dropout_keep(const DropoutKey& key, std::size_t i, double p);

// out[i] = keep_{i/group} ? x[i] · 1/(1 − p) : 0 (inverted dropout, as torch's F.dropout in training mode). group = 1:
// element-wise; group = D on [N, D] rows: one draw per row (FTCL's snippet dropout, a dropped ones tensor [B,T,1]
// broadcast over the channels). 0 <= p < 1, group >= 1; out may equal x. Throws aicl::Error otherwise.
template <class T>
void dropout_forward(T* out, const T* x, std::size_t n, double p, const DropoutKey& key, std::size_t group = 1);

// dx[i] += keep_{i/group} ? g[i] · 1/(1 − p) : 0 (ACCUMULATES), the same mask regenerated.
template <class T>
void dropout_backward(T* dx, const T* g, std::size_t n, double p, const DropoutKey& key, std::size_t group = 1);

// ---- CUDA twin (kernels/dropout.cu, in libaicl_cuda.so): float, DEVICE pointers, queued on `stream` ----
// The same Philox draws on the device: masks identical to the CPU's, values bit for bit.
void dropout_forward_cuda(float* out, const float* x, std::size_t n, double p, const DropoutKey& key,
                          cudaStream_t stream, std::size_t group = 1);
void dropout_backward_cuda(float* dx, const float* g, std::size_t n, double p, const DropoutKey& key,
                           cudaStream_t stream, std::size_t group = 1);

}  // namespace aicl
