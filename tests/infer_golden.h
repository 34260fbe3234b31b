// The inference golden case (official inference() detections on a synthetic split), shared by the CPU and GPU
// inference parity tests: the dataset and weights it was made from, and the detection comparison.
#pragma once
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>

#include "core/methods/aicl/aicl.h"
#include "core/base/io.h"
#include "core/runtime/weights.h"
#include "data/synth.h"
#include "parity_formula.h"
#include "test_util.h"

namespace aicl_test {

// The golden inference case (tools/make_infer_golden.py): its dataset, weights and T.
struct InferCase {
  aicl::json golden;
  std::filesystem::path dir;
  std::string data, weights;
};

// The synthetic split every inference golden file was made on (its synth_args are checked): written to DIR/s.h5.
inline std::string write_golden_synth(const aicl::json& golden, const std::filesystem::path& dir) {
  REQUIRE(golden["synth_args"].dump() ==
          R"(["--train","2","--test","60","--max-segments","200","--seed","5","--difficulty","1"])");
  aicl::SynthOptions so;
  so.train_videos = 2;
  so.test_videos = 60;
  so.max_segments = 200;
  so.seed = 5;
  so.difficulty = 1;
  const std::string path = (dir / "s.h5").string();
  aicl::write_synth(so, path);
  return path;
}

inline InferCase make_infer_case(const std::string& tag) {
  InferCase c;
  c.golden = aicl::read_json_file(aicl_test::source_dir() + "/tests/golden/infer/official_infer.json");
  c.dir = aicl_test::temp_dir(tag);
  c.data = write_golden_synth(c.golden, c.dir);
  c.weights = (c.dir / "w.h5").string();
  aicl::AiclModel model;
  aicl_test::formula_weights(model.params(), c.golden["weight_seed"].get<int>());
  aicl::save_weights(c.weights, model.params());
  return c;
}

// Same videos, labels and order; segments within seg_tol seconds, scores within score_tol.
inline void compare_detections(const aicl::json& ours, const aicl::json& want, double seg_tol, double score_tol, const std::string& what) {
  REQUIRE(ours.size() == want.size());
  size_t n = 0, label_mismatch = 0;
  double worst_seg = 0, worst_score = 0;
  for (const auto& [video, list] : want.items()) {
    REQUIRE(ours.contains(video));
    const aicl::json& mine = ours[video];
    INFO(what << ": video " << video);
    REQUIRE(mine.size() == list.size());
    for (size_t i = 0; i < list.size(); ++i, ++n) {
      label_mismatch += mine[i]["label"] != list[i]["label"];
      for (int e = 0; e < 2; ++e)
        worst_seg = std::max(worst_seg, std::fabs(mine[i]["segment"][e].get<double>() -
                                                  list[i]["segment"][e].get<double>()));
      worst_score = std::max(worst_score, std::fabs(mine[i]["score"].get<double>() - list[i]["score"].get<double>()));
    }
  }
  INFO(what << ": " << n << " detections; worst |segment diff| " << worst_seg << " s, worst |score diff| "
            << worst_score);
  CHECK(n > 100);
  CHECK(label_mismatch == 0);
  CHECK(worst_seg <= seg_tol);
  CHECK(worst_score <= score_tol);
}

}  // namespace aicl_test
