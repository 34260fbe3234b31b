// Whole-step parity of SAL with the official code: every loss term, every gradient, the CAS, the pseudo labels,
// masks, actionness curves, video scores and the mask's EMA state against tests/golden/parity/sal_*.json
// (tools/make_sal_parity_golden.py runs the official SAL step through tools/sal_oracle.py; docs/sal-oracle.md), and
// of its ActivityNet variant against tests/golden/parity/sal_anet_*.json (tools/make_sal_anet_golden.py: the
// official SAL_ActivityNet train_one_step through tools/sal_anet_oracle.py; docs/sal.md "ActivityNet 1.3").
//
// The method is built through the registry; each step runs sal_parity_compute, the in-memory core of
// --parity-step (whose file layer tests/cpu/test_sal_method.cpp checks at a small width), on formula weights
// (tests/parity_formula.h) and batch, from the golden's starting EMA state. The two-step case runs a second step on
// the batch rolled by one video (video b+1 at position b), from the EMA state the first step left, as the oracle's
// --steps 2 does with the official trainer.
//
// The golden values come from the float64 oracle run (the official code in double precision; the float32 run
// agrees on every pseudo label and has no top-k boundary tie). Tolerances: losses 1e-4 relative; gradients:
// sampled entries within 1e-3 of the tensor's max |g| and norms within 1e-3 relative; CAS, actionness and video
// scores 1e-5 absolute; pseudo labels y / y_mix exact; masks m / m_mix 1e-4 absolute; EMA state 1e-6 relative.
// For scale, the official float32 run against the float64 one: KL_bg 1e-5..4e-5 relative (cancellation; every
// other loss <= 2.2e-7), CAS 1.3e-6, masks 7e-6 in the selective case, EMA variance 2e-7 relative
// (docs/sal-oracle.md).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "core/base/io.h"
#include "core/methods/registry.h"
#include "core/methods/sal/sal.h"
#include "parity_formula.h"
#include "test_util.h"

namespace {

using aicl::json;

constexpr int kC = 20, kP = 512 * 512;

struct ExpectedTensor {
  const char* name;
  std::vector<int> shape;
  int fan_in;
};

// The official state_dict of models/model_x4.py Model(2048, 20, T), in order; fan_in as the formula uses it.
const std::vector<ExpectedTensor>& expected_layout() {
  static const std::vector<ExpectedTensor> v = {
      {"encoder.0.weight", {512, 2048, 3}, 2048 * 3}, {"encoder.0.bias", {512}, 2048 * 3},
      {"action_rgb.0.weight", {512, 1024, 3}, 1024 * 3}, {"action_rgb.0.bias", {512}, 1024 * 3},
      {"action_flow.0.weight", {512, 1024, 3}, 1024 * 3}, {"action_flow.0.bias", {512}, 1024 * 3},
      {"cls.0.weight", {kC, 512, 1}, 512}, {"cls.0.bias", {kC}, 512},
      {"cls_rgb.0.weight", {1, 512, 1}, 512}, {"cls_rgb.0.bias", {1}, 512},
      {"cls_flow.0.weight", {1, 512, 1}, 512}, {"cls_flow.0.bias", {1}, 512},
      {"fc.weight", {kC, kP}, kP}, {"fc.bias", {kC}, kP},
      {"fc1.weight", {512, kP}, kP}, {"fc1.bias", {512}, kP}};
  return v;
}

// The state_dict of SAL_ActivityNet's core/SA13_1.py SALModel(2048, 20), in order (base conv K = 7).
const std::vector<ExpectedTensor>& expected_anet_layout() {
  static const std::vector<ExpectedTensor> v = {
      {"base_module.0.weight", {512, 2048, 7}, 2048 * 7}, {"base_module.0.bias", {512}, 2048 * 7},
      {"cls.0.weight", {kC, 512, 1}, 512}, {"cls.0.bias", {kC}, 512},
      {"action_rgb.0.weight", {512, 1024, 3}, 1024 * 3}, {"action_rgb.0.bias", {512}, 1024 * 3},
      {"action_flow.0.weight", {512, 1024, 3}, 1024 * 3}, {"action_flow.0.bias", {512}, 1024 * 3},
      {"cls_rgb.0.weight", {1, 512, 1}, 512}, {"cls_rgb.0.bias", {1}, 512},
      {"cls_flow.0.weight", {1, 512, 1}, 512}, {"cls_flow.0.bias", {1}, 512},
      {"fc.weight", {kC, kP}, kP}, {"fc.bias", {kC}, kP},
      {"fc1.weight", {512, kP}, kP}, {"fc1.bias", {512}, kP}};
  return v;
}

// Video b+1 at position b (the oracle's --steps 2 batch).
std::vector<float> roll_videos(const std::vector<float>& v, int B) {
  const size_t row = v.size() / static_cast<size_t>(B);
  std::vector<float> out(v.size());
  for (int b = 0; b < B; ++b)
    std::copy_n(v.begin() + static_cast<std::ptrdiff_t>(((b + 1) % B) * row), row,
                out.begin() + static_cast<std::ptrdiff_t>(b * row));
  return out;
}

// A step's outputs by the oracle's OUT.h5 names: from sal_parity_compute in memory (what --parity-step writes).
struct StepSource {
  const aicl::SalParityResult& r;
  const aicl::ParameterSet& p;  // gradients of the step
  std::vector<float> get(const std::string& name, const std::vector<int64_t>& want) const {
    INFO("step output " << name);
    if (name.rfind("loss/", 0) == 0) {
      for (const auto& [k, v] : r.losses)
        if ("loss/" + k == name) return {static_cast<float>(v)};
    } else if (name.rfind("grad/", 0) == 0) {
      for (size_t t = 0; t < p.tensors().size(); ++t)
        if ("grad/" + p.tensor(static_cast<int>(t)).name == name) {
          const aicl::ParamTensor& pt = p.tensor(static_cast<int>(t));
          REQUIRE(std::vector<int64_t>(pt.shape.begin(), pt.shape.end()) == want);
          return std::vector<float>(p.grad(static_cast<int>(t)), p.grad(static_cast<int>(t)) + pt.numel);
        }
    } else {
      for (const auto& [k, v] : r.arrays)
        if (k == name) {
          REQUIRE(r.shape(k) == want);
          return v;
        }
    }
    FAIL("no output named " << name);
    return {};
  }
  double attr(const std::string& name) const {
    if (name == "ema_mu_in") return r.state_in.mu;
    if (name == "ema_var_in") return r.state_in.var;
    if (name == "ema_mu") return r.state_out.mu;
    return r.state_out.var;
  }
};

std::vector<float> read_shaped(const StepSource& f, const std::string& name, const std::vector<int64_t>& want) {
  return f.get(name, want);
}

double rel_diff(double ours, double want) { return std::fabs(ours - want) / std::max(std::fabs(want), 1e-300); }

// [B,T] or [B,C] array against the golden's full array: worst |diff| (and where), or the mismatch count when exact.
void check_array(const json& want, const std::vector<float>& ours, int cols, const std::string& what, double tol,
                 bool exact) {
  REQUIRE(want.size() == ours.size());
  double worst = 0;
  size_t worst_i = 0, mismatches = 0, first = ours.size();
  for (size_t i = 0; i < ours.size(); ++i) {
    const double d = std::fabs(ours[i] - want[i].get<double>());
    if (d > worst) worst = d, worst_i = i;
    if (d != 0 && first == ours.size()) first = i;
    mismatches += d != 0;
  }
  if (exact) {
    INFO(what << ": " << mismatches << " mismatches; first at [" << first / cols << "," << first % cols << "]"
              << (first < ours.size() ? " ours " + std::to_string(ours[first]) + " official " +
                                            std::to_string(want[first].get<double>())
                                      : std::string()));
    CHECK(mismatches == 0);
  } else {
    INFO(what << ": worst |diff| " << worst << " at [" << worst_i / cols << "," << worst_i % cols << "] (ours "
              << ours[worst_i] << ", official " << want[worst_i].get<double>() << "), tolerance " << tol);
    CHECK(worst <= tol);
  }
}

void check_step(const json& g, const StepSource& out, const aicl::ParameterSet& layout, int B, int T,
                const std::string& who) {
  // The mask's EMA state, before and after the step's update (host doubles in the official code).
  static const std::pair<const char*, const char*> ema_attrs[] = {
      {"mu_in", "ema_mu_in"}, {"var_in", "ema_var_in"}, {"mu", "ema_mu"}, {"var", "ema_var"}};
  for (const auto& [key, attr] : ema_attrs) {
    INFO(who << ": attribute " << attr);
    const double ours = out.attr(attr), want = g["ema"][key];
    INFO(who << ": " << attr << " ours " << ours << " official " << want << " (relative diff "
             << rel_diff(ours, want) << ")");
    CHECK(std::fabs(ours - want) <= 1e-6 * std::fabs(want));
  }
  for (auto it = g["loss"].begin(); it != g["loss"].end(); ++it) {
    const std::string& name = it.key();
    const std::vector<float> v = read_shaped(out, "loss/" + name, {});
    const double ours = v[0], want = it.value().get<double>();
    INFO(who << ": loss/" << name << " ours " << ours << " official " << want);
    CHECK(std::fabs(ours - want) <= 1e-4 * std::max(1e-3, std::fabs(want)));
  }
  {
    const std::vector<float> cas = read_shaped(out, "cas", {B, T, kC});
    const json& idx = g["cas"]["index"];
    const json& val = g["cas"]["value"];
    double worst = 0;
    size_t worst_i = 0;
    for (size_t j = 0; j < idx.size(); ++j) {
      const size_t i = idx[j].get<size_t>();
      const double d = std::fabs(cas[i] - val[j].get<double>());
      if (d > worst) worst = d, worst_i = i;
    }
    INFO(who << ": cas worst |diff| " << worst << " at flat index " << worst_i << " (max |cas| "
             << g["cas"]["max_abs"].get<double>() << ")");
    CHECK(worst <= 1e-5);
  }
  const json& dbg = g["debug"];
  for (const char* k : {"y", "y_mix"})
    check_array(dbg[k], read_shaped(out, std::string("debug/") + k, {B, T}), T, who + ": debug/" + k, 0, true);
  for (const char* k : {"m", "m_mix"})
    check_array(dbg[k], read_shaped(out, std::string("debug/") + k, {B, T}), T, who + ": debug/" + k, 1e-4,
                false);
  for (const char* k : {"action_flow", "action_rgb", "action_flow_mix", "action_rgb_mix"})
    check_array(dbg[k], read_shaped(out, std::string("debug/") + k, {B, T}), T, who + ": debug/" + k, 1e-5,
                false);
  for (const char* k : {"cas_top", "cas_top_bg", "sc", "sc_rgb", "sc_flow"})
    check_array(dbg[k], read_shaped(out, std::string("debug/") + k, {B, kC}), kC, who + ": debug/" + k, 1e-5,
                false);
  for (size_t t = 0; t < layout.tensors().size(); ++t) {
    const aicl::ParamTensor& pt = layout.tensor(static_cast<int>(t));
    const json& gg = g["grad"][pt.name];
    const std::vector<float> gr =
        read_shaped(out, "grad/" + pt.name, std::vector<int64_t>(pt.shape.begin(), pt.shape.end()));
    double norm = 0, worst = 0;
    size_t worst_i = 0;
    for (float v : gr) norm += static_cast<double>(v) * v;
    norm = std::sqrt(norm);
    for (size_t j = 0; j < gg["index"].size(); ++j) {
      const size_t i = gg["index"][j].get<size_t>();
      const double d = std::fabs(gr[i] - gg["value"][j].get<double>());
      if (d > worst) worst = d, worst_i = i;
    }
    const double max_abs = gg["max_abs"], want_norm = gg["norm"];
    INFO(who << ": grad/" << pt.name << " worst |diff| " << worst << " at flat index " << worst_i << " (max |g| "
             << max_abs << "), norm ours " << norm << " official " << want_norm);
    CHECK(worst <= 1e-3 * max_abs);
    CHECK(std::fabs(norm - want_norm) <= 1e-3 * want_norm);
  }
}

// profile: the dataset profile the method is made for ("" = THUMOS14's defaults; "anet13": the ActivityNet
// variant, golden files from tools/make_sal_anet_golden.py through tools/sal_anet_oracle.py).
void run_case(const std::string& file, const std::string& profile = "") {
  const json g = aicl::read_json_file(aicl_test::source_dir() + "/tests/golden/parity/" + file);
  const int B = g["B"], T = g["T"], seed = g["seed"];
  REQUIRE(g["steps"].size() >= 1);
  aicl::MethodContext ctx;
  ctx.profile = profile;
  std::unique_ptr<aicl::Method> method = aicl::make_method("sal", ctx, json(), "test");

  aicl::ParameterSet p = method->layout();
  const auto& want = profile.empty() ? expected_layout() : expected_anet_layout();
  REQUIRE(p.tensors().size() == want.size());
  size_t total = 0;
  for (size_t t = 0; t < want.size(); ++t) {
    const aicl::ParamTensor& pt = p.tensor(static_cast<int>(t));
    INFO("layout tensor " << t << ": " << pt.name << " " << aicl::shape_string(pt.shape) << " fan_in " << pt.fan_in
                          << "; the golden files need " << want[t].name << " " << aicl::shape_string(want[t].shape)
                          << " fan_in " << want[t].fan_in);
    REQUIRE(pt.name == want[t].name);
    REQUIRE(pt.shape == want[t].shape);
    REQUIRE(pt.fan_in == want[t].fan_in);
    total += pt.numel;
  }
  if (p.values.size() != total) p.finalize();  // a layout without buffers
  aicl_test::formula_weights(p, seed);

  std::vector<float> x, labels;
  aicl_test::formula_batch(B, T, seed, x, labels);
  aicl::SalMaskState state;  // the official start: 1/C and 1
  state.mu = 1.0 / kC;
  if (g.contains("batch_ema")) state = {g["batch_ema"]["mu"].get<double>(), g["batch_ema"]["var"].get<double>()};
  const aicl::SalConfig cfg = static_cast<const aicl::SalMethod&>(*method).sal_config();
  for (size_t s = 0; s < g["steps"].size(); ++s) {
    if (s > 0) {  // the next step: the batch rolled by one video, the EMA state the previous step left
      x = roll_videos(x, B);
      labels = roll_videos(labels, B);
    }
    const aicl::SalParityResult r = aicl::sal_parity_compute(cfg, p, x.data(), labels.data(), B, T, state);
    check_step(g["steps"][s], StepSource{r, p}, p, B, T, file + " step " + std::to_string(s + 1));
    state = r.state_out;
  }
}

}  // namespace

TEST_CASE("parity: SAL steps equal the official code (B=2, T=64, two steps, EMA carried)") {
  run_case("sal_B2_T64.json");
}
TEST_CASE("parity: one SAL step equals the official code (B=3, T=45, odd T, distinct mix-up pairs)") {
  run_case("sal_B3_T45.json");
}
TEST_CASE("parity: one SAL step equals the official code (B=2, T=120, selective mask state)") {
  run_case("sal_B2_T120.json");
}
TEST_CASE("parity: one SAL ActivityNet step equals the official code (B=2, T=50, initial mask state)") {
  run_case("sal_anet_B2_T50.json", "anet13");
}
TEST_CASE("parity: one SAL ActivityNet step equals the official code (B=3, T=64, selective mask state)") {
  run_case("sal_anet_B3_T64.json", "anet13");
}
