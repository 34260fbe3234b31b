// Op cases of kernels/pair_contrast: FTCL's mean-over-negatives minus mean-over-positives of per-pair scores.
#include <cmath>
#include <string>
#include <vector>

#include "gradcheck.h"
#include "kernels/pair_contrast.h"
#include "ops/op_registry.h"
#if AICL_HAVE_CUDA
#include "ops/op_cuda.h"
#endif

namespace aicl_test::ops {
namespace {

OpCase contrast_case(int P, int every, double eps, unsigned checks) {
  OpCase c;
  c.op = "pair_contrast";
  c.params = "P=" + std::to_string(P) + " pos-every=" + std::to_string(every) + " eps=" + num(eps);
  c.checks = checks;
  c.inputs = {float_in("value", std::size_t(P)), int_in("pos", std::size_t(P))};
  c.outputs = {float_out("loss", 1, {Cmp::rel_to_max, 1e-6})};
  c.make_inputs = [=](Values<double>& in) {
    in.f[0] = random_vector(std::size_t(P), 990 + P, 0, 3);
    for (int p = 0; p < P; ++p) in.i[1][std::size_t(p)] = every > 0 && p % every == 0;
  };
  c.make_dout = [](std::vector<std::vector<double>>& d) { d[0] = {0.8}; };
  c.set_cpu_forward([=](const auto& a) { a.out[0][0] = aicl::pair_contrast_forward(a.in[0], a.in_int[1], P, eps); });
  c.set_cpu_backward([=](const auto& a) {
    aicl::pair_contrast_backward(a.din[0], a.dout_host[0][0], a.in_int[1], P, eps);
  });
#if AICL_HAVE_CUDA
  c.forward_cuda = [=](const Args<float>& a) {
    aicl::pair_contrast_forward_cuda(a.out[0], a.in[0], a.in_int[1], P, eps, stream_of(a));
  };
  c.backward_cuda = [=](const Args<float>& a) {
    aicl::pair_contrast_backward_cuda(a.din[0], a.dout_host[0][0], a.in_int[1], P, eps, stream_of(a));
  };
#endif
  // Device: the same double sums and float products in one thread: bit for bit.
  c.cuda_grad = {Cmp::bits};
  c.cuda_deterministic_forward = true;
  return c;
}

std::vector<OpCase> pair_contrast_cases() {
  // Stage A (plain means: eps 0, as many positives as negatives), stage B (1e-10), all-negative and all-positive
  // steps (the empty group contributes 0).
  const unsigned all = kGradCheck | kCuda | kPerf;
  return {contrast_case(8, 2, 0.0, all), contrast_case(16, 3, 1e-10, all),
          contrast_case(5, 0, 1e-10, kGradCheck | kCuda), contrast_case(4, 1, 0.0, kGradCheck | kCuda)};
}

}  // namespace

AICL_REGISTER_OP(pair_contrast_cases);

}  // namespace aicl_test::ops
