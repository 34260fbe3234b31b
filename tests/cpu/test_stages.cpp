// Training in stages (core/train/stages.cpp): a method's default stages run in one call (FTCL: stage A, then stage B
// from its selected weights), each in RUN/stage-<name> with its own report; a run stopped inside a stage resumes there
// and ends as the uninterrupted one; stage lists with the run's keys, repeated names or a method "stage" are refused.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "core/base/h5.h"
#include "core/base/io.h"
#include "core/train/trainer.h"
#include "small_synth.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;

std::string small_data(const fs::path& dir) { return aicl_test::small_synth(dir); }

aicl::TrainOptions ftcl_options(const std::string& data, const fs::path& run) {
  aicl::TrainOptions o;
  o.data = data, o.run_dir = run.string(), o.method = "ftcl";
  o.method_config = aicl::json{{"fc_dim", 6}, {"lcs_len", 4}, {"fsd_len", 2}};  // no "stage": both, A then B
  o.steps = 3, o.batch = 2, o.segments = 16, o.eval_every = 0, o.checkpoint_every = 1, o.select = "last";
  o.threads = 1, o.quiet = true;
  return o;
}

}  // namespace

TEST_CASE("stages: FTCL without a stage runs A then B from A's weights, one report per stage, and resumes inside B") {
  const fs::path dir = aicl_test::temp_dir("stages");
  const std::string data = small_data(dir);
  const aicl::json rep = aicl::train(ftcl_options(data, dir / "full"));
  REQUIRE(rep.contains("stages"));
  REQUIRE(rep["stages"].size() == 2);
  CHECK(rep["stages"][0]["name"] == "a");
  CHECK(rep["stages"][1]["name"] == "b");
  CHECK(rep["stages"][0].contains("average_mAP"));
  for (const char* s : {"a", "b"}) {
    const fs::path sd = dir / "full" / (std::string("stage-") + s);
    CHECK(fs::exists(sd / "eval.json"));
    const aicl::json cfg = aicl::read_json_file((sd / "config.json").string());
    CHECK(cfg["method_config"]["stage"] == s);
    CHECK(cfg["init_weights"] == (s[0] == 'a' ? "" : (dir / "full" / "stage-a" / "best.h5").string()));
  }
  CHECK(aicl::read_json_file((dir / "full" / "config.json").string())["stages"].size() == 2);
  CHECK(aicl::read_json_file((dir / "full" / "eval.json").string()) == rep);
  // the top config resumes: stop "inside" stage B (its report and the run's removed) and continue
  fs::copy(dir / "full", dir / "part", fs::copy_options::recursive);
  fs::remove(dir / "part" / "eval.json");
  fs::remove(dir / "part" / "stage-b" / "eval.json");
  fs::remove(dir / "part" / "stage-b" / "checkpoint.h5");  // stopped before B's first checkpoint: B starts over
  fs::remove(dir / "part" / ".lock");
  aicl::TrainOptions again = aicl::load_run_options((dir / "part").string());
  again.run_dir = (dir / "part").string(), again.resume = true, again.quiet = true;
  const aicl::json rep2 = aicl::train(again);
  const aicl::H5File a = aicl::H5File::open_read((dir / "full" / "stage-b" / "best.h5").string());
  const aicl::H5File b = aicl::H5File::open_read((dir / "part" / "stage-b" / "best.h5").string());
  CHECK(a.read_floats("snippet_cls.weight") == b.read_floats("snippet_cls.weight"));
  CHECK(rep2["average_mAP"] == rep["average_mAP"]);
  // a fresh run into a used directory is refused
  CHECK_THROWS_WITH(aicl::train(ftcl_options(data, dir / "full")), Catch::Contains("already holds a run"));
  fs::remove_all(dir);
}

TEST_CASE("stages: a named stage runs alone, and bad stage lists get one clear line") {
  const fs::path dir = aicl_test::temp_dir("stages_bad");
  const std::string data = small_data(dir);
  aicl::TrainOptions one = ftcl_options(data, dir / "one");
  one.method_config["stage"] = "a";
  one.steps = 1;
  CHECK_FALSE(aicl::train(one).contains("stages"));  // --stage a: one run, no stage directories
  CHECK_FALSE(fs::exists(dir / "one" / "stage-a"));
  aicl::TrainOptions o = ftcl_options(data, dir / "bad");
  o.stages = aicl::json::array({aicl::json{{"name", "a"}, {"data", "x.h5"}}});
  CHECK_THROWS_WITH(aicl::train(o), Catch::Contains("key 'data' is the run's, not a stage's"));
  o.stages = aicl::json::array({aicl::json{{"name", "a"}}, aicl::json{{"name", "a"}}});
  CHECK_THROWS_WITH(aicl::train(o), Catch::Contains("the name 'a' is used twice"));
  o.stages = aicl::json::array({aicl::json{{"name", "A b"}}});
  CHECK_THROWS_WITH(aicl::train(o), Catch::Contains("must be lower-case letters"));
  o.stages = aicl::json::array({aicl::json{{"name", "a"}, {"steps", "many"}}});
  CHECK_THROWS_WITH(aicl::train(o), Catch::Contains("key 'steps' must be an integer"));
  o.stages = aicl::json::array({aicl::json{{"name", "a"}}});
  o.method_config["stage"] = "b";
  CHECK_THROWS_WITH(aicl::train(o), Catch::Contains("names a \"stage\""));
  CHECK_THROWS_WITH(aicl::TrainOptions::from_json(aicl::json{{"stages", aicl::json::array()}}, "cfg.json"),
                    "cfg.json: key 'stages' must be a non-empty list of stages");
  fs::remove_all(dir);
}
