// Op cases of kernels/rank_select (forward only, integer output): time indices of a range of attention ranks.
#include <string>
#include <vector>

#include "gradcheck.h"
#include "kernels/rank_select.h"
#include "ops/op_registry.h"
#if AICL_HAVE_CUDA
#include "ops/op_cuda.h"
#endif

namespace aicl_test::ops {
namespace {

struct Shape {
  int B, T, stride, col, r0, n;
  bool time_order;
};

// Random scores are tie-free, where the CPU's torch order and the GPU's stable order agree: indices bit for bit.
OpCase rank_case(const Shape& s, unsigned checks) {
  OpCase c;
  c.op = "rank_select";
  c.params = "B=" + std::to_string(s.B) + " T=" + std::to_string(s.T) + " ranks=" + std::to_string(s.r0) + "-" +
             std::to_string(s.r0 + s.n) + (s.time_order ? " time-order" : " rank-order");
  c.checks = checks;
  c.inputs = {float_in("score", std::size_t(s.B) * s.T * s.stride, false)};
  c.outputs = {int_out("idx", std::size_t(s.B) * s.n)};
  c.make_inputs = [=](Values<double>& in) { in.f[0] = random_vector(in.f[0].size(), 960 + s.T + s.r0, 0, 1); };
  c.set_cpu_forward([=](const auto& a) {
    aicl::rank_select_forward(a.out_int[0], s.n, a.in[0], s.stride, s.col, s.B, s.T, s.r0, s.n, s.time_order);
  });
#if AICL_HAVE_CUDA
  c.forward_cuda = [=](const Args<float>& a) {
    aicl::rank_select_forward_cuda(a.out_int[0], s.n, a.in[0], s.stride, s.col, s.B, s.T, s.r0, s.n, s.time_order,
                                   stream_of(a));
  };
#endif
  c.cuda_deterministic_forward = true;
  return c;
}

std::vector<OpCase> rank_select_cases() {
  const unsigned checks = kCuda | kPerf;
  // FTCL at T = 750: the top 93 (mean features, rank order), the LCS 30 and the FSD 5 + 5 (time order); T = 1.
  return {rank_case({16, 750, 3, 0, 0, 93, false}, checks), rank_case({16, 750, 3, 0, 0, 30, true}, checks),
          rank_case({16, 750, 3, 0, 5, 5, true}, checks), rank_case({2, 9, 3, 2, 0, 3, false}, kCuda),
          rank_case({1, 1, 1, 0, 0, 1, true}, kCuda)};
}

}  // namespace

AICL_REGISTER_OP(rank_select_cases);

}  // namespace aicl_test::ops
