// Whole-step parity with the official AICL code: losses, every gradient and the CAS against golden files.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>

#include "core/aicl_model.h"
#include "core/io.h"
#include "parity_formula.h"
#include "test_util.h"

using aicl::json;

namespace {

void check_case(const std::string& file) {
  const json g = aicl::read_json_file(aicl_test::source_dir() + "/tests/golden/parity/" + file);
  const int B = g["B"], T = g["T"], seed = g["seed"];
  aicl::AiclModel model;
  aicl_test::formula_weights(model.params(), seed);
  std::vector<float> x, labels;
  aicl_test::formula_batch(B, T, seed, x, labels);
  aicl::AiclActivations act;
  model.params().zero_grad();
  const aicl::AiclLosses L = model.forward_backward(x.data(), labels.data(), B, T, act);

  // Losses within 1e-4 relative.
  const std::vector<std::pair<std::string, double>> ours = {
      {"total", L.total},       {"action", L.action},           {"agnostic", L.agnostic},
      {"modality", L.modality}, {"contrast", L.contrast},       {"consistency", L.consistency},
      {"agnostic_flow", L.agnostic_flow}, {"agnostic_rgb", L.agnostic_rgb},
      {"contrast_fused", L.contrast_fused}, {"contrast_rgb", L.contrast_rgb},
      {"contrast_flow", L.contrast_flow}};
  for (const auto& [name, value] : ours) {
    const double want = g["loss"][name];
    INFO(file << " loss/" << name << " ours " << value << " official " << want);
    CHECK(std::fabs(value - want) <= 1e-4 * std::max(1e-3, std::fabs(want)));
  }
  // CAS within 1e-5 (absolute; the CAS values are O(1)).
  {
    const auto& idx = g["cas"]["index"];
    const auto& val = g["cas"]["value"];
    double worst = 0;
    size_t worst_i = 0;
    for (size_t j = 0; j < idx.size(); ++j) {
      const double d = std::fabs(act.cas[idx[j].get<size_t>()] - val[j].get<double>());
      if (d > worst) worst = d, worst_i = idx[j];
    }
    INFO(file << " cas worst |diff| " << worst << " at " << worst_i);
    CHECK(worst <= 1e-5);
  }
  // Actionness curves within 1e-5, pseudo labels exact.
  for (const char* k : {"class_aware", "class_agnostic"}) {
    const auto& want = g["actionness"][k];
    const auto& ours_v = std::string(k) == "class_aware" ? act.actionness_aware : act.actionness_agnostic;
    REQUIRE(want.size() == ours_v.size());
    double worst = 0;
    for (size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::fabs(ours_v[i] - want[i].get<double>()));
    INFO(file << " actionness/" << k << " worst |diff| " << worst);
    CHECK(worst <= 1e-5);
  }
  {
    const auto& want = g["debug_pseudo_label"];
    REQUIRE(want.size() == act.pseudo_label.size());
    size_t mismatches = 0;
    for (size_t i = 0; i < want.size(); ++i) mismatches += act.pseudo_label[i] != want[i].get<float>();
    INFO(file << " pseudo-label mismatches " << mismatches);
    CHECK(mismatches == 0);
  }
  // Gradients: sampled entries within 1e-3 of the tensor's max magnitude; norms within 1e-3 relative.
  const aicl::ParameterSet& p = model.params();
  for (size_t t = 0; t < p.tensors().size(); ++t) {
    const auto& pt = p.tensor(static_cast<int>(t));
    const json& gg = g["grad"][pt.name];
    const double max_abs = gg["max_abs"];
    const float* gr = p.grad(static_cast<int>(t));
    double worst = 0, norm = 0;
    for (size_t i = 0; i < pt.numel; ++i) norm += static_cast<double>(gr[i]) * gr[i];
    norm = std::sqrt(norm);
    for (size_t j = 0; j < gg["index"].size(); ++j) {
      const size_t i = gg["index"][j];
      worst = std::max(worst, std::fabs(gr[i] - gg["value"][j].get<double>()));
    }
    INFO(file << " grad/" << pt.name << " worst |diff| " << worst << " (max |g| " << max_abs << "), norm ours "
              << norm << " official " << gg["norm"].get<double>());
    CHECK(worst <= 1e-3 * max_abs);
    CHECK(std::fabs(norm - gg["norm"].get<double>()) <= 1e-3 * gg["norm"].get<double>());
  }
}

}  // namespace

TEST_CASE("parity: one AICL step equals the official code (B=4, T=64)") { check_case("step_B4_T64.json"); }
TEST_CASE("parity: one AICL step equals the official code (B=3, T=45, odd T)") { check_case("step_B3_T45.json"); }
TEST_CASE("parity: one AICL step equals the official code (B=2, T=120)") { check_case("step_B2_T120.json"); }
