// CUDA twin of kernels/ce_loss.h: video-level cross-entropy with the normalised label, loss left in device memory.
#pragma once
#include <cuda_runtime_api.h>

namespace aicl {

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
