// Optimizer steps over one flat parameter buffer, reproducing torch 1.13's single-tensor Adam and SGD.
#pragma once
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

}  // namespace aicl
