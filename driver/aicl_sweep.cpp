// aicl_sweep: a grid of training configurations run here or as a Slurm job array, and their summary; parses flags
// and calls core/train/sweep.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/base/cli.h"
#include "core/base/error.h"
#include "core/base/io.h"
#include "core/train/sweep.h"

namespace fs = std::filesystem;

static const char* kHelp = R"(aicl_sweep: train a grid of configurations (seeds x settings) here or on a Slurm cluster.

usage:
  aicl_sweep --grid G.json --out DIR [--jobs N] [--threads N]  run every configuration here
  aicl_sweep --grid G.json --out DIR --slurm [--dry-run]       one job array for the unfinished configurations
  aicl_sweep --task I [--threads N] DIR                        run or resume configuration I (what a task runs)
  aicl_sweep --collect DIR                                     the summary of whatever finished

G.json:
  {"train": {aicl_train config keys, e.g. "data": "thumos14.h5", "method": "sal", "steps": 4000, ...},
   "grid":  {key: [values, ...], e.g. "seed": [1, 2, 3], "lr": [1e-4, 5e-5]},
   "slurm": {sbatch options, e.g. "partition": "gpu", "time": "04:00:00", "cpus_per_task": 8, "gres": "gpu:1",
             "max_parallel": 4 (tasks at once)}}
  The configurations are the grid's cartesian product (keys in alphabetical order, the last varying fastest);
  each runs in DIR/runs/<index>-<key=value,...> with its own run directory (config.json, checkpoints, eval.json).
  DIR/sweep.json records the plan; rerunning the same command continues a sweep (finished configurations are
  kept, started ones resume from their checkpoint), and a DIR holding another sweep is refused.

options:
  --slurm        write DIR/sweep.sbatch (one array task per unfinished configuration, --requeue: a preempted task
                 resumes its run) and submit it with sbatch; the job id goes to DIR/slurm_jobs.txt. Rerun it
                 after a cancellation or a failure: configurations still in Slurm's queue (squeue) are skipped
  --dry-run      with --slurm: write the script, do not submit it
  --jobs N       here: N configurations at once, each a child process (aicl_sweep --task) with threads / N threads,
                 its output in DIR/logs/task-<i>.log, one progress line for the set (1: one after the other)
  --threads N    CPU threads per run (the configuration's, else all cores; a Slurm task uses its cpus-per-task)
  --collect DIR  DIR/summary.json and summary.md: configurations that differ only in their seed form a group,
                 summarized as aicl_train --seeds does (mean ± std per selection rule); unfinished ones listed
  --quiet        no progress lines

examples:
  aicl_sweep --grid sweep.json --out sweeps/lr
  aicl_sweep --grid sweep.json --out /shared/sweeps/lr --slurm && squeue --me
  aicl_sweep --collect /shared/sweeps/lr
)";

namespace {

std::string self_path() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) aicl::fail("cannot find this program's path (/proc/self/exe)");
  return p.string();
}

void print_summary(const std::string& out) {
  const aicl::json s = aicl::collect_sweep(out);
  std::printf("%s\nwrote %s/summary.json and summary.md\n", aicl::sweep_summary_table(s).c_str(), out.c_str());
}

// Runs a shell command; returns its exit status (as pclose gives it) and its output (stdout and stderr).
int shell(const std::string& cmd, std::string& text) {
  std::unique_ptr<FILE, int (*)(FILE*)> p(::popen((cmd + " 2>&1").c_str(), "r"), ::pclose);
  if (!p) aicl::fail("--slurm: cannot run " + cmd);
  char buf[512];
  while (std::fgets(buf, sizeof buf, p.get())) text += buf;
  const int rc = ::pclose(p.release());
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return rc;
}

// Configuration indices still in Slurm's queue (pending, running, requeued) from this sweep's earlier
// submissions (DIR/slurm_jobs.txt): submitting them again would run a configuration twice at once.
std::set<int> still_queued(const std::string& out) {
  std::ifstream in(out + "/slurm_jobs.txt");
  std::string jobs;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) jobs += (jobs.empty() ? "" : ",") + line;
  std::set<int> queued;
  std::string text;
  if (jobs.empty() || shell("squeue -h -r -o %K -j " + jobs, text) != 0) return queued;  // none known any more
  std::istringstream lines(text);
  for (std::string id; std::getline(lines, id);)
    if (!id.empty() && id.find_first_not_of("0123456789") == std::string::npos) queued.insert(std::stoi(id));
  return queued;
}

// Submits the script with sbatch --parsable and returns the job id it prints.
std::string submit(const std::string& script) {
  std::string text;
  const int rc = shell("sbatch --parsable " + script, text);
  if (rc != 0) {
    if (WIFEXITED(rc) && WEXITSTATUS(rc) == 127)
      aicl::fail("--slurm: sbatch is not on PATH (install Slurm's client, or use --dry-run and submit " + script +
                 " where Slurm is)");
    aicl::fail("--slurm: sbatch refused " + script + ": " + text);
  }
  return text.substr(0, text.find(';'));  // "jobid[;cluster]"
}

int slurm(const aicl::json& plan, const std::string& out, bool dry_run) {
  const std::set<int> queued = still_queued(out);
  std::vector<int> todo;
  for (int i : aicl::unfinished_configurations(plan, out))
    if (!queued.count(i)) todo.push_back(i);
  if (todo.empty()) {
    if (!queued.empty()) {
      std::printf("aicl_sweep: the %zu unfinished configurations are all in Slurm's queue already\n", queued.size());
      return 0;
    }
    std::printf("aicl_sweep: all %zu configurations finished\n", plan["configurations"].size());
    print_summary(out);
    return 0;
  }
  const std::string script = fs::absolute(out + "/sweep.sbatch").lexically_normal().string();
  aicl::write_file_atomic(script, aicl::slurm_array_script(plan, out, self_path(), todo));
  if (dry_run) {
    std::printf("wrote %s (%zu tasks); submit it with: sbatch %s\n", script.c_str(), todo.size(), script.c_str());
    return 0;
  }
  const std::string job = submit(script);
  std::ofstream(out + "/slurm_jobs.txt", std::ios::app) << job << "\n";  // a log: one submitted job per line
  if (!queued.empty()) std::printf("aicl_sweep: %zu configurations still in Slurm's queue, not submitted again\n", queued.size());
  std::printf("submitted array job %s: %zu of %zu configurations (%s); logs in %s/logs\n"
              "watch: squeue -j %s    summary of what finished: aicl_sweep --collect %s\n",
              job.c_str(), todo.size(), plan["configurations"].size(), script.c_str(), out.c_str(), job.c_str(),
              out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return aicl::run_cli("aicl_sweep", [&]() -> int {
    aicl::Flags f(argc, argv, 1, {"grid", "out", "task", "threads", "collect", "jobs"},
                  {"help", "slurm", "dry-run", "quiet"});
    if (f.has("jobs") && (f.has("slurm") || f.has("task") || f.has("collect")))
      aicl::fail("--jobs: only for a sweep run here (Slurm runs the tasks of --slurm)");
    if (f.has("help")) {
      std::fputs(kHelp, stdout);
      return 0;
    }
    const int threads = f.integer("threads", 0, 0, 1024);  // 0: the configuration's (a task outside Slurm)
    if (f.has("collect")) {
      for (const char* bad : {"grid", "out", "task", "slurm"})
        if (f.has(bad)) aicl::fail(std::string("--collect: cannot be combined with --") + bad);
      print_summary(f.str("collect", ""));
      return 0;
    }
    if (f.has("task")) {
      if (f.positional().size() != 1) aicl::fail("--task: give the sweep directory (aicl_sweep --task I DIR)");
      for (const char* bad : {"grid", "out", "slurm"})
        if (f.has(bad)) aicl::fail(std::string("--task: cannot be combined with --") + bad);
      const aicl::json e = aicl::run_sweep_task(f.positional()[0], f.integer("task", 0, 0, 100000000), threads,
                                                f.has("quiet"));
      std::printf("aicl_sweep: configuration %s finished: average mAP %.2f\n", f.str("task", "").c_str(),
                  100 * e.value("average_mAP", 0.0));
      return 0;
    }
    if (!f.positional().empty()) aicl::fail("unexpected argument '" + f.positional()[0] + "' (see --help)");
    if (f.has("dry-run") && !f.has("slurm")) aicl::fail("--dry-run: only with --slurm");
    const std::string out = f.required("out");
    const aicl::json plan = aicl::prepare_sweep(f.required("grid"), out);
    if (f.has("slurm")) return slurm(plan, out, f.has("dry-run"));
    aicl::run_sweep_here(out, f.integer("jobs", 1, 1, 64), threads, f.has("quiet"), self_path());
    print_summary(out);
    return 0;
  });
}
