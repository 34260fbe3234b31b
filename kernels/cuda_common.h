// CUDA backend basics shared by every kernels/*.cu: error checks, RAII device buffers, cuBLAS handle, math mode.
// A plain C++ header (no kernel code): host-side .cpp files (tests, drivers) may include it when AICL_HAVE_CUDA.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>
#include <vector>

#include "core/base/error.h"

namespace aicl {

namespace cuda_detail {
// Throw aicl::Error("<file>:<line>: CUDA error in '<expr>': <name>: <description>").
[[noreturn]] void throw_cuda_error(cudaError_t e, const char* expr, const char* file, int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t s, const char* expr, const char* file, int line);
// Same text on stderr, no throw (for destructors, which must not throw).
void log_cuda_error(cudaError_t e, const char* expr, const char* file, int line);
}  // namespace cuda_detail

}  // namespace aicl

// Every CUDA runtime call goes through one of these; failures name the expression, file and line.
#define AICL_CUDA_CHECK(expr)                                                                    \
  do {                                                                                           \
    const cudaError_t aicl_cuda_err_ = (expr);                                                   \
    if (aicl_cuda_err_ != cudaSuccess)                                                           \
      ::aicl::cuda_detail::throw_cuda_error(aicl_cuda_err_, #expr, __FILE__, __LINE__);          \
  } while (0)

#define AICL_CUBLAS_CHECK(expr)                                                                  \
  do {                                                                                           \
    const cublasStatus_t aicl_cublas_st_ = (expr);                                               \
    if (aicl_cublas_st_ != CUBLAS_STATUS_SUCCESS)                                                \
      ::aicl::cuda_detail::throw_cublas_error(aicl_cublas_st_, #expr, __FILE__, __LINE__);       \
  } while (0)

// Log-only variant for destructors and cleanup paths.
#define AICL_CUDA_CHECK_NOTHROW(expr)                                                            \
  do {                                                                                           \
    const cudaError_t aicl_cuda_err_ = (expr);                                                   \
    if (aicl_cuda_err_ != cudaSuccess)                                                           \
      ::aicl::cuda_detail::log_cuda_error(aicl_cuda_err_, #expr, __FILE__, __LINE__);            \
  } while (0)

// After a <<<...>>> launch: catches bad launch configurations (asynchronous faults surface at the next sync).
#define AICL_CUDA_CHECK_LAUNCH() AICL_CUDA_CHECK(cudaGetLastError())

namespace aicl {

// True when at least one CUDA device is usable (false, never throws, without a driver or device).
bool cuda_device_available();

// "NVIDIA H100 80GB HBM3" etc. for the current device (throws when there is none).
std::string cuda_device_name();

// GEMM precision for every cuBLAS call of the library. fp32 (default): CUBLAS_COMPUTE_32F with
// CUBLAS_DEFAULT_MATH, results match the CPU reference to FP32 rounding. tf32: CUBLAS_COMPUTE_32F_FAST_TF32
// with CUBLAS_TF32_TENSOR_OP_MATH, inputs rounded to 10-bit mantissas on tensor cores (~1e-3 relative error).
// Process-wide setting (atomic); it affects GEMMs issued after the call.
enum class CudaMathMode { fp32, tf32 };
void set_cuda_math_mode(CudaMathMode mode);
CudaMathMode cuda_math_mode();

// Makes `kernel` launchable with `dynamic_bytes` of dynamic shared memory: when its static shared memory plus
// `dynamic_bytes` exceeds the 48 KiB every device grants by default, checks the device's opt-in limit against the
// SUM (static + dynamic; the launch fails otherwise) and raises the kernel's dynamic limit. Throws an aicl::Error
// starting with `what` when the device cannot give that much. Returns dynamic_bytes.
std::size_t opt_in_dynamic_smem(const void* kernel, std::size_t dynamic_bytes, const std::string& what);

// The calling thread's cuBLAS handle: created on first use, destroyed at thread exit. Callers set its stream
// (cublasSetStream) before every call; cublas_gemm below does that.
cublasHandle_t cublas_handle();

// Row-major C[M,N] = alpha * op(A) * op(B) + beta * C on `stream`, the same contract as aicl::gemm (kernels/gemm.h):
// op(A) is [M,K] (A stored [K,M] when trans_a), op(B) is [K,N] (B stored [N,K] when trans_b), lda/ldb/ldc are row
// strides. Uses cublasGemmEx with the compute type of cuda_math_mode(). M, N or K == 0: only scales C (K == 0)
// or does nothing. Device pointers.
void cublas_gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
                 const float* B, int ldb, float beta, float* C, int ldc, cudaStream_t stream);

// Deterministic column sums: sums[c] += sum_r m[r,c] for m [rows, cols] row-major (device pointers). Fixed-order
// two-pass reduction (per-block partials over 256-row parts, then one pass over the parts): no atomics, the
// same bits on every run and device. Used for bias gradients.
void cuda_column_sums_accumulate(float* sums, const float* m, long rows, int cols, cudaStream_t stream);

// The ReLU backward fused with the same column sums: first m[r,c] = 0 IN PLACE where !(relu_out[r,c] > 0), then
// sums[c] += sum_r m[r,c].
void cuda_relu_mask_column_sums_accumulate(float* sums, float* m, const float* relu_out, long rows, int cols,
                                           cudaStream_t stream);

// Grid size for a 1-D launch of `threads` threads per block over n items (at least 1 block, capped so a
// grid-stride loop covers the rest).
inline unsigned cuda_blocks_for(std::size_t n, unsigned threads) {
  const std::size_t blocks = (n + threads - 1) / threads;
  const std::size_t cap = 65535u * 8u;
  return unsigned(blocks == 0 ? 1 : (blocks > cap ? cap : blocks));
}

// Where a CudaBuffer lives: device memory (cudaMalloc) or page-locked host memory (cudaMallocHost), from which
// asynchronous uploads never force the driver to stage (and possibly synchronise).
enum class CudaMemory { device, pinned_host };

// RAII allocation of n elements of T in memory M. Move-only. Transfers are asynchronous on the given stream;
// to_host() synchronizes that stream. DeviceBuffer and PinnedBuffer below are its two kinds.
template <class T, CudaMemory M = CudaMemory::device>
class CudaBuffer {
 public:
  CudaBuffer() = default;
  explicit CudaBuffer(std::size_t n) : n_(n) {
    if (n_ == 0) return;
    if (M == CudaMemory::device) AICL_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&p_), n_ * sizeof(T)));
    else AICL_CUDA_CHECK(cudaMallocHost(reinterpret_cast<void**>(&p_), n_ * sizeof(T)));
  }
  // Allocates host.size() elements and uploads them on `stream`.
  CudaBuffer(const std::vector<T>& host, cudaStream_t stream) : CudaBuffer(host.size()) {
    upload(host.data(), host.size(), stream);
  }
  ~CudaBuffer() { release(); }
  CudaBuffer(const CudaBuffer&) = delete;
  CudaBuffer& operator=(const CudaBuffer&) = delete;
  CudaBuffer(CudaBuffer&& o) noexcept : p_(o.p_), n_(o.n_) {
    o.p_ = nullptr;
    o.n_ = 0;
  }
  CudaBuffer& operator=(CudaBuffer&& o) noexcept {
    if (this != &o) {
      release();
      p_ = o.p_;
      n_ = o.n_;
      o.p_ = nullptr;
      o.n_ = 0;
    }
    return *this;
  }

  T* data() { return p_; }
  const T* data() const { return p_; }
  std::size_t size() const { return n_; }
  std::size_t bytes() const { return n_ * sizeof(T); }

  // Copies count elements host -> device into [offset, offset+count).
  void upload(const T* host, std::size_t count, cudaStream_t stream, std::size_t offset = 0) {
    AICL_CHECK(offset + count <= n_, "CudaBuffer::upload: " + std::to_string(offset + count) +
                                         " elements into a buffer of " + std::to_string(n_));
    if (count > 0)
      AICL_CUDA_CHECK(cudaMemcpyAsync(p_ + offset, host, count * sizeof(T), cudaMemcpyHostToDevice, stream));
  }
  // Copies count elements device [offset, offset+count) -> host (asynchronous: sync the stream before reading).
  void download(T* host, std::size_t count, cudaStream_t stream, std::size_t offset = 0) const {
    AICL_CHECK(offset + count <= n_, "CudaBuffer::download: " + std::to_string(offset + count) +
                                         " elements from a buffer of " + std::to_string(n_));
    if (count > 0)
      AICL_CUDA_CHECK(cudaMemcpyAsync(host, p_ + offset, count * sizeof(T), cudaMemcpyDeviceToHost, stream));
  }
  // The whole buffer as a host vector (synchronizes `stream`).
  std::vector<T> to_host(cudaStream_t stream) const {
    std::vector<T> h(n_);
    download(h.data(), n_, stream);
    AICL_CUDA_CHECK(cudaStreamSynchronize(stream));
    return h;
  }
  // Sets every byte to zero (all-zero bits are 0.0f / 0).
  void zero(cudaStream_t stream) {
    if (n_ > 0) AICL_CUDA_CHECK(cudaMemsetAsync(p_, 0, n_ * sizeof(T), stream));
  }

 private:
  void release() noexcept {
    if (p_ && M == CudaMemory::device) AICL_CUDA_CHECK_NOTHROW(cudaFree(p_));
    if (p_ && M == CudaMemory::pinned_host) AICL_CUDA_CHECK_NOTHROW(cudaFreeHost(p_));
    p_ = nullptr;
    n_ = 0;
  }
  T* p_ = nullptr;
  std::size_t n_ = 0;
};

template <class T>
using DeviceBuffer = CudaBuffer<T, CudaMemory::device>;
template <class T>
using PinnedBuffer = CudaBuffer<T, CudaMemory::pinned_host>;

// Stream-ordered scratch memory for one op call (cudaMallocAsync / cudaFreeAsync on the op's stream): no device
// synchronization, and the pool caches freed blocks (its release threshold is raised on first use), so per-call
// scratch costs little. Free is ordered after the work already queued on the stream. Move-only.
void* cuda_scratch_alloc(std::size_t bytes, cudaStream_t stream);
void cuda_scratch_free(void* p, cudaStream_t stream) noexcept;

template <class T>
class ScratchBuffer {
 public:
  ScratchBuffer(std::size_t n, cudaStream_t stream)
      : p_(static_cast<T*>(n ? cuda_scratch_alloc(n * sizeof(T), stream) : nullptr)), n_(n), stream_(stream) {}
  ~ScratchBuffer() {
    if (p_) cuda_scratch_free(p_, stream_);
  }
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;
  ScratchBuffer(ScratchBuffer&& o) noexcept : p_(o.p_), n_(o.n_), stream_(o.stream_) { o.p_ = nullptr; }
  ScratchBuffer& operator=(ScratchBuffer&&) = delete;
  T* data() { return p_; }
  const T* data() const { return p_; }
  std::size_t size() const { return n_; }

 private:
  T* p_;
  std::size_t n_;
  cudaStream_t stream_;
};

// RAII non-blocking CUDA stream (cudaStreamCreateWithFlags / cudaStreamDestroy). Move-only.
class CudaStream {
 public:
  CudaStream() { AICL_CUDA_CHECK(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking)); }
  ~CudaStream() {
    if (s_) AICL_CUDA_CHECK_NOTHROW(cudaStreamDestroy(s_));
  }
  CudaStream(const CudaStream&) = delete;
  CudaStream& operator=(const CudaStream&) = delete;
  CudaStream(CudaStream&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  CudaStream& operator=(CudaStream&&) = delete;
  cudaStream_t get() const { return s_; }
  operator cudaStream_t() const { return s_; }
  void synchronize() const { AICL_CUDA_CHECK(cudaStreamSynchronize(s_)); }

 private:
  cudaStream_t s_ = nullptr;
};

}  // namespace aicl
