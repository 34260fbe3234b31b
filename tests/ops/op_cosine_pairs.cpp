// Op cases of kernels/cosine_pairs: cosine-similarity matrices of candidate-set pairs (FTCL's get_similarity).
#include <cmath>
#include <string>
#include <vector>

#include "gradcheck.h"
#include "kernels/cosine_pairs.h"
#include "ops/op_registry.h"
#if AICL_HAVE_CUDA
#include "ops/op_cuda.h"
#endif

namespace aicl_test::ops {
namespace {

struct Shape {
  int sets, L, ld, c0, w, P;
};

// Every entry is a cosine (|S| <= 1), and a set paired with itself has a unit diagonal.
void invariants(const Shape& s, const CpuState& st, Report& rep) {
  for (double v : st.out.f[0]) rep.check(std::fabs(v) <= 1 + 1e-12, "a cosine above 1 in magnitude");
  for (int p = 0; p < s.P; ++p)
    if (st.in.i[1][std::size_t(p)] == st.in.i[2][std::size_t(p)])
      for (int i = 0; i < s.L; ++i)
        rep.check(std::fabs(st.out.f[0][(std::size_t(p) * s.L + i) * s.L + i] - 1) < 1e-12, "self-cosine is not 1");
}

OpCase cosine_case(const Shape& s, unsigned checks) {
  OpCase c;
  c.op = "cosine_pairs";
  c.params = "sets=" + std::to_string(s.sets) + " L=" + std::to_string(s.L) + " cols=" + std::to_string(s.c0) + "-" +
             std::to_string(s.c0 + s.w) + " ld=" + std::to_string(s.ld) + " P=" + std::to_string(s.P);
  c.checks = checks;
  const int rows = s.sets * s.L;
  const std::size_t nx = std::size_t(rows) * s.ld, ns = std::size_t(s.P) * s.L * s.L;
  // Device: other summation orders (warp and block reductions vs BLAS): 1e-5 of the largest entry.
  c.inputs = {float_in("X", nx), int_in("ra", std::size_t(s.P)), int_in("rb", std::size_t(s.P))};
  c.outputs = {float_out("S", ns, {Cmp::rel_to_max, 1e-5})};
  c.make_inputs = [=](Values<double>& in) {
    in.f[0] = random_vector(nx, 980 + s.L + s.w);
    for (int p = 0; p < s.P; ++p) {  // sets reused across pairs (their gradients add up), one set with itself
      in.i[1][std::size_t(p)] = (p % s.sets) * s.L;
      in.i[2][std::size_t(p)] = (p == 0 ? 0 : (p * 3 + 1) % s.sets) * s.L;
    }
  };
  c.set_cpu_forward([=](const auto& a) {
    aicl::cosine_pairs_forward(a.out[0], a.in[0], rows, s.ld, s.c0, s.w, a.in_int[1], a.in_int[2], s.P, s.L);
  });
  c.set_cpu_backward([=](const auto& a) {
    aicl::cosine_pairs_backward(a.din[0], a.dout[0], a.in[0], rows, s.ld, s.c0, s.w, a.in_int[1], a.in_int[2], s.P,
                                s.L);
  });
  c.grad_invariants = [=](const CpuState& st, Report& rep) { invariants(s, st, rep); };
#if AICL_HAVE_CUDA
  c.forward_cuda = [=](const Args<float>& a) {
    aicl::cosine_pairs_forward_cuda(a.out[0], a.in[0], rows, s.ld, s.c0, s.w, a.in_int[1], a.in_int[2], s.P, s.L,
                                    stream_of(a));
  };
  c.backward_cuda = [=](const Args<float>& a) {
    aicl::cosine_pairs_backward_cuda(a.din[0], a.dout[0], a.in[0], rows, s.ld, s.c0, s.w, a.in_int[1], a.in_int[2],
                                     s.P, s.L, stream_of(a));
  };
#endif
  c.cuda_grad = {Cmp::rel_to_max, 1e-4};
  c.cuda_deterministic_forward = true;
  c.cuda_deterministic_backward = true;
  return c;
}

std::vector<OpCase> cosine_pairs_cases() {
  const unsigned all = kGradCheck | kCuda | kPerf;
  // Small sets on column halves (FSD's match/gap scores), the stage-A LCS shape (16 sets of 30 x 2048, 8 pairs) and
  // the FSD shape (16 sets of 10 x 1024, halves of 512; sets of 5 start at row 0 or 5 of a video).
  return {cosine_case({4, 3, 6, 0, 6, 5}, kGradCheck | kCuda), cosine_case({3, 2, 8, 4, 4, 4}, kGradCheck | kCuda),
          cosine_case({16, 30, 2048, 0, 2048, 8}, kCuda | kPerf), cosine_case({32, 5, 1024, 512, 512, 16}, all)};
}

}  // namespace

AICL_REGISTER_OP(cosine_pairs_cases);

}  // namespace aicl_test::ops
