// CUDA Adam / SGD steps: one elementwise kernel each, reproducing kernels/adam.cpu.cpp's float operations exactly.
//
// nvcc would contract a*b + c into an FMA; the CPU twin (and torch) round the product first except where torch
// itself uses an fma. So every operation below is an explicit intrinsic: __fmaf_rn where the CPU calls std::fma,
// __fmul_rn / __fadd_rn / __fdiv_rn / __fsqrt_rn (IEEE round-to-nearest, like the CPU's float ops) elsewhere.
#include "kernels/adam.h"

#include <cmath>

#include "kernels/cuda_common.h"

namespace aicl {

namespace {

constexpr unsigned kThreads = 256;

struct AdamScalars {
  float neg_step_size, bias_correction2_sqrt, wd, b1, b2, one_minus_b1, one_minus_b2, eps;
  bool decay;
};

__global__ void adam_kernel(float* param, const float* grad, float* m, float* v, std::size_t n, AdamScalars s) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const float p = param[i];
    const float g = s.decay ? __fmaf_rn(p, s.wd, grad[i]) : grad[i];          // grad.add(param, alpha=wd)
    const float m_new = __fmaf_rn(g, s.one_minus_b1, __fmul_rn(m[i], s.b1));  // exp_avg.mul_(b1).add_(g, 1-b1)
    const float v_new = __fmaf_rn(__fmul_rn(s.one_minus_b2, g), g, __fmul_rn(v[i], s.b2));  // .addcmul_ (fused)
    const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(v_new), s.bias_correction2_sqrt), s.eps);
    param[i] = __fadd_rn(p, __fdiv_rn(__fmul_rn(s.neg_step_size, m_new), denom));  // addcdiv_
    m[i] = m_new;
    v[i] = v_new;
  }
}

__global__ void sgd_kernel(float* param, const float* grad, float* momentum_buf, std::size_t n, float wd, float mom,
                           float neg_lr, bool decay, bool use_momentum, bool first) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const float p = param[i];
    float d = decay ? __fmaf_rn(p, wd, grad[i]) : grad[i];
    if (use_momentum) {
      d = first ? d : __fadd_rn(__fmul_rn(momentum_buf[i], mom), d);  // buf.mul_(momentum).add_(d)
      momentum_buf[i] = d;
    }
    param[i] = __fmaf_rn(d, neg_lr, p);  // param.add_(d, alpha=-lr)
  }
}

}  // namespace

void adam_step_cuda(float* param, const float* grad, float* m, float* v, std::size_t n, double lr, double beta1,
                    double beta2, double eps, double weight_decay, long step, cudaStream_t stream) {
  AICL_CHECK(step >= 1, "adam_step_cuda: step must be >= 1 (1-based, after incrementing)");
  if (n == 0) return;
  // Host scalars formed in double and rounded to float where torch rounds them (as adam_step<float> does).
  const double bias_correction1 = 1 - std::pow(beta1, double(step));
  const double bias_correction2 = 1 - std::pow(beta2, double(step));
  AdamScalars s;
  s.neg_step_size = float(-(lr / bias_correction1));
  s.bias_correction2_sqrt = float(std::sqrt(bias_correction2));
  s.wd = float(weight_decay);
  s.b1 = float(beta1);
  s.b2 = float(beta2);
  s.one_minus_b1 = float(1 - beta1);
  s.one_minus_b2 = float(1 - beta2);
  s.eps = float(eps);
  s.decay = weight_decay != 0;
  adam_kernel<<<cuda_blocks_for(n, kThreads), kThreads, 0, stream>>>(param, grad, m, v, n, s);
  AICL_CUDA_CHECK_LAUNCH();
}

void sgd_step_cuda(float* param, const float* grad, float* momentum_buf, std::size_t n, double lr, double momentum,
                   double weight_decay, long step, cudaStream_t stream) {
  const bool use_momentum = momentum != 0;
  AICL_CHECK(!use_momentum || momentum_buf != nullptr, "sgd_step_cuda: momentum != 0 needs a momentum buffer");
  if (n == 0) return;
  sgd_kernel<<<cuda_blocks_for(n, kThreads), kThreads, 0, stream>>>(param, grad, momentum_buf, n,
                                                                    float(weight_decay), float(momentum), float(-lr),
                                                                    weight_decay != 0, use_momentum, step <= 1);
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace aicl
