// GPU building blocks of the convs: the cuBLAS GEMM wrapper, CUDA error reporting, the deterministic column sums.
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
