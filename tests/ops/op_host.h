// Host-side plumbing of the op harness: sized input/output slots, casts, Args for one CPU call, default gradients.
#pragma once
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "gradcheck.h"
#include "ops/op_registry.h"

namespace aicl_test::ops {

using Grads = std::vector<std::vector<double>>;

// Zero-filled slots for `specs` (float slots in f, int slots in i).
template <class T>
Values<T> zero_slots(const std::vector<TensorSpec>& specs) {
  Values<T> v;
  v.f.resize(specs.size());
  v.i.resize(specs.size());
  for (std::size_t k = 0; k < specs.size(); ++k) {
    if (specs[k].is_int)
      v.i[k].assign(specs[k].size, 0);
    else
      v.f[k].assign(specs[k].size, T(0));
  }
  return v;
}

// The case's inputs (double), checked against the specs' sizes.
inline Values<double> generate_inputs(const OpCase& c) {
  Values<double> in = zero_slots<double>(c.inputs);
  if (c.make_inputs) c.make_inputs(in);
  for (std::size_t k = 0; k < c.inputs.size(); ++k) {
    const std::size_t got = c.inputs[k].is_int ? in.i[k].size() : in.f[k].size();
    if (got != c.inputs[k].size)
      throw std::runtime_error(c.name() + ": make_inputs gave input '" + c.inputs[k].name + "' " +
                               std::to_string(got) + " values, the spec says " + std::to_string(c.inputs[k].size));
  }
  return in;
}

// Gradients of the outputs: the case's make_dout, else seeded values in [-1, 1) for outputs with a gradient and
// zeros for the others (int outputs: empty).
inline Grads generate_dout(const OpCase& c) {
  Grads d(c.outputs.size());
  for (std::size_t j = 0; j < c.outputs.size(); ++j) {
    if (c.outputs[j].is_int) continue;
    d[j] = c.outputs[j].grad ? random_vector(c.outputs[j].size, c.grad.proj_seed + unsigned(j))
                             : std::vector<double>(c.outputs[j].size, 0.0);
  }
  if (c.make_dout) c.make_dout(d);
  return d;
}

template <class To, class From>
std::vector<std::vector<To>> cast_all(const std::vector<std::vector<From>>& v) {
  std::vector<std::vector<To>> r(v.size());
  for (std::size_t k = 0; k < v.size(); ++k) r[k].assign(v[k].begin(), v[k].end());
  return r;
}

template <class T>
Values<T> cast_values(const Values<double>& v) {
  return Values<T>{cast_all<T>(v.f), v.i};
}

template <class T>
const T* ptr_or_null(const std::vector<T>& v) {
  return v.empty() ? nullptr : v.data();
}
template <class T>
T* ptr_or_null(std::vector<T>& v) {
  return v.empty() ? nullptr : v.data();
}

// Args of a forward call on host vectors (pointers into `in` and `out`, which must outlive the call).
template <class T>
Args<T> host_args(const OpCase& c, const Values<T>& in, Values<T>& out, int variant) {
  Args<T> a;
  for (std::size_t k = 0; k < c.inputs.size(); ++k) {
    a.in.push_back(c.inputs[k].is_int ? nullptr : ptr_or_null(in.f[k]));
    a.in_int.push_back(c.inputs[k].is_int ? ptr_or_null(in.i[k]) : nullptr);
  }
  for (std::size_t j = 0; j < c.outputs.size(); ++j) {
    a.out.push_back(c.outputs[j].is_int ? nullptr : ptr_or_null(out.f[j]));
    a.out_int.push_back(c.outputs[j].is_int ? ptr_or_null(out.i[j]) : nullptr);
  }
  a.variant = variant;
  return a;
}

// Adds the backward's gradient pointers: dout (also as dout_host) and din (an empty slot gives nullptr).
template <class T>
void add_grads(Args<T>& a, std::vector<std::vector<T>>& dout, std::vector<std::vector<T>>& din) {
  a.dout.clear();
  a.dout_host.clear();
  a.din.clear();
  for (auto& d : dout) {
    a.dout.push_back(ptr_or_null(d));
    a.dout_host.push_back(ptr_or_null(d));
  }
  for (auto& g : din) a.din.push_back(ptr_or_null(g));
}

// Gradient buffers of the inputs: `fill` for inputs with a gradient, except `null_input` (and non-grad inputs),
// whose slot stays empty (nullptr).
inline Grads prefilled_grads(const OpCase& c, double fill, int null_input = -1) {
  Grads g(c.inputs.size());
  for (std::size_t k = 0; k < c.inputs.size(); ++k)
    if (c.inputs[k].grad && int(k) != null_input) g[k].assign(c.inputs[k].size, fill);
  return g;
}

// sum_j dot(out_j, dout_j) over the float outputs with a gradient: the scalar the gradient check differentiates.
inline double projected_loss(const OpCase& c, const Values<double>& out, const Grads& dout) {
  double s = 0;
  for (std::size_t j = 0; j < c.outputs.size(); ++j)
    if (!c.outputs[j].is_int && c.outputs[j].grad) s += dot(out.f[j], dout[j]);
  return s;
}

// "<op> <params>" plus " [variant]" when the case has several.
inline std::string variant_label(const std::vector<std::string>& variants, int v) {
  return variants[std::size_t(v)].empty() ? std::string("default") : variants[std::size_t(v)];
}

}  // namespace aicl_test::ops
