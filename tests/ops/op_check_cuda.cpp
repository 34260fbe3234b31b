// The generic CUDA-vs-CPU check of a registered op case (device float vs the CPU float twin) and its device perf timer.
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "ops/op_check.h"
#include "ops/op_host.h"

#if AICL_HAVE_CUDA
#include "compare_util.h"
#include "kernels/cuda_common.h"

namespace aicl_test::ops {

namespace {

using Floats = std::vector<std::vector<float>>;

// Device copies of a set of slots (an empty slot is an empty buffer, i.e. nullptr).
struct DeviceSlots {
  std::vector<aicl::DeviceBuffer<float>> f;
  std::vector<aicl::DeviceBuffer<int>> i;
};

DeviceSlots upload(const Values<float>& v, cudaStream_t s) {
  DeviceSlots d;
  for (const auto& x : v.f) d.f.emplace_back(x, s);
  for (const auto& x : v.i) d.i.emplace_back(x, s);
  return d;
}

std::vector<aicl::DeviceBuffer<float>> upload(const Floats& v, cudaStream_t s) {
  std::vector<aicl::DeviceBuffer<float>> d;
  for (const auto& x : v) d.emplace_back(x, s);
  return d;
}

// Output slots filled with all-one bits (a NaN for floats, -1 for ints): an element the op does not write fails.
DeviceSlots poisoned_outputs(const OpCase& c, cudaStream_t s) {
  DeviceSlots d;
  for (const TensorSpec& o : c.outputs) {
    d.f.emplace_back(o.is_int ? 0 : o.size);
    d.i.emplace_back(o.is_int ? o.size : 0);
  }
  for (auto& b : d.f)
    if (b.size()) AICL_CUDA_CHECK(cudaMemsetAsync(b.data(), 0xFF, b.bytes(), s));
  for (auto& b : d.i)
    if (b.size()) AICL_CUDA_CHECK(cudaMemsetAsync(b.data(), 0xFF, b.bytes(), s));
  return d;
}

Values<float> download(const DeviceSlots& d, cudaStream_t s) {
  Values<float> v;
  for (const auto& b : d.f) v.f.push_back(b.to_host(s));
  for (const auto& b : d.i) v.i.push_back(b.to_host(s));
  return v;
}

Args<float> device_args(const OpCase& c, DeviceSlots& in, DeviceSlots& out, int variant, cudaStream_t s) {
  Args<float> a;
  for (std::size_t k = 0; k < c.inputs.size(); ++k) {
    a.in.push_back(in.f[k].size() ? in.f[k].data() : nullptr);
    a.in_int.push_back(in.i[k].size() ? in.i[k].data() : nullptr);
  }
  for (std::size_t j = 0; j < c.outputs.size(); ++j) {
    a.out.push_back(out.f[j].size() ? out.f[j].data() : nullptr);
    a.out_int.push_back(out.i[j].size() ? out.i[j].data() : nullptr);
  }
  a.stream = s;
  a.variant = variant;
  return a;
}

void add_device_grads(Args<float>& a, std::vector<aicl::DeviceBuffer<float>>& dout, const Floats& dout_host,
                      std::vector<aicl::DeviceBuffer<float>>& din) {
  for (std::size_t j = 0; j < dout.size(); ++j) {
    a.dout.push_back(dout[j].size() ? dout[j].data() : nullptr);
    a.dout_host.push_back(dout_host[j].empty() ? nullptr : dout_host[j].data());
  }
  for (auto& g : din) a.din.push_back(g.size() ? g.data() : nullptr);
}

// Largest |got - want| / |want| (sigmoid-like outputs); infinite on a non-finite or missing value.
double max_elem_rel_err(const std::vector<float>& got, const std::vector<float>& want, bool relative) {
  if (got.size() != want.size()) return INFINITY;
  double worst = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (std::isfinite(got[i]) != std::isfinite(want[i])) return INFINITY;
    const double scale = relative ? std::max(std::fabs(double(want[i])), 1e-30) : 1.0;
    worst = std::max(worst, std::fabs(double(got[i]) - double(want[i])) / scale);
  }
  return worst;
}

void compare_floats(const Tol& t, const std::vector<float>& got, const std::vector<float>& want,
                    const std::string& what, Report& rep) {
  switch (t.cmp) {
    case Cmp::rel_to_max: {
      const CloseReport r = compare_to_reference(got, want, t.floor);
      rep.note(r.describe(what));
      rep.check(!r.nonfinite && r.rel_err <= t.tol, r.describe(what) + " > tolerance " + std::to_string(t.tol));
      break;
    }
    case Cmp::rel_elem:
    case Cmp::abs: {
      const double e = max_elem_rel_err(got, want, t.cmp == Cmp::rel_elem);
      const std::string line = what + (t.cmp == Cmp::abs ? ": max abs error " : ": max relative error ") +
                               std::to_string(e) + " (tolerance " + std::to_string(t.tol) + ")";
      rep.note(line);
      rep.check(e <= t.tol, line);
      break;
    }
    case Cmp::bits: {
      const long d = count_bit_differences(got, want);
      rep.check(d == 0, what + ": " + std::to_string(d) + " elements differ in their bits (-1: size)");
      break;
    }
    case Cmp::custom:
      break;
  }
}

void compare_outputs(const OpCase& c, const Values<float>& in, const Values<float>& cpu, const Values<float>& gpu,
                     const std::string& label, Report& rep) {
  for (std::size_t j = 0; j < c.outputs.size(); ++j) {
    const TensorSpec& o = c.outputs[j];
    if (o.cuda.cmp == Cmp::custom) continue;
    if (o.is_int)
      rep.check(gpu.i[j] == cpu.i[j], label + " " + o.name + ": integer outputs differ from the CPU's");
    else
      compare_floats(o.cuda, gpu.f[j], cpu.f[j], label + " " + o.name, rep);
  }
  if (c.cuda_compare) {
    const std::size_t before = rep.failures.size();
    c.cuda_compare(CudaCompare{in, cpu, gpu}, rep);
    for (std::size_t f = before; f < rep.failures.size(); ++f) rep.failures[f] = label + " " + rep.failures[f];
  }
}

void require_same_bits(const Floats& a, const Floats& b, const std::string& what, Report& rep) {
  for (std::size_t k = 0; k < a.size(); ++k)
    rep.check(count_bit_differences(a[k], b[k]) == 0, what + " (slot " + std::to_string(k) + ")");
}

Values<float> device_forward(const OpCase& c, int v, DeviceSlots& d_in, cudaStream_t s) {
  DeviceSlots d_out = poisoned_outputs(c, s);
  c.forward_cuda(device_args(c, d_in, d_out, v, s));
  return download(d_out, s);
}

struct BackwardRun {
  Floats grads, dout;
};

// Everything one backward comparison needs: the inputs, the CPU forward's outputs, output gradients, prefills.
struct BackwardSetup {
  const OpCase& c;
  const Values<float>& in;
  const Values<float>& fwd;  // the CPU float forward's results: both sides' backward read these
  Floats dout, prefill;
};

BackwardRun cpu_backward(const BackwardSetup& b, int null_input) {
  BackwardRun r{b.prefill, b.dout};
  if (null_input >= 0) r.grads[std::size_t(null_input)].clear();
  Values<float> fwd = b.fwd;
  Args<float> a = host_args(b.c, b.in, fwd, 0);
  add_grads(a, r.dout, r.grads);
  b.c.backward_f(a);
  return r;
}

BackwardRun device_backward(const BackwardSetup& b, int v, DeviceSlots& d_in, cudaStream_t s, int null_input) {
  DeviceSlots d_fwd = upload(b.fwd, s);
  auto d_dout = upload(b.dout, s);
  Floats start = b.prefill;
  if (null_input >= 0) start[std::size_t(null_input)].clear();
  auto d_grads = upload(start, s);
  Args<float> a = device_args(b.c, d_in, d_fwd, v, s);
  add_device_grads(a, d_dout, b.dout, d_grads);
  b.c.backward_cuda(a);
  BackwardRun r;
  for (const auto& g : d_grads) r.grads.push_back(g.to_host(s));
  for (const auto& d : d_dout) r.dout.push_back(d.to_host(s));
  return r;
}

void compare_grads(const BackwardSetup& b, const BackwardRun& gpu, const BackwardRun& cpu, const std::string& label,
                   Report& rep) {
  const OpCase& c = b.c;
  for (std::size_t k = 0; k < c.inputs.size(); ++k) {
    if (cpu.grads[k].empty()) continue;
    const std::string what = label + " d" + c.inputs[k].name;
    if (c.cuda_grad.cmp == Cmp::bits) {
      compare_floats(c.cuda_grad, gpu.grads[k], cpu.grads[k], what, rep);
      continue;
    }
    const CloseReport r = compare_increment(gpu.grads[k], cpu.grads[k], b.prefill[k], c.cuda_grad.floor);
    rep.note(r.describe(what));
    rep.check(!r.nonfinite && r.rel_err <= c.cuda_grad.tol,
              r.describe(what) + " > tolerance " + std::to_string(c.cuda_grad.tol));
  }
  // What the backward leaves in dout (untouched, or an op's documented scratch result) is exact.
  require_same_bits(gpu.dout, cpu.dout, label + " dout after the backward differs from the CPU's", rep);
}

void check_backward(const OpCase& c, int v, const Values<float>& in, const Values<float>& fwd, DeviceSlots& d_in,
                    cudaStream_t s, const std::string& label, Report& rep) {
  BackwardSetup b{c, in, fwd, cast_all<float>(generate_dout(c)), Floats(c.inputs.size())};
  for (std::size_t k = 0; k < c.inputs.size(); ++k) {
    if (!c.inputs[k].grad) continue;
    const auto p = random_vector(c.inputs[k].size, c.cuda_seed + 100 + unsigned(k), -c.cuda_prefill, c.cuda_prefill);
    b.prefill[k].assign(p.begin(), p.end());
  }
  const BackwardRun cpu = cpu_backward(b, -1), gpu = device_backward(b, v, d_in, s, -1);
  compare_grads(b, gpu, cpu, label, rep);
  if (c.cuda_deterministic_backward)
    require_same_bits(device_backward(b, v, d_in, s, -1).grads, gpu.grads,
                      label + " a second device backward gave other bits", rep);
  for (std::size_t k = 0; k < c.inputs.size(); ++k) {
    if (!c.inputs[k].grad || !c.inputs[k].nullable) continue;
    const std::string nl = label + " (d" + c.inputs[k].name + " = null)";
    const BackwardRun gn = device_backward(b, v, d_in, s, int(k));
    compare_grads(b, gn, cpu_backward(b, int(k)), nl, rep);
    if (!c.cuda_null_grad_same_bits) continue;
    for (std::size_t o = 0; o < c.inputs.size(); ++o)
      if (o != k && !gn.grads[o].empty())
        rep.check(count_bit_differences(gn.grads[o], gpu.grads[o]) == 0,
                  nl + " d" + c.inputs[o].name + ": other bits than with every gradient");
  }
}

void check_variant(const OpCase& c, int v, const Values<float>& in, const Values<float>& want, cudaStream_t s,
                   Report& rep) {
  const std::string label = c.cuda_variants.size() > 1 ? "[" + variant_label(c.cuda_variants, v) + "]" : "";
  DeviceSlots d_in = upload(in, s);
  const Values<float> got = device_forward(c, v, d_in, s);
  compare_outputs(c, in, want, got, label, rep);
  if (c.cuda_deterministic_forward) {
    const Values<float> again = device_forward(c, v, d_in, s);
    require_same_bits(again.f, got.f, label + " a second device forward gave other bits", rep);
    rep.check(again.i == got.i, label + " a second device forward gave other integers");
  }
  if (c.backward_cuda && c.backward_f) check_backward(c, v, in, want, d_in, s, label, rep);
}

}  // namespace

Report run_cuda_vs_cpu(const OpCase& c) {
  Report rep;
  if (!c.forward_cuda || !c.forward_f) {
    rep.check(false, c.name() + ": no CUDA twin or no float CPU forward to compare");
    return rep;
  }
  aicl::CudaStream stream;
  const Values<float> in = cast_values<float>(generate_inputs(c));
  Values<float> want = zero_slots<float>(c.outputs);
  c.forward_f(host_args(c, in, want, 0));
  for (int v = 0; v < int(c.cuda_variants.size()); ++v) check_variant(c, v, in, want, stream, rep);
  return rep;
}

struct CudaTimer::Impl {
  const OpCase& c;
  int variant;
  aicl::CudaStream stream;
  DeviceSlots in, out;
  Floats dout_host;
  std::vector<aicl::DeviceBuffer<float>> dout, grads;
  cudaEvent_t start = nullptr, stop = nullptr;

  Impl(const OpCase& oc, int v) : c(oc), variant(v) {
    const Values<float> h = cast_values<float>(generate_inputs(c));
    in = upload(h, stream);
    Values<float> fwd = zero_slots<float>(c.outputs);
    c.forward_f(host_args(c, h, fwd, 0));  // the backward reads real forward results
    out = upload(fwd, stream);
    dout_host = cast_all<float>(generate_dout(c));
    dout = upload(dout_host, stream);
    grads = upload(cast_all<float>(prefilled_grads(c, 0.0)), stream);
    AICL_CUDA_CHECK(cudaEventCreate(&start));
    AICL_CUDA_CHECK(cudaEventCreate(&stop));
  }
  ~Impl() {
    if (start) AICL_CUDA_CHECK_NOTHROW(cudaEventDestroy(start));
    if (stop) AICL_CUDA_CHECK_NOTHROW(cudaEventDestroy(stop));
  }
  double time_ms(bool backward, int reps) {
    Args<float> a = device_args(c, in, out, variant, stream);
    if (backward) add_device_grads(a, dout, dout_host, grads);
    const OpFn<float>& fn = backward ? c.backward_cuda : c.forward_cuda;
    fn(a);  // warm-up (first-call scratch allocation, cuBLAS handle)
    AICL_CUDA_CHECK(cudaEventRecord(start, stream));
    for (int r = 0; r < reps; ++r) fn(a);
    AICL_CUDA_CHECK(cudaEventRecord(stop, stream));
    AICL_CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0;
    AICL_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    return double(ms) / reps;
  }
};

CudaTimer::CudaTimer(const OpCase& c, int variant) : impl_(new Impl(c, variant)) {}
CudaTimer::~CudaTimer() = default;
double CudaTimer::forward_ms(int reps) { return impl_->time_ms(false, reps); }
double CudaTimer::backward_ms(int reps) { return impl_->time_ms(true, reps); }

bool cuda_usable() { return aicl::cuda_device_available(); }

}  // namespace aicl_test::ops

#else  // no CUDA backend: the same interface, never usable

namespace aicl_test::ops {

Report run_cuda_vs_cpu(const OpCase& c) {
  Report rep;
  rep.check(false, c.name() + ": built without CUDA");
  return rep;
}

struct CudaTimer::Impl {};
CudaTimer::CudaTimer(const OpCase&, int) { throw std::runtime_error("aicl built without CUDA"); }
CudaTimer::~CudaTimer() = default;
double CudaTimer::forward_ms(int) { return 0; }
double CudaTimer::backward_ms(int) { return 0; }
bool cuda_usable() { return false; }

}  // namespace aicl_test::ops

#endif
