// CUDA conv1d (odd kernel K, zero padding K/2 per video): cuBLAS GEMMs (shifted taps or im2col) + fused bias/ReLU
// kernels.
//
// Two strategies (docs/cuda.md compares them); P = K/2:
// - shifted_gemms mirrors kernels/conv1d_k3.cpu.cpp: tap j pairs output row t with input row t+j-P, so each tap
//   is one GEMM over all B*Tn rows with the input (or gradient) shifted by |j-P| rows. The (B-1)*|j-P| rows per
//   side tap that would pair two videos are saved and restored (forward) or zeroed while the tap's GEMMs run
//   (backward); taps with |j-P| >= Tn pair nothing and are skipped. Centre tap first, then j = 0..K-1: for K = 3
//   the same GEMMs in the same order as the former kernel-3-only code.
// - im2col gathers, per output row, [x[t-P], .., x[t+P]] interleaved as ci*K+j (zeros outside the video), which
//   is exactly the column order of the stored weight [Cout, Cin*K]: one GEMM, no weight repack, and dweight is
//   accumulated by the GEMM itself (beta = 1).
#include "kernels/conv1d_k3.h"

#include <algorithm>
#include <cstddef>
#include <string>

#include "kernels/cuda_common.h"

namespace aicl {

namespace {

constexpr unsigned kThreads = 256;

// [Cout,Cin,K] -> [K][Cout][Cin] (each tap a row-major matrix cuBLAS can read).
__global__ void repack_taps_kernel(float* taps, const float* weight, std::size_t plane, int K) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < plane;
       i += std::size_t(gridDim.x) * blockDim.x)
    for (int j = 0; j < K; ++j) taps[j * plane + i] = weight[K * i + j];
}

// dweight[co,ci,j] += tap_grads[j][co][ci] for the taps that were computed: |j-P| <= reach (= min(P, Tn-1)).
__global__ void accumulate_tap_grads_kernel(float* dweight, const float* tap_grads, std::size_t plane, int K,
                                            int reach) {
  const int P = K / 2;
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < plane;
       i += std::size_t(gridDim.x) * blockDim.x)
    for (int j = P - reach; j <= P + reach; ++j) dweight[K * i + j] += tap_grads[j * plane + i];
}

// out[r,co] = relu?(out[r,co] + bias[co]) (the same float add and comparison as the CPU twin).
__global__ void bias_relu_kernel(float* out, const float* bias, std::size_t total, int Cout, bool relu) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < total;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const float v = out[i] + bias[i % unsigned(Cout)];
    out[i] = (relu && !(v > 0.f)) ? 0.f : v;
  }
}

// Blocks of `block` consecutive rows, block j starting at row first_row + j*step (j < count, each row `width`
// wide, row stride ld) <-> saved[j*block + k]; optionally zero them.
__global__ void save_rows_kernel(float* saved, float* m, int ld, long first_row, long step, int count, int block,
                                 int width, bool zero_after) {
  const std::size_t total = std::size_t(count) * block * width;
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < total;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const std::size_t q = i / width, c = i % width;
    const long j = long(q / block), k = long(q % block);
    float* p = m + std::size_t(first_row + j * step + k) * ld + c;
    saved[i] = *p;
    if (zero_after) *p = 0.f;
  }
}
__global__ void restore_rows_kernel(const float* saved, float* m, int ld, long first_row, long step, int count,
                                    int block, int width) {
  const std::size_t total = std::size_t(count) * block * width;
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < total;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const std::size_t q = i / width, c = i % width;
    const long j = long(q / block), k = long(q % block);
    m[std::size_t(first_row + j * step + k) * ld + c] = saved[i];
  }
}

// col[r, K*ci + j] = x[b, t+j-P, ci] (0 outside [0,Tn)), r = b*Tn + t: one thread per (r, ci).
__global__ void im2col_kernel(float* col, const float* in, int in_stride, long rows, int Tn, int Cin, int K) {
  const int P = K / 2;
  const std::size_t total = std::size_t(rows) * Cin;
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < total;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const std::size_t r = i / Cin, ci = i % Cin;
    const int t = int(r % unsigned(Tn));
    const float* x = in + r * in_stride + ci;
    float* c = col + r * (std::size_t(K) * Cin) + std::size_t(K) * ci;
    for (int j = 0; j < K; ++j) {
      const int src = t + j - P;
      c[j] = src >= 0 && src < Tn ? x[std::ptrdiff_t(j - P) * in_stride] : 0.f;
    }
  }
}

// din[b,s,ci] += dcol[s,K*ci+P] + sum_{j != P} dcol[s-(j-P), K*ci+j] (rows only inside the video), the centre
// first and then j = 0..K-1 (K = 3: the former order, dcol[s+1,3ci] then dcol[s-1,3ci+2]).
__global__ void col2im_accumulate_kernel(float* din, int din_stride, const float* dcol, long rows, int Tn, int Cin,
                                         int K) {
  const int P = K / 2;
  const std::size_t total = std::size_t(rows) * Cin;
  const std::size_t ldc = std::size_t(K) * Cin;
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < total;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const std::size_t r = i / Cin, ci = i % Cin;
    const int t = int(r % unsigned(Tn));
    float g = dcol[r * ldc + std::size_t(K) * ci + P];
    for (int j = 0; j < K; ++j) {
      const int tout = t - (j - P);  // the output row whose tap j reads input row t
      if (j != P && tout >= 0 && tout < Tn)
        g += dcol[std::size_t(long(r) + (tout - t)) * ldc + std::size_t(K) * ci + j];
    }
    din[r * din_stride + ci] += g;
  }
}

void check_shape(const char* fn, int B, int Tn, int Cin, int Cout, int K, int in_stride) {
  AICL_CHECK(B >= 0 && Tn >= 0 && Cin >= 1 && Cout >= 0,
             std::string(fn) + ": bad shape B=" + std::to_string(B) + " Tn=" + std::to_string(Tn) +
                 " Cin=" + std::to_string(Cin) + " Cout=" + std::to_string(Cout));
  AICL_CHECK(K >= 1 && K % 2 == 1, std::string(fn) + ": kernel size K=" + std::to_string(K) +
                                       " is not supported (odd K >= 1 only: zero padding K/2 keeps the length)");
  AICL_CHECK(in_stride >= Cin, std::string(fn) + ": row stride " + std::to_string(in_stride) + " < Cin " +
                                   std::to_string(Cin));
}

// Saves the blocks of `block` rows starting at rows first_row + j*Tn (j < B-1) of m (width cols, row stride ld)
// into `saved`, optionally zeroing them.
void save_boundary_rows(float* saved, float* m, int ld, long first_row, int Tn, int B, int block, int width,
                        bool zero, cudaStream_t stream) {
  if (B < 2) return;
  const std::size_t total = std::size_t(B - 1) * block * width;
  save_rows_kernel<<<cuda_blocks_for(total, kThreads), kThreads, 0, stream>>>(saved, m, ld, first_row, Tn, B - 1,
                                                                             block, width, zero);
  AICL_CUDA_CHECK_LAUNCH();
}
void restore_boundary_rows(const float* saved, float* m, int ld, long first_row, int Tn, int B, int block,
                           int width, cudaStream_t stream) {
  if (B < 2) return;
  const std::size_t total = std::size_t(B - 1) * block * width;
  restore_rows_kernel<<<cuda_blocks_for(total, kThreads), kThreads, 0, stream>>>(saved, m, ld, first_row, Tn,
                                                                                B - 1, block, width);
  AICL_CUDA_CHECK_LAUNCH();
}

void repack_taps(float* taps, const float* weight, int Cin, int Cout, int K, cudaStream_t stream) {
  const std::size_t plane = std::size_t(Cout) * Cin;
  repack_taps_kernel<<<cuda_blocks_for(plane, kThreads), kThreads, 0, stream>>>(taps, weight, plane, K);
  AICL_CUDA_CHECK_LAUNCH();
}

void im2col(float* col, const float* in, int in_stride, long rows, int Tn, int Cin, int K, cudaStream_t stream) {
  const std::size_t total = std::size_t(rows) * Cin;
  im2col_kernel<<<cuda_blocks_for(total, kThreads), kThreads, 0, stream>>>(col, in, in_stride, rows, Tn, Cin, K);
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace

namespace detail {

void conv1d_k3_forward_cuda_with(Conv3CudaStrategy s, float* out, const float* in, int in_stride,
                                 const float* weight, const float* bias, int B, int Tn, int Cin, int Cout, int K,
                                 bool relu, cudaStream_t stream) {
  check_shape("conv1d_k3_forward_cuda", B, Tn, Cin, Cout, K, in_stride);
  const long rows = long(B) * Tn;
  if (rows == 0 || Cout == 0) return;
  AICL_CHECK(rows <= 0x7fffffffL, "conv1d_k3_forward_cuda: B*Tn exceeds the GEMM's int range");
  const int M = int(rows);
  const int P = K / 2;

  if (s == Conv3CudaStrategy::im2col) {
    ScratchBuffer<float> col(std::size_t(rows) * K * Cin, stream);
    im2col(col.data(), in, in_stride, rows, Tn, Cin, K, stream);
    cublas_gemm(false, true, M, Cout, K * Cin, 1.f, col.data(), K * Cin, weight, K * Cin, 0.f, out, Cout, stream);
  } else {
    const std::size_t plane = std::size_t(Cout) * Cin;
    ScratchBuffer<float> taps(std::size_t(K) * plane, stream);
    repack_taps(taps.data(), weight, Cin, Cout, K, stream);
    auto tap = [&](int j) -> const float* { return taps.data() + std::size_t(j) * plane; };
    cublas_gemm(false, true, M, Cout, Cin, 1.f, in, in_stride, tap(P), Cin, 0.f, out, Cout, stream);
    const int reach = std::min(P, Tn - 1);  // taps with |j-P| >= Tn pair no rows inside a video
    if (reach > 0) {
      ScratchBuffer<float> saved(std::size_t(B > 1 ? B - 1 : 0) * reach * Cout, stream);
      for (int j = P - reach; j <= P + reach; ++j) {
        const int shift = j - P, a = shift < 0 ? -shift : shift;
        if (shift == 0) continue;
        if (shift < 0) {
          // Input row t-a: the first a output rows of videos 1..B-1 would receive the previous video's last rows.
          save_boundary_rows(saved.data(), out, Cout, Tn, Tn, B, a, Cout, false, stream);
          cublas_gemm(false, true, M - a, Cout, Cin, 1.f, in, in_stride, tap(j), Cin, 1.f,
                      out + std::size_t(a) * Cout, Cout, stream);
          restore_boundary_rows(saved.data(), out, Cout, Tn, Tn, B, a, Cout, stream);
        } else {
          // Input row t+a: the last a output rows of videos 0..B-2 would receive the next video's first rows.
          save_boundary_rows(saved.data(), out, Cout, Tn - a, Tn, B, a, Cout, false, stream);
          cublas_gemm(false, true, M - a, Cout, Cin, 1.f, in + std::size_t(a) * in_stride, in_stride, tap(j), Cin,
                      1.f, out, Cout, stream);
          restore_boundary_rows(saved.data(), out, Cout, Tn - a, Tn, B, a, Cout, stream);
        }
      }
    }
  }
  const std::size_t total = std::size_t(rows) * Cout;
  bias_relu_kernel<<<cuda_blocks_for(total, kThreads), kThreads, 0, stream>>>(out, bias, total, Cout, relu);
  AICL_CUDA_CHECK_LAUNCH();
}

void conv1d_k3_backward_cuda_with(Conv3CudaStrategy s, float* dweight, float* dbias, float* din, int din_stride,
                                  float* dout, const float* out, const float* in, int in_stride, const float* weight,
                                  int B, int Tn, int Cin, int Cout, int K, bool relu, cudaStream_t stream) {
  check_shape("conv1d_k3_backward_cuda", B, Tn, Cin, Cout, K, in_stride);
  if (din)
    AICL_CHECK(din_stride >= Cin, "conv1d_k3_backward_cuda: din row stride " + std::to_string(din_stride) +
                                      " < Cin " + std::to_string(Cin));
  const long rows = long(B) * Tn;
  if (rows == 0 || Cout == 0) return;
  AICL_CHECK(rows <= 0x7fffffffL, "conv1d_k3_backward_cuda: B*Tn exceeds the GEMM's int range");
  const int M = int(rows);
  const int P = K / 2;

  // ReLU mask (in place) and dbias in one deterministic pass over dout.
  if (relu)
    cuda_relu_mask_column_sums_accumulate(dbias, dout, out, rows, Cout, stream);
  else
    cuda_column_sums_accumulate(dbias, dout, rows, Cout, stream);

  if (s == Conv3CudaStrategy::im2col) {
    ScratchBuffer<float> col(std::size_t(rows) * K * Cin, stream);
    im2col(col.data(), in, in_stride, rows, Tn, Cin, K, stream);
    // dweight viewed as [Cout, Cin*K] is exactly dZ^T col: the GEMM accumulates into it directly.
    cublas_gemm(true, false, Cout, K * Cin, M, 1.f, dout, Cout, col.data(), K * Cin, 1.f, dweight, K * Cin, stream);
    if (din) {
      float* dcol = col.data();  // reused: the dweight GEMM before it on this stream has consumed col
      cublas_gemm(false, false, M, K * Cin, Cout, 1.f, dout, Cout, weight, K * Cin, 0.f, dcol, K * Cin, stream);
      const std::size_t total = std::size_t(rows) * Cin;
      col2im_accumulate_kernel<<<cuda_blocks_for(total, kThreads), kThreads, 0, stream>>>(din, din_stride, dcol,
                                                                                         rows, Tn, Cin, K);
      AICL_CUDA_CHECK_LAUNCH();
    }
    return;
  }

  const std::size_t plane = std::size_t(Cout) * Cin;
  ScratchBuffer<float> tap_grads(std::size_t(K) * plane, stream);  // [K][Cout][Cin]
  auto gtap = [&](int j) { return tap_grads.data() + std::size_t(j) * plane; };
  ScratchBuffer<float> taps(din ? std::size_t(K) * plane : 0, stream);
  if (din) repack_taps(taps.data(), weight, Cin, Cout, K, stream);
  auto wtap = [&](int j) -> const float* { return taps.data() + std::size_t(j) * plane; };

  cublas_gemm(true, false, Cout, Cin, M, 1.f, dout, Cout, in, in_stride, 0.f, gtap(P), Cin, stream);
  if (din) cublas_gemm(false, false, M, Cin, Cout, 1.f, dout, Cout, wtap(P), Cin, 1.f, din, din_stride, stream);
  const int reach = std::min(P, Tn - 1);  // taps with |j-P| >= Tn pair no rows inside a video
  if (reach > 0) {
    ScratchBuffer<float> saved(std::size_t(B > 1 ? B - 1 : 0) * reach * Cout, stream);
    for (int j = P - reach; j <= P + reach; ++j) {
      const int shift = j - P, a = shift < 0 ? -shift : shift;
      if (shift == 0) continue;
      if (shift < 0) {
        // Tap j pairs gradient row r with input row r-a: zero the first a rows of videos 1..B-1 while it runs.
        save_boundary_rows(saved.data(), dout, Cout, Tn, Tn, B, a, Cout, true, stream);
        const float* g = dout + std::size_t(a) * Cout;
        cublas_gemm(true, false, Cout, Cin, M - a, 1.f, g, Cout, in, in_stride, 0.f, gtap(j), Cin, stream);
        if (din)
          cublas_gemm(false, false, M - a, Cin, Cout, 1.f, g, Cout, wtap(j), Cin, 1.f, din, din_stride, stream);
        restore_boundary_rows(saved.data(), dout, Cout, Tn, Tn, B, a, Cout, stream);
      } else {
        // Tap j pairs gradient row r with input row r+a: zero the last a rows of videos 0..B-2 while it runs.
        save_boundary_rows(saved.data(), dout, Cout, Tn - a, Tn, B, a, Cout, true, stream);
        cublas_gemm(true, false, Cout, Cin, M - a, 1.f, dout, Cout, in + std::size_t(a) * in_stride, in_stride, 0.f,
                    gtap(j), Cin, stream);
        if (din)
          cublas_gemm(false, false, M - a, Cin, Cout, 1.f, dout, Cout, wtap(j), Cin, 1.f,
                      din + std::size_t(a) * din_stride, din_stride, stream);
        restore_boundary_rows(saved.data(), dout, Cout, Tn - a, Tn, B, a, Cout, stream);
      }
    }
  }
  accumulate_tap_grads_kernel<<<cuda_blocks_for(plane, kThreads), kThreads, 0, stream>>>(dweight, tap_grads.data(),
                                                                                         plane, K, reach);
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace detail

void conv1d_k3_forward_cuda(float* out, const float* in, int in_stride, const float* weight, const float* bias,
                            int B, int Tn, int Cin, int Cout, int K, bool relu, cudaStream_t stream) {
  detail::conv1d_k3_forward_cuda_with(detail::kDefaultConv3CudaStrategy, out, in, in_stride, weight, bias, B, Tn,
                                      Cin, Cout, K, relu, stream);
}

void conv1d_k3_backward_cuda(float* dweight, float* dbias, float* din, int din_stride, float* dout,
                             const float* out, const float* in, int in_stride, const float* weight, int B, int Tn,
                             int Cin, int Cout, int K, bool relu, cudaStream_t stream) {
  detail::conv1d_k3_backward_cuda_with(detail::kDefaultConv3CudaStrategy, dweight, dbias, din, din_stride, dout,
                                       out, in, in_stride, weight, B, Tn, Cin, Cout, K, relu, stream);
}

}  // namespace aicl
