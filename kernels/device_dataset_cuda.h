// Dataset features resident on the GPU, and batch assembly there from small host-drawn index arrays.
#pragma once
#include <cstddef>
#include <vector>

#include <cuda_runtime_api.h>

#include "kernels/cuda_common.h"

namespace aicl {

// The bulk feature table [num_rows, dim] (every video's rows, video i starting at row_offset(i)) in device memory,
// uploaded once (THUMOS14: about 1.1 GB).
class DeviceDataset {
 public:
  // Copies rows [num_rows, dim] (host) to the device on `stream` and waits for the copy. row_offset: each
  // video's first row (Dataset::row_offset order). num_rows must be below 2^31 (rows are indexed by int).
  DeviceDataset(const float* rows, std::size_t num_rows, int dim, std::vector<std::size_t> row_offset,
                cudaStream_t stream);

  std::size_t num_rows() const { return num_rows_; }
  int dim() const { return dim_; }
  std::size_t row_offset(std::size_t video) const { return row_offset_.at(video); }
  const float* data() const { return table_.data(); }

  // out [n, dim] (device) = table row row_idx[i] for i < n; row_idx is a DEVICE array of n ints. An index outside
  // [0, num_rows) gives a row of NaNs (no host check: that would need a synchronisation), so a bad index shows up
  // as a non-finite loss instead of an out-of-bounds read.
  void gather(float* out, const int* row_idx, int n, cudaStream_t stream) const;

 private:
  DeviceBuffer<float> table_;
  std::size_t num_rows_ = 0;
  int dim_ = 0;
  std::vector<std::size_t> row_offset_;
};

// Builds training batches on the device: per step the host hands over the sampled row indices [n] and the labels
// [nl]; they are copied into one of `slots` pinned staging slots and uploaded asynchronously, then the features
// are gathered on the device. The host waits (on the slot's event) only when it is `slots` batches ahead of the
// GPU, which bounds how far it can run ahead; it never waits for the current batch. Use one stream for all calls
// of one assembler (its device index buffer is reused in stream order).
class DeviceBatchAssembler {
 public:
  DeviceBatchAssembler(int max_rows, int max_labels, int slots = 3);
  ~DeviceBatchAssembler();
  DeviceBatchAssembler(const DeviceBatchAssembler&) = delete;
  DeviceBatchAssembler& operator=(const DeviceBatchAssembler&) = delete;

  // Queues on `stream`: x_out [n, ds.dim()] = the rows `rows` of ds; labels_out [nl] = labels. Host arrays are
  // consumed before the call returns. Throws for n > max_rows, nl > max_labels or a row outside the table.
  void assemble(const DeviceDataset& ds, const std::size_t* rows, int n, const float* labels, int nl, float* x_out,
                float* labels_out, cudaStream_t stream);

 private:
  struct Slot {
    PinnedBuffer<int> rows;
    PinnedBuffer<float> labels;
    cudaEvent_t uploaded = nullptr;  // recorded after the slot's copies; the slot is free once it has fired
    bool used = false;
  };
  int max_rows_, max_labels_;
  std::vector<Slot> slots_;
  int next_ = 0;
  DeviceBuffer<int> rows_dev_;
};

}  // namespace aicl
