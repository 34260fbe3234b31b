// aicl_eval --compare: refuses reports made under another protocol, tIoU set or video list, and prints B - A
// for comparable ones.
#include <catch2/catch.hpp>

#include <filesystem>

#include "core/base/error.h"
#include "core/base/io.h"
#include "core/eval/compare.h"
#include "test_util.h"

namespace {

aicl::json report(double m0, double m1) {
  return aicl::json{{"protocol", "anet"},          {"tiou", {0.3, 0.5}},     {"mAP", {m0, m1}},
                    {"average_mAP", (m0 + m1) / 2}, {"video_list_sha256", "ab"}, {"subset", "test"},
                    {"class_order", {"A", "B"}},    {"num_gt_instances", 12}};
}

}  // namespace

TEST_CASE("compare: the same protocol, thresholds and videos give the difference, anything else the reasons") {
  const aicl::json a = report(0.5, 0.25), b = report(0.6, 0.20);
  const aicl::json c = aicl::compare_reports(a, b, "a.json", "b.json");
  REQUIRE(c["comparable"] == true);
  CHECK(c["delta"][0].get<double>() == Approx(0.1));
  CHECK(c["delta"][1].get<double>() == Approx(-0.05));
  CHECK(c["average"]["delta"].get<double>() == Approx(0.025));
  const std::string table = aicl::format_comparison(c, "a.json", "b.json");
  CHECK(table.find("+10.00") != std::string::npos);
  CHECK(table.find("-5.00") != std::string::npos);
  struct Case {
    const char* key;
    aicl::json value;
    const char* reason;
  };
  for (const Case& k : {Case{"protocol", "th14", "evaluation protocol differ: \"anet\" vs \"th14\""},
                        Case{"tiou", {0.3, 0.7}, "tIoU thresholds differ"},
                        Case{"video_list_sha256", "cd", "evaluated video list differ"},
                        Case{"subset", "validation", "subset differ"},
                        Case{"class_order", {"A", "C"}, "classes differ"},
                        Case{"num_gt_instances", 13, "number of ground-truth instances differ"}}) {
    aicl::json other = b;
    other[k.key] = k.value;
    const aicl::json r = aicl::compare_reports(a, other, "a.json", "b.json");
    INFO(k.key);
    CHECK(r["comparable"] == false);
    REQUIRE(r["reasons"].size() == 1);
    CHECK(r["reasons"][0].get<std::string>().find(k.reason) != std::string::npos);
    CHECK(aicl::format_comparison(r, "a.json", "b.json").find("not comparable") != std::string::npos);
  }
  aicl::json old = b;
  old.erase("video_list_sha256");
  const aicl::json r = aicl::compare_reports(a, old, "a.json", "old.json");
  CHECK(r["comparable"] == false);
  CHECK(r["reasons"][0].get<std::string>().find("old.json has no video_list_sha256") != std::string::npos);
  CHECK_THROWS_WITH(aicl::compare_reports(aicl::json::array(), b, "x.json", "b.json"),
                    Catch::Contains("x.json: not an evaluation report"));
}

TEST_CASE("aicl_eval --compare: exit 0 with the table, 1 when not comparable, 2 on a bad file") {
  const auto dir = aicl_test::temp_dir("compare_cli");
  const std::string a = (dir / "a.json").string(), b = (dir / "b.json").string(), c = (dir / "c.json").string();
  aicl::write_json_file(a, report(0.5, 0.25));
  aicl::write_json_file(b, report(0.6, 0.20));
  aicl::json other = report(0.6, 0.20);
  other["protocol"] = "wtalc";
  aicl::write_json_file(c, other);
  const std::string bin = aicl_test::bin_dir() + "/aicl_eval --compare ";
  auto r = aicl_test::run_command(bin + a + " " + b);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("B - A") != std::string::npos);
  r = aicl_test::run_command(bin + a + " " + c);
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("evaluation protocol differ") != std::string::npos);
  r = aicl_test::run_command(bin + a + " " + (dir / "none.json").string());
  CHECK(r.exit_code == 2);
  r = aicl_test::run_command(bin + a);
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("--compare: give two reports") != std::string::npos);
  std::filesystem::remove_all(dir);
}
