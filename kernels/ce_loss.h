// Video-level cross-entropy of AICL with the normalised multi-hot label (official CrossEntropyLoss, quirk Q8).
#pragma once

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

}  // namespace aicl
