// The generic CPU gradient check of a registered op case (double, finite differences) and its CPU perf timer.
#include <cmath>
#include <string>
#include <vector>

#include "gradcheck.h"
#include "ops/op_check.h"
#include "ops/op_host.h"

namespace aicl_test::ops {

namespace {

// What today's tests meant by Approx(want).margin(m): within m, or within 100 float epsilons relatively.
bool approx_equal(double got, double want, double margin) {
  const double d = std::fabs(got - want);
  return d <= margin || d <= 100 * 1.1920929e-7 * std::fabs(want);
}

// Runs forward then backward (double) from gradients prefilled with `fill`; returns the gradients minus the fill.
// `null_input` (>= 0) gets no gradient buffer. dout is copied (an op may use it as scratch); the copy is returned.
Grads backward_once(const OpCase& c, int variant, const Values<double>& in, Values<double>& out, const Grads& dout,
                    Grads* dout_after, int null_input = -1) {
  Args<double> a = host_args(c, in, out, variant);
  c.forward_d(a);
  Grads grads = prefilled_grads(c, c.grad.prefill, null_input);
  Grads scratch = dout;
  add_grads(a, scratch, grads);
  c.backward_d(a);
  for (auto& g : grads)
    for (double& e : g) e -= c.grad.prefill;
  if (dout_after) *dout_after = scratch;
  return grads;
}

// One finite-difference comparison; every entry not skipped must be checked when the input is small enough.
void compare_fd(const OpCase& c, const GradSpec& s, Values<double>& in, const Grads& grad,
                const std::function<double()>& loss, const std::string& label, Report& rep) {
  std::vector<double>& x = in.f[std::size_t(s.input)];
  const GradCheckReport r = grad_check(x, grad[std::size_t(s.input)], loss, s.eps, s.atol, s.rtol, s.max_entries, s.skip);
  const std::string what = label + " d" + c.inputs[std::size_t(s.input)].name;
  rep.note(r.describe(what));
  rep.check(r.ok(), r.describe(what) + ": gradient differs from finite differences");
  std::size_t expected = 0;
  if (x.size() <= s.max_entries) {
    for (std::size_t i = 0; i < x.size(); ++i) expected += !(s.skip && s.skip(i));
    rep.check(r.checked == expected, what + ": checked " + std::to_string(r.checked) + " entries, expected " +
                                         std::to_string(expected));
  }
  rep.check(r.checked > 0, what + ": no entry checked");
}

// With one nullable gradient left out, the others must be what the full backward gave.
void check_null_grads(const OpCase& c, int variant, const Values<double>& in, const Grads& dout, const Grads& full,
                      const std::string& label, Report& rep) {
  for (std::size_t k = 0; k < c.inputs.size(); ++k) {
    if (!c.inputs[k].grad || !c.inputs[k].nullable) continue;
    Values<double> out = zero_slots<double>(c.outputs);
    const Grads g = backward_once(c, variant, in, out, dout, nullptr, int(k));
    for (std::size_t o = 0; o < c.inputs.size(); ++o) {
      if (o == k || g[o].empty()) continue;
      std::size_t bad = 0;
      for (std::size_t i = 0; i < g[o].size(); ++i) bad += !approx_equal(g[o][i], full[o][i], 1e-14);
      rep.check(bad == 0, label + " d" + c.inputs[o].name + " with d" + c.inputs[k].name + " = null: " +
                              std::to_string(bad) + " entries differ from the full backward");
    }
  }
}

void gradcheck_variant(const OpCase& c, int variant, Report& rep) {
  const std::string label = c.cpu_variants.size() > 1 ? "[" + variant_label(c.cpu_variants, variant) + "]" : "";
  Values<double> in = generate_inputs(c);
  const Grads dout = generate_dout(c);
  Values<double> out = zero_slots<double>(c.outputs);
  Grads dout_after;
  const Grads grad = backward_once(c, variant, in, out, dout, &dout_after);
  auto loss = [&] {
    Values<double> o = zero_slots<double>(c.outputs);
    c.forward_d(host_args(c, in, o, variant));
    return projected_loss(c, o, dout);
  };
  for (std::size_t k = 0; k < c.inputs.size(); ++k) {
    if (!c.inputs[k].grad) continue;
    GradSpec s = c.grad.defaults;
    s.input = int(k);
    compare_fd(c, s, in, grad, loss, label, rep);
  }
  for (const GradSpec& s : c.grad.extra) compare_fd(c, s, in, grad, loss, label + " (extra)", rep);
  check_null_grads(c, variant, in, dout, grad, label, rep);
  if (c.grad_invariants) {
    const std::size_t before = rep.failures.size();
    c.grad_invariants(CpuState{in, out, dout, dout_after, grad}, rep);
    for (std::size_t f = before; f < rep.failures.size(); ++f) rep.failures[f] = label + " " + rep.failures[f];
  }
}

}  // namespace

Report run_gradcheck(const OpCase& c) {
  Report rep;
  if (!c.forward_d || !c.backward_d) {
    rep.check(false, c.name() + ": no double forward/backward to check");
    return rep;
  }
  for (int v = 0; v < int(c.cpu_variants.size()); ++v) gradcheck_variant(c, v, rep);
  return rep;
}

struct CpuTimer::Impl {
  const OpCase& c;
  int variant;
  Values<float> in, out;
  std::vector<std::vector<float>> dout, grads;
};

CpuTimer::CpuTimer(const OpCase& c, int variant) : impl_(new Impl{c, variant, {}, {}, {}, {}}) {
  impl_->in = cast_values<float>(generate_inputs(c));
  impl_->out = zero_slots<float>(c.outputs);
  impl_->dout = cast_all<float>(generate_dout(c));
  impl_->grads = cast_all<float>(prefilled_grads(c, 0.0));
  if (c.forward_f) c.forward_f(host_args(c, impl_->in, impl_->out, variant));
}

CpuTimer::~CpuTimer() = default;

void CpuTimer::forward() { impl_->c.forward_f(host_args(impl_->c, impl_->in, impl_->out, impl_->variant)); }

void CpuTimer::backward() {
  Args<float> a = host_args(impl_->c, impl_->in, impl_->out, impl_->variant);
  add_grads(a, impl_->dout, impl_->grads);
  impl_->c.backward_f(a);
}

}  // namespace aicl_test::ops
