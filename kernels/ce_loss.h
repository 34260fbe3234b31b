// Video-level cross-entropy of AICL with the normalised multi-hot label (official CrossEntropyLoss, quirk Q8).
#pragma once
#include "kernels/stream.h"

namespace aicl {

// logits [B,C] (cas_top), labels [B,C] multi-hot (>= 0). With label_n = labels / sum_c labels + 1e-10 (the 1e-10 is
// added to EVERY entry, zeros included, as the official code does):
//   loss = -(1/B) sum_b sum_c label_n[b,c] * log_softmax(logits[b,:])[c].
// A video whose label row sums to <= 0 has no defined loss (the official code gives 0/0 = NaN): it is rejected with
// aicl::Error, so the trainer must not feed label-less videos (THUMOS14 training videos all have >= 1 class).
template <class T>
T video_ce_forward(const T* logits, const T* labels, int B, int C);

// dlogits[b,c] += dloss * -(1/B) * (label_n[b,c] - softmax(logits[b,:])[c] * sum_c' label_n[b,c']).
template <class T>
void video_ce_backward(T* dlogits, T dloss, const T* logits, const T* labels, int B, int C);

// ---- CUDA twin (kernels/ce_loss.cu, in libaicl_cuda.so): float, DEVICE pointers, queued on `stream` ----
// Video-level cross-entropy with the normalised label, loss left in device memory.

// *loss (device) = -(1/B) sum_b sum_c label_n[b,c] * log_softmax(logits[b,:])[c], label_n = labels / sum_c labels
// + 1e-10 (quirk Q8), as video_ce_forward. logits, labels [B,C] on the device. Float arithmetic; one block per video
// writes its row sum, then a single-block pass sums the rows in a fixed order (deterministic). No host
// synchronisation, so a label-less video (row sum <= 0) is NOT rejected as on the CPU: it gives NaN, as the
// official code does; the trainer must not feed one.
void video_ce_forward_cuda(float* loss, const float* logits, const float* labels, int B, int C, cudaStream_t stream);

// dlogits[b,c] += dloss * -(1/B) * (label_n[b,c] - softmax(logits[b,:])[c] * sum_c' label_n[b,c']).
void video_ce_backward_cuda(float* dlogits, float dloss, const float* logits, const float* labels, int B, int C,
                            cudaStream_t stream);

}  // namespace aicl
