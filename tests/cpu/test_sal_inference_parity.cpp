// SAL inference parity with the official inference() of lizhilin-ustc/SAL (inference_thumos.py: video logits
// 0.35 cas_top + 0.65 sc, softmax; localization on the combined CAS; soft-NMS alpha 0.3): the same video scores,
// detections (labels and order, segments, scores) and mAP on the same weights and dataset. Golden file
// tests/golden/infer/sal_official_infer.json from tools/make_sal_infer_golden.py (the official code run through
// tools/sal_official_infer.py with GPU .cpu() semantics).
//
// The weights are the formula weights of tests/parity_formula.h over SAL's 16 tensors (as the step parity test),
// held in memory: the generic inference path below the weights file (localize_videos with the dataset's
// post-processing adjusted by the method, the evaluator with eval_options_for) runs on them, so no 0.6 GB file is
// written. Tolerances: video scores 1e-5 (the first 12 videos; the golden file has all 60), segments 1e-4 s,
// detection scores 1e-5, mAP 1e-4, cls_acc equal.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <vector>

#include "core/base/io.h"
#include "core/eval/evaluator.h"
#include "core/eval/localize.h"
#include "core/methods/registry.h"
#include "core/runtime/parameters.h"
#include "core/runtime/sampling.h"
#include "core/train/run_data.h"
#include "data/dataset.h"
#include "infer_golden.h"
#include "kernels/ops.h"
#include "parity_formula.h"
#include "test_util.h"

TEST_CASE("inference: SAL video scores, detections and mAP equal the official inference on a synthetic split") {
  const aicl::json g =
      aicl::read_json_file(aicl_test::source_dir() + "/tests/golden/infer/sal_official_infer.json");
  const std::filesystem::path dir = aicl_test::temp_dir("sal_infer_parity");
  const std::string data = aicl_test::write_golden_synth(g, dir);
  const aicl::Dataset ds(data);
  const int T = g["segments"], C = ds.num_classes();

  std::unique_ptr<aicl::Method> method = aicl::make_method("sal", aicl::method_context(ds), aicl::json(), "test");
  aicl::ParameterSet params;  // values only: inference needs no gradient buffer (0.58 GB less to allocate)
  for (const aicl::ParamTensor& t : method->layout().tensors()) params.add(t.name, t.shape, t.fan_in);
  params.values.resize(params.numel());
  aicl_test::formula_weights(params, g["weight_seed"].get<int>());
  aicl::Ops& ops = aicl::cpu_ops();
  const aicl::InferenceModel model{method.get(), &ops, aicl::ParamView{&params, params.values.data(), nullptr}};
  const std::vector<size_t> videos = ds.subset_indices(ds.profile().test_subset);
  REQUIRE(videos.size() == g["video_scores"].size());
  REQUIRE(videos.size() == 60);

  const aicl::PostprocessConfig post = aicl::postprocess_for(ds, *method);
  CHECK(post.soft_nms == g["soft_nms"].get<bool>());
  CHECK(post.nms_alpha == Approx(g["nms_alpha"].get<double>()));

  {  // video scores softmax(0.35 cas_top + 0.65 sc), where a difference would start: one forward of the first
     // kScoreVideos videos (all 60 would double the test's time; the detections below cover every video)
    constexpr int kScoreVideos = 12;
    const int B = kScoreVideos, F = ds.feature_dim();
    std::vector<float> x(static_cast<size_t>(B) * T * F), score(C);
    for (int b = 0; b < B; ++b) {
      const std::vector<float> f = ds.read_features(videos[b]);
      const std::vector<int> s = aicl::uniform_sampling(ds.video(videos[b]).num_segments, T);
      for (int t = 0; t < T; ++t)
        std::copy_n(f.begin() + static_cast<size_t>(s[t]) * F, F, x.begin() + (static_cast<size_t>(b) * T + t) * F);
    }
    std::unique_ptr<aicl::Workspace> ws = method->make_workspace(ops);
    const aicl::InferScores out = method->infer(ops, model.params, x.data(), B, T, *ws);
    double worst = 0;
    std::string worst_video;
    for (int b = 0; b < B; ++b) {
      const std::string& name = ds.video(videos[b]).name;
      method->video_scores(out.video + static_cast<size_t>(b) * method->video_outputs(), score.data());
      const aicl::json& want = g["video_scores"][name];
      REQUIRE(want.size() == static_cast<size_t>(C));
      for (int c = 0; c < C; ++c) {
        const double d = std::fabs(score[c] - want[c].get<double>());
        if (d > worst) worst = d, worst_video = name;
      }
    }
    INFO("worst |video score diff| " << worst << " (" << worst_video << ")");
    CHECK(worst <= 1e-5);
  }
  {  // detections and mAP through the generic inference path
    const aicl::LocalizeResult res = aicl::localize_videos(model, ds, videos, aicl::VideoFeatures{}, T, post);
    aicl_test::compare_detections(res.detections["results"], g["results"], 1e-4, 1e-5, "cpu vs official SAL");
    CHECK(res.class_accuracy == Approx(g["cls_acc"].get<double>()).margin(1e-12));
    const aicl::EvalReport rep = aicl::evaluate_detection(
        ds.ground_truth_json(), res.detections, aicl::eval_options_for(ds, ds.profile().test_subset, "detections"));
    REQUIRE(rep.mAP.size() == g["mAP"].size());
    for (size_t i = 0; i < rep.mAP.size(); ++i) {
      INFO("tIoU " << rep.tiou[i] << ": ours " << rep.mAP[i] << " official " << g["mAP"][i].get<double>());
      CHECK(std::fabs(rep.mAP[i] - g["mAP"][i].get<double>()) <= 1e-4);
    }
    CHECK(std::fabs(rep.average_mAP - g["average_mAP"].get<double>()) <= 1e-4);
  }
  std::filesystem::remove_all(dir);
}

// SAL's ActivityNet inference (variant "activitynet" on an anet13 file) against the official Trainer.test_all of
// lizhilin-ustc/SAL_ActivityNet: tests/golden/infer/sal_anet_official_infer.json from
// tools/make_sal_anet_infer_golden.py, on two synthetic anet13 splits of 20 classes (videos of up to 90 segments,
// sampled down to T = 50; videos of up to 40, kept whole at T_v = L by uniform_keep_short). The weights: the formula
// weights over the SA13_1 tensors with four tensors multiplied (in float32) so that the model is not near-uniform.
// The official labels are stored as class indices (its names are ActivityNet's). Tolerances as the THUMOS14 case.
TEST_CASE("inference: SAL ActivityNet video scores and detections equal the official test_all (T = 50 and kept "
          "whole)") {
  const aicl::json g =
      aicl::read_json_file(aicl_test::source_dir() + "/tests/golden/infer/sal_anet_official_infer.json");
  const std::filesystem::path dir = aicl_test::temp_dir("sal_anet_infer_parity");
  REQUIRE(g["parts"].size() == 2);
  size_t n_det = 0;
  for (const aicl::json& part : g["parts"]) {
    const std::vector<std::string> args = part["synth_args"].get<std::vector<std::string>>();
    REQUIRE(args.size() == 14);
    aicl::SynthOptions so;
    so.profile = args[1];
    so.num_classes = std::stoi(args[3]);
    so.train_videos = std::stoi(args[5]);
    so.test_videos = std::stoi(args[7]);
    so.max_segments = std::stoi(args[9]);
    so.seed = std::stoull(args[11]);
    so.difficulty = std::stod(args[13]);
    REQUIRE(so.profile == "anet13");
    const std::string data = (dir / ("s" + args[11] + ".h5")).string();
    aicl::write_synth(so, data);
    const aicl::Dataset ds(data);
    const int T = g["segments"], C = ds.num_classes();
    REQUIRE(C == g["classes"].get<int>());
    std::unique_ptr<aicl::Method> method = aicl::make_method("sal", aicl::method_context(ds), aicl::json(), "test");
    REQUIRE(method->config()["variant"] == "activitynet");
    aicl::ParameterSet params;
    for (const aicl::ParamTensor& t : method->layout().tensors()) params.add(t.name, t.shape, t.fan_in);
    params.values.resize(params.numel());
    aicl_test::formula_weights(params, g["weight_seed"].get<int>());
    for (const auto& [name, factor] : g["sharpen"].items()) {
      const int i = params.find(name);
      REQUIRE(i >= 0);
      const float f = static_cast<float>(factor.get<double>());
      float* v = params.values.data() + params.tensor(i).offset;
      for (size_t k = 0; k < params.tensor(i).numel; ++k) v[k] *= f;
    }
    aicl::Ops& ops = aicl::cpu_ops();
    const aicl::InferenceModel model{method.get(), &ops, aicl::ParamView{&params, params.values.data(), nullptr}};
    const std::vector<size_t> videos = ds.subset_indices(ds.profile().test_subset);
    REQUIRE(videos.size() == part["lengths"].size());
    for (size_t v : videos) CHECK(part["lengths"][ds.video(v).name] == ds.video(v).num_segments);
    const aicl::PostprocessConfig post = aicl::postprocess_for(ds, *method);
    CHECK((post.test_sampling.empty() ? ds.profile().test_sampling : post.test_sampling) == "uniform_keep_short");
    CHECK(post.class_thresh == 0.1);
    {  // video scores softmax(0.5 cas_top + 0.5 sc), one video at a time (each at its own sampled length)
      double worst = 0;
      std::vector<float> score(static_cast<size_t>(C));
      for (size_t v : videos) {
        const int L = ds.video(v).num_segments, F = ds.feature_dim();
        const std::vector<int> s = aicl::uniform_keep_short(L, T);
        const int Tv = static_cast<int>(s.size());
        const std::vector<float> f = ds.read_features(v);
        std::vector<float> x(static_cast<size_t>(Tv) * F);
        for (int t = 0; t < Tv; ++t) std::copy_n(f.begin() + static_cast<size_t>(s[t]) * F, F, x.begin() + size_t(t) * F);
        std::unique_ptr<aicl::Workspace> ws = method->make_workspace(ops);
        const aicl::InferScores out = method->infer(ops, model.params, x.data(), 1, Tv, *ws);
        method->video_scores(out.video, score.data());
        const aicl::json& want = part["video_scores"][ds.video(v).name];
        REQUIRE(want.size() == static_cast<size_t>(C));
        for (int c = 0; c < C; ++c) worst = std::max(worst, std::fabs(score[c] - want[c].get<double>()));
      }
      INFO("worst |video score diff| " << worst);
      CHECK(worst <= 1e-5);
    }
    const aicl::LocalizeResult res = aicl::localize_videos(model, ds, videos, aicl::VideoFeatures{}, T, post);
    aicl::json want = part["results"];
    for (auto& [video, list] : want.items())
      for (aicl::json& d : list) d["label"] = ds.class_names()[d["label"].get<size_t>()], ++n_det;
    aicl_test::compare_detections(res.detections["results"], want, 1e-4, 1e-5, "cpu vs official SAL ActivityNet");
  }
  CHECK(n_det > 1000);
  std::filesystem::remove_all(dir);
}
