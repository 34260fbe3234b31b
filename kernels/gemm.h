// Row-major GEMM wrapper over OpenBLAS cblas (float/double) and the one thread-count knob for BLAS + OpenMP.
#pragma once

namespace aicl {

// C[M,N] = alpha * op(A) * op(B) + beta * C, all row-major. op(A) is [M,K] (A stored [K,M] when trans_a),
// op(B) is [K,N] (B stored [N,K] when trans_b). lda/ldb/ldc are row strides in elements.
// M, N or K == 0 is allowed: with K == 0 it only scales C by beta, with M or N == 0 it does nothing.
// Throws aicl::Error ("gemm: ...") when a row stride is smaller than its row (cblas would only print).
template <class T>
void gemm(bool trans_a, bool trans_b, int M, int N, int K, T alpha, const T* A, int lda, const T* B, int ldb,
          T beta, T* C, int ldc);

// Wall-clock seconds this thread has spent in gemm() (inside BLAS) so far. Benchmarks take differences of it to
// split a training step into GEMM time and everything else.
double gemm_seconds();

// Sets the thread count of OpenBLAS and of OpenMP (the elementwise loops) together.
void set_num_threads(int n);
// The CPU threads BLAS and OpenMP use now (provenance records).
int num_threads();

// How the OpenBLAS loaded at run time threads its GEMMs: "openmp" (the build CMake prefers: one thread pool with
// our loops), "pthread" (its own pool) or "sequential".
const char* blas_threading();

// The kernel set the loaded OpenBLAS runs ("Cooperlake", "Haswell", ...): its own CPU detection, or the one
// OPENBLAS_CORETYPE forces. Provenance records it, since it alone can change GEMM speed by 2x.
const char* blas_core();

}  // namespace aicl
