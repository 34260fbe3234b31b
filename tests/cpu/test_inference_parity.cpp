// Inference parity with the official inference(): same detections (labels, segments, scores) and mAP on the same
// weights and dataset (golden file from tools/make_infer_golden.py).
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "core/io.h"
#include "core/localize.h"
#include "core/weights.h"
#include "data/synth.h"
#include "parity_formula.h"
#include "test_util.h"

TEST_CASE("inference: detections and mAP equal the official inference on a synthetic test split") {
  const aicl::json g = aicl::read_json_file(aicl_test::source_dir() + "/tests/golden/infer/official_infer.json");
  const auto dir = aicl_test::temp_dir("infer_parity");
  // The dataset of the golden file: aicl_data synth --train 2 --test 60 --max-segments 200 --seed 5 --difficulty 1.
  REQUIRE(g["synth_args"].dump() ==
          R"(["--train","2","--test","60","--max-segments","200","--seed","5","--difficulty","1"])");
  aicl::SynthOptions so;
  so.train_videos = 2;
  so.test_videos = 60;
  so.max_segments = 200;
  so.seed = 5;
  so.difficulty = 1;
  const std::string data = (dir / "s.h5").string(), weights = (dir / "w.h5").string(), out = (dir / "d.json").string();
  aicl::write_synth(so, data);
  aicl::AiclModel model;
  aicl_test::formula_weights(model.params(), g["weight_seed"].get<int>());
  aicl::save_weights(weights, model.params());

  aicl::InferOptions o;
  o.data = data;
  o.weights = weights;
  o.out = out;
  o.segments = g["segments"];
  const aicl::InferOutcome res = aicl::infer_and_evaluate(o);
  const aicl::json ours = aicl::read_json_file(out)["results"];
  const aicl::json& want = g["results"];
  REQUIRE(ours.size() == want.size());
  size_t n = 0, label_mismatch = 0;
  double worst_seg = 0, worst_score = 0;
  for (const auto& [video, list] : want.items()) {
    REQUIRE(ours.contains(video));
    const aicl::json& mine = ours[video];
    INFO("video " << video);
    REQUIRE(mine.size() == list.size());
    for (size_t i = 0; i < list.size(); ++i, ++n) {
      label_mismatch += mine[i]["label"] != list[i]["label"];
      for (int e = 0; e < 2; ++e)
        worst_seg = std::max(worst_seg, std::fabs(mine[i]["segment"][e].get<double>() -
                                                  list[i]["segment"][e].get<double>()));
      worst_score = std::max(worst_score, std::fabs(mine[i]["score"].get<double>() - list[i]["score"].get<double>()));
    }
  }
  INFO(n << " detections; worst |segment diff| " << worst_seg << " s, worst |score diff| " << worst_score);
  CHECK(n > 100);
  CHECK(label_mismatch == 0);
  CHECK(worst_seg <= 1e-4);
  CHECK(worst_score <= 1e-5);
  for (size_t i = 0; i < res.report.mAP.size(); ++i) CHECK(std::fabs(res.report.mAP[i] - g["mAP"][i].get<double>()) <= 1e-4);
  std::filesystem::remove_all(dir);
}
