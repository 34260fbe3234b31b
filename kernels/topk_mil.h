// Top-k multiple-instance pooling of the CAS (AICL's video-level logits) and the class-agnostic pseudo label.
#pragma once
#include "kernels/stream.h"

namespace aicl {

// Forward of the MIL pooling over time. Layout: cas [B,Tn,C] time-major; flow, rgb [B,Tn] (the two sigmoid
// actionness curves), or both null. Writes
//   combined [B,Tn,C] = (softmax_c(cas) + (flow + rgb)) / 3   (AICL's and SAL's instance_selection_function, in its
//                       float order: softmax first, then flow + rgb, then the sum, then the division by 3);
//                     = softmax_c(cas)                         when flow and rgb are null (SAL's background top-k
//                       on softmax(cas_bg): no streams, no division)
//   topk_idx [B,k,C]  = per (b,c) the time indices of the k largest combined values, descending, with torch CPU
//                       topk's tie order (kernels/topk_order.h: std::nth_element + std::sort, or std::partial_sort
//                       when 64k <= Tn, on (value, index) pairs; see docs/backward/topk_mil.md)
//   cas_top  [B,C]    = mean over those k time steps of the RAW cas.
// Requires 1 <= k <= Tn and flow, rgb both given or both null (aicl::Error otherwise).
template <class T>
void topk_mil_forward(T* cas_top, int* topk_idx, T* combined, const T* cas, const T* flow, const T* rgb, int B,
                      int Tn, int C, int k);

// The selection score of topk_mil_weighted_forward, per (b,t,c): combined = (w_cas·S + w_rgb·rgb) + w_flow·flow with
// S = softmax_c(cas) (softmax = true) or the raw cas (softmax = false); the stream terms are dropped when flow and
// rgb are null. Each product and sum is rounded to T on its own, left to right, as torch float32 evaluates
// `0.6*softmax(cas) + 0.2*rgb + 0.2*flow` (the weights are rounded to T first, like a Python scalar).
struct MilSelection {
  bool softmax = true;
  double w_cas = 1, w_rgb = 0, w_flow = 0;
};

// topk_mil_forward with a weighted selection score (SAL-ActivityNet: the training MIL top-k on the raw cas,
// {false, 1, 0, 0} with null streams, where combined = cas exactly; inference 0.6 softmax + 0.2 rgb + 0.2 flow).
// Same outputs, tie order and errors as topk_mil_forward; the backward is topk_mil_backward.
template <class T>
void topk_mil_weighted_forward(T* cas_top, int* topk_idx, T* combined, const T* cas, const T* flow, const T* rgb,
                               const MilSelection& sel, int B, int Tn, int C, int k);

// Backward of cas_top w.r.t. cas with the indices fixed: dcas[b, topk_idx[b,j,c], c] += dcas_top[b,c] / k.
// Accumulates into dcas [B,Tn,C].
template <class T>
void topk_mil_backward(T* dcas, const T* dcas_top, const int* topk_idx, int B, int Tn, int C, int k);

// Pseudo label y [B,Tn]: 1 where t is among the top-k indices of any class c with labels[b,c] != 0, else 0.
// (Overwrites y; it carries no gradient.)
template <class T>
void pseudo_label_forward(T* y, const int* topk_idx, const T* labels, int B, int Tn, int C, int k);

// ---- CUDA twin (kernels/topk_mil.cu, in libaicl_cuda.so): float, DEVICE pointers, queued on `stream` ----
// Combined CAS, per-(video, class) top-k over time, gather-mean, pseudo label.

// Forward of the MIL pooling; same layouts and outputs as topk_mil_forward (cas [B,Tn,C], flow, rgb [B,Tn] or both
// null for the softmax alone; writes combined [B,Tn,C], topk_idx [B,k,C], cas_top [B,C]), all device pointers.
// - combined: one thread per (b,t) row in the CPU's float order with no FMA contraction (__fadd_rn, __fmul_rn,
//   __fdiv_rn), so it equals the CPU bit for bit wherever CUDA's expf equals glibc's (expf may differ by an ulp).
// - topk_idx: per (b,c) the k largest combined values, descending; ties are broken by ASCENDING time index (a
//   stable descending order; NaN counts as the largest value, as in torch). The CPU twin reproduces torch CPU's
//   (libstdc++ nth_element + sort) tie order instead, which no GPU order reproduces in general: on tie-free
//   columns both agree exactly; on ties the selected VALUES agree, the indices of equal values may not.
// - cas_top[b,c]: the raw cas at those indices summed in rank order by one thread, then divided by k: the CPU's
//   order, so bit-equal to the CPU whenever the indices are.
// Requires 1 <= k <= Tn, flow and rgb both given or both null, and Tn within the per-block shared memory (Tn
// floats; Tn <= 12288 always fits, larger Tn uses the opt-in limit) — aicl::Error otherwise. B = 0 does nothing.
void topk_mil_forward_cuda(float* cas_top, int* topk_idx, float* combined, const float* cas, const float* flow,
                           const float* rgb, int B, int Tn, int C, int k, cudaStream_t stream);

// topk_mil_weighted_forward on the device: the combined score in the CPU twin's order without FMA contraction
// (bit-equal to the CPU wherever expf is, exactly equal in the raw mode), then the same top-k as
// topk_mil_forward_cuda (ties by ascending index).
void topk_mil_weighted_forward_cuda(float* cas_top, int* topk_idx, float* combined, const float* cas,
                                    const float* flow, const float* rgb, const MilSelection& sel, int B, int Tn, int C,
                                    int k, cudaStream_t stream);

// dcas[b, topk_idx[b,j,c], c] += dcas_top[b,c] / k (accumulates; dcas [B,Tn,C]). One thread per (b,j,c) and no
// atomics: the k indices of one (b,c) are distinct (as the forward produces them) and different c are different
// columns, so no two threads touch one element; the result is bit-equal to the CPU twin. Indices outside [0,Tn)
// are skipped (no host check: that would need a synchronisation).
void topk_mil_backward_cuda(float* dcas, const float* dcas_top, const int* topk_idx, int B, int Tn, int C, int k,
                            cudaStream_t stream);

// y [B,Tn] = 1 where t is among the top-k indices of a class c with labels[b,c] != 0, else 0 (overwrites y).
// Indices outside [0,Tn) are skipped. Exact (only 0 and 1 are written).
void pseudo_label_forward_cuda(float* y, const int* topk_idx, const float* labels, int B, int Tn, int C, int k,
                               cudaStream_t stream);

}  // namespace aicl
