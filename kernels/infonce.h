// AICL's snippet contrastive loss (official ContrastiveLoss, quirk Q12) for ONE embedding, with its backward.
#pragma once
#include "kernels/stream.h"

namespace aicl {

// emb [B,Tn,D] (time-major), idx_CA/CB/IA/IB [B,k] time indices from snippet_select_forward, tau the temperature
// (official 0.1). With mean_X[b] = (1/k) sum_j emb[b, idx_X[b,j], :], nrm(x) = x / max(||x||, 1e-12) (torch
// F.normalize) and NCE(q, key, neg) = mean_b CE([q.key, q.neg_1, ..., q.neg_k] / tau, target 0) where q, key are the
// normalised means and neg_j the normalised rows emb[b, idx_neg[b,j], :]:
//   IA = NCE(IA, CA, rows CB)   IB = NCE(IB, CB, rows CA)   CA = NCE(CA, IA, rows CB)   CB = NCE(CB, IB, rows CA)
// Returns IA + IB + CA + CB; if terms4 is not null it receives {IA, IB, CA, CB} (for logging).
// Requires B >= 1, k >= 1 (the official k = T//20 is 0 below 20 segments and would give a NaN mean), indices in [0,Tn).
template <class T>
T infonce_forward(const T* emb, const int* idx_CA, const int* idx_CB, const int* idx_IA, const int* idx_IB, int B,
                  int Tn, int D, int k, double tau, T* terms4 = nullptr);

// d(total)/d emb scaled by dloss, ACCUMULATED into demb [B,Tn,D]: back through the softmax-CE, the normalisations
// (the clamp at 1e-12 makes a norm below it a constant) and the mean pooling; repeated indices accumulate.
template <class T>
void infonce_backward(T* demb, T dloss, const T* emb, const int* idx_CA, const int* idx_CB, const int* idx_IA,
                      const int* idx_IB, int B, int Tn, int D, int k, double tau);

// ---- CUDA twin (kernels/infonce.cu, in libaicl_cuda.so): float, DEVICE pointers, queued on `stream` ----
// AICL's snippet contrastive loss for one embedding, loss left in device memory.

// *loss (device) = IA + IB + CA + CB of infonce_forward (emb [B,Tn,D] time-major, idx_* [B,k] from
// snippet_select_forward_cuda, tau the temperature (official 0.1), taken as a double like the CPU twin and used as a
// float); terms4 (device, 4 floats, may be null) receives {IA, IB, CA, CB}. One block per video (float arithmetic,
// fixed-order reductions) writes its four terms, then a single-block pass averages them over the batch in a fixed
// order: deterministic, no host synchronisation. Indices must lie in [0,Tn) (not checked on the host: that would
// need a synchronisation); a video with an index outside makes *loss NaN. Throws aicl::Error for B < 1, Tn < 1,
// D < 1, k < 1, tau <= 0, or a D/k whose per-block shared memory (about 4*(8*D + 17*k) bytes) exceeds the device.
void infonce_forward_cuda(float* loss, const float* emb, const int* idx_CA, const int* idx_CB, const int* idx_IA,
                          const int* idx_IB, int B, int Tn, int D, int k, double tau, float* terms4,
                          cudaStream_t stream);

// d(total)/d emb scaled by dloss, ACCUMULATED into demb [B,Tn,D], as infonce_backward. One block per video (each
// video owns its rows of demb) and one thread per column d, which adds the contributions of the four means
// (CA, CB, IA, IB, each over j = 0..k-1) and then of the CA and CB negative rows in that fixed order: repeated
// indices accumulate deterministically, without atomics. A video with an index outside [0,Tn) is skipped.
void infonce_backward_cuda(float* demb, float dloss, const float* emb, const int* idx_CA, const int* idx_CB,
                           const int* idx_IA, const int* idx_IB, int B, int Tn, int D, int k, double tau,
                           cudaStream_t stream);

}  // namespace aicl
