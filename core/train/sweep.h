// Sweeps (aicl_sweep): a grid of training configurations (seeds x settings) as run directories under one folder,
// run here or as one Slurm job array, and the summary of whatever finished.
#pragma once
#include <string>
#include <vector>

#include "core/base/io.h"
#include "core/train/trainer.h"

namespace aicl {

// The plan of a sweep, OUT/sweep.json: {"grid_file", "train": {...}, "grid": {key: [values]}, "slurm": {...},
// "configurations": [{"index", "name", "overrides": {key: value}}]}. A configuration's run directory is
// OUT/runs/<name>. The grid file holds {"train": {aicl_train config keys}, "grid": {key: [values, ...]},
// optionally "slurm": {sbatch option: value}}; the configurations are the cartesian product of the grid (keys in
// alphabetical order, the last one varying fastest). Relative data/init_weights paths are made absolute (from the
// current directory, as aicl_train --config reads them), so array tasks can run anywhere. Every configuration is
// checked as aicl_train options before anything is written; errors name the grid file and the key.
json expand_sweep(const json& grid_file, const std::string& source);

// Expands GRID and writes OUT/sweep.json; an OUT that holds another sweep (other train options or configurations)
// is refused, while rerunning the same one is how a sweep continues (its "slurm" options may change). Returns the
// plan.
json prepare_sweep(const std::string& grid_path, const std::string& out_dir);
// OUT/sweep.json (errors name it).
json load_sweep(const std::string& out_dir);

std::string sweep_run_dir(const std::string& out_dir, const json& configuration);

// "finished" (eval.json), "started" (config.json, not finished: running, or preempted and resumable) or "pending".
std::string sweep_task_state(const std::string& run_dir);

// Runs configuration `index` of the sweep in OUT: a finished one is left as it is, a started one resumes from its
// checkpoint (or starts over from its config when killed before the first), a pending one starts. threads > 0
// overrides the configuration's thread count (a Slurm task passes its allocation). Returns the run's eval.json.
json run_sweep_task(const std::string& out_dir, int index, int threads, bool quiet);

// Runs the unfinished configurations here: one after the other in this process (jobs 1), or `jobs` at a time as
// child processes of `program` (aicl_sweep --task i), each with threads / jobs threads (threads 0: all cores), its
// output in OUT/logs/task-<i>.log, one progress line for the set.
void run_sweep_here(const std::string& out_dir, int jobs, int threads, bool quiet, const std::string& program);

// The indices of the configurations whose run has no eval.json yet, in order.
std::vector<int> unfinished_configurations(const json& plan, const std::string& out_dir);

// The sbatch array script for these configuration indices (program: aicl_sweep's absolute path). Each task runs
// `aicl_sweep --task $SLURM_ARRAY_TASK_ID OUT`; --requeue lets Slurm rerun a preempted task, which then resumes.
std::string slurm_array_script(const json& plan, const std::string& out_dir, const std::string& program,
                               const std::vector<int>& indices);

// The summary of whatever finished: configurations that differ only in their seed form one group, summarized as
// aicl_train --seeds does (mean ± std per selection rule); unfinished ones are listed with their state. Writes
// OUT/summary.json and OUT/summary.md atomically and returns the summary.
json collect_sweep(const std::string& out_dir);
std::string sweep_summary_table(const json& summary);

}  // namespace aicl
