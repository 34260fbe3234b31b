// CUDA mean squared error: deterministic two-pass reduction to a device scalar, element-wise backward.
#include "kernels/mse_loss.h"

#include <cub/block/block_reduce.cuh>

#include <algorithm>

#include "kernels/cuda_common.h"

namespace aicl {

namespace {

constexpr int kThreads = 256;
constexpr std::size_t kMaxBlocks = 1024;
constexpr std::size_t kItemsPerBlock = kThreads * 16;

// Block g sums (a-b)^2 over [g*chunk, min(n, (g+1)*chunk)); each thread walks its strided share in index order and
// the block combines the threads with cub::BlockReduce (a fixed tree for a fixed block size): run-to-run identical.
__global__ void mse_partial_kernel(float* partial, const float* a, const float* b, std::size_t n, std::size_t chunk) {
  using Reduce = cub::BlockReduce<float, kThreads>;
  __shared__ typename Reduce::TempStorage tmp;
  const std::size_t begin = blockIdx.x * chunk;
  const std::size_t end = begin + chunk < n ? begin + chunk : n;
  float s = 0.f;
  for (std::size_t i = begin + threadIdx.x; i < end; i += kThreads) {
    const float d = __fsub_rn(a[i], b[i]);
    s = __fadd_rn(s, __fmul_rn(d, d));
  }
  const float total = Reduce(tmp).Sum(s);
  if (threadIdx.x == 0) partial[blockIdx.x] = total;
}

// One block: sums the partials in a fixed order and writes total / n.
__global__ void mse_final_kernel(float* loss, const float* partial, int blocks, float n) {
  using Reduce = cub::BlockReduce<float, kThreads>;
  __shared__ typename Reduce::TempStorage tmp;
  float s = 0.f;
  for (int i = threadIdx.x; i < blocks; i += kThreads) s = __fadd_rn(s, partial[i]);
  const float total = Reduce(tmp).Sum(s);
  if (threadIdx.x == 0) *loss = __fdiv_rn(total, n);
}

__global__ void mse_backward_kernel(float* da, float* db, float scale, const float* a, const float* b,
                                    std::size_t n) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const float g = __fmul_rn(scale, __fsub_rn(a[i], b[i]));
    if (da) da[i] = __fadd_rn(da[i], g);
    if (db) db[i] = __fsub_rn(db[i], g);
  }
}

}  // namespace

void mse_forward_cuda(float* loss, const float* a, const float* b, std::size_t n, cudaStream_t stream) {
  if (n == 0) fail("mse_forward_cuda: empty input (n = 0)");
  // The chunking depends on n only, never on the device, so the summation order is fixed for a given n.
  std::size_t blocks = (n + kItemsPerBlock - 1) / kItemsPerBlock;
  std::size_t chunk = kItemsPerBlock;
  if (blocks > kMaxBlocks) {
    chunk = (n + kMaxBlocks - 1) / kMaxBlocks;
    chunk = (chunk + kThreads - 1) / kThreads * kThreads;
    blocks = (n + chunk - 1) / chunk;
  }
  ScratchBuffer<float> partial(blocks, stream);
  mse_partial_kernel<<<unsigned(blocks), kThreads, 0, stream>>>(partial.data(), a, b, n, chunk);
  AICL_CUDA_CHECK_LAUNCH();
  mse_final_kernel<<<1, kThreads, 0, stream>>>(loss, partial.data(), int(blocks), float(n));
  AICL_CUDA_CHECK_LAUNCH();
}

void mse_backward_cuda(float* da, float* db, float dloss, const float* a, const float* b, std::size_t n,
                       cudaStream_t stream) {
  if (n == 0) fail("mse_backward_cuda: empty input (n = 0)");
  if (!da && !db) return;
  const float scale = float(2.0 * double(dloss) / double(n));
  mse_backward_kernel<<<cuda_blocks_for(n, kThreads), kThreads, 0, stream>>>(da, db, scale, a, b, n);
  AICL_CUDA_CHECK_LAUNCH();
}

}  // namespace aicl
