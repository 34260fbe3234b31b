// Whether two evaluation reports (aicl_eval --report, a run's eval.json) measure the same thing, and by how much
// they differ: aicl_eval --compare.
#pragma once
#include <string>

#include "core/base/io.h"

namespace aicl {

// {"comparable": bool, "reasons": [why not: protocol, tIoU thresholds, evaluated video list, subset, classes or
// ground-truth size differ, or a report lacks the field], and when comparable "tiou", "a", "b", "delta" (b - a,
// per tIoU) and "average" {a, b, delta}}. `name_a`/`name_b` name the reports in the reasons.
json compare_reports(const json& a, const json& b, const std::string& name_a, const std::string& name_b);

// The comparison as printed: the reasons, or a table of the mAP (%) of each report and the difference.
std::string format_comparison(const json& cmp, const std::string& name_a, const std::string& name_b);

}  // namespace aicl
