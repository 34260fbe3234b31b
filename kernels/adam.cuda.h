// CUDA twin of kernels/adam.h: one fused kernel per optimizer step over the single flat parameter buffer.
#pragma once
#include <cstddef>

#include <cuda_runtime_api.h>

namespace aicl {

// Same contracts as adam_step / sgd_step (torch 1.13 single-tensor Adam with L2 weight decay added to the
// gradient, and SGD); float DEVICE buffers, queued on `stream`. The per-step scalars are formed on the host in
// double exactly as the CPU twin does, and every element operation uses the same rounding (explicit fma where
// the CPU/torch uses one, explicit round-to-nearest everywhere else), so results match adam_step<float> and
// sgd_step<float> bit for bit.
void adam_step_cuda(float* param, const float* grad, float* m, float* v, std::size_t n, double lr, double beta1,
                    double beta2, double eps, double weight_decay, long step, cudaStream_t stream);

// momentum_buf may be null when momentum == 0.
void sgd_step_cuda(float* param, const float* grad, float* momentum_buf, std::size_t n, double lr, double momentum,
                   double weight_decay, long step, cudaStream_t stream);

}  // namespace aicl
