// Host-side definitions for kernels/cuda_common.h: error reporting, device queries, math mode, cuBLAS GEMM.
#include "kernels/cuda_common.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <cstdio>

namespace aicl {

namespace cuda_detail {

static std::string cuda_error_text(cudaError_t e, const char* expr, const char* file, int line) {
  return std::string(file) + ":" + std::to_string(line) + ": CUDA error in '" + expr + "': " +
         cudaGetErrorName(e) + ": " + cudaGetErrorString(e);
}

void throw_cuda_error(cudaError_t e, const char* expr, const char* file, int line) {
  throw Error(cuda_error_text(e, expr, file, line));
}

void throw_cublas_error(cublasStatus_t s, const char* expr, const char* file, int line) {
  throw Error(std::string(file) + ":" + std::to_string(line) + ": cuBLAS error in '" + expr + "': " +
              cublasGetStatusName(s) + ": " + cublasGetStatusString(s));
}

void log_cuda_error(cudaError_t e, const char* expr, const char* file, int line) {
  std::fprintf(stderr, "aicl: %s\n", cuda_error_text(e, expr, file, line).c_str());
}

}  // namespace cuda_detail

bool cuda_device_available() {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    cudaGetLastError();  // reset the runtime's last-error slot so a later check does not report this one
    return false;
  }
  return count > 0;
}

std::string cuda_device_name() {
  int dev = 0;
  AICL_CUDA_CHECK(cudaGetDevice(&dev));
  cudaDeviceProp prop{};
  AICL_CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
  return prop.name;
}

namespace {
std::atomic<int> g_math_mode{int(CudaMathMode::fp32)};

// Owns one thread's cuBLAS handle; destroyed at thread exit (errors ignored: the context may already be gone).
struct CublasHandleOwner {
  cublasHandle_t handle = nullptr;
  ~CublasHandleOwner() {
    if (handle) cublasDestroy(handle);
  }
};
}  // namespace

void set_cuda_math_mode(CudaMathMode mode) { g_math_mode.store(int(mode)); }

std::size_t opt_in_dynamic_smem(const void* kernel, std::size_t dynamic_bytes, const std::string& what) {
  constexpr std::size_t kDefaultLimit = 48 * 1024;
  cudaFuncAttributes attr{};
  AICL_CUDA_CHECK(cudaFuncGetAttributes(&attr, kernel));
  const std::size_t total = attr.sharedSizeBytes + dynamic_bytes;
  if (total <= kDefaultLimit) return dynamic_bytes;
  int device = 0, optin = 0;
  AICL_CUDA_CHECK(cudaGetDevice(&device));
  AICL_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  if (total > std::size_t(optin))
    fail(what + " needs " + std::to_string(dynamic_bytes) + " + " + std::to_string(attr.sharedSizeBytes) +
         " (static) bytes of shared memory per block, the device allows " + std::to_string(optin));
  AICL_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(dynamic_bytes)));
  return dynamic_bytes;
}
CudaMathMode cuda_math_mode() { return CudaMathMode(g_math_mode.load()); }

cublasHandle_t cublas_handle() {
  thread_local CublasHandleOwner owner;
  if (!owner.handle) AICL_CUBLAS_CHECK(cublasCreate(&owner.handle));
  return owner.handle;
}

void cublas_gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
                 const float* B, int ldb, float beta, float* C, int ldc, cudaStream_t stream) {
  AICL_CHECK(M >= 0 && N >= 0 && K >= 0, "cublas_gemm: negative size");
  if (M == 0 || N == 0) return;
  AICL_CHECK(ldc >= N, "cublas_gemm: ldc " + std::to_string(ldc) + " < N " + std::to_string(N));
  AICL_CHECK(lda >= (trans_a ? M : K) || K == 0, "cublas_gemm: lda " + std::to_string(lda) + " too small");
  AICL_CHECK(ldb >= (trans_b ? K : N) || K == 0, "cublas_gemm: ldb " + std::to_string(ldb) + " too small");
  cublasHandle_t h = cublas_handle();
  AICL_CUBLAS_CHECK(cublasSetStream(h, stream));
  const bool tf32 = cuda_math_mode() == CudaMathMode::tf32;
  AICL_CUBLAS_CHECK(cublasSetMathMode(h, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
  // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: swap the operands, keep the flags.
  // With K == 0 nothing is read (cuBLAS only scales C by beta) but it still validates the strides: raise them.
  const int lda_c = K > 0 ? lda : std::max({lda, trans_a ? M : K, 1});
  const int ldb_c = K > 0 ? ldb : std::max({ldb, trans_b ? K : N, 1});
  AICL_CUBLAS_CHECK(cublasGemmEx(h, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, N, M,
                                 K, &alpha, B, CUDA_R_32F, ldb_c, A, CUDA_R_32F, lda_c, &beta, C, CUDA_R_32F, ldc,
                                 tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

void* cuda_scratch_alloc(std::size_t bytes, cudaStream_t stream) {
  // Once per device: let the default pool keep freed memory instead of returning it at every synchronization.
  static std::mutex mu;
  static std::vector<int> configured;
  int dev = 0;
  AICL_CUDA_CHECK(cudaGetDevice(&dev));
  {
    std::lock_guard<std::mutex> lock(mu);
    if (std::find(configured.begin(), configured.end(), dev) == configured.end()) {
      cudaMemPool_t pool;
      AICL_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, dev));
      std::uint64_t keep_all = UINT64_MAX;
      AICL_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep_all));
      configured.push_back(dev);
    }
  }
  void* p = nullptr;
  AICL_CUDA_CHECK(cudaMallocAsync(&p, bytes, stream));
  return p;
}

void cuda_scratch_free(void* p, cudaStream_t stream) noexcept { AICL_CUDA_CHECK_NOTHROW(cudaFreeAsync(p, stream)); }

namespace {
constexpr int kColTile = 32;       // columns per block (one warp across, coalesced rows)
constexpr int kRowLanes = 8;       // threads down the rows per block
constexpr int kRowsPerPart = 256;  // rows summed by one block: fixed, so the summation order is too

__global__ void column_partial_sums(float* partial, float* m, const float* relu_out, long rows, int cols) {
  __shared__ float lane_sums[kRowLanes][kColTile + 1];
  const int c = blockIdx.x * kColTile + threadIdx.x;
  const long r_begin = long(blockIdx.y) * kRowsPerPart;
  const long r_end = r_begin + kRowsPerPart < rows ? r_begin + kRowsPerPart : rows;
  float acc = 0.f;
  if (c < cols) {
    for (long r = r_begin + threadIdx.y; r < r_end; r += kRowLanes) {
      const std::size_t i = std::size_t(r) * cols + c;
      float g = m[i];
      if (relu_out && !(relu_out[i] > 0.f)) {
        g = 0.f;
        m[i] = 0.f;
      }
      acc += g;
    }
  }
  lane_sums[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && c < cols) {
    float s = 0.f;
    for (int i = 0; i < kRowLanes; ++i) s += lane_sums[i][threadIdx.x];
    partial[std::size_t(blockIdx.y) * cols + c] = s;
  }
}

__global__ void column_sums_finish(float* sums, const float* partial, int parts, int cols) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= cols) return;
  float s = 0.f;
  for (int p = 0; p < parts; ++p) s += partial[std::size_t(p) * cols + c];
  sums[c] += s;
}
}  // namespace

static void column_sums(float* sums, float* m, const float* relu_out, long rows, int cols, cudaStream_t stream) {
  if (rows <= 0 || cols <= 0) return;
  const long parts = (rows + kRowsPerPart - 1) / kRowsPerPart;
  AICL_CHECK(parts <= 65535, "column sums: " + std::to_string(rows) + " rows is too many");
  ScratchBuffer<float> partial(std::size_t(parts) * cols, stream);
  const dim3 grid((cols + kColTile - 1) / kColTile, unsigned(parts));
  column_partial_sums<<<grid, dim3(kColTile, kRowLanes), 0, stream>>>(partial.data(), m, relu_out, rows, cols);
  AICL_CUDA_CHECK_LAUNCH();
  column_sums_finish<<<(cols + 127) / 128, 128, 0, stream>>>(sums, partial.data(), int(parts), cols);
  AICL_CUDA_CHECK_LAUNCH();
}

void cuda_column_sums_accumulate(float* sums, const float* m, long rows, int cols, cudaStream_t stream) {
  // Without relu_out the kernel never writes m, so dropping const here is safe.
  column_sums(sums, const_cast<float*>(m), nullptr, rows, cols, stream);
}

void cuda_relu_mask_column_sums_accumulate(float* sums, float* m, const float* relu_out, long rows, int cols,
                                           cudaStream_t stream) {
  AICL_CHECK(relu_out != nullptr, "cuda_relu_mask_column_sums_accumulate: relu_out is null");
  column_sums(sums, m, relu_out, rows, cols, stream);
}

}  // namespace aicl
