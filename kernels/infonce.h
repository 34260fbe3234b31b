// AICL's snippet contrastive loss (official ContrastiveLoss, quirk Q12) for ONE embedding, with its backward.
#pragma once

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

}  // namespace aicl
