// SAL's second-order (bilinear) pooling: the per-video Gram matrix of an embedding over time, and the signed square
// root with L2 normalisation applied to it (../shared/specs/sal.md 1.3; derivation in docs/backward/bilinear_pool.md).
#pragma once
#include "kernels/stream.h"

namespace aicl {

// G[b] = E_bᵀ E_b / Tn² for E [B,Tn,D] (time-major) and G [B,D,D] row-major: G_ij = (Σ_t E_ti E_tj) / Tn². The sum
// is formed first and then divided by Tn² (as the official `bmm(x, xᵀ) / T**2`), not scaled by 1/Tn².
template <class T>
void gram_forward(T* G, const T* E, int B, int Tn, int D);

// dE[b] += E_b (dG_b + dG_bᵀ) / Tn² (ACCUMULATES), the backward of gram_forward.
template <class T>
void gram_backward(T* dE, const T* dG, const T* E, int B, int Tn, int D);

// Per row b of c [B,n]: u = sign(c)·sqrt(|c| + eps) (sign(0) = 0, so zero entries stay 0), norm[b] = ||u_b||₂
// (summed in double), v = u / max(norm, 1e-12) (F.normalize). v [B,n], norm [B].
template <class T>
void signed_sqrt_l2_forward(T* v, T* norm, const T* c, int B, int n, double eps);

// dc += the gradient through v (ACCUMULATES): g_u = (dv − v (v·dv)) / norm when norm > 1e-12, else dv / 1e-12;
// dc = g_u · 0.5 / sqrt(|c| + eps) where c ≠ 0 and 0 where c = 0 (as autograd: sign'(0) = 0, |·|'(0) = 0).
template <class T>
void signed_sqrt_l2_backward(T* dc, const T* dv, const T* v, const T* norm, const T* c, int B, int n, double eps);

// ---- CUDA twin (kernels/bilinear_pool.cu, in libaicl_cuda.so): float, DEVICE pointers, queued on `stream` ----
// The Gram matrices are one cuBLAS GEMM per video (FP32 or TF32 as set_cuda_math_mode says) and a division
// kernel; the backward is two accumulating GEMMs per video (E dGᵀ and E dG). The normalisation runs one block per
// video with fixed-order double reductions (deterministic).
void gram_forward_cuda(float* G, const float* E, int B, int Tn, int D, cudaStream_t stream);
void gram_backward_cuda(float* dE, const float* dG, const float* E, int B, int Tn, int D, cudaStream_t stream);
void signed_sqrt_l2_forward_cuda(float* v, float* norm, const float* c, int B, int n, double eps,
                                 cudaStream_t stream);
void signed_sqrt_l2_backward_cuda(float* dc, const float* dv, const float* v, const float* norm, const float* c,
                                  int B, int n, double eps, cudaStream_t stream);

}  // namespace aicl
