// Top-k multiple-instance pooling of the CAS (AICL's video-level logits) and the class-agnostic pseudo label.
#pragma once

namespace aicl {

// Forward of AICL's MIL pooling over time. Layout: cas [B,Tn,C] time-major; flow, rgb [B,Tn] (the two sigmoid
// actionness curves). Writes
//   combined [B,Tn,C] = (softmax_c(cas) + (flow + rgb)) / 3   (the official instance_selection_function, in its
//                       float order: softmax first, then flow + rgb, then the sum, then the division by 3)
//   topk_idx [B,k,C]  = per (b,c) the time indices of the k largest combined values, descending, with torch CPU
//                       topk's tie order (std::nth_element + std::sort on (value, index) pairs, see
//                       docs/backward/topk_mil.md)
//   cas_top  [B,C]    = mean over those k time steps of the RAW cas.
// Requires 1 <= k <= Tn (aicl::Error otherwise).
template <class T>
void topk_mil_forward(T* cas_top, int* topk_idx, T* combined, const T* cas, const T* flow, const T* rgb, int B,
                      int Tn, int C, int k);

// Backward of cas_top w.r.t. cas with the indices fixed: dcas[b, topk_idx[b,j,c], c] += dcas_top[b,c] / k.
// Accumulates into dcas [B,Tn,C].
template <class T>
void topk_mil_backward(T* dcas, const T* dcas_top, const int* topk_idx, int B, int Tn, int C, int k);

// Pseudo label y [B,Tn]: 1 where t is among the top-k indices of any class c with labels[b,c] != 0, else 0.
// (Overwrites y; it carries no gradient.)
template <class T>
void pseudo_label_forward(T* y, const int* topk_idx, const T* labels, int B, int Tn, int C, int k);

}  // namespace aicl
