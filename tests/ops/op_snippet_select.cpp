// Op cases of kernels/snippet_select (forward only, integer outputs): median binarisation and top-k snippet selection.
#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "gradcheck.h"
#include "kernels/snippet_select.h"
#include "ops/op_registry.h"
#if AICL_HAVE_CUDA
#include "ops/op_cuda.h"
#endif

namespace aicl_test::ops {
namespace {

struct Shape {
  int B, T, k;
};

// The four score curves of one video, computed exactly as both ops do (float, numpy median).
std::vector<std::vector<float>> scores_of(const float* x1, const float* x2, int T) {
  const float med1 = aicl::numpy_median(x1, T), med2 = aicl::numpy_median(x2, T);
  const float mx = *std::max_element(x1, x1 + T);
  std::vector<std::vector<float>> s(4, std::vector<float>(std::size_t(T)));
  for (int t = 0; t < T; ++t) {
    const bool b1 = x1[t] > med1, b2 = x2[t] > med2;
    const float rev = mx - x1[t];
    s[0][std::size_t(t)] = x1[t] * ((b1 && b2) ? 1.f : 0.f);
    s[1][std::size_t(t)] = rev * ((!b1 && !b2) ? 1.f : 0.f);
    s[2][std::size_t(t)] = x1[t] * ((b1 != b2) ? 1.f : 0.f);
    s[3][std::size_t(t)] = rev * ((b1 != b2) ? 1.f : 0.f);
  }
  return s;
}

// Device vs CPU: where the selection is tie-free (the k selected scores distinct, the k-th strictly above the
// rest) the indices are the CPU's; always, the selected scores are the CPU's rank by rank (the two tie orders
// differ by design, see kernels/snippet_select.h). `min_exact` groups must have been tie-free.
void compare_selection(const Shape& s, long min_exact, const CudaCompare& cc, Report& rep) {
  long exact = 0;
  for (int b = 0; b < s.B; ++b) {
    const auto sc = scores_of(cc.in.f[0].data() + std::size_t(b) * s.T, cc.in.f[1].data() + std::size_t(b) * s.T, s.T);
    for (int g = 0; g < 4; ++g) {
      const std::string where = "video " + std::to_string(b) + " group " + std::to_string(g);
      const auto first = std::size_t(b) * s.k;
      const std::vector<int> got(cc.gpu.i[std::size_t(g)].begin() + long(first), cc.gpu.i[std::size_t(g)].begin() + long(first + s.k));
      const std::vector<int> want(cc.cpu.i[std::size_t(g)].begin() + long(first), cc.cpu.i[std::size_t(g)].begin() + long(first + s.k));
      std::vector<float> sorted = sc[std::size_t(g)];
      std::sort(sorted.begin(), sorted.end(), std::greater<float>());
      bool tie_free = s.k == s.T || sorted[std::size_t(s.k - 1)] > sorted[std::size_t(s.k)];
      for (int j = 0; j + 1 < s.k; ++j) tie_free = tie_free && sorted[std::size_t(j)] > sorted[std::size_t(j + 1)];
      if (tie_free) {
        ++exact;
        rep.check(got == want, where + ": tie-free selection differs from the CPU's");
      }
      for (int j = 0; j < s.k; ++j) {
        const bool in_range = got[std::size_t(j)] >= 0 && got[std::size_t(j)] < s.T;
        rep.check(in_range && sc[std::size_t(g)][std::size_t(got[std::size_t(j)])] == sc[std::size_t(g)][std::size_t(want[std::size_t(j)])],
                  where + " rank " + std::to_string(j) + ": selected score differs from the CPU's");
      }
    }
  }
  rep.check(exact >= min_exact, "only " + std::to_string(exact) + " tie-free groups (the exact check proved little)");
}

// T < 20 with k = 1 (legal; the official k would be 0), odd and even T (both median rules), B = 1, the training shape.
OpCase snippet_case(const Shape& s, long min_exact) {
  OpCase c;
  c.op = "snippet_select";
  c.params = "B=" + std::to_string(s.B) + " T=" + std::to_string(s.T) + " k=" + std::to_string(s.k);
  c.checks = kCuda | kPerf;  // no gradient (integer outputs)
  const std::size_t n = std::size_t(s.B) * s.T, nk = std::size_t(s.B) * s.k;
  c.inputs = {float_in("a1", n, false), float_in("a2", n, false)};
  const Tol custom{Cmp::custom};
  c.outputs = {int_out("idx_CA", nk, custom), int_out("idx_CB", nk, custom), int_out("idx_IA", nk, custom),
               int_out("idx_IB", nk, custom)};
  c.make_inputs = [n, s](Values<double>& in) {
    in.f[0] = random_vector(n, 301 + unsigned(s.T), 0, 1);
    in.f[1] = random_vector(n, 302 + unsigned(s.T), 0, 1);
  };
  const int B = s.B, T = s.T, k = s.k;
  c.set_cpu_forward([=](const auto& a) {
    aicl::snippet_select_forward(a.out_int[0], a.out_int[1], a.out_int[2], a.out_int[3], a.in[0], a.in[1], B, T, k);
  });
#if AICL_HAVE_CUDA
  c.forward_cuda = [=](const Args<float>& a) {
    aicl::snippet_select_forward_cuda(a.out_int[0], a.out_int[1], a.out_int[2], a.out_int[3], a.in[0], a.in[1], B, T,
                                      k, stream_of(a));
  };
#endif
  c.cuda_compare = [s, min_exact](const CudaCompare& cc, Report& rep) { compare_selection(s, min_exact, cc, rep); };
  return c;
}

std::vector<OpCase> snippet_select_cases() {
  const Shape shapes[] = {{1, 1, 1},  {1, 2, 1},  {2, 7, 1},  {1, 20, 1},   {2, 21, 1},
                          {3, 41, 2}, {1, 64, 3}, {2, 63, 3}, {16, 750, 37}};
  std::vector<OpCase> cs;
  // The 16 x 750 case alone has 64 groups whose masks hold far more than k segments: all must be tie-free.
  for (const Shape& s : shapes) cs.push_back(snippet_case(s, s.T == 750 ? 64 : 0));
  return cs;
}

}  // namespace

AICL_REGISTER_OP(snippet_select_cases);

}  // namespace aicl_test::ops
