// CUDA conv1d (kernel 3, zero padding 1 per video): cuBLAS GEMMs (shifted taps or im2col) + fused bias/ReLU kernels.
//
// Two strategies (docs/cuda.md compares them):
// - shifted_gemms mirrors kernels/conv1d_k3.cpu.cpp: tap k pairs output row t with input row t+k-1, so each tap
//   is one GEMM over all B*Tn rows with the input (or gradient) shifted by one row. The B-1 rows per side tap
//   that would pair two videos are saved and restored (forward) or zeroed while the tap's GEMMs run (backward).
// - im2col gathers, per output row, [x[t-1], x[t], x[t+1]] interleaved as ci*3+k (zeros outside the video), which
//   is exactly the column order of the stored weight [Cout, Cin*3]: one GEMM, no weight repack, and dweight is
//   accumulated by the GEMM itself (beta = 1).
#include "kernels/conv1d_k3.h"

#include <cstddef>
#include <string>

#include "kernels/cuda_common.h"

namespace aicl {

namespace {

constexpr unsigned kThreads = 256;

// [Cout,Cin,3] -> [3][Cout][Cin] (each tap a row-major matrix cuBLAS can read).
__global__ void repack_taps_kernel(float* taps, const float* weight, std::size_t plane) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < plane;
       i += std::size_t(gridDim.x) * blockDim.x) {
    taps[i] = weight[3 * i];
    taps[plane + i] = weight[3 * i + 1];
    taps[2 * plane + i] = weight[3 * i + 2];
  }
}

// dweight[co,ci,k] += tap_grads[k][co][ci]; the side taps only when they were computed (Tn > 1).
__global__ void accumulate_tap_grads_kernel(float* dweight, const float* tap_grads, std::size_t plane,
                                            bool side_taps) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < plane;
       i += std::size_t(gridDim.x) * blockDim.x) {
    if (side_taps) {
      dweight[3 * i] += tap_grads[i];
      dweight[3 * i + 2] += tap_grads[2 * plane + i];
    }
    dweight[3 * i + 1] += tap_grads[plane + i];
  }
}

// out[r,co] = relu?(out[r,co] + bias[co]) (the same float add and comparison as the CPU twin).
__global__ void bias_relu_kernel(float* out, const float* bias, std::size_t total, int Cout, bool relu) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < total;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const float v = out[i] + bias[i % unsigned(Cout)];
    out[i] = (relu && !(v > 0.f)) ? 0.f : v;
  }
}

// Rows first_row + j*step (j < count, each `width` wide, row stride ld) <-> saved[j]; optionally zero them.
__global__ void save_rows_kernel(float* saved, float* m, int ld, long first_row, long step, int count, int width,
                                 bool zero_after) {
  const std::size_t total = std::size_t(count) * width;
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < total;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const std::size_t j = i / width, c = i % width;
    float* p = m + std::size_t(first_row + long(j) * step) * ld + c;
    saved[i] = *p;
    if (zero_after) *p = 0.f;
  }
}
__global__ void restore_rows_kernel(const float* saved, float* m, int ld, long first_row, long step, int count,
                                    int width) {
  const std::size_t total = std::size_t(count) * width;
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < total;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const std::size_t j = i / width, c = i % width;
    m[std::size_t(first_row + long(j) * step) * ld + c] = saved[i];
  }
}

// col[r, 3*ci + k] = x[b, t+k-1, ci] (0 outside [0,Tn)), r = b*Tn + t: one thread per (r, ci).
__global__ void im2col_kernel(float* col, const float* in, int in_stride, long rows, int Tn, int Cin) {
  const std::size_t total = std::size_t(rows) * Cin;
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < total;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const std::size_t r = i / Cin, ci = i % Cin;
    const int t = int(r % unsigned(Tn));
    const float* x = in + r * in_stride + ci;
    float* c = col + r * (3 * std::size_t(Cin)) + 3 * ci;
    c[0] = t > 0 ? x[-std::ptrdiff_t(in_stride)] : 0.f;
    c[1] = x[0];
    c[2] = t + 1 < Tn ? x[in_stride] : 0.f;
  }
}

// din[b,s,ci] += dcol[s,3ci+1] + dcol[s+1,3ci] + dcol[s-1,3ci+2] (neighbours only inside the video).
__global__ void col2im_accumulate_kernel(float* din, int din_stride, const float* dcol, long rows, int Tn,
                                         int Cin) {
  const std::size_t total = std::size_t(rows) * Cin;
  const std::size_t ldc = 3 * std::size_t(Cin);
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < total;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const std::size_t r = i / Cin, ci = i % Cin;
    const int t = int(r % unsigned(Tn));
    float g = dcol[r * ldc + 3 * ci + 1];
    if (t + 1 < Tn) g += dcol[(r + 1) * ldc + 3 * ci];
    if (t > 0) g += dcol[(r - 1) * ldc + 3 * ci + 2];
    din[r * din_stride + ci] += g;
  }
}

void check_shape(const char* fn, int B, int Tn, int Cin, int Cout, int in_stride) {
  AICL_CHECK(B >= 0 && Tn >= 0 && Cin >= 1 && Cout >= 0,
             std::string(fn) + ": bad shape B=" + std::to_string(B) + " Tn=" + std::to_string(Tn) +
                 " Cin=" + std::to_string(Cin) + " Cout=" + std::to_string(Cout));
  AICL_CHECK(in_stride >= Cin, std::string(fn) + ": row stride " + std::to_string(in_stride) + " < Cin " +
                                   std::to_string(Cin));
}

// Saves rows first_row + j*Tn (j < B-1) of m (width cols, row stride ld) into `saved`, optionally zeroing them.
void save_boundary_rows(float* saved, float* m, int ld, long first_row, int Tn, int B, int width, bool zero,
                        cudaStream_t stream) {
  if (B < 2) return;
  const std::size_t total = std::size_t(B - 1) * width;
  save_rows_kernel<<<cuda_blocks_for(total, kThreads), kThreads, 0, stream>>>(saved, m, ld, first_row, Tn, B - 1,
                                                                             width, zero);
  AICL_CUDA_CHECK_LAUNCH();
}
void restore_boundary_rows(const float* saved, float* m, int ld, long first_row, int Tn, int B, int width,
                           cudaStream_t stream) {
  if (B < 2) return;
  const std::size_t total = std::size_t(B - 1) * width;
  restore_rows_kernel<<<cuda_blocks_for(total, kThreads), kThreads, 0, stream>>>(saved, m, ld, first_row, Tn,
                                                                                B - 1, width);
  AICL_CUDA_CHECK_LAUNCH();
}

void repack_taps(float* taps, const float* weight, int Cin, int Cout, cudaStream_t stream) {
  const std::size_t plane = std::size_t(Cout) * Cin;
  repack_taps_kernel<<<cuda_blocks_for(plane, kThreads), kThreads, 0, stream>>>(taps, weight, plane);
  AICL_CUDA_CHECK_LAUNCH();
}

void im2col(float* col, const float* in, int in_stride, long rows, int Tn, int Cin, cudaStream_t stream) {
  const std::size_t total = std::size_t(rows) * Cin;
  im2col_kernel<<<cuda_blocks_for(total, kThreads), kThreads, 0, stream>>>(col, in, in_stride, rows, Tn, Cin);
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace

namespace detail {

void conv1d_k3_forward_cuda_with(Conv3CudaStrategy s, float* out, const float* in, int in_stride,
                                 const float* weight, const float* bias, int B, int Tn, int Cin, int Cout, bool relu,
                                 cudaStream_t stream) {
  check_shape("conv1d_k3_forward_cuda", B, Tn, Cin, Cout, in_stride);
  const long rows = long(B) * Tn;
  if (rows == 0 || Cout == 0) return;
  AICL_CHECK(rows <= 0x7fffffffL, "conv1d_k3_forward_cuda: B*Tn exceeds the GEMM's int range");
  const int M = int(rows);

  if (s == Conv3CudaStrategy::im2col) {
    ScratchBuffer<float> col(std::size_t(rows) * 3 * Cin, stream);
    im2col(col.data(), in, in_stride, rows, Tn, Cin, stream);
    cublas_gemm(false, true, M, Cout, 3 * Cin, 1.f, col.data(), 3 * Cin, weight, 3 * Cin, 0.f, out, Cout, stream);
  } else {
    const std::size_t plane = std::size_t(Cout) * Cin;
    ScratchBuffer<float> taps(3 * plane, stream);
    repack_taps(taps.data(), weight, Cin, Cout, stream);
    const float* w0 = taps.data();
    const float* w1 = w0 + plane;
    const float* w2 = w1 + plane;
    cublas_gemm(false, true, M, Cout, Cin, 1.f, in, in_stride, w1, Cin, 0.f, out, Cout, stream);
    if (Tn > 1) {
      ScratchBuffer<float> saved(std::size_t(B > 1 ? B - 1 : 0) * Cout, stream);
      // Tap 0 (input row t-1): output row 0 of videos 1..B-1 would receive the previous video's last row.
      save_boundary_rows(saved.data(), out, Cout, Tn, Tn, B, Cout, false, stream);
      cublas_gemm(false, true, M - 1, Cout, Cin, 1.f, in, in_stride, w0, Cin, 1.f, out + Cout, Cout, stream);
      restore_boundary_rows(saved.data(), out, Cout, Tn, Tn, B, Cout, stream);
      // Tap 2 (input row t+1): the last output row of videos 0..B-2 would receive the next video's first row.
      save_boundary_rows(saved.data(), out, Cout, Tn - 1, Tn, B, Cout, false, stream);
      cublas_gemm(false, true, M - 1, Cout, Cin, 1.f, in + in_stride, in_stride, w2, Cin, 1.f, out, Cout, stream);
      restore_boundary_rows(saved.data(), out, Cout, Tn - 1, Tn, B, Cout, stream);
    }
  }
  const std::size_t total = std::size_t(rows) * Cout;
  bias_relu_kernel<<<cuda_blocks_for(total, kThreads), kThreads, 0, stream>>>(out, bias, total, Cout, relu);
  AICL_CUDA_CHECK_LAUNCH();
}

void conv1d_k3_backward_cuda_with(Conv3CudaStrategy s, float* dweight, float* dbias, float* din, int din_stride,
                                  float* dout, const float* out, const float* in, int in_stride, const float* weight,
                                  int B, int Tn, int Cin, int Cout, bool relu, cudaStream_t stream) {
  check_shape("conv1d_k3_backward_cuda", B, Tn, Cin, Cout, in_stride);
  if (din)
    AICL_CHECK(din_stride >= Cin, "conv1d_k3_backward_cuda: din row stride " + std::to_string(din_stride) +
                                      " < Cin " + std::to_string(Cin));
  const long rows = long(B) * Tn;
  if (rows == 0 || Cout == 0) return;
  AICL_CHECK(rows <= 0x7fffffffL, "conv1d_k3_backward_cuda: B*Tn exceeds the GEMM's int range");
  const int M = int(rows);

  // ReLU mask (in place) and dbias in one deterministic pass over dout.
  if (relu)
    cuda_relu_mask_column_sums_accumulate(dbias, dout, out, rows, Cout, stream);
  else
    cuda_column_sums_accumulate(dbias, dout, rows, Cout, stream);

  if (s == Conv3CudaStrategy::im2col) {
    ScratchBuffer<float> col(std::size_t(rows) * 3 * Cin, stream);
    im2col(col.data(), in, in_stride, rows, Tn, Cin, stream);
    // dweight viewed as [Cout, Cin*3] is exactly dZ^T col: the GEMM accumulates into it directly.
    cublas_gemm(true, false, Cout, 3 * Cin, M, 1.f, dout, Cout, col.data(), 3 * Cin, 1.f, dweight, 3 * Cin, stream);
    if (din) {
      float* dcol = col.data();  // reused: the dweight GEMM before it on this stream has consumed col
      cublas_gemm(false, false, M, 3 * Cin, Cout, 1.f, dout, Cout, weight, 3 * Cin, 0.f, dcol, 3 * Cin, stream);
      const std::size_t total = std::size_t(rows) * Cin;
      col2im_accumulate_kernel<<<cuda_blocks_for(total, kThreads), kThreads, 0, stream>>>(din, din_stride, dcol,
                                                                                         rows, Tn, Cin);
      AICL_CUDA_CHECK_LAUNCH();
    }
    return;
  }

  const std::size_t plane = std::size_t(Cout) * Cin;
  ScratchBuffer<float> tap_grads(3 * plane, stream);  // [3][Cout][Cin]
  float* g0 = tap_grads.data();
  float* g1 = g0 + plane;
  float* g2 = g1 + plane;
  ScratchBuffer<float> taps(din ? 3 * plane : 0, stream);
  const float *w0 = nullptr, *w1 = nullptr, *w2 = nullptr;
  if (din) {
    repack_taps(taps.data(), weight, Cin, Cout, stream);
    w0 = taps.data();
    w1 = w0 + plane;
    w2 = w1 + plane;
  }

  cublas_gemm(true, false, Cout, Cin, M, 1.f, dout, Cout, in, in_stride, 0.f, g1, Cin, stream);
  if (din) cublas_gemm(false, false, M, Cin, Cout, 1.f, dout, Cout, w1, Cin, 1.f, din, din_stride, stream);
  if (Tn > 1) {
    ScratchBuffer<float> saved(std::size_t(B > 1 ? B - 1 : 0) * Cout, stream);
    // Tap 0 pairs gradient row r with input row r-1: zero the first rows of videos 1..B-1 while it runs.
    save_boundary_rows(saved.data(), dout, Cout, Tn, Tn, B, Cout, true, stream);
    cublas_gemm(true, false, Cout, Cin, M - 1, 1.f, dout + Cout, Cout, in, in_stride, 0.f, g0, Cin, stream);
    if (din)
      cublas_gemm(false, false, M - 1, Cin, Cout, 1.f, dout + Cout, Cout, w0, Cin, 1.f, din, din_stride, stream);
    restore_boundary_rows(saved.data(), dout, Cout, Tn, Tn, B, Cout, stream);
    // Tap 2 pairs gradient row r with input row r+1: zero the last rows of videos 0..B-2 while it runs.
    save_boundary_rows(saved.data(), dout, Cout, Tn - 1, Tn, B, Cout, true, stream);
    cublas_gemm(true, false, Cout, Cin, M - 1, 1.f, dout, Cout, in + in_stride, in_stride, 0.f, g2, Cin, stream);
    if (din)
      cublas_gemm(false, false, M - 1, Cin, Cout, 1.f, dout, Cout, w2, Cin, 1.f, din + din_stride, din_stride,
                  stream);
    restore_boundary_rows(saved.data(), dout, Cout, Tn - 1, Tn, B, Cout, stream);
  }
  accumulate_tap_grads_kernel<<<cuda_blocks_for(plane, kThreads), kThreads, 0, stream>>>(dweight, tap_grads.data(),
                                                                                         plane, Tn > 1);
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace detail

void conv1d_k3_forward_cuda(float* out, const float* in, int in_stride, const float* weight, const float* bias,
                            int B, int Tn, int Cin, int Cout, bool relu, cudaStream_t stream) {
  detail::conv1d_k3_forward_cuda_with(detail::kDefaultConv3CudaStrategy, out, in, in_stride, weight, bias, B, Tn,
                                      Cin, Cout, relu, stream);
}

void conv1d_k3_backward_cuda(float* dweight, float* dbias, float* din, int din_stride, float* dout,
                             const float* out, const float* in, int in_stride, const float* weight, int B, int Tn,
                             int Cin, int Cout, bool relu, cudaStream_t stream) {
  detail::conv1d_k3_backward_cuda_with(detail::kDefaultConv3CudaStrategy, dweight, dbias, din, din_stride, dout,
                                       out, in, in_stride, weight, B, Tn, Cin, Cout, relu, stream);
}

}  // namespace aicl
