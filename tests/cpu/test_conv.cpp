// conv1d_k3 (any odd K) / conv1d_k1 forward against direct loops, strategies and strides, float vs double; the gemm
// wrapper.
// (Finite-difference gradients and CUDA parity: the op harness, tests/ops/op_conv1d_k*.cpp.)
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "gradcheck.h"
#include "test_util.h"
#include "kernels/conv1d_k1.h"
#include "core/base/error.h"
#include "kernels/conv1d_k3.h"
#include "kernels/gemm.h"

using aicl_test::random_vector;
using Strategy = aicl::detail::Conv3Strategy;

namespace {

struct Conv3Shape {
  int B, Tn, Cin, Cout, in_stride;
  int K = 3;  // kernel size (odd), zero padding K/2
};

std::string name_of(const Conv3Shape& s, bool relu) {
  return "K=" + std::to_string(s.K) + " B=" + std::to_string(s.B) + " T=" + std::to_string(s.Tn) +
         " Cin=" + std::to_string(s.Cin) + " Cout=" + std::to_string(s.Cout) + " stride=" + std::to_string(s.in_stride) +
         (relu ? " relu" : "");
}

// Direct loops in double: out[b,t,co] = bias + sum_k sum_ci w[co,ci,k] in[b,t+k-K/2,ci], zero outside [0,Tn).
// Also returns, per output, the sum of |terms| (the scale float rounding errors are measured against).
template <class T>
void reference_conv3(std::vector<double>& out, std::vector<double>& abs_sum, const std::vector<T>& in,
                     const std::vector<T>& w, const std::vector<T>& bias, const Conv3Shape& s, bool relu) {
  out.assign(size_t(s.B) * s.Tn * s.Cout, 0);
  abs_sum.assign(out.size(), 0);
  for (int b = 0; b < s.B; ++b)
    for (int t = 0; t < s.Tn; ++t)
      for (int co = 0; co < s.Cout; ++co) {
        double acc = bias[co], mag = std::fabs(double(bias[co]));
        for (int k = 0; k < s.K; ++k) {
          const int src = t + k - s.K / 2;
          if (src < 0 || src >= s.Tn) continue;
          for (int ci = 0; ci < s.Cin; ++ci) {
            const double term = double(w[(size_t(co) * s.Cin + ci) * s.K + k]) *
                                double(in[(size_t(b) * s.Tn + src) * s.in_stride + ci]);
            acc += term;
            mag += std::fabs(term);
          }
        }
        const size_t o = (size_t(b) * s.Tn + t) * s.Cout + co;
        out[o] = relu ? std::max(acc, 0.0) : acc;
        abs_sum[o] = mag;
      }
}

template <class To>
std::vector<To> cast(const std::vector<double>& v) {
  return std::vector<To>(v.begin(), v.end());
}

struct Conv3Data {
  std::vector<double> in, w, bias;
};

// Inputs in [-1,1); weights scaled by 1/sqrt(K*Cin). With relu, reseeds until every pre-activation is at least
// 1e-3 from the kink (finite differences of 1e-6 then never cross it) and both signs occur.
Conv3Data make_conv3_data(const Conv3Shape& s, bool relu, unsigned seed) {
  for (unsigned attempt = 0; attempt < 200; ++attempt, seed += 1000) {
    Conv3Data d;
    d.in = random_vector(size_t(s.B) * s.Tn * s.in_stride, seed);
    const double w_scale = 1.0 / std::sqrt(double(s.K) * s.Cin);
    d.w = random_vector(size_t(s.Cout) * s.Cin * s.K, seed + 1, -w_scale, w_scale);
    d.bias = random_vector(s.Cout, seed + 2, -0.3, 0.3);
    if (!relu) return d;
    std::vector<double> pre, mag;
    reference_conv3(pre, mag, d.in, d.w, d.bias, s, false);
    double closest = 1e300;
    size_t negatives = 0;
    for (double p : pre) closest = std::min(closest, std::fabs(p)), negatives += p < 0;
    if (closest > 1e-3 && negatives > 0 && negatives < pre.size()) return d;
  }
  FAIL("no relu inputs away from the kink for " << name_of(s, relu));
  return {};
}

const std::vector<Conv3Shape> kConv3Shapes = {
    {1, 1, 3, 2, 3},  // T=1: only the centre tap exists
    {1, 2, 4, 3, 4},  // T=2: every row is a boundary row
    {2, 1, 2, 3, 2},  // T=1 with several videos
    {2, 5, 3, 4, 7},  // in_stride > Cin (reading half of the channels)
    {3, 7, 5, 6, 5},  // odd T, several videos
    {2, 4, 1, 1, 2},  // single channel in and out
};

// K = 7 (SAL-ActivityNet's base module, padding 3), K = 5 and K = 1. T < K (T = 1, 2, 3: taps whose shift reaches
// past the whole video contribute nothing), T between K/2 and K, several videos (each tap j would leak |j-K/2| rows
// across every video boundary), in_stride > Cin.
const std::vector<Conv3Shape> kConvKShapes = {
    {1, 1, 3, 2, 3, 7}, {2, 2, 4, 3, 4, 7}, {3, 3, 2, 3, 5, 7}, {2, 5, 3, 4, 7, 7}, {3, 9, 5, 6, 5, 7},
    {4, 16, 6, 5, 9, 7}, {2, 4, 1, 1, 2, 7}, {3, 2, 3, 2, 3, 5}, {2, 7, 4, 3, 6, 5}, {3, 4, 3, 2, 3, 1},
};

// Forward of every shape against the direct loops, float and double, both GEMM strategies.
void check_forward_against_direct_loops(const std::vector<Conv3Shape>& shapes) {
  for (const Conv3Shape& s : shapes)
    for (bool relu : {false, true})
      for (Strategy strategy : {Strategy::whole_batch, Strategy::per_video}) {
        const Conv3Data d = make_conv3_data(s, relu, 7);
        std::vector<double> ref, mag;
        reference_conv3(ref, mag, d.in, d.w, d.bias, s, relu);
        std::vector<double> out_d(ref.size(), -7);
        aicl::detail::conv1d_k3_forward_with(strategy, out_d.data(), d.in.data(), s.in_stride, d.w.data(),
                                             d.bias.data(), s.B, s.Tn, s.Cin, s.Cout, s.K, relu);
        // float: inputs rounded to float give the reference for the float run.
        const auto in_f = cast<float>(d.in), w_f = cast<float>(d.w), b_f = cast<float>(d.bias);
        std::vector<double> ref_f, mag_f;
        reference_conv3(ref_f, mag_f, in_f, w_f, b_f, s, relu);
        std::vector<float> out_f(ref.size(), -7.f);
        aicl::detail::conv1d_k3_forward_with(strategy, out_f.data(), in_f.data(), s.in_stride, w_f.data(),
                                             b_f.data(), s.B, s.Tn, s.Cin, s.Cout, s.K, relu);
        // Tolerance: a float sum of n = K*Cin+1 terms is within n * 2^-24 * sum|terms| (worst case), doubled.
        const double float_rel = 2.0 * (s.K * s.Cin + 1) * std::ldexp(1.0, -24);
        double worst_d = 0, worst_f = 0;
        size_t worst_i = 0;
        for (size_t i = 0; i < ref.size(); ++i) {
          worst_d = std::max(worst_d, std::fabs(out_d[i] - ref[i]) / (mag[i] + 1e-300));
          const double rf = std::fabs(double(out_f[i]) - ref_f[i]) / (mag_f[i] * float_rel + 1e-300);
          if (rf > worst_f) worst_f = rf, worst_i = i;
        }
        INFO(name_of(s, relu) << (strategy == Strategy::per_video ? " per_video" : " whole_batch")
                              << ": worst double rel err " << worst_d << ", worst float err / tolerance " << worst_f
                              << " at output " << worst_i);
        CHECK(worst_d < 1e-14);
        CHECK(worst_f <= 1.0);
      }
}

}  // namespace

TEST_CASE("conv1d_k3 forward matches direct loops (float and double, both GEMM strategies)", "[conv]") {
  check_forward_against_direct_loops(kConv3Shapes);
}

TEST_CASE("conv1d_k3 with K = 7 (and 5, 1) matches a naive direct convolution: T < K, several videos, strides",
          "[conv]") {
  check_forward_against_direct_loops(kConvKShapes);
}

TEST_CASE("conv1d_k3 with K = 7 at a SAL-ActivityNet-like width matches a naive direct convolution", "[conv]") {
  // Every tap present (T > K) and crossing each boundary, Cin large enough for the GEMMs to block.
  check_forward_against_direct_loops({Conv3Shape{3, 12, 96, 24, 128, 7}});
}

TEST_CASE("conv1d_k3: an even or non-positive kernel size throws aicl::Error", "[conv]") {
  std::vector<float> x(2 * 4 * 3, 0.5f), w(2 * 3 * 4, 0.1f), b(2, 0.f), out(2 * 4 * 2, 0.f), dout(out.size(), 1.f),
      dw(w.size(), 0.f), db(2, 0.f);
  for (int K : {0, 2, 4, -1})
    for (Strategy strategy : {Strategy::whole_batch, Strategy::per_video}) {
      INFO("K=" << K);
      CHECK_THROWS_AS(aicl::detail::conv1d_k3_forward_with(strategy, out.data(), x.data(), 3, w.data(), b.data(), 2,
                                                           4, 3, 2, K, true),
                      aicl::Error);
      float* no_din = nullptr;
      CHECK_THROWS_AS(aicl::detail::conv1d_k3_backward_with(strategy, dw.data(), db.data(), no_din, 0, dout.data(),
                                                            out.data(), x.data(), 3, w.data(), 2, 4, 3, 2, K, true),
                      aicl::Error);
    }
  CHECK_THROWS_WITH(aicl::conv1d_k3_forward(out.data(), x.data(), 3, w.data(), b.data(), 2, 4, 3, 2, 4, false),
                    Catch::Contains("K=4"));
}

TEST_CASE("conv1d_k3 backward: strategies agree, din stride is honoured, null din skips only din", "[conv][grad]") {
  // K = 3 and K = 7 (T = 6 < 7: the outermost taps pair no rows), K = 5 with T > K.
  for (const Conv3Shape s :
       {Conv3Shape{3, 6, 5, 4, 8, 3}, Conv3Shape{3, 6, 5, 4, 8, 7}, Conv3Shape{2, 9, 4, 3, 6, 5}}) {
    INFO(name_of(s, true));
    const Conv3Data d = make_conv3_data(s, true, 5);
    const size_t n_out = size_t(s.B) * s.Tn * s.Cout;
    std::vector<double> out(n_out);
    aicl::conv1d_k3_forward(out.data(), d.in.data(), s.in_stride, d.w.data(), d.bias.data(), s.B, s.Tn, s.Cin, s.Cout,
                            s.K, true);
    const std::vector<double> proj = random_vector(n_out, 3);
    const int din_stride = s.Cin + 2;
    struct Grads {
      std::vector<double> dw, db, din;
    };
    auto run = [&](Strategy strategy, bool with_din) {
      Grads g{std::vector<double>(d.w.size(), 0), std::vector<double>(s.Cout, 0),
              std::vector<double>(size_t(s.B) * s.Tn * din_stride, -5.0)};
      std::vector<double> dout = proj;
      aicl::detail::conv1d_k3_backward_with(strategy, g.dw.data(), g.db.data(), with_din ? g.din.data() : nullptr,
                                            din_stride, dout.data(), out.data(), d.in.data(), s.in_stride, d.w.data(),
                                            s.B, s.Tn, s.Cin, s.Cout, s.K, true);
      return g;
    };
    const Grads whole = run(Strategy::whole_batch, true), per = run(Strategy::per_video, true),
                no_din = run(Strategy::whole_batch, false);
    for (size_t i = 0; i < whole.dw.size(); ++i) {
      CHECK(whole.dw[i] == Approx(per.dw[i]).epsilon(1e-12).margin(1e-14));
      CHECK(no_din.dw[i] == whole.dw[i]);
    }
    for (size_t i = 0; i < whole.db.size(); ++i) CHECK(no_din.db[i] == whole.db[i]);
    for (size_t r = 0; r < size_t(s.B) * s.Tn; ++r)
      for (int c = 0; c < din_stride; ++c) {
        const size_t i = r * din_stride + c;
        INFO("din row " << r << " col " << c);
        CHECK(no_din.din[i] == -5.0);
        if (c >= s.Cin) {
          CHECK(whole.din[i] == -5.0);  // the gap between rows is never written
        } else {
          CHECK(whole.din[i] == Approx(per.din[i]).epsilon(1e-12).margin(1e-14));
          CHECK(whole.din[i] != -5.0);
        }
      }
  }
}

TEST_CASE("conv1d_k3 float forward and backward agree with double at training-like sizes", "[conv]") {
  // Tolerance written down: 2e-6 relative to the largest |value| of each tensor (float sums of up to 3*96
  // products or B*T = 70 rows). Measured worst: out 2.5e-7, dweight 2.6e-7, din 1.4e-7, dbias 3.8e-8.
  const Conv3Shape s{2, 35, 96, 40, 128};
  const Conv3Data d = make_conv3_data(s, false, 77);
  const size_t n_out = size_t(s.B) * s.Tn * s.Cout;
  const std::vector<double> proj = random_vector(n_out, 4);
  std::vector<double> out_d(n_out), dw_d(d.w.size(), 0), db_d(s.Cout, 0), din_d(d.in.size(), 0), dout_d = proj;
  aicl::conv1d_k3_forward(out_d.data(), d.in.data(), s.in_stride, d.w.data(), d.bias.data(), s.B, s.Tn, s.Cin,
                          s.Cout, s.K, true);
  aicl::conv1d_k3_backward(dw_d.data(), db_d.data(), din_d.data(), s.in_stride, dout_d.data(), out_d.data(),
                           d.in.data(), s.in_stride, d.w.data(), s.B, s.Tn, s.Cin, s.Cout, s.K, true);
  const auto in_f = cast<float>(d.in), w_f = cast<float>(d.w), b_f = cast<float>(d.bias);
  std::vector<float> out_f(n_out), dw_f(d.w.size(), 0), db_f(s.Cout, 0), din_f(d.in.size(), 0);
  std::vector<float> dout_f = cast<float>(proj);
  aicl::conv1d_k3_forward(out_f.data(), in_f.data(), s.in_stride, w_f.data(), b_f.data(), s.B, s.Tn, s.Cin, s.Cout,
                          s.K, true);
  aicl::conv1d_k3_backward(dw_f.data(), db_f.data(), din_f.data(), s.in_stride, dout_f.data(), out_f.data(),
                           in_f.data(), s.in_stride, w_f.data(), s.B, s.Tn, s.Cin, s.Cout, s.K, true);
  auto compare = [](const char* what, const std::vector<float>& f, const std::vector<double>& dd) {
    double scale = 0, worst = 0;
    size_t worst_i = 0;
    for (double v : dd) scale = std::max(scale, std::fabs(v));
    for (size_t i = 0; i < f.size(); ++i) {
      const double e = std::fabs(double(f[i]) - dd[i]) / scale;
      if (e > worst) worst = e, worst_i = i;
    }
    INFO(what << ": worst relative-to-max error " << worst << " at " << worst_i);
    CHECK(scale > 0);
    CHECK(worst < 2e-6);
  };
  compare("out", out_f, out_d);
  compare("dweight", dw_f, dw_d);
  compare("dbias", db_f, db_d);
  compare("din", din_f, din_d);
}

TEST_CASE("conv1d_k1 forward matches direct loops (float and double)", "[conv]") {
  struct K1Shape {
    int N, Cin, Cout;
  };
  for (const K1Shape s : {K1Shape{1, 1, 1}, K1Shape{5, 4, 1}, K1Shape{7, 6, 20}, K1Shape{3, 9, 5}}) {
    const std::string name =
        "N=" + std::to_string(s.N) + " Cin=" + std::to_string(s.Cin) + " Cout=" + std::to_string(s.Cout);
    std::vector<double> in = random_vector(size_t(s.N) * s.Cin, 1), w = random_vector(size_t(s.Cout) * s.Cin, 2),
                        bias = random_vector(s.Cout, 3);
    std::vector<double> out(size_t(s.N) * s.Cout);
    aicl::conv1d_k1_forward(out.data(), in.data(), w.data(), bias.data(), s.N, s.Cin, s.Cout);
    const auto in_f = cast<float>(in), w_f = cast<float>(w), b_f = cast<float>(bias);
    std::vector<float> out_f(out.size());
    aicl::conv1d_k1_forward(out_f.data(), in_f.data(), w_f.data(), b_f.data(), s.N, s.Cin, s.Cout);
    for (int n = 0; n < s.N; ++n)
      for (int co = 0; co < s.Cout; ++co) {
        double ref = bias[co], ref_f = b_f[co], mag = std::fabs(double(b_f[co]));
        for (int ci = 0; ci < s.Cin; ++ci) {
          ref += w[size_t(co) * s.Cin + ci] * in[size_t(n) * s.Cin + ci];
          const double t = double(w_f[size_t(co) * s.Cin + ci]) * double(in_f[size_t(n) * s.Cin + ci]);
          ref_f += t;
          mag += std::fabs(t);
        }
        const size_t o = size_t(n) * s.Cout + co;
        INFO(name << " output " << o);
        CHECK(out[o] == Approx(ref).epsilon(1e-14).margin(1e-14));
        // float sum of Cin+1 terms: within 2*(Cin+1)*2^-24*sum|terms|.
        CHECK(std::fabs(double(out_f[o]) - ref_f) <= 2.0 * (s.Cin + 1) * std::ldexp(1.0, -24) * mag);
      }
  }
}

TEST_CASE("gemm wrapper: all transpose combinations with padded strides, K = 0, bad strides", "[conv]") {
  const int M = 5, N = 4, K = 3, pad = 2;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const int lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
      const std::vector<double> A = random_vector(size_t(ta ? K : M) * lda, 1);
      const std::vector<double> B = random_vector(size_t(tb ? N : K) * ldb, 2);
      std::vector<double> C = random_vector(size_t(M) * ldc, 3);
      const std::vector<double> C0 = C;
      aicl::gemm<double>(ta, tb, M, N, K, 2.0, A.data(), lda, B.data(), ldb, 0.5, C.data(), ldc);
      for (int i = 0; i < M; ++i)
        for (int j = 0; j < ldc; ++j) {
          double want = C0[size_t(i) * ldc + j];  // the padding columns stay untouched
          if (j < N) {
            double acc = 0;
            for (int k = 0; k < K; ++k)
              acc += (ta ? A[size_t(k) * lda + i] : A[size_t(i) * lda + k]) *
                     (tb ? B[size_t(j) * ldb + k] : B[size_t(k) * ldb + j]);
            want = 2.0 * acc + 0.5 * want;
          }
          INFO("trans_a " << ta << " trans_b " << tb << " C[" << i << "," << j << "]");
          CHECK(C[size_t(i) * ldc + j] == Approx(want).epsilon(1e-14).margin(1e-15));
        }
    }
  std::vector<float> c = {1.f, 2.f, 3.f, 4.f};
  aicl::gemm<float>(false, false, 2, 2, 0, 1.f, nullptr, 1, nullptr, 2, 3.f, c.data(), 2);
  CHECK(c == std::vector<float>{3.f, 6.f, 9.f, 12.f});
  aicl::gemm<float>(false, false, 2, 2, 0, 1.f, nullptr, 1, nullptr, 2, 0.f, c.data(), 2);
  CHECK(c == std::vector<float>{0.f, 0.f, 0.f, 0.f});
  std::vector<float> a(6, 1.f), b(6, 1.f);
  CHECK_THROWS_AS(aicl::gemm<float>(false, false, 2, 2, 3, 1.f, a.data(), 2, b.data(), 2, 0.f, c.data(), 2),
                  aicl::Error);
}

TEST_CASE("gemm: the OpenBLAS loaded at run time is the OpenMP build CMake linked (one thread pool)", "[conv]") {
  if (!AICL_BLAS_OPENMP) aicl_test::skip("configured without libopenblas-openmp-dev: the pthread build is in use");
  // A binary that fell back to the system's default (pthread) OpenBLAS would run ~25% slower at small T.
  CHECK(std::string(aicl::blas_threading()) == "openmp");
}
