// Inference parity with the official inference(): same detections (labels, segments, scores) and mAP on the same
// weights and dataset (golden file from tools/make_infer_golden.py).
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "core/train/inference.h"
#include "infer_golden.h"

TEST_CASE("inference: detections and mAP equal the official inference on a synthetic test split") {
  aicl_test::InferCase c = aicl_test::make_infer_case("infer_parity");
  aicl::InferOptions o;
  o.data = c.data;
  o.weights = c.weights;
  o.out = (c.dir / "d.json").string();
  o.segments = c.golden["segments"];
  const aicl::InferOutcome res = aicl::infer_and_evaluate(o);
  aicl_test::compare_detections(aicl::read_json_file(o.out)["results"], c.golden["results"], 1e-4, 1e-5,
                                "cpu vs official");
  for (size_t i = 0; i < res.report.mAP.size(); ++i)
    CHECK(std::fabs(res.report.mAP[i] - c.golden["mAP"][i].get<double>()) <= 1e-4);
  std::filesystem::remove_all(c.dir);
}
