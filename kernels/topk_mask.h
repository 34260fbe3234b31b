// SAL's pseudo-label selections: a per-video top-k over time written as a 0/1 mask, and the confidence sum_c ReLU(CAS).
#pragma once
#include "kernels/stream.h"

namespace aicl {

// Per video b, the set S_b of the k largest score[b,t] over t (score [B,Tn]; torch.topk(score, k, dim=1), SAL's
// actionness top-(T//8 + 17) and confidence top-(T//2)). Writes mask [B,Tn]:
//   intersect = false: mask[b,t] = 1 if t in S_b else 0                      (overwrites)
//   intersect = true:  mask[b,t] = 1 if mask[b,t] != 0 and t in S_b else 0   (AND with the mask's current values)
// Ties: S_b is the set torch CPU's topk picks (kernels/topk_order.h: the same libstdc++ nth_element, or
// partial_sort when 64k <= Tn, on (value, index) pairs); NaN counts as the largest value.
// Requires B >= 0, Tn >= 1 and 1 <= k <= Tn (aicl::Error naming k and T otherwise). No gradient: the official
// code uses only the indices.
template <class T>
void topk_mask_forward(T* mask, const T* score, int B, int Tn, int k, bool intersect);

// out[n] = sum over c of max(in[n,c], 0) for in [N,C] row-major: ascending c, sequential, in T's precision (SAL's
// confidence sum(relu(cas), dim=-1), whose top half gates the pseudo labels). NaN entries propagate. Overwrites
// out. Requires N >= 0, C >= 1 (aicl::Error otherwise). No gradient (it only feeds the top-k).
template <class T>
void relu_row_sum_forward(T* out, const T* in, int N, int C);

// ---- CUDA twin (kernels/topk_mask.cu, in libaicl_cuda.so): float, DEVICE pointers, queued on `stream` ----

// Same contract as topk_mask_forward, except for ties: one block per video ranks every t in the stable
// descending order (equal values by ASCENDING index, NaN largest), as topk_mil_forward_cuda does. On tie-free
// rows the mask equals the CPU's bit for bit; where values tie at the k-th place, which of the tied t are in S_b
// may differ from the CPU twin (torch CPU's order), the number of ones and the selected values do not. Tn floats
// of shared memory per block (opt-in above 12288; aicl::Error past the device's limit). B = 0 does nothing.
void topk_mask_forward_cuda(float* mask, const float* score, int B, int Tn, int k, bool intersect,
                            cudaStream_t stream);

// Same contract as relu_row_sum_forward (one thread per row, the CPU's sequential float order: bit-equal).
void relu_row_sum_forward_cuda(float* out, const float* in, int N, int C, cudaStream_t stream);

}  // namespace aicl
