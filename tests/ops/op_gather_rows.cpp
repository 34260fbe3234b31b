// Op cases of kernels/gather_rows: gathered rows (FTCL's candidate sets) or their mean (ACM-Net's branch features).
#include <string>
#include <vector>

#include "gradcheck.h"
#include "kernels/gather_rows.h"
#include "ops/op_registry.h"
#if AICL_HAVE_CUDA
#include "ops/op_cuda.h"
#endif

namespace aicl_test::ops {
namespace {

struct Shape {
  int B, T, D, n, ld;
  bool mean;
};

OpCase gather_case(const Shape& s, unsigned checks) {
  OpCase c;
  c.op = "gather_rows";
  c.params = "B=" + std::to_string(s.B) + " T=" + std::to_string(s.T) + " D=" + std::to_string(s.D) + " n=" +
             std::to_string(s.n) + " ld=" + std::to_string(s.ld) + (s.mean ? " mean" : " rows");
  c.checks = checks;
  const std::size_t nx = std::size_t(s.B) * s.T * s.D, nout = std::size_t(s.B) * (s.mean ? 1 : s.n) * s.D;
  // Device: copies, and the mean's float sums in the CPU's order: bit for bit.
  c.inputs = {float_in("x", nx), int_in("idx", std::size_t(s.B) * s.ld)};
  c.outputs = {float_out("out", nout, {Cmp::bits})};
  c.make_inputs = [=](Values<double>& in) {
    in.f[0] = random_vector(nx, 970 + s.T + s.D);
    for (int b = 0; b < s.B; ++b)  // n distinct indices per video (a stride coprime with T), -1 in the padding
      for (int j = 0; j < s.ld; ++j)
        in.i[1][std::size_t(b) * s.ld + j] = j < s.n ? (b * 3 + j * 7) % s.T : -1;
  };
  c.set_cpu_forward([=](const auto& a) {
    aicl::gather_rows_forward(a.out[0], a.in[0], a.in_int[1], s.ld, s.B, s.T, s.D, s.n, s.mean);
  });
  c.set_cpu_backward([=](const auto& a) {
    aicl::gather_rows_backward(a.din[0], a.dout[0], a.in_int[1], s.ld, s.B, s.T, s.D, s.n, s.mean);
  });
#if AICL_HAVE_CUDA
  c.forward_cuda = [=](const Args<float>& a) {
    aicl::gather_rows_forward_cuda(a.out[0], a.in[0], a.in_int[1], s.ld, s.B, s.T, s.D, s.n, s.mean, stream_of(a));
  };
  c.backward_cuda = [=](const Args<float>& a) {
    aicl::gather_rows_backward_cuda(a.din[0], a.dout[0], a.in_int[1], s.ld, s.B, s.T, s.D, s.n, s.mean,
                                    stream_of(a));
  };
#endif
  c.cuda_grad = {Cmp::bits};
  c.cuda_deterministic_forward = true;
  c.cuda_deterministic_backward = true;
  return c;
}

std::vector<OpCase> gather_rows_cases() {
  const unsigned all = kGradCheck | kCuda | kPerf;
  // Small (rows with a padded ld, mean), FTCL's LCS set (30 of 750 rows of 2048) and its mean over the top 93.
  return {gather_case({2, 9, 4, 3, 5, false}, kGradCheck | kCuda),
          gather_case({3, 8, 5, 4, 4, true}, kGradCheck | kCuda),
          gather_case({16, 750, 2048, 30, 30, false}, kCuda | kPerf),
          gather_case({16, 750, 2048, 93, 93, true}, kCuda | kPerf), gather_case({2, 11, 3, 2, 2, true}, all)};
}

}  // namespace

AICL_REGISTER_OP(gather_rows_cases);

}  // namespace aicl_test::ops
