// Sweeps: the grid's expansion into configurations, one configuration's run (start or resume), the Slurm array
// script and the summary of what finished.
#include "core/train/sweep.h"

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <map>

#include "core/base/error.h"
#include "core/train/child_jobs.h"
#include "core/train/run_dir.h"
#include "core/train/seeds.h"

namespace aicl {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxConfigurations = 100000;

// A grid value as it appears in a run's name: strings bare, numbers and the rest as compact JSON.
std::string value_text(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// "0003-lr=5e-05,seed=2": the index keeps names unique and ordered; characters a shell or Slurm would trip on
// become '_'; a name too long for a directory is just the index.
std::string configuration_name(size_t index, const json& overrides) {
  char prefix[16];
  std::snprintf(prefix, sizeof prefix, "%04zu", index);
  std::string name = prefix, body;
  for (auto it = overrides.begin(); it != overrides.end(); ++it)
    body += (body.empty() ? "" : ",") + it.key() + "=" + value_text(it.value());
  for (char& c : body)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '=' || c == ',' || c == '-' || c == '+'))
      c = '_';
  return body.size() <= 120 ? name + "-" + body : name;
}

// data, init_weights and replay_batches from the current directory, as aicl_train --config reads them, so tasks may
// run elsewhere.
void absolutize_paths(json& options) {
  for (const char* key : {"data", "init_weights", "replay_batches"})
    if (options.contains(key) && options[key].is_string() && !options[key].get<std::string>().empty())
      options[key] = fs::absolute(options[key].get<std::string>()).lexically_normal().string();
}

// A configuration's aicl_train options: the plan's train options, its overrides, its run directory. Unknown keys
// and wrong types fail naming `source`.
TrainOptions configuration_options(const json& plan, const json& configuration, const std::string& run_dir,
                                   const std::string& source) {
  json o = plan["train"];
  for (auto it = configuration["overrides"].begin(); it != configuration["overrides"].end(); ++it)
    o[it.key()] = it.value();
  if (!o.contains("data")) fail(source + ": no \"data\" (in train or grid)");
  o["run_dir"] = run_dir;
  return TrainOptions::from_json(o, source);
}

void check_slurm_options(const json& slurm, const std::string& source) {
  if (!slurm.is_object()) fail(source + ": \"slurm\" must be an object of sbatch options");
  for (auto it = slurm.begin(); it != slurm.end(); ++it) {
    for (char c : it.key())
      if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-' ||
            c == '_'))
        fail(source + ": slurm." + it.key() + ": not an sbatch option name");
    for (const char* own : {"array", "output", "error", "open-mode", "open_mode", "requeue"})
      if (it.key() == own) fail(source + ": slurm." + it.key() + ": set by aicl_sweep itself");
    const json& v = it.value();
    if (it.key() == "max_parallel") {
      if (!v.is_number_integer() || v.get<long>() < 1) fail(source + ": slurm.max_parallel: a positive integer");
      continue;
    }
    if (!(v.is_string() || v.is_number() || v.is_boolean()) || value_text(v).find('\n') != std::string::npos)
      fail(source + ": slurm." + it.key() + ": a string or number on one line");
  }
}

// "0-3,5,7-9": Slurm's --array syntax for these indices (sorted, each once).
std::string index_ranges(const std::vector<int>& indices) {
  std::string out;
  for (size_t i = 0; i < indices.size();) {
    size_t j = i;
    while (j + 1 < indices.size() && indices[j + 1] == indices[j] + 1) ++j;
    out += (out.empty() ? "" : ",") + std::to_string(indices[i]) + (j > i ? "-" + std::to_string(indices[j]) : "");
    i = j + 1;
  }
  return out;
}

}  // namespace

json expand_sweep(const json& g, const std::string& source) {
  if (!g.is_object()) fail(source + ": must hold a JSON object {\"train\": {...}, \"grid\": {...}}");
  for (auto it = g.begin(); it != g.end(); ++it)
    if (it.key() != "train" && it.key() != "grid" && it.key() != "slurm")
      fail(source + ": unknown key '" + it.key() + "' (train, grid, slurm)");
  if (!g.contains("train") || !g["train"].is_object()) fail(source + ": \"train\" must be an object of aicl_train options");
  if (!g.contains("grid") || !g["grid"].is_object() || g["grid"].empty())
    fail(source + ": \"grid\" must be a non-empty object {option: [values, ...]}");
  json plan{{"train", g["train"]}, {"grid", g["grid"]}, {"slurm", g.value("slurm", json::object())}};
  check_slurm_options(plan["slurm"], source);
  size_t total = 1;
  for (auto it = plan["grid"].begin(); it != plan["grid"].end(); ++it) {
    if (!it.value().is_array() || it.value().empty()) fail(source + ": grid." + it.key() + ": a non-empty list of values");
    total *= it.value().size();
    if (total > kMaxConfigurations) fail(source + ": the grid has more than 100000 configurations");
  }
  for (const char* own : {"run_dir", "resume"})
    if (plan["train"].contains(own) || plan["grid"].contains(own))
      fail(source + ": '" + std::string(own) + "' is aicl_sweep's (each configuration runs in OUT/runs/<name>)");
  absolutize_paths(plan["train"]);
  plan["configurations"] = json::array();
  std::vector<std::string> keys;
  for (auto it = plan["grid"].begin(); it != plan["grid"].end(); ++it) keys.push_back(it.key());
  for (size_t index = 0; index < total; ++index) {
    json overrides = json::object();
    size_t rest = index;  // mixed radix over the keys in order, the last key fastest
    for (size_t k = keys.size(); k-- > 0;) {
      const json& values = plan["grid"][keys[k]];
      overrides[keys[k]] = values[rest % values.size()];
      rest /= values.size();
    }
    absolutize_paths(overrides);
    json c{{"index", index}, {"name", configuration_name(index, overrides)}, {"overrides", overrides}};
    // Checked here, before anything is written.
    configuration_options(plan, c, "check", source + ": configuration " + c["name"].get<std::string>());
    plan["configurations"].push_back(c);
  }
  return plan;
}

json prepare_sweep(const std::string& grid_path, const std::string& out_dir) {
  json plan = expand_sweep(read_json_file(grid_path), grid_path);
  const std::string path = out_dir + "/sweep.json";
  if (fs::exists(path)) {
    const json old = load_sweep(out_dir);
    if (old["train"] != plan["train"] || old["configurations"] != plan["configurations"])
      fail("--out: " + out_dir + " holds another sweep (its sweep.json has other configurations than " + grid_path +
           "); choose another directory");
    if (old["slurm"] == plan["slurm"]) return old;  // the same sweep again: it continues
    json updated = old;  // the same runs with other sbatch options (a longer --time, another partition): kept
    updated["slurm"] = plan["slurm"];
    write_json_file(path, updated);
    return updated;
  }
  plan["grid_file"] = fs::absolute(grid_path).lexically_normal().string();
  std::error_code ec;
  fs::create_directories(out_dir + "/runs", ec);
  fs::create_directories(out_dir + "/logs", ec);
  if (!fs::is_directory(out_dir + "/runs")) fail("--out: cannot create " + out_dir + "/runs");
  write_json_file(path, plan);
  return plan;
}

json load_sweep(const std::string& out_dir) {
  const std::string path = out_dir + "/sweep.json";
  if (!fs::exists(path)) fail(out_dir + ": not a sweep (no sweep.json; aicl_sweep --grid G --out DIR makes one)");
  const json plan = read_json_file(path);
  if (!plan.is_object() || !plan.contains("configurations") || !plan["configurations"].is_array() ||
      !plan.contains("train"))
    fail(path + ": not a sweep plan (no configurations)");
  return plan;
}

std::string sweep_run_dir(const std::string& out_dir, const json& configuration) {
  return out_dir + "/runs/" + configuration["name"].get<std::string>();
}

std::string sweep_task_state(const std::string& run_dir) {
  if (fs::exists(run_dir + "/eval.json")) return "finished";
  if (fs::exists(run_dir + "/config.json")) return "started";
  return "pending";
}

json run_sweep_task(const std::string& out_dir, int index, int threads, bool quiet) {
  const json plan = load_sweep(out_dir);
  const int n = static_cast<int>(plan["configurations"].size());
  if (index < 0 || index >= n)
    fail("--task: " + std::to_string(index) + " is not a configuration of " + out_dir + "/sweep.json (0.." +
         std::to_string(n - 1) + ")");
  const json& c = plan["configurations"][index];
  const std::string run_dir = sweep_run_dir(out_dir, c);
  const std::string state = sweep_task_state(run_dir);
  if (state != "finished") {
    TrainOptions o;
    if (state == "started") {  // preempted or requeued: continue with the run's own recorded options
      o = load_run_options(run_dir);
      o.resume = true;
    } else {
      o = configuration_options(plan, c, run_dir, out_dir + "/sweep.json: configuration " + c["name"].get<std::string>());
    }
    o.run_dir = run_dir;
    if (threads > 0) o.threads = threads;
    o.quiet = quiet;
    if (!quiet)
      std::printf("aicl_sweep: configuration %d/%d %s: %s\n", index + 1, n, c["name"].get<std::string>().c_str(),
                  state == "started" ? "resuming" : "starting");
    std::fflush(stdout);
    train(o);
  }
  return read_json_file(run_dir + "/eval.json");
}

std::vector<int> unfinished_configurations(const json& plan, const std::string& out_dir) {
  std::vector<int> todo;
  for (const json& c : plan["configurations"])
    if (sweep_task_state(sweep_run_dir(out_dir, c)) != "finished") todo.push_back(c["index"].get<int>());
  return todo;
}

void run_sweep_here(const std::string& out_dir, int jobs, int threads, bool quiet, const std::string& program) {
  const json plan = load_sweep(out_dir);
  const std::vector<int> todo = unfinished_configurations(plan, out_dir);
  if (jobs <= 1) {
    for (int i : todo) run_sweep_task(out_dir, i, threads, quiet);
    return;
  }
  const std::string per_job = std::to_string(threads_per_child(threads, jobs));
  std::vector<ChildJob> children;
  for (int i : todo) {
    const json& c = plan["configurations"][i];
    ChildJob j;
    j.label = c["name"].get<std::string>();
    j.run_dir = sweep_run_dir(out_dir, c);
    j.log = out_dir + "/logs/task-" + std::to_string(i) + ".log";
    j.steps = configuration_options(plan, c, j.run_dir, out_dir + "/sweep.json").steps;
    j.args = {program, "--task", std::to_string(i), "--threads", per_job, out_dir};
    children.push_back(j);
  }
  if (!quiet)
    std::printf("aicl_sweep: %zu of %zu configurations to run, %d at a time with %s threads each\n", todo.size(),
                plan["configurations"].size(), jobs, per_job.c_str());
  run_child_jobs(children, jobs, quiet, "aicl_sweep", "rerun the same command to continue");
}

std::string slurm_array_script(const json& plan, const std::string& out_dir, const std::string& program,
                               const std::vector<int>& indices) {
  const std::string out = fs::absolute(out_dir).lexically_normal().string();
  for (const std::string& p : {out, program})
    for (char c : p)
      if (std::isspace(static_cast<unsigned char>(c)) || c == '%' || c == '"' || c == '\\' || c == '$' || c == '`')
        fail("--slurm: " + p + ": a path with blanks, %, quotes, $ or backslashes cannot go into an sbatch script");
  std::string array = index_ranges(indices);
  const json& slurm = plan["slurm"];
  if (slurm.contains("max_parallel")) array += "%" + std::to_string(slurm["max_parallel"].get<long>());
  std::string s = "#!/bin/bash\n"
                  "# aicl_sweep job array (written by aicl_sweep --slurm): task i runs configuration i of\n# " +
                  out + "/sweep.json in " + out + "/runs/<name>.\n"
                  "# A preempted or requeued task resumes its run from the last checkpoint.\n"
                  "#SBATCH --job-name=aicl-sweep\n"
                  "#SBATCH --array=" + array + "\n"
                  "#SBATCH --output=" + out + "/logs/task-%a.log\n"
                  "#SBATCH --open-mode=append\n"
                  "#SBATCH --requeue\n";
  for (auto it = slurm.begin(); it != slurm.end(); ++it) {
    if (it.key() == "max_parallel" || (it.value().is_boolean() && !it.value().get<bool>())) continue;  // false: off
    std::string key = it.key();
    for (char& c : key)
      if (c == '_') c = '-';
    s += "#SBATCH --" + key + (it.value().is_boolean() ? "" : "=" + value_text(it.value())) + "\n";
  }
  s += "exec " + program + " --task \"$SLURM_ARRAY_TASK_ID\" --threads \"${SLURM_CPUS_PER_TASK:-0}\" " + out + "\n";
  return s;
}

json collect_sweep(const std::string& out_dir) {
  const json plan = load_sweep(out_dir);
  std::map<std::string, json> groups;  // settings other than the seed -> their configurations
  std::vector<std::string> order;
  for (const json& c : plan["configurations"]) {
    json settings = c["overrides"];
    settings.erase("seed");
    const std::string key = settings.dump();
    if (!groups.count(key)) {
      order.push_back(key);
      groups[key] = json{{"settings", settings}, {"configurations", json::array()}, {"runs", json::array()},
                         {"unfinished", json::array()}};
    }
    json& g = groups[key];
    g["configurations"].push_back(c["name"]);
    const std::string run_dir = sweep_run_dir(out_dir, c);
    const std::string state = sweep_task_state(run_dir);
    if (state != "finished") {
      g["unfinished"].push_back(json{{"name", c["name"]}, {"state", state}, {"steps_logged", steps_logged(run_dir)}});
      continue;
    }
    const int seed = configuration_options(plan, c, run_dir, out_dir + "/sweep.json").seed;
    g["runs"].push_back(json{{"seed", seed}, {"run_dir", run_dir}, {"eval", read_json_file(run_dir + "/eval.json")}});
  }
  json summary{{"sweep", fs::absolute(out_dir).lexically_normal().string()},
               {"configurations", plan["configurations"].size()}, {"finished", 0}, {"groups", json::array()}};
  for (const std::string& key : order) {
    json g = groups[key];
    summary["finished"] = summary["finished"].get<int>() + static_cast<int>(g["runs"].size());
    if (!g["runs"].empty()) {
      const json& e = g["runs"][0]["eval"];
      const json ds = e.value("provenance", json::object()).value("dataset", json::object());
      g["summary"] = summarize_seed_runs(g["runs"], e.value("method", plan["train"].value("method", "aicl")),
                                         ds.value("profile", "unknown"),
                                         ds.value("source", "").rfind("aicl_data synth", 0) == 0);
    }
    g.erase("runs");  // each summary holds its runs
    summary["groups"].push_back(g);
  }
  write_json_file(out_dir + "/summary.json", summary);
  write_file_atomic(out_dir + "/summary.md", sweep_summary_table(summary));
  return summary;
}

std::string sweep_summary_table(const json& s) {
  std::string out = "# Sweep " + s["sweep"].get<std::string>() + ": " + std::to_string(s["finished"].get<int>()) +
                    " of " + std::to_string(s["configurations"].get<size_t>()) + " configurations finished\n";
  for (const json& g : s["groups"]) {
    std::string settings;
    for (auto it = g["settings"].begin(); it != g["settings"].end(); ++it)
      settings += (settings.empty() ? "" : ", ") + it.key() + " = " + value_text(it.value());
    out += "\n## " + (settings.empty() ? std::string("(seeds only)") : settings) + "\n\n";
    if (g.contains("summary")) out += seed_summary_table(g["summary"]);
    for (const json& u : g["unfinished"])
      out += "\nunfinished: " + u["name"].get<std::string>() + " (" + u["state"].get<std::string>() +
             (u["state"] == "started" ? ", " + std::to_string(u["steps_logged"].get<long>()) + " steps logged" : "") +
             ")";
    if (!g["unfinished"].empty()) out += "\n";
  }
  return out;
}

}  // namespace aicl
