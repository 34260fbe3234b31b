// GPU building blocks of the convs: the cuBLAS GEMM wrapper, CUDA error reporting, the deterministic column sums,
// and the k=3 conv at the training shape in FP32 and TF32.
// (conv1d_k1 / conv1d_k3 themselves against the CPU ops: the op harness, tests/ops/op_conv1d_k*.cpp.)
//
// Tolerance 1e-4 of the largest reference value (for accumulated sums: of the largest increment; see
// gpu_test_util.h): float sums in a different order than the CPU's (OpenBLAS blocking vs cuBLAS tiles / split-K;
// the CPU bias sums run in double), while a wrong transpose, stride or row is an O(1) error.
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "gpu/gpu_test_util.h"
#include "kernels/conv1d_k3.h"
#include "kernels/gemm.h"

using aicl_test::random_floats;
using aicl_test::to_device;

namespace {

constexpr double kFp32Tol = 1e-4;

}  // namespace

TEST_CASE("cublas_gemm matches aicl::gemm for every transpose combination and strided rows", "[gpu][conv]") {
  aicl_test::require_gpu();
  aicl::CudaStream stream;
  struct Case { int M, N, K; };
  for (const Case c : {Case{1, 1, 1}, Case{7, 5, 3}, Case{33, 17, 65}, Case{128, 64, 256}, Case{5, 9, 0}}) {
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        INFO("M=" << c.M << " N=" << c.N << " K=" << c.K << " ta=" << ta << " tb=" << tb);
        const int lda = (ta ? c.M : c.K) + 3, ldb = (tb ? c.K : c.N) + 2, ldc = c.N + 1;
        const auto A = random_floats(std::size_t(ta ? c.K : c.M) * lda, 11);
        const auto Bm = random_floats(std::size_t(tb ? c.N : c.K) * ldb, 12);
        const auto C0 = random_floats(std::size_t(c.M) * ldc, 13);
        std::vector<float> want = C0;
        aicl::gemm<float>(ta, tb, c.M, c.N, c.K, 0.75f, A.data(), lda, Bm.data(), ldb, 0.5f, want.data(), ldc);
        auto dA = to_device(A, stream);
        auto dB = to_device(Bm, stream);
        auto dC = to_device(C0, stream);
        aicl::cublas_gemm(ta, tb, c.M, c.N, c.K, 0.75f, dA.data(), lda, dB.data(), ldb, 0.5f, dC.data(), ldc,
                          stream);
        AICL_REQUIRE_CLOSE(dC.to_host(stream), want, kFp32Tol, "C");
      }
  }
}

TEST_CASE("CUDA errors become aicl::Error naming the expression", "[gpu][conv]") {
  aicl_test::require_gpu();
  aicl::CudaStream stream;
  try {
    // A row stride smaller than its row is rejected before cuBLAS sees it.
    aicl::cublas_gemm(false, false, 4, 4, 4, 1.f, nullptr, 2, nullptr, 4, 0.f, nullptr, 4, stream);
    FAIL("no error");
  } catch (const aicl::Error& e) {
    REQUIRE(std::string(e.what()).find("lda") != std::string::npos);
  }
  try {
    AICL_CUDA_CHECK(cudaSetDevice(1 << 20));
    FAIL("no error");
  } catch (const aicl::Error& e) {
    const std::string what = e.what();
    REQUIRE(what.find("cudaSetDevice(1 << 20)") != std::string::npos);
    REQUIRE(what.find("test_conv_cuda.cpp") != std::string::npos);
  }
  cudaGetLastError();  // the runtime also recorded the failure as its last error: clear it for later launches
}

TEST_CASE("column sums (bias gradient) match double sums and are deterministic", "[gpu][conv]") {
  aicl_test::require_gpu();
  aicl::CudaStream stream;
  for (const auto& [rows, cols] : std::vector<std::pair<long, int>>{{1, 1}, {255, 33}, {257, 20}, {12000, 512}}) {
    INFO("rows=" << rows << " cols=" << cols);
    const auto m = random_floats(std::size_t(rows) * cols, 21);
    const auto mask_src = random_floats(m.size(), 22);
    const auto before = random_floats(cols, 23);
    std::vector<double> acc(cols, 0.0), acc_masked(cols, 0.0);
    std::vector<float> masked = m;
    for (long r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c) {
        const std::size_t i = std::size_t(r) * cols + c;
        acc[c] += m[i];
        if (!(mask_src[i] > 0.f)) masked[i] = 0.f;
        acc_masked[c] += masked[i];
      }
    std::vector<float> want(cols), want_masked(cols);
    for (int c = 0; c < cols; ++c) {
      want[c] = float(before[c] + acc[c]);
      want_masked[c] = float(before[c] + acc_masked[c]);
    }
    auto d_m = to_device(m, stream);
    auto d_mask = to_device(mask_src, stream);
    auto d_sums = to_device(before, stream);
    aicl::cuda_column_sums_accumulate(d_sums.data(), d_m.data(), rows, cols, stream);
    const auto got = d_sums.to_host(stream);
    AICL_REQUIRE_CLOSE_INCREMENT(got, want, before, kFp32Tol, "plain sums");
    // Same inputs, same bits.
    d_sums.upload(before.data(), before.size(), stream);
    aicl::cuda_column_sums_accumulate(d_sums.data(), d_m.data(), rows, cols, stream);
    REQUIRE(aicl_test::count_bit_differences(d_sums.to_host(stream), got) == 0);

    d_sums.upload(before.data(), before.size(), stream);
    aicl::cuda_relu_mask_column_sums_accumulate(d_sums.data(), d_m.data(), d_mask.data(), rows, cols, stream);
    AICL_REQUIRE_CLOSE_INCREMENT(d_sums.to_host(stream), want_masked, before, kFp32Tol, "masked sums");
    REQUIRE(aicl_test::count_bit_differences(d_m.to_host(stream), masked) == 0);
  }
}

// The training shape of AICL/SAL THUMOS14 (B = 16, T = 750, the 2048 -> 512 embedding conv, K = 3, ReLU): where
// nearly all of a step's FLOPs are. Tolerances, relative to the largest reference value (weight gradients: sums
// over 12,000 rows): FP32 1e-4 (summation order only); TF32 5e-3 (GEMM inputs rounded to 10-bit mantissas, error
// ~1e-3 of the output scale for random-sign sums, as in the op harness's TF32 case).
TEST_CASE("conv1d_k3 cuda at the training shape B=16 T=750 2048->512: FP32 and TF32 vs the CPU", "[gpu][conv]") {
  aicl_test::require_gpu();
  aicl::CudaStream stream;
  const int B = 16, T = 750, Cin = 2048, Cout = 512, K = 3;
  const std::size_t n_in = std::size_t(B) * T * Cin, n_out = std::size_t(B) * T * Cout;
  const auto x = random_floats(n_in, 91, 0.f, 2.f);  // non-negative, as I3D features
  const auto w = random_floats(std::size_t(Cout) * Cin * K, 92, -0.02f, 0.02f);
  const auto bias = random_floats(Cout, 93, -0.1f, 0.1f);
  const auto g = random_floats(n_out, 94);
  std::vector<float> out(n_out), dw(w.size(), 0.f), db(Cout, 0.f), dx(n_in, 0.f), dout = g;
  aicl::conv1d_k3_forward<float>(out.data(), x.data(), Cin, w.data(), bias.data(), B, T, Cin, Cout, K, true);
  aicl::conv1d_k3_backward<float>(dw.data(), db.data(), dx.data(), Cin, dout.data(), out.data(), x.data(), Cin,
                                  w.data(), B, T, Cin, Cout, K, true);
  auto d_x = to_device(x, stream), d_w = to_device(w, stream), d_b = to_device(bias, stream);
  for (const bool tf32 : {false, true}) {
    INFO((tf32 ? "TF32" : "FP32"));
    const double tol = tf32 ? 5e-3 : kFp32Tol;
    aicl::set_cuda_math_mode(tf32 ? aicl::CudaMathMode::tf32 : aicl::CudaMathMode::fp32);
    aicl::DeviceBuffer<float> d_out(n_out);
    aicl::conv1d_k3_forward_cuda(d_out.data(), d_x.data(), Cin, d_w.data(), d_b.data(), B, T, Cin, Cout, K, true,
                                 stream);
    const auto got_out = d_out.to_host(stream);
    auto d_g = to_device(g, stream);
    auto d_dw = to_device(std::vector<float>(w.size(), 0.f), stream);
    auto d_db = to_device(std::vector<float>(Cout, 0.f), stream);
    auto d_dx = to_device(std::vector<float>(n_in, 0.f), stream);
    // The backward masks dout by the forward output: give it the CPU's output so that both mask the same rows
    // (a TF32 output near 0 could otherwise flip a ReLU and move one row's gradient by O(1)).
    auto d_ref_out = to_device(out, stream);
    aicl::conv1d_k3_backward_cuda(d_dw.data(), d_db.data(), d_dx.data(), Cin, d_g.data(), d_ref_out.data(),
                                  d_x.data(), Cin, d_w.data(), B, T, Cin, Cout, K, true, stream);
    AICL_REQUIRE_CLOSE(got_out, out, tol, "out");
    AICL_REQUIRE_CLOSE(d_dw.to_host(stream), dw, tol, "dweight");
    AICL_REQUIRE_CLOSE(d_db.to_host(stream), db, tol, "dbias");
    AICL_REQUIRE_CLOSE(d_dx.to_host(stream), dx, tol, "din");
  }
  aicl::set_cuda_math_mode(aicl::CudaMathMode::fp32);
}
