// SAL's two broadcasts between per-segment, per-video and per-channel tensors: the propagation of the video-level
// second-order vector to the segments, e' = e + s ⊗ a, and the background-weighted CAS, cas·(1 − a)
// (../shared/specs/sal.md 1.2 steps 7-8; derivation in docs/backward/broadcast.md).
#pragma once
#include "kernels/stream.h"

namespace aicl {

// out[b,t,d] = e[b,t,d] + s[b,d]·a[b,t] for e, out [B,T,D] (time-major), s [B,D], a [B,T]. out may equal e.
template <class T>
void outer_add_forward(T* out, const T* e, const T* s, const T* a, int B, int Tn, int D);

// de += g; ds[b,d] += Σ_t g[b,t,d]·a[b,t]; da[b,t] += Σ_d g[b,t,d]·s[b,d] (ACCUMULATE; any may be null). The sums
// run in T in index order.
template <class T>
void outer_add_backward(T* de, T* ds, T* da, const T* g, const T* s, const T* a, int B, int Tn, int D);

// out[b,t,c] = x[b,t,c]·(1 − a[b,t]) for x, out [B,T,C], a [B,T].
template <class T>
void complement_scale_forward(T* out, const T* x, const T* a, int B, int Tn, int C);

// dx += g·(1 − a); da[b,t] −= Σ_c g[b,t,c]·x[b,t,c] (ACCUMULATE; either may be null; the sum in T in order).
template <class T>
void complement_scale_backward(T* dx, T* da, const T* g, const T* x, const T* a, int B, int Tn, int C);

// ---- CUDA twin (kernels/broadcast.cu, in libaicl_cuda.so): float, DEVICE pointers, queued on `stream` ----
// Elementwise passes and per-row / per-column sums in the CPU's order (one thread per sum, no atomics): bit for
// bit equal to the CPU twin.
void outer_add_forward_cuda(float* out, const float* e, const float* s, const float* a, int B, int Tn, int D,
                            cudaStream_t stream);
void outer_add_backward_cuda(float* de, float* ds, float* da, const float* g, const float* s, const float* a, int B,
                             int Tn, int D, cudaStream_t stream);
void complement_scale_forward_cuda(float* out, const float* x, const float* a, int B, int Tn, int C,
                                   cudaStream_t stream);
void complement_scale_backward_cuda(float* dx, float* da, const float* g, const float* x, const float* a, int B,
                                    int Tn, int C, cudaStream_t stream);

}  // namespace aicl
