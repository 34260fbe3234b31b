// Several seeds of one training configuration: a run directory per seed, then mean ± std per selection rule beside
// the published number (RUN/summary.json, RUN/summary.md).
#pragma once
#include <string>
#include <vector>

#include "core/base/io.h"
#include "core/train/trainer.h"

namespace aicl {

// "1-5", "1,3,7", "1-3,9" -> the seeds in order, each once; errors name `flag`.
std::vector<int> parse_seed_list(const std::string& spec, const std::string& flag);

// The published numbers (core/train/paper_numbers.json, compiled in) for a method and dataset profile, or null.
json paper_number(const std::string& method, const std::string& profile);

// The summary of finished runs: `runs` holds, per seed, {"seed", "run_dir", "eval"} (the run's eval.json).
// Per selection rule present in the runs (by_rule of --select all, else the run's own rule): n, mean, sample std,
// min and max of the mAP at each tIoU and of the average; the paper's number and the gap in standard deviations
// (none on synthetic data).
json summarize_seed_runs(const json& runs, const std::string& method, const std::string& profile, bool synthetic);

// The summary as a Markdown table (summary.md and the printed table).
std::string seed_summary_table(const json& summary);

// Trains `base` once per seed into base.run_dir/seed-<S> (a finished run, one with eval.json, is read, not
// retrained; an unfinished one is resumed: a preempted set continues where it stopped), then writes
// base.run_dir/summary.json and summary.md atomically and returns the summary.
// jobs > 1: the seeds run concurrently as `jobs` child processes of `program` (aicl_train) at a time, each with
// threads / jobs threads (at least 1; base.threads 0 = all cores), their output in RUN/seed-<S>.log, one progress
// line for the whole set; a seed whose process fails is named after the others end, and nothing is summarized.
json train_seeds(const TrainOptions& base, const std::vector<int>& seeds, int jobs = 1, const std::string& program = "");

}  // namespace aicl
