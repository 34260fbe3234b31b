// SAL's video mix-up by batch roll: each video is combined with its predecessor in the batch (video b with b − 1,
// video 0 with B − 1): features summed, labels OR-ed, masks averaged (../shared/specs/sal.md 2.4, quirk S7).
// Forward only: the mixed features are inputs (no gradient), labels and masks carry none.
#pragma once
#include <cstddef>

#include "kernels/stream.h"

namespace aicl {

enum class RollMix { sum, max, mean };  // features: sum (weights 1, 1); labels in {0,1}: max = OR; masks: mean

// out[b,i] = x[b,i] ⊕ x[(b − 1) mod B, i] over rows of n values (⊕ by `mode`; mean = (a + b) / 2). out must not
// alias x. B = 1 combines the video with itself (the official roll does the same).
template <class T>
void roll_mix_forward(T* out, const T* x, int B, std::size_t n, RollMix mode);

// ---- CUDA twin (kernels/roll_mix.cu, in libaicl_cuda.so): float, DEVICE pointers, queued on `stream` ----
// Elementwise, the CPU's float operations: bit for bit.
void roll_mix_forward_cuda(float* out, const float* x, int B, std::size_t n, RollMix mode, cudaStream_t stream);

}  // namespace aicl
