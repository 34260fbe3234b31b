// CUDA twin of kernels/mse_loss.h: mean squared error with the loss scalar left in device memory.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>

namespace aicl {

// *loss (device) = mean_i (a[i] - b[i])^2 over n entries, float accumulation in a fixed order (per-block partial
// sums over fixed chunks, then one single-block pass), so the same inputs give the same bits on every run. No host
// synchronisation: read *loss when you need it. n = 0 throws aicl::Error. Device pointers; `stream` orders it all.
void mse_forward_cuda(float* loss, const float* a, const float* b, std::size_t n, cudaStream_t stream);

// da[i] += dloss * 2 (a[i] - b[i]) / n and db[i] -= the same (either may be null to skip that side), as the CPU
// twin. Element-wise, no reductions.
void mse_backward_cuda(float* da, float* db, float dloss, const float* a, const float* b, std::size_t n,
                       cudaStream_t stream);

}  // namespace aicl
