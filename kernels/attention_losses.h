// ACM-Net's two attention regularisers (../shared/specs/ftcl.md 1.3): the guide loss, which ties the instance
// attention to the instance CAS's foreground mass, and the sparsity loss on the instance and context attention.
#pragma once
#include "kernels/stream.h"

namespace aicl {

// Guide loss. p [B·Tn, C]: the softmax of the instance-weighted logits (background class last); att [B·Tn, A]: the
// attention with the instance column first, DETACHED (no gradient reaches it):
//   loss = (1/B) Σ_{b,t} |1 − p[bt, C−1] − att[bt, 0]|   (each term in T, summed in double).
// Throws aicl::Error for B < 1, Tn < 1, C < 1 or A < 1.
template <class T>
T guide_loss_forward(const T* p, const T* att, int B, int Tn, int C, int A);

// dp[bt, C−1] += −(dloss/B)·sign(1 − p − att), sign(0) = 0 as torch.abs's gradient (ACCUMULATES).
template <class T>
void guide_loss_backward(T* dp, T dloss, const T* p, const T* att, int B, int Tn, int C, int A);

// Sparsity loss: loss = (1/(B·cols)) Σ_{b,t} Σ_{a<cols} att[bt, a] (the official sum over time of the first
// `cols` = 2 attention columns, then the mean over the [B, 2] sums; quirk Q8). Throws for cols outside [1, A].
template <class T>
T att_sparsity_forward(const T* att, int B, int Tn, int A, int cols);

// datt[bt, a] += dloss/(B·cols) for a < cols (ACCUMULATES).
template <class T>
void att_sparsity_backward(T* datt, T dloss, int B, int Tn, int A, int cols);

// ---- CUDA twin (kernels/attention_losses.cu, in libaicl_cuda.so): float, DEVICE pointers, queued on `stream` --
// Forwards: one thread per video sums its Tn terms in double, one thread sums the videos in order (the CPU's
// order: equal up to the final rounding); backwards one thread per element, bit for bit the CPU's.
void guide_loss_forward_cuda(float* loss, const float* p, const float* att, int B, int Tn, int C, int A,
                             cudaStream_t stream);
void guide_loss_backward_cuda(float* dp, float dloss, const float* p, const float* att, int B, int Tn, int C, int A,
                              cudaStream_t stream);
void att_sparsity_forward_cuda(float* loss, const float* att, int B, int Tn, int A, int cols, cudaStream_t stream);
void att_sparsity_backward_cuda(float* datt, float dloss, int B, int Tn, int A, int cols, cudaStream_t stream);

}  // namespace aicl
