// Whole-step parity with the official AICL code: losses, every gradient and the CAS against golden files.
#include <catch2/catch.hpp>

#include "core/methods/aicl/aicl.h"
#include "parity_formula.h"
#include "parity_golden.h"

namespace {

void check_case(const std::string& file) {
  const aicl::json g = aicl_test::read_parity_golden(file);
  const int B = g["B"], T = g["T"], seed = g["seed"];
  aicl::AiclModel model;
  aicl_test::formula_weights(model.params(), seed);
  std::vector<float> x, labels;
  aicl_test::formula_batch(B, T, seed, x, labels);
  aicl::AiclActivations act;
  model.params().zero_grad();
  aicl_test::StepOutputs s;
  s.losses = model.forward_backward(x.data(), labels.data(), B, T, act);
  s.cas = act.cas.to_host();
  s.aware = act.actionness_aware.to_host();
  s.agnostic = act.actionness_agnostic.to_host();
  s.pseudo_label = act.pseudo_label.to_host();
  s.grads = &model.params();
  aicl_test::check_against_golden(g, s, "cpu " + file);
}

}  // namespace

TEST_CASE("parity: one AICL step equals the official code (B=4, T=64)") { check_case("step_B4_T64.json"); }
TEST_CASE("parity: one AICL step equals the official code (B=3, T=45, odd T)") { check_case("step_B3_T45.json"); }
TEST_CASE("parity: one AICL step equals the official code (B=2, T=120)") { check_case("step_B2_T120.json"); }
