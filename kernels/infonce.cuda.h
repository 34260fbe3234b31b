// CUDA twin of kernels/infonce.h: AICL's snippet contrastive loss for one embedding, loss left in device memory.
#pragma once
#include <cuda_runtime_api.h>

namespace aicl {

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
