// aicl_eval --compare: two reports are comparable only under the same protocol, thresholds, videos and classes.
#include "core/eval/compare.h"

#include <cstdio>

#include "core/base/error.h"

namespace aicl {

namespace {

// The fields that decide what a number means; the first four are required in both reports.
struct Field {
  const char* key;
  const char* what;
  bool required;
};
const Field kFields[] = {
    {"protocol", "evaluation protocol", true},
    {"tiou", "tIoU thresholds", true},
    {"video_list_sha256", "evaluated video list", true},
    {"mAP", "mAP per tIoU", true},
    {"subset", "subset", false},
    {"class_order", "classes", false},
    {"num_gt_instances", "number of ground-truth instances", false},
};

std::string shown(const json& v) {
  const std::string s = v.dump();
  return s.size() > 40 ? s.substr(0, 20) + "..." + s.substr(s.size() - 12) : s;
}

}  // namespace

json compare_reports(const json& a, const json& b, const std::string& name_a, const std::string& name_b) {
  if (!a.is_object()) fail(name_a + ": not an evaluation report (a JSON object)");
  if (!b.is_object()) fail(name_b + ": not an evaluation report (a JSON object)");
  json reasons = json::array();
  for (const Field& f : kFields) {
    const bool in_a = a.contains(f.key), in_b = b.contains(f.key);
    if (!in_a || !in_b) {
      if (f.required)
        reasons.push_back((in_a ? name_b : name_a) + " has no " + f.key + " (" + f.what + "): made by an older aicl "
                          "or not an aicl_eval report");
      continue;
    }
    if (a[f.key] != b[f.key] && std::string(f.key) != "mAP")
      reasons.push_back(std::string(f.what) + " differ: " + shown(a[f.key]) + " vs " + shown(b[f.key]));
  }
  json out{{"comparable", reasons.empty()}, {"reasons", reasons}};
  if (!reasons.empty()) return out;
  if (a["mAP"].size() != a["tiou"].size() || b["mAP"].size() != b["tiou"].size())
    fail(name_a + ", " + name_b + ": mAP and tiou have different lengths");
  json delta = json::array();
  for (size_t i = 0; i < a["mAP"].size(); ++i) delta.push_back(b["mAP"][i].get<double>() - a["mAP"][i].get<double>());
  const double aa = a.value("average_mAP", 0.0), ba = b.value("average_mAP", 0.0);
  out["tiou"] = a["tiou"];
  out["a"] = a["mAP"];
  out["b"] = b["mAP"];
  out["delta"] = delta;
  out["average"] = {{"a", aa}, {"b", ba}, {"delta", ba - aa}};
  return out;
}

std::string format_comparison(const json& cmp, const std::string& name_a, const std::string& name_b) {
  std::string s;
  if (!cmp["comparable"].get<bool>()) {
    s = "not comparable: " + name_a + " and " + name_b + " measure different things:\n";
    for (const json& r : cmp["reasons"]) s += "  - " + r.get<std::string>() + "\n";
    return s;
  }
  char b[96];
  s = "comparable (same protocol, tIoU thresholds, video list and classes); mAP (%)\n  tIoU  ";
  for (const json& t : cmp["tiou"]) std::snprintf(b, sizeof b, " %6.2f", t.get<double>()), s += b;
  s += "     avg\n";
  auto row = [&](const char* label, const json& v, double avg, const char* fmt) {
    s += label;
    for (const json& x : v) std::snprintf(b, sizeof b, fmt, 100 * x.get<double>()), s += b;
    std::snprintf(b, sizeof b, fmt, 100 * avg);
    s += std::string("  ") + b + "\n";
  };
  row("  A     ", cmp["a"], cmp["average"]["a"], " %6.2f");
  row("  B     ", cmp["b"], cmp["average"]["b"], " %6.2f");
  row("  B - A ", cmp["delta"], cmp["average"]["delta"], " %+6.2f");
  s += "A = " + name_a + ", B = " + name_b + "\n";
  return s;
}

}  // namespace aicl
