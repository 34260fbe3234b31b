// Row-major GEMM through OpenBLAS cblas_sgemm/cblas_dgemm, plus the shared thread-count setting.
#include "kernels/gemm.h"

#include <cblas.h>
#include <omp.h>

#include <chrono>
#include <string>

#include "core/base/error.h"

namespace aicl {

namespace {

// cblas prints to stderr and returns without computing on a bad stride; make that a clear exception instead.
void check_strides(bool trans_a, bool trans_b, int M, int N, int K, int lda, int ldb, int ldc) {
  const int a_cols = trans_a ? M : K, b_cols = trans_b ? K : N;
  if (lda < a_cols || ldb < b_cols || ldc < N)
    fail("gemm: row stride smaller than the row (lda " + std::to_string(lda) + " < " + std::to_string(a_cols) +
         ", ldb " + std::to_string(ldb) + " < " + std::to_string(b_cols) + " or ldc " + std::to_string(ldc) +
         " < " + std::to_string(N) + ")");
}

// K == 0: the product is empty, so C = beta * C (BLAS would do the same, but some builds skip beta scaling).
template <class T>
void scale_only(int M, int N, T beta, T* C, int ldc) {
  for (int i = 0; i < M; ++i) {
    T* row = C + static_cast<long>(i) * ldc;
    for (int j = 0; j < N; ++j) row[j] = beta == T(0) ? T(0) : row[j] * beta;
  }
}

thread_local double t_gemm_seconds = 0;

// Adds the wall time of one BLAS call to this thread's total (two clock reads: ~50 ns against >= microseconds).
struct GemmClock {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  ~GemmClock() { t_gemm_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); }
};

}  // namespace

double gemm_seconds() { return t_gemm_seconds; }

template <>
void gemm<float>(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
                 const float* B, int ldb, float beta, float* C, int ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) return scale_only(M, N, beta, C, ldc);
  check_strides(trans_a, trans_b, M, N, K, lda, ldb, ldc);
  GemmClock clock;
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, M, N, K,
              alpha, A, lda, B, ldb, beta, C, ldc);
}

template <>
void gemm<double>(bool trans_a, bool trans_b, int M, int N, int K, double alpha, const double* A, int lda,
                  const double* B, int ldb, double beta, double* C, int ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) return scale_only(M, N, beta, C, ldc);
  check_strides(trans_a, trans_b, M, N, K, lda, ldb, ldc);
  GemmClock clock;
  cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, M, N, K,
              alpha, A, lda, B, ldb, beta, C, ldc);
}

void set_num_threads(int n) {
  if (n < 1) n = 1;
  openblas_set_num_threads(n);
  omp_set_num_threads(n);
}

int num_threads() { return omp_get_max_threads(); }


const char* blas_threading() {
  switch (openblas_get_parallel()) {
    case 0: return "sequential";
    case 1: return "pthread";
    case 2: return "openmp";
    default: return "unknown";
  }
}

const char* blas_core() { return openblas_get_corename(); }

}  // namespace aicl
