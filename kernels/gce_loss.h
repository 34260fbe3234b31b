// Generalized cross-entropy (official GeneralizedCE, quirk Q9) of a class-agnostic actionness curve vs the pseudo label.
#pragma once
#include "kernels/stream.h"

namespace aicl {

// p [B,Tn] probabilities (sigmoid outputs), y [B,Tn] pseudo label in {0,1}, q the GCE exponent (official 0.7):
//   pos_b = sum_t y + 1e-7,   neg_b = sum_t (1 - y) + 1e-7
//   loss  = mean_b[ sum_t (1 - (p + 1e-7)^q) / q * y / pos_b ] + mean_b[ sum_t (1 - (1 - p + 1e-7)^q) / q * (1-y) / neg_b ]
// The 1e-7 terms keep every power finite for p in [0, 1], so no input in that range needs special handling.
// With a per-segment mask m [B,Tn] (SAL's adaptive actionness mask, q = 0.5), y and (1 - y) are weighted by m in
// the sums and in both normalisers: pos_b = sum_t y m + 1e-7, neg_b = sum_t (1 - y) m + 1e-7, and so on
// (../shared/specs/sal.md 2.5 GCEm). Without one (null) every weight is 1: AICL's GCE, bit for bit.
template <class T>
T gce_forward(const T* p, const T* y, int B, int Tn, double q, const T* m = nullptr);

// dp[b,t] += dloss/B * ( -(p + 1e-7)^(q-1) * y m / pos_b + (1 - p + 1e-7)^(q-1) * (1-y) m / neg_b ). y and m get no
// gradient.
template <class T>
void gce_backward(T* dp, T dloss, const T* p, const T* y, int B, int Tn, double q, const T* m = nullptr);

// ---- CUDA twin (kernels/gce_loss.cu, in libaicl_cuda.so): float, DEVICE pointers, queued on `stream` ----
// Generalized cross-entropy (quirk Q9) with the loss left in device memory.

// *loss (device) = the GCE of gce_forward (p, y [B,Tn] on the device, q the exponent, official 0.7; q is taken as a
// double like the CPU twin and used as a float). Float arithmetic; one block per video computes its two normalised
// sums, then a single-block pass adds the videos in a fixed order (deterministic). No host synchronisation.
// Throws aicl::Error for B < 1, Tn < 1 or q <= 0.
// m: the optional mask (device, may be null), as on the CPU.
void gce_forward_cuda(float* loss, const float* p, const float* y, int B, int Tn, double q, cudaStream_t stream,
                      const float* m = nullptr);

// dp[b,t] += dloss/B * ( -(p + 1e-7)^(q-1) * y / pos_b + (1 - p + 1e-7)^(q-1) * (1-y) / neg_b ), as gce_backward.
void gce_backward_cuda(float* dp, float dloss, const float* p, const float* y, int B, int Tn, double q,
                       cudaStream_t stream, const float* m = nullptr);

}  // namespace aicl
