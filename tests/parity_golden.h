// The whole-step golden comparison (tests/golden/parity/*.json, from the official code), shared by the CPU and
// GPU parity tests so that both hold the same checks and tolerances.
#pragma once
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/methods/aicl/aicl.h"
#include "core/base/io.h"
#include "test_util.h"

namespace aicl_test {

inline aicl::json read_parity_golden(const std::string& file) {
  return aicl::read_json_file(source_dir() + "/tests/golden/parity/" + file);
}

// What a step produced, on whichever device (host copies).
struct StepOutputs {
  aicl::AiclLosses losses;
  std::vector<float> cas, aware, agnostic, pseudo_label;
  const aicl::ParameterSet* grads = nullptr;  // values unused; grad buffers hold the gradients
};

// Every loss term by its name in the golden files (and in the oracle's official_step.py output).
inline std::vector<std::pair<std::string, double>> loss_terms(const aicl::AiclLosses& L) {
  return {{"total", L.total},       {"action", L.action},           {"agnostic", L.agnostic},
          {"modality", L.modality}, {"contrast", L.contrast},       {"consistency", L.consistency},
          {"agnostic_flow", L.agnostic_flow}, {"agnostic_rgb", L.agnostic_rgb},
          {"contrast_fused", L.contrast_fused}, {"contrast_rgb", L.contrast_rgb},
          {"contrast_flow", L.contrast_flow}};
}

// Losses within 1e-4 relative; CAS and actionness within 1e-5; pseudo labels exact; gradients: sampled entries
// within 1e-3 of the tensor's max magnitude and norms within 1e-3 relative.
inline void check_against_golden(const aicl::json& g, const StepOutputs& s, const std::string& who) {
  for (const auto& [name, value] : loss_terms(s.losses)) {
    const double want = g["loss"][name];
    INFO(who << " loss/" << name << " ours " << value << " official " << want);
    CHECK(std::fabs(value - want) <= 1e-4 * std::max(1e-3, std::fabs(want)));
  }
  {
    const auto& idx = g["cas"]["index"];
    const auto& val = g["cas"]["value"];
    double worst = 0;
    size_t worst_i = 0;
    for (size_t j = 0; j < idx.size(); ++j) {
      const double d = std::fabs(s.cas[idx[j].get<size_t>()] - val[j].get<double>());
      if (d > worst) worst = d, worst_i = idx[j];
    }
    INFO(who << " cas worst |diff| " << worst << " at " << worst_i);
    CHECK(worst <= 1e-5);
  }
  for (const char* k : {"class_aware", "class_agnostic"}) {
    const auto& want = g["actionness"][k];
    const auto& mine = std::string(k) == "class_aware" ? s.aware : s.agnostic;
    REQUIRE(want.size() == mine.size());
    double worst = 0;
    for (size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::fabs(mine[i] - want[i].get<double>()));
    INFO(who << " actionness/" << k << " worst |diff| " << worst);
    CHECK(worst <= 1e-5);
  }
  {
    const auto& want = g["debug_pseudo_label"];
    REQUIRE(want.size() == s.pseudo_label.size());
    size_t mismatches = 0;
    for (size_t i = 0; i < want.size(); ++i) mismatches += s.pseudo_label[i] != want[i].get<float>();
    INFO(who << " pseudo-label mismatches " << mismatches);
    CHECK(mismatches == 0);
  }
  const aicl::ParameterSet& p = *s.grads;
  for (size_t t = 0; t < p.tensors().size(); ++t) {
    const auto& pt = p.tensor(static_cast<int>(t));
    const aicl::json& gg = g["grad"][pt.name];
    const double max_abs = gg["max_abs"];
    const float* gr = p.grad(static_cast<int>(t));
    double worst = 0, norm = 0;
    for (size_t i = 0; i < pt.numel; ++i) norm += static_cast<double>(gr[i]) * gr[i];
    norm = std::sqrt(norm);
    for (size_t j = 0; j < gg["index"].size(); ++j) {
      const size_t i = gg["index"][j];
      worst = std::max(worst, std::fabs(gr[i] - gg["value"][j].get<double>()));
    }
    INFO(who << " grad/" << pt.name << " worst |diff| " << worst << " (max |g| " << max_abs << "), norm ours "
             << norm << " official " << gg["norm"].get<double>());
    CHECK(worst <= 1e-3 * max_abs);
    CHECK(std::fabs(norm - gg["norm"].get<double>()) <= 1e-3 * gg["norm"].get<double>());
  }
}

}  // namespace aicl_test
