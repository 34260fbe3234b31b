// Tests' shared ActivityNet run: a small synthetic anet13 file, 3 training steps of a method at T = 50 (best on
// test), then aicl_eval's inference job on best.h5, which must reproduce the run's own detections.
#pragma once
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "core/base/io.h"
#include "core/train/inference.h"
#include "core/train/trainer.h"
#include "data/synth.h"

namespace aicl_test {

// Trains `method` (method_config: by default embed_dim 8) on DIR/anet.h5 into DIR/run and checks the re-inferred
// detections; returns the run's options (their run_dir holds config.json, best.h5, detections.json).
inline aicl::TrainOptions train_and_reinfer_anet13(const std::filesystem::path& dir, const std::string& method,
                                                   unsigned long long data_seed,
                                                   const aicl::json& method_config = aicl::json{{"embed_dim", 8}}) {
  aicl::SynthOptions so;
  so.profile = "anet13";
  so.train_videos = 6;
  so.test_videos = 5;
  so.max_segments = 70;
  so.stream_dim = 16;
  so.num_classes = 4;
  so.seed = data_seed;
  const std::string data = (dir / "anet.h5").string();
  aicl::write_synth(so, data);
  aicl::TrainOptions o;
  o.data = data;
  o.run_dir = (dir / "run").string();
  o.method = method;
  o.method_config = method_config;
  o.steps = 3;
  o.batch = 3;
  o.segments = 50;
  o.eval_every = 3;
  o.select = "test";
  o.threads = 1;
  o.quiet = true;
  CHECK(aicl::train(o)["method"] == method);
  aicl::InferOptions io;
  io.data = data;
  io.weights = o.run_dir + "/best.h5";
  io.out = (dir / "dets.json").string();
  io.segments = 50;
  const aicl::InferOutcome out = aicl::infer_and_evaluate(io);
  CHECK(out.method == method);
  const aicl::json dets = aicl::read_json_file(io.out)["results"];
  CHECK(dets == aicl::read_json_file(o.run_dir + "/detections.json")["results"]);
  CHECK(dets.size() == 5);
  return o;
}

}  // namespace aicl_test
