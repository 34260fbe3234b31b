// Mean squared error between two same-size arrays (AICL's modality and actionness consistency terms, quirk Q12).
#pragma once
#include "kernels/stream.h"
#include <cstddef>

namespace aicl {

// mean_i (a[i] - b[i])^2 over n entries. The official symmetric 0.5*mse(a,b) + 0.5*mse(b,a) equals this value.
// n = 0 is rejected with aicl::Error.
template <class T>
T mse_forward(const T* a, const T* b, size_t n);

// Gradient to BOTH inputs, as the official symmetric form gives (neither side is detached):
// da[i] += dloss * 2 (a[i] - b[i]) / n,  db[i] -= the same. Either pointer may be null to skip that side.
template <class T>
void mse_backward(T* da, T* db, T dloss, const T* a, const T* b, size_t n);

// ---- CUDA twin (kernels/mse_loss.cu, in libaicl_cuda.so): float, DEVICE pointers, queued on `stream` ----
// Mean squared error with the loss scalar left in device memory.

// *loss (device) = mean_i (a[i] - b[i])^2 over n entries, float accumulation in a fixed order (per-block partial
// sums over fixed chunks, then one single-block pass), so the same inputs give the same bits on every run. No host
// synchronisation: read *loss when you need it. n = 0 throws aicl::Error. Device pointers; `stream` orders it all.
void mse_forward_cuda(float* loss, const float* a, const float* b, std::size_t n, cudaStream_t stream);

// da[i] += dloss * 2 (a[i] - b[i]) / n and db[i] -= the same (either may be null to skip that side), as the CPU
// twin. Element-wise, no reductions.
void mse_backward_cuda(float* da, float* db, float dloss, const float* a, const float* b, std::size_t n,
                       cudaStream_t stream);

}  // namespace aicl
