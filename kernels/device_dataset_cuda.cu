// Dataset features resident on the GPU, and batch assembly there from small host-drawn index arrays.
#include "kernels/device_dataset_cuda.h"

#include <climits>
#include <cmath>
#include <string>

#include "core/base/error.h"

namespace aicl {

namespace {

// One block per output row (grid-stride over rows), its threads copy the row's columns. Rows are dim floats;
// the float4 path needs dim % 4 == 0 (cudaMalloc's 256-byte alignment then keeps every row 16-byte aligned).
__global__ void gather_rows_kernel(float* __restrict__ out, const float* __restrict__ table,
                                   const int* __restrict__ row_idx, int n, long long num_rows, int dim) {
  for (int r = blockIdx.x; r < n; r += gridDim.x) {
    const int src = row_idx[r];
    float* dst = out + static_cast<size_t>(r) * dim;
    if (src < 0 || src >= num_rows) {
      for (int c = threadIdx.x; c < dim; c += blockDim.x) dst[c] = __int_as_float(0x7fc00000);  // NaN
      continue;
    }
    const float* row = table + static_cast<size_t>(src) * dim;
    if ((dim & 3) == 0) {
      const float4* s4 = reinterpret_cast<const float4*>(row);
      float4* d4 = reinterpret_cast<float4*>(dst);
      for (int c = threadIdx.x; c < dim / 4; c += blockDim.x) d4[c] = s4[c];
    } else {
      for (int c = threadIdx.x; c < dim; c += blockDim.x) dst[c] = row[c];
    }
  }
}

}  // namespace

DeviceDataset::DeviceDataset(const float* rows, std::size_t num_rows, int dim, std::vector<std::size_t> row_offset,
                             cudaStream_t stream)
    : num_rows_(num_rows), dim_(dim), row_offset_(std::move(row_offset)) {
  AICL_CHECK(dim > 0, "DeviceDataset: feature dim must be positive");
  AICL_CHECK(num_rows < static_cast<std::size_t>(INT_MAX),
             "DeviceDataset: " + std::to_string(num_rows) + " feature rows exceed the int row index");
  for (std::size_t o : row_offset_) AICL_CHECK(o <= num_rows, "DeviceDataset: a video's row offset is past the table");
  table_ = DeviceBuffer<float>(num_rows * static_cast<std::size_t>(dim));
  table_.upload(rows, table_.size(), stream);
  AICL_CUDA_CHECK(cudaStreamSynchronize(stream));  // once, at setup: the host table may be freed afterwards
}

void DeviceDataset::gather(float* out, const int* row_idx, int n, cudaStream_t stream) const {
  if (n <= 0) return;
  const unsigned blocks = static_cast<unsigned>(n < 65535 * 4 ? n : 65535 * 4);
  gather_rows_kernel<<<blocks, 128, 0, stream>>>(out, table_.data(), row_idx, n,
                                                 static_cast<long long>(num_rows_), dim_);
  AICL_CUDA_CHECK_LAUNCH();
}

DeviceBatchAssembler::DeviceBatchAssembler(int max_rows, int max_labels, int slots)
    : max_rows_(max_rows), max_labels_(max_labels), rows_dev_(static_cast<std::size_t>(max_rows)) {
  AICL_CHECK(max_rows > 0 && max_labels > 0 && slots > 0, "DeviceBatchAssembler: sizes must be positive");
  slots_.resize(slots);
  for (Slot& s : slots_) {
    s.rows = PinnedBuffer<int>(static_cast<std::size_t>(max_rows));
    s.labels = PinnedBuffer<float>(static_cast<std::size_t>(max_labels));
    AICL_CUDA_CHECK(cudaEventCreateWithFlags(&s.uploaded, cudaEventDisableTiming));
  }
}

DeviceBatchAssembler::~DeviceBatchAssembler() {
  for (Slot& s : slots_) {
    // The pinned memory must not be freed under a pending copy.
    if (s.used) AICL_CUDA_CHECK_NOTHROW(cudaEventSynchronize(s.uploaded));
    if (s.uploaded) AICL_CUDA_CHECK_NOTHROW(cudaEventDestroy(s.uploaded));
  }
}

void DeviceBatchAssembler::assemble(const DeviceDataset& ds, const std::size_t* rows, int n, const float* labels,
                                    int nl, float* x_out, float* labels_out, cudaStream_t stream) {
  AICL_CHECK(n >= 0 && n <= max_rows_, "DeviceBatchAssembler: " + std::to_string(n) + " rows exceed the capacity " +
                                           std::to_string(max_rows_));
  AICL_CHECK(nl >= 0 && nl <= max_labels_, "DeviceBatchAssembler: " + std::to_string(nl) +
                                               " labels exceed the capacity " + std::to_string(max_labels_));
  Slot& s = slots_[next_];
  next_ = (next_ + 1) % static_cast<int>(slots_.size());
  // Flow control only: this slot's previous upload was `slots` batches ago.
  if (s.used) AICL_CUDA_CHECK(cudaEventSynchronize(s.uploaded));
  for (int i = 0; i < n; ++i) {
    if (rows[i] >= ds.num_rows()) fail("DeviceBatchAssembler: feature row " + std::to_string(rows[i]) +
                                       " is outside the table of " + std::to_string(ds.num_rows()) + " rows");
    s.rows.data()[i] = static_cast<int>(rows[i]);
  }
  for (int i = 0; i < nl; ++i) s.labels.data()[i] = labels[i];
  if (n > 0)
    AICL_CUDA_CHECK(cudaMemcpyAsync(rows_dev_.data(), s.rows.data(), sizeof(int) * n, cudaMemcpyHostToDevice, stream));
  if (nl > 0)
    AICL_CUDA_CHECK(cudaMemcpyAsync(labels_out, s.labels.data(), sizeof(float) * nl, cudaMemcpyHostToDevice, stream));
  AICL_CUDA_CHECK(cudaEventRecord(s.uploaded, stream));
  s.used = true;
  // rows_dev_ is reused by the next call; stream order puts that upload after this gather (one stream per
  // assembler, see the header).
  ds.gather(x_out, rows_dev_.data(), n, stream);
}

}  // namespace aicl
