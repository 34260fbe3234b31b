// Op cases of kernels/adam (no gradient): several Adam / SGD steps, the state after every step bit for bit CPU vs CUDA.
#include <cstring>
#include <string>
#include <vector>

#include "gradcheck.h"
#include "kernels/adam.h"
#include "ops/op_registry.h"
#if AICL_HAVE_CUDA
#include "kernels/cuda_common.h"
#include "ops/op_cuda.h"
#endif

namespace aicl_test::ops {
namespace {

// Copies n values within one memory (host, or the device when `stream` is set): the snapshot of one step.
template <class T>
void copy_state(T* dst, const T* src, std::size_t n, void* stream) {
#if AICL_HAVE_CUDA
  if (stream) {
    AICL_CUDA_CHECK(cudaMemcpyAsync(dst, src, n * sizeof(T), cudaMemcpyDeviceToDevice, static_cast<cudaStream_t>(stream)));
    return;
  }
#else
  (void)stream;
#endif
  std::memcpy(dst, src, n * sizeof(T));
}

// The outputs hold the state after each step s in [s*n, (s+1)*n): step s starts from the snapshot of step s-1
// (or from the inputs / zero moments) and updates its own slice in place, so CPU and device run the same program.
template <class T, class Step>
void run_steps(const Args<T>& a, std::size_t n, int steps, const std::vector<int>& state_outputs, Step step) {
  for (int s = 0; s < steps; ++s) {
    const std::size_t off = std::size_t(s) * n;
    copy_state(a.out[0] + off, s == 0 ? a.in[0] : a.out[0] + off - n, n, a.stream);
    for (int j : state_outputs) {
      if (s > 0) {
        copy_state(a.out[std::size_t(j)] + off, a.out[std::size_t(j)] + off - n, n, a.stream);
      } else if (a.stream) {
#if AICL_HAVE_CUDA
        AICL_CUDA_CHECK(cudaMemsetAsync(a.out[std::size_t(j)], 0, n * sizeof(T), static_cast<cudaStream_t>(a.stream)));
#endif
      } else {
        std::memset(a.out[std::size_t(j)], 0, n * sizeof(T));
      }
    }
    step(s, off);
  }
}

// Adam (lr, weight decay varied; betas 0.9/0.999, eps 1e-8) over 5 steps with gradients of alternating scale
// (1e-3 exercises eps, 10 the moments).
OpCase adam_case(std::size_t n, double wd, double lr) {
  constexpr int kSteps = 5;
  OpCase c;
  c.op = "adam_step";
  c.params = "n=" + std::to_string(n) + " wd=" + num(wd) + " lr=" + num(lr);
  c.checks = kCuda | kPerf;
  const std::size_t total = n * kSteps;
  c.inputs = {float_in("param", n, false), float_in("grads", total, false)};
  c.outputs = {float_out("param_steps", total, {Cmp::bits}, false), float_out("m_steps", total, {Cmp::bits}, false),
               float_out("v_steps", total, {Cmp::bits}, false)};
  c.make_inputs = [n](Values<double>& in) {
    in.f[0] = random_vector(n, 1);
    for (int s = 0; s < kSteps; ++s) {
      const double scale = (s + 1) % 2 ? 1e-3 : 10.0;
      const std::vector<double> g = random_vector(n, unsigned(101 + s), -scale, scale);
      std::copy(g.begin(), g.end(), in.f[1].begin() + long(std::size_t(s) * n));
    }
  };
  c.set_cpu_forward([=](const auto& a) {
    run_steps(a, n, kSteps, {1, 2}, [&](int s, std::size_t off) {
      aicl::adam_step(a.out[0] + off, a.in[1] + off, a.out[1] + off, a.out[2] + off, n, lr, 0.9, 0.999, 1e-8, wd, s + 1);
    });
  });
#if AICL_HAVE_CUDA
  c.forward_cuda = [=](const Args<float>& a) {
    run_steps(a, n, kSteps, {1, 2}, [&](int s, std::size_t off) {
      aicl::adam_step_cuda(a.out[0] + off, a.in[1] + off, a.out[1] + off, a.out[2] + off, n, lr, 0.9, 0.999, 1e-8, wd,
                           s + 1, stream_of(a));
    });
  };
#endif
  return c;
}

// SGD (momentum, weight decay varied; lr 0.01) over 4 steps; without momentum the buffer is null.
OpCase sgd_case(std::size_t n, double momentum, double wd) {
  constexpr int kSteps = 4;
  OpCase c;
  c.op = "sgd_step";
  c.params = "n=" + std::to_string(n) + " momentum=" + num(momentum) + " wd=" + num(wd);
  c.checks = kCuda | kPerf;
  const std::size_t total = n * kSteps;
  c.inputs = {float_in("param", n, false), float_in("grads", total, false)};
  c.outputs = {float_out("param_steps", total, {Cmp::bits}, false),
               float_out("momentum_steps", momentum != 0 ? total : 0, {Cmp::bits}, false)};
  c.make_inputs = [n](Values<double>& in) {
    in.f[0] = random_vector(n, 2);
    for (int s = 0; s < kSteps; ++s) {
      const std::vector<double> g = random_vector(n, unsigned(201 + s));
      std::copy(g.begin(), g.end(), in.f[1].begin() + long(std::size_t(s) * n));
    }
  };
  const std::vector<int> state = momentum != 0 ? std::vector<int>{1} : std::vector<int>{};
  c.set_cpu_forward([=](const auto& a) {
    run_steps(a, n, kSteps, state, [&](int s, std::size_t off) {
      aicl::sgd_step(a.out[0] + off, a.in[1] + off, momentum != 0 ? a.out[1] + off : nullptr, n, 0.01, momentum, wd,
                     s + 1);
    });
  });
#if AICL_HAVE_CUDA
  c.forward_cuda = [=](const Args<float>& a) {
    run_steps(a, n, kSteps, state, [&](int s, std::size_t off) {
      aicl::sgd_step_cuda(a.out[0] + off, a.in[1] + off, momentum != 0 ? a.out[1] + off : nullptr, n, 0.01, momentum,
                          wd, s + 1, stream_of(a));
    });
  };
#endif
  return c;
}

std::vector<OpCase> adam_step_cases() {
  std::vector<OpCase> cs;
  for (std::size_t n : {std::size_t(1), std::size_t(1000), std::size_t(1 << 20) + 7})
    for (double wd : {0.0, 5e-4})
      for (double lr : {1e-4, 3e-2}) cs.push_back(adam_case(n, wd, lr));
  return cs;
}

std::vector<OpCase> sgd_step_cases() {
  std::vector<OpCase> cs;
  for (std::size_t n : {std::size_t(1), std::size_t(4099), std::size_t(1 << 20) + 7})
    for (double momentum : {0.0, 0.9})
      for (double wd : {0.0, 1e-4}) cs.push_back(sgd_case(n, momentum, wd));
  return cs;
}

}  // namespace

AICL_REGISTER_OP(adam_step_cases);
AICL_REGISTER_OP(sgd_step_cases);

}  // namespace aicl_test::ops
