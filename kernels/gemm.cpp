// Row-major GEMM through OpenBLAS cblas_sgemm/cblas_dgemm, plus the shared thread-count setting.
#include "kernels/gemm.h"

#include <cblas.h>
#include <omp.h>

namespace aicl {

namespace {

// cblas rejects lda < max(1, columns) even when the matrix has no rows; keep degenerate strides legal.
int legal_stride(int ld, int cols) { return ld < cols ? cols : (ld < 1 ? 1 : ld); }

// K == 0: the product is empty, so C = beta * C (BLAS would do the same, but some builds skip beta scaling).
template <class T>
void scale_only(int M, int N, T beta, T* C, int ldc) {
  for (int i = 0; i < M; ++i) {
    T* row = C + static_cast<long>(i) * ldc;
    for (int j = 0; j < N; ++j) row[j] = beta == T(0) ? T(0) : row[j] * beta;
  }
}

}  // namespace

template <>
void gemm<float>(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
                 const float* B, int ldb, float beta, float* C, int ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) return scale_only(M, N, beta, C, ldc);
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, M, N, K,
              alpha, A, legal_stride(lda, trans_a ? M : K), B, legal_stride(ldb, trans_b ? K : N), beta, C,
              legal_stride(ldc, N));
}

template <>
void gemm<double>(bool trans_a, bool trans_b, int M, int N, int K, double alpha, const double* A, int lda,
                  const double* B, int ldb, double beta, double* C, int ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) return scale_only(M, N, beta, C, ldc);
  cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, M, N, K,
              alpha, A, legal_stride(lda, trans_a ? M : K), B, legal_stride(ldb, trans_b ? K : N), beta, C,
              legal_stride(ldc, N));
}

void set_num_threads(int n) {
  if (n < 1) n = 1;
  openblas_set_num_threads(n);
  omp_set_num_threads(n);
}

int num_threads() { return omp_get_max_threads(); }

}  // namespace aicl
