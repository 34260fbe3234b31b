// Optimizer steps over one flat parameter buffer, reproducing torch 1.13's single-tensor Adam and SGD.
#pragma once
#include "kernels/stream.h"
#include <cstddef>

namespace aicl {

// One torch.optim.Adam step (amsgrad=False, maximize=False, weight_decay as L2 added to the gradient, not
// AdamW). m and v are the first/second moment buffers (zero before step 1); step is the 1-based step count
// AFTER incrementing (1 on the first call). Scalars are formed in double and rounded to T where torch does.
// Returns whether every gradient was finite (checked in the same pass; the update is applied either way, so a
// caller that gets false must stop and not save these parameters).
template <class T>
bool adam_step(T* param, const T* grad, T* m, T* v, std::size_t n, double lr, double beta1, double beta2,
               double eps, double weight_decay, long step);

// One torch.optim.SGD step (dampening 0, nesterov False): d = grad + wd*param; with momentum != 0 the buffer
// becomes d on step 1 and momentum*buf + d afterwards, and d = buf; then param -= lr*d. momentum_buf may be
// null when momentum == 0. step is 1-based. Returns whether every gradient was finite, as adam_step.
template <class T>
bool sgd_step(T* param, const T* grad, T* momentum_buf, std::size_t n, double lr, double momentum,
              double weight_decay, long step);

// ---- CUDA twin (kernels/adam.cu, in libaicl_cuda.so): float, DEVICE pointers, queued on `stream` ----
// One fused kernel per optimizer step over the single flat parameter buffer.

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
