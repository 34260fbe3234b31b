// SAL's background loss: the KL divergence from the uniform class distribution to softmax(z) per video, averaged
// over the batch (F.kl_div(log(softmax(z)), softmax(1), reduction='batchmean'); ../shared/specs/sal.md 2.5).
#pragma once
#include "kernels/stream.h"

namespace aicl {

// loss = (1/B) Σ_b Σ_c u (log u − log π_bc), π_b = softmax(z_b), u = 1/C; z [B,C]. π is formed in T (max-shifted
// exp, sequential sum) and its log taken in a second step, as the official code does; each row's terms are summed
// in double, then the rows in order. Throws aicl::Error for B < 1 or C < 1.
template <class T>
T kl_uniform_forward(const T* z, int B, int C);

// dz[b,c] += dloss (π_bc − 1/C) / B (ACCUMULATES).
template <class T>
void kl_uniform_backward(T* dz, T dloss, const T* z, int B, int C);

// ---- CUDA twin (kernels/kl_uniform.cu, in libaicl_cuda.so): float, DEVICE pointers, queued on `stream` ----
// One thread per video in the CPU's order (C is small: 20-200), the rows summed in order in double by one
// thread: the same operations as the CPU, with CUDA's expf/logf (within 2 ulp of the CPU's).
void kl_uniform_forward_cuda(float* loss, const float* z, int B, int C, cudaStream_t stream);
void kl_uniform_backward_cuda(float* dz, float dloss, const float* z, int B, int C, cudaStream_t stream);

}  // namespace aicl
