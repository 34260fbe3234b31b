// All trainable parameters in one buffer (and one gradient buffer), carved into named tensors.
#include "core/runtime/parameters.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/base/error.h"
#include "core/base/rng.h"

namespace aicl {

ParameterSet::ParameterSet(const ParameterSet& o) : values(o.values), grads(o.grads), tensors_(o.tensors_) {
  if (o.layout_only_) finalize();
}

ParameterSet& ParameterSet::operator=(const ParameterSet& o) {
  if (this != &o) {
    ParameterSet copy(o);
    *this = std::move(copy);
  }
  return *this;
}

int ParameterSet::add(const std::string& name, const std::vector<int>& shape, int fan_in) {
  AICL_CHECK(values.empty() && !layout_only_, "ParameterSet::add after finalize");
  ParamTensor t;
  t.name = name;
  t.shape = shape;
  t.numel = 1;
  for (int d : shape) t.numel *= static_cast<size_t>(d);
  t.offset = tensors_.empty() ? 0 : tensors_.back().offset + tensors_.back().numel;
  t.fan_in = fan_in;
  tensors_.push_back(t);
  return static_cast<int>(tensors_.size()) - 1;
}

void ParameterSet::finalize() {
  layout_only_ = false;
  values.assign(numel(), 0.0f);
  grads.assign(numel(), 0.0f);
}

void ParameterSet::finalize_layout() {
  layout_only_ = true;
  std::vector<float>().swap(values);
  std::vector<float>().swap(grads);
}

int ParameterSet::find(const std::string& name) const {
  for (size_t i = 0; i < tensors_.size(); ++i)
    if (tensors_[i].name == name) return static_cast<int>(i);
  return -1;
}

void ParameterSet::zero_grad() { std::fill(grads.begin(), grads.end(), 0.0f); }

void ParameterSet::init_uniform(unsigned long long seed) {
  Rng rng(seed);
  for (const auto& t : tensors_) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(t.fan_in));
    float* v = values.data() + t.offset;
    for (size_t i = 0; i < t.numel; ++i) v[i] = static_cast<float>(rng.uniform(-bound, bound));
  }
}

std::string shape_string(const std::vector<int>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

int ParameterSet::tensor_at(size_t flat_index) const {
  int t = 0;
  while (t + 1 < static_cast<int>(tensors_.size()) && tensors_[t + 1].offset <= flat_index) ++t;
  return t;
}

}  // namespace aicl
