// All trainable parameters in one buffer (and one gradient buffer), carved into named tensors.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace aicl {

struct ParamTensor {
  std::string name;        // the official state_dict key, so weights move both ways with PyTorch
  std::vector<int> shape;  // PyTorch layout, e.g. [512, 2048, 3] for a k=3 Conv1d weight
  size_t offset = 0;       // into values / grads
  size_t numel = 0;
  int fan_in = 1;          // for PyTorch's default Conv1d initialisation bound 1/sqrt(fan_in)
};

class ParameterSet {
 public:
  ParameterSet() = default;
  // A copy of a layout-only set (finalize_layout) allocates its buffers: layouts cost no memory until copied.
  ParameterSet(const ParameterSet& o);
  ParameterSet& operator=(const ParameterSet& o);
  ParameterSet(ParameterSet&&) = default;
  ParameterSet& operator=(ParameterSet&&) = default;

  // Registers a tensor; returns its index. Call before finalize().
  int add(const std::string& name, const std::vector<int>& shape, int fan_in);
  // Allocates the value and gradient buffers (zeros).
  void finalize();
  // Ends registration WITHOUT buffers: names, shapes and offsets only (a method's layout: SAL's would otherwise
  // hold 1.2 GB of unused zeros). Copies of it get buffers.
  void finalize_layout();
  bool has_buffers() const { return !layout_only_; }

  size_t size() const { return layout_only_ ? numel() : values.size(); }
  size_t numel() const { return tensors_.empty() ? 0 : tensors_.back().offset + tensors_.back().numel; }
  const std::vector<ParamTensor>& tensors() const { return tensors_; }
  const ParamTensor& tensor(int i) const { return tensors_[i]; }
  int find(const std::string& name) const;  // -1 when absent
  int tensor_at(size_t flat_index) const;    // index of the tensor holding values[flat_index]
  float* value(int i) { return values.data() + tensors_[i].offset; }
  const float* value(int i) const { return values.data() + tensors_[i].offset; }
  float* grad(int i) { return grads.data() + tensors_[i].offset; }
  const float* grad(int i) const { return grads.data() + tensors_[i].offset; }
  void zero_grad();
  // PyTorch's default Conv1d init distribution (U(-b, b), b = 1/sqrt(fan_in), weights and biases), from our RNG.
  void init_uniform(unsigned long long seed);

  std::vector<float> values;
  std::vector<float> grads;

 private:
  std::vector<ParamTensor> tensors_;
  bool layout_only_ = false;
};

std::string shape_string(const std::vector<int>& shape);

}  // namespace aicl
