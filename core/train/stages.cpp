// Training in stages: each stage a run of its own (RUN/stage-<name>) from the previous stage's selected weights, so
// a method trained in stages (FTCL: ACM-Net, then FTCL's pairs) runs in one command and reports every stage.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>
#include <vector>

#include "core/base/error.h"
#include "core/methods/registry.h"
#include "core/train/run_dir.h"
#include "core/train/trainer.h"

namespace aicl {

namespace fs = std::filesystem;

namespace {

// Stage i's options: the run's, the stage's keys on top (method_config merged key by key), its own directory, and
// the previous stage's selected weights as its start.
TrainOptions stage_options(const TrainOptions& o, const json& stage, size_t i, const std::string& prev_weights) {
  const std::string where = "stage " + std::to_string(i + 1) + " of 'stages'";
  if (!stage.is_object() || !stage.contains("name") || !stage["name"].is_string())
    fail(where + ": must be an object with a \"name\"");
  const std::string name = stage["name"];
  if (name.empty() || name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos)
    fail(where + ": name '" + name + "' must be lower-case letters, digits, '_' or '-'");
  json j = o.to_json();
  j.erase("stages");
  for (auto it = stage.begin(); it != stage.end(); ++it) {
    const std::string& k = it.key();
    if (k == "name") continue;
    if (k == "data" || k == "run_dir" || k == "stages" || k == "init_weights")
      fail(where + " ('" + name + "'): key '" + k + "' is the run's, not a stage's");
    if (k == "method_config") {
      if (!it.value().is_object()) fail(where + " ('" + name + "'): key 'method_config' must be a JSON object");
      if (!j["method_config"].is_object()) j["method_config"] = json::object();
      j["method_config"].update(it.value());
    } else {
      j[k] = it.value();
    }
  }
  TrainOptions s = TrainOptions::from_json(j, where + " ('" + name + "')");
  s.run_dir = o.run_dir + "/stage-" + name;
  s.init_weights = i == 0 ? o.init_weights : prev_weights;
  s.resume = false;
  s.quiet = o.quiet;
  return s;
}

}  // namespace

std::vector<TrainOptions> plan_stages(const TrainOptions& o) {
  std::vector<TrainOptions> plan;
  for (size_t i = 0; i < o.stages.size(); ++i)
    plan.push_back(stage_options(o, o.stages[i], i, i == 0 ? o.init_weights : plan.back().run_dir + "/best.h5"));
  return plan;
}

namespace {

json train_stages(const TrainOptions& o) {
  if (o.data.empty()) fail("--data: required");
  if (o.run_dir.empty()) fail("--run-dir: required");
  std::set<std::string> names;
  for (const json& st : o.stages)
    if (st.is_object() && st.contains("name") && st["name"].is_string() && !names.insert(st["name"].get<std::string>()).second)
      fail("stages: the name '" + st["name"].get<std::string>() + "' is used twice");
  plan_stages(o);  // every stage checked before anything is written
  std::error_code ec;
  fs::create_directories(o.run_dir, ec);
  if (ec) fail(o.run_dir + ": run directory cannot be created");
  json summary = json::array(), last;
  {
    RunLock lock(o.run_dir);
    if (!o.resume) {
      if (fs::exists(o.run_dir + "/eval.json") || fs::exists(o.run_dir + "/config.json"))
        fail(o.run_dir + ": already holds a run (use --resume to continue it, or another --run-dir)");
      TrainOptions top = o;
      top.resume = false;
      write_json_file(o.run_dir + "/config.json", top.to_json());
    }
    std::string prev;
    for (size_t i = 0; i < o.stages.size(); ++i) {
      TrainOptions s = stage_options(o, o.stages[i], i, prev);
      const std::string name = o.stages[i]["name"];
      if (i > 0 && !fs::exists(prev)) fail(s.run_dir + ": the previous stage left no selected weights (" + prev + ")");
      const std::string eval_path = s.run_dir + "/eval.json";
      if (o.resume && fs::exists(eval_path)) {
        last = read_json_file(eval_path);  // finished before the interruption
      } else {
        if (o.resume && fs::exists(s.run_dir + "/config.json")) {
          const std::string dir = s.run_dir;
          s = load_run_options(dir);
          s.run_dir = dir, s.resume = true, s.quiet = o.quiet;
        }
        if (!o.quiet) std::printf("aicl_train: stage %s (%zu/%zu) in %s\n", name.c_str(), i + 1, o.stages.size(),
                                  s.run_dir.c_str());
        std::fflush(stdout);
        last = train_one(s);
      }
      prev = s.run_dir + "/best.h5";
      const json& sel = last.value("selection", json::object());
      summary.push_back(json{{"name", name},
                             {"run_dir", s.run_dir},
                             {"average_mAP", last.value("average_mAP", json(nullptr))},
                             {"selection", sel}});
      if (!o.quiet && last.contains("average_mAP"))
        std::printf("aicl_train: stage %s finished: test average mAP %.2f (%s, step %ld)\n", name.c_str(),
                    100 * last["average_mAP"].get<double>(), sel.value("rule", std::string("?")).c_str(),
                    sel.value("step", 0L));
      std::fflush(stdout);
    }
  }
  json rep = last;
  rep["stages"] = summary;
  write_json_file(o.run_dir + "/eval.json", rep);
  return rep;
}

}  // namespace

json train(const TrainOptions& options) {
  TrainOptions o = options;
  const bool names_stage = o.method_config.is_object() && o.method_config.contains("stage");
  if (o.stages.is_null() && !names_stage && !o.resume)
    o.stages = make_method(o.method, MethodContext{}, json::object(), "--method")->default_stages();
  if (o.stages.is_null()) return train_one(o);
  if (names_stage) fail("stages: the method config names a \"stage\"; give it per stage instead");
  return train_stages(o);
}

}  // namespace aicl
