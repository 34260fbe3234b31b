// Generalized cross-entropy (official GeneralizedCE, quirk Q9) of a class-agnostic actionness curve vs the pseudo label.
#pragma once

namespace aicl {

// p [B,Tn] probabilities (sigmoid outputs), y [B,Tn] pseudo label in {0,1}, q the GCE exponent (official 0.7):
//   pos_b = sum_t y + 1e-7,   neg_b = sum_t (1 - y) + 1e-7
//   loss  = mean_b[ sum_t (1 - (p + 1e-7)^q) / q * y / pos_b ] + mean_b[ sum_t (1 - (1 - p + 1e-7)^q) / q * (1-y) / neg_b ]
// The 1e-7 terms keep every power finite for p in [0, 1], so no input in that range needs special handling.
template <class T>
T gce_forward(const T* p, const T* y, int B, int Tn, double q);

// dp[b,t] += dloss/B * ( -(p + 1e-7)^(q-1) * y / pos_b + (1 - p + 1e-7)^(q-1) * (1-y) / neg_b ). y gets no gradient.
template <class T>
void gce_backward(T* dp, T dloss, const T* p, const T* y, int B, int Tn, double q);

}  // namespace aicl
