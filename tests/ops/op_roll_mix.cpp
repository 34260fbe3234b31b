// Op cases of kernels/roll_mix: SAL's mix-up by batch roll (forward only: no gradient flows through it).
#include <string>
#include <vector>

#include "gradcheck.h"
#include "kernels/roll_mix.h"
#include "ops/op_registry.h"
#if AICL_HAVE_CUDA
#include "ops/op_cuda.h"
#endif

namespace aicl_test::ops {
namespace {

OpCase roll_mix_case(int B, std::size_t n, aicl::RollMix mode) {
  static const char* names[] = {"sum", "max", "mean"};
  OpCase c;
  c.op = "roll_mix";
  c.params = std::string(names[static_cast<int>(mode)]) + " B=" + std::to_string(B) + " n=" + std::to_string(n);
  c.checks = kCuda | kPerf;  // forward only; the CPU values are checked in tests/cpu/test_roll_mix.cpp
  const std::size_t total = std::size_t(B) * n;
  c.inputs = {float_in("x", total, false)};
  c.outputs = {float_out("out", total, {Cmp::bits}, false)};
  c.make_inputs = [=](Values<double>& in) {
    in.f[0] = random_vector(total, 91, 0, 2);
    if (mode == aicl::RollMix::max)  // labels in {0, 1}
      for (double& v : in.f[0]) v = v < 1 ? 0.0 : 1.0;
  };
  c.set_cpu_forward([=](const auto& a) { aicl::roll_mix_forward(a.out[0], a.in[0], B, n, mode); });
#if AICL_HAVE_CUDA
  c.forward_cuda = [=](const Args<float>& a) { aicl::roll_mix_forward_cuda(a.out[0], a.in[0], B, n, mode, stream_of(a)); };
#endif
  return c;
}

std::vector<OpCase> roll_mix_cases() {
  // SAL: features [2, 750 x 2048] summed, labels [2, 20] OR-ed, masks [2, 750] averaged; B = 1 and B = 3 too.
  return {roll_mix_case(2, 750 * 2048, aicl::RollMix::sum), roll_mix_case(2, 20, aicl::RollMix::max),
          roll_mix_case(2, 750, aicl::RollMix::mean), roll_mix_case(1, 33, aicl::RollMix::sum),
          roll_mix_case(3, 41, aicl::RollMix::mean)};
}

}  // namespace

AICL_REGISTER_OP(roll_mix_cases);

}  // namespace aicl_test::ops
