// Op cases of kernels/dropout: inverted dropout with the Philox mask that the CPU and the GPU share.
#include <string>
#include <vector>

#include "gradcheck.h"
#include "kernels/dropout.h"
#include "ops/op_registry.h"
#if AICL_HAVE_CUDA
#include "ops/op_cuda.h"
#endif

namespace aicl_test::ops {
namespace {

// Device: the same Philox words and the same float products, so outputs and gradients match bit for bit (a
// different mask shows up as whole elements at 0 vs 2x).
OpCase dropout_case(std::size_t n, double p, unsigned checks, std::size_t group = 1) {
  OpCase c;
  c.op = "dropout";
  c.params = "n=" + std::to_string(n) + " p=" + std::to_string(p).substr(0, 4) +
             (group > 1 ? " group=" + std::to_string(group) : "");
  c.checks = checks;
  const aicl::DropoutKey key{0x123456789abcdefull, 7, 3};
  c.inputs = {float_in("x", n)};
  c.outputs = {float_out("out", n, {Cmp::bits})};
  c.make_inputs = [n](Values<double>& in) { in.f[0] = random_vector(n, 81); };
  c.set_cpu_forward([=](const auto& a) { aicl::dropout_forward(a.out[0], a.in[0], n, p, key, group); });
  c.set_cpu_backward([=](const auto& a) { aicl::dropout_backward(a.din[0], a.dout[0], n, p, key, group); });
  c.grad.prefill = 0.5;
  c.grad.proj_seed = 82;
#if AICL_HAVE_CUDA
  c.forward_cuda = [=](const Args<float>& a) {
    aicl::dropout_forward_cuda(a.out[0], a.in[0], n, p, key, stream_of(a), group);
  };
  c.backward_cuda = [=](const Args<float>& a) {
    aicl::dropout_backward_cuda(a.din[0], a.dout[0], n, p, key, stream_of(a), group);
  };
#endif
  c.cuda_grad = {Cmp::bits};
  c.cuda_prefill = 0.5;
  return c;
}

std::vector<OpCase> dropout_cases() {
  const unsigned grad = kGradCheck | kCuda | kPerf;
  // SAL's p = 0.5 and p = 0 (the identity); the device sizes reach past 2^32 / 4 blocks' low word only in theory,
  // so an odd size and SAL's [2, 750, 512] trunk output are used.
  // group > 1: FTCL's snippet dropout (one draw per row of D channels; p = 0.7), a row of 7 and [16, 750, 2048].
  return {dropout_case(1, 0.5, grad), dropout_case(37, 0.5, grad), dropout_case(16, 0.0, grad),
          dropout_case(2 * 750 * 512, 0.5, kCuda | kPerf), dropout_case(1001, 0.3, kCuda | kPerf),
          dropout_case(63, 0.7, grad, 7), dropout_case(std::size_t(16) * 750 * 2048, 0.7, kCuda | kPerf, 2048)};
}

}  // namespace

AICL_REGISTER_OP(dropout_cases);

}  // namespace aicl_test::ops
