// CUDA twin of kernels/gce_loss.h: generalized cross-entropy (quirk Q9) with the loss left in device memory.
#pragma once
#include <cuda_runtime_api.h>

namespace aicl {

// *loss (device) = the GCE of gce_forward (p, y [B,Tn] on the device, q the exponent, official 0.7; q is taken as a
// double like the CPU twin and used as a float). Float arithmetic; one block per video computes its two normalised
// sums, then a single-block pass adds the videos in a fixed order (deterministic). No host synchronisation.
// Throws aicl::Error for B < 1, Tn < 1 or q <= 0.
void gce_forward_cuda(float* loss, const float* p, const float* y, int B, int Tn, double q, cudaStream_t stream);

// dp[b,t] += dloss/B * ( -(p + 1e-7)^(q-1) * y / pos_b + (1 - p + 1e-7)^(q-1) * (1-y) / neg_b ), as gce_backward.
void gce_backward_cuda(float* dp, float dloss, const float* p, const float* y, int B, int Tn, double q,
                       cudaStream_t stream);

}  // namespace aicl
