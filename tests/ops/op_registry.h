// The op test registry: each op registers its shapes once and gets a CPU gradient check, a CUDA-vs-CPU check, perf timings.
//
// How to register an op (one file tests/ops/op_<name>.cpp, nothing else to edit; op_mse_loss.cpp is the shortest):
//  1. Write `std::vector<OpCase> <name>_cases()`, one OpCase per shape: `op` + `params` name it ("conv1d_k3",
//     "B=2 T=9 ..."); `inputs` / `outputs` list its tensors (float_in, int_in, float_out, int_out: size, whether a
//     gradient flows); `make_inputs` fills the inputs (double, seeded).
//  2. Point the CPU twin at the kernel with one generic lambda per pass: c.set_cpu_forward([=](const auto& a) {..});
//     c.set_cpu_backward(..) (none for a forward-only op). The lambdas use Args: a.in[i] / a.in_int[i],
//     a.out[j] / a.out_int[j]; the backward also a.dout[j] (gradient of output j; a.dout_host[j] on the host, for
//     a loss's scalar dloss) and a.din[i] (gradient of input i to ACCUMULATE into; nullptr when not wanted).
//  3. Under `#if AICL_HAVE_CUDA` (include ops/op_cuda.h) set c.forward_cuda / c.backward_cuda: same Args with device
//     pointers, stream_of(a). Say how device results compare with the CPU float twin: TensorSpec::cuda per output,
//     c.cuda_grad for gradients (Cmp::rel_to_max with a tolerance, Cmp::bits, ...).
//  4. Choose each case's `checks` (kGradCheck | kCuda | kPerf) and gradient-check settings (`grad`: prefill, step,
//     tolerances, skipped entries), and end the file with AICL_REGISTER_OP(<name>_cases). After the next build:
//     ctest "cpu:op gradcheck: <op> <params>", "gpu:op cuda-vs-cpu: <op> <params>", and bench/aicl_ops_perf.
// Other checks (golden values from the official code, tie rules, error messages) stay ordinary TEST_CASEs in
// tests/cpu/test_<op>.cpp and tests/gpu/test_<op>_cuda.cpp: this directory has no Catch2 (the perf tool links it).
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace aicl_test::ops {

// The generated checks a case takes part in (perf: timed by bench/aicl_ops_perf).
enum CheckKind : unsigned { kGradCheck = 1u, kCuda = 2u, kPerf = 4u };

// How a device result is compared with the CPU float twin's.
enum class Cmp {
  rel_to_max,  // max |got - want| <= tol * max(max |want|, floor) (gradients: the increment over the prefill)
  rel_elem,    // every |got - want| <= tol * |want|
  abs,         // every |got - want| <= tol
  bits,        // bit for bit (integers: equal)
  custom,      // decided by OpCase::cuda_compare
};

struct Tol {
  Cmp cmp = Cmp::rel_to_max;
  double tol = 0;
  double floor = 1e-6;
};

// One input or output tensor of an op call.
struct TensorSpec {
  std::string name;
  std::size_t size = 0;
  bool is_int = false;
  bool grad = false;      // input: the backward accumulates its gradient; output: its gradient feeds the backward
  bool nullable = false;  // input with a gradient: the backward accepts nullptr for it (checked as a variant)
  Tol cuda{};             // output: the device forward's comparison
};

inline TensorSpec float_in(std::string name, std::size_t size, bool grad = true, bool nullable = false) {
  return TensorSpec{std::move(name), size, false, grad, nullable, {}};
}
inline TensorSpec int_in(std::string name, std::size_t size) { return TensorSpec{std::move(name), size, true, false, false, {}}; }
inline TensorSpec float_out(std::string name, std::size_t size, Tol cuda, bool grad = true) {
  return TensorSpec{std::move(name), size, false, grad, false, cuda};
}
inline TensorSpec int_out(std::string name, std::size_t size, Tol cuda = {Cmp::bits, 0, 0}) {
  return TensorSpec{std::move(name), size, true, false, false, cuda};
}

// Host values of every input (or output) slot, in the order of the specs: f[i] for float slots, i[i] for int ones
// (the other vector of a slot is empty).
template <class T>
struct Values {
  std::vector<std::vector<T>> f;
  std::vector<std::vector<int>> i;
};

// The pointers one op call reads and writes (host memory on the CPU, device memory for the CUDA twin). Index i
// follows OpCase::inputs, j OpCase::outputs; the slot of the other kind is nullptr.
template <class T>
struct Args {
  std::vector<const T*> in;
  std::vector<const int*> in_int;
  std::vector<T*> out;  // forward: written; backward: the forward's results
  std::vector<int*> out_int;
  std::vector<T*> dout;             // backward: gradient of each output (an op may use it as scratch)
  std::vector<const T*> dout_host;  // the same values in host memory
  std::vector<T*> din;              // backward: gradient of each input, ACCUMULATED; nullptr = not wanted
  void* stream = nullptr;           // the cudaStream_t on the device
  int variant = 0;                  // index into OpCase::cpu_variants / cuda_variants
};

// One finite-difference comparison of an input's gradient (grad_check's settings).
struct GradSpec {
  int input = 0;
  double eps = 1e-6, atol = 1e-7, rtol = 1e-5;
  std::size_t max_entries = 400;
  std::function<bool(std::size_t)> skip;  // entries not compared (kinks)
};

// The double-precision state after the gradient check's backward (for OpCase::grad_invariants).
struct CpuState {
  const Values<double>& in;
  const Values<double>& out;
  const std::vector<std::vector<double>>& dout_before;
  const std::vector<std::vector<double>>& dout_after;  // what the backward left in its dout (scratch) buffers
  const std::vector<std::vector<double>>& grad;        // accumulated gradient minus the prefill
};

// Failures and context lines of one check (plain C++; the Catch2 tests turn them into assertions).
struct Report {
  std::vector<std::string> failures, notes;
  void check(bool ok, const std::string& what) {
    if (!ok) failures.push_back(what);
  }
  void note(const std::string& line) { notes.push_back(line); }
};

// Both sides of a device forward comparison (float), for OpCase::cuda_compare.
struct CudaCompare {
  const Values<float>& in;
  const Values<float>& cpu;
  const Values<float>& gpu;
};

template <class T>
using OpFn = std::function<void(const Args<T>&)>;

struct OpCase {
  std::string op, params;  // test names: "<op> <params>"
  unsigned checks = kGradCheck | kCuda | kPerf;
  std::vector<TensorSpec> inputs, outputs;
  std::function<void(Values<double>&)> make_inputs;  // slots come sized (zeros); fill them
  // Gradients of the outputs fed to every backward (slots sized; grad outputs default to seeded values in [-1, 1)).
  std::function<void(std::vector<std::vector<double>>&)> make_dout;

  // The CPU twin (the reference). backward null: a forward-only op (no gradient check).
  OpFn<double> forward_d, backward_d;
  OpFn<float> forward_f, backward_f;
  std::vector<std::string> cpu_variants = {""};  // each is gradient-checked; variant 0 is the CUDA reference

  struct Grad {
    double prefill = 0.25;   // gradient buffers start here: the backward must accumulate
    unsigned proj_seed = 99; // default output gradients: random_vector(size, proj_seed + j)
    GradSpec defaults;       // used for every input with a gradient (input field ignored)
    std::vector<GradSpec> extra;  // further comparisons (another step or tolerance on some entries)
  } grad;
  std::function<void(const CpuState&, Report&)> grad_invariants;  // more checks on the double backward

  // The CUDA twin (device pointers); null without CUDA or for a CPU-only op.
  OpFn<float> forward_cuda, backward_cuda;
  std::vector<std::string> cuda_variants = {""};
  Tol cuda_grad{Cmp::rel_to_max, 1e-4};  // gradients: error over the largest increment (compare_increment)
  double cuda_prefill = 0.5;             // device and CPU gradients both start uniform in [-p, p)
  unsigned cuda_seed = 1;
  bool cuda_deterministic_forward = false;   // a second device forward gives the same bits
  bool cuda_deterministic_backward = false;  // a second device backward gives the same bits
  bool cuda_null_grad_same_bits = false;     // with one gradient null the others keep the full run's bits
  std::function<void(const CudaCompare&, Report&)> cuda_compare;  // outputs whose Tol is Cmp::custom

  std::string name() const { return params.empty() ? op : op + " " + params; }

  // Both CPU precisions from one generic lambda, e.g. c.set_cpu_forward([n](const auto& a) { ... }).
  template <class F>
  void set_cpu_forward(F f) {
    forward_d = f;
    forward_f = f;
  }
  template <class F>
  void set_cpu_backward(F f) {
    backward_d = f;
    backward_f = f;
  }
};

// A number for a case's params, printed with %g (0.0005, 0.9, 1e-08).
std::string num(double x);

// Registers a factory of cases (called once, lazily, by all_cases()). Returns true (for static initialisers).
bool register_op(const char* file, std::vector<OpCase> (*factory)());

// Every registered case, in a fixed order (by op name, then as the factory listed them).
const std::vector<OpCase>& all_cases();

}  // namespace aicl_test::ops

#define AICL_OPS_CONCAT2(a, b) a##b
#define AICL_OPS_CONCAT(a, b) AICL_OPS_CONCAT2(a, b)
// In tests/ops/op_<name>.cpp, at namespace scope: AICL_REGISTER_OP(<name>_cases);
#define AICL_REGISTER_OP(factory)                                               \
  static const bool AICL_OPS_CONCAT(aicl_op_registered_, __LINE__) [[maybe_unused]] = \
      ::aicl_test::ops::register_op(__FILE__, &(factory))
