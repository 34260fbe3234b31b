// Tests of the SVG figures and the page (core/plot.h) and of aicl_eval --plot: well-formed, escaped,
// deterministic output with the expected number of elements, and clear errors.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "core/base/error.h"
#include "core/eval/plot.h"
#include "test_util.h"

using aicl::json;

namespace {

size_t count_of(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + what.size())) ++n;
  return n;
}

// A small XML well-formedness check: balanced tags, quoted attributes, no raw '<' or bare '&' in text.
// Returns "" when fine, else what is wrong. Enough for the subset of XML the plots write.
std::string xml_problem(const std::string& s) {
  std::vector<std::string> stack;
  size_t i = 0;
  auto bad_amp = [&](size_t from, size_t to) {
    for (size_t k = from; k < to; ++k)
      if (s[k] == '&') {
        const size_t semi = s.find(';', k);
        if (semi == std::string::npos || semi > to || semi - k > 8) return true;
      }
    return false;
  };
  while (i < s.size()) {
    const size_t lt = s.find('<', i);
    if (bad_amp(i, lt == std::string::npos ? s.size() : lt)) return "bare '&' in text";
    if (lt == std::string::npos) break;
    const size_t gt = s.find('>', lt);
    if (gt == std::string::npos) return "unterminated tag";
    const std::string tag = s.substr(lt + 1, gt - lt - 1);
    if (tag.empty()) return "empty tag";
    if (tag[0] == '?' || tag[0] == '!') {
      i = gt + 1;
      continue;
    }
    if (count_of(tag, "\"") % 2 != 0) return "unbalanced quotes in <" + tag + ">";
    if (tag.find('<') != std::string::npos) return "raw '<' inside a tag";
    if (bad_amp(lt, gt)) return "bare '&' in an attribute";
    if (tag[0] == '/') {
      if (stack.empty() || stack.back() != tag.substr(1)) return "mismatched </" + tag.substr(1) + ">";
      stack.pop_back();
    } else if (tag.back() != '/') {
      stack.push_back(tag.substr(0, tag.find_first_of(" \n\t")));
    }
    i = gt + 1;
  }
  return stack.empty() ? "" : "unclosed <" + stack.back() + ">";
}

aicl::VideoPlot sample_plot(const std::string& name) {
  aicl::VideoPlot p;
  p.video = name;
  p.duration = 100;
  p.seconds_per_sample = 2;
  aicl::PlotClassTrack a;
  a.name = "Run & <Jump>";
  a.ground_truth = {{10, 20, 0}, {40, 45, 0}};
  for (int i = 0; i < 15; ++i) a.detections.push_back({1.0 * i, 1.0 * i + 3, 0.05 * i});
  a.activation.assign(50, 0.5f);
  aicl::PlotClassTrack b;
  b.name = "Swim";
  b.detections = {{60, 70, 0.8}};
  p.tracks = {a, b};
  return p;
}

aicl::EvalReport sample_report() {
  aicl::EvalReport r;
  r.tiou = {0.3, 0.5};
  r.mAP = {0.5, 0.25};
  r.average_mAP = 0.375;
  r.class_names = {"A", "B\"quoted\"", "C"};
  r.class_ap = {{1.0, 0.5}, {0.5, 0.25}, {0.0, 0.0}};
  return r;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("plot: escape_xml escapes markup and drops control characters", "[plot]") {
  CHECK(aicl::escape_xml("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&#39;");
  CHECK(aicl::escape_xml(std::string("x\x01y\tz", 5)) == "x?y\tz");
  CHECK(aicl::escape_xml("plain_name-01") == "plain_name-01");
}

TEST_CASE("plot: the video timeline is well-formed, escaped and has one element per instance", "[plot]") {
  aicl::VideoPlot p = sample_plot("vid<1>&\"");
  const std::string svg = aicl::video_timeline_svg(p);
  CHECK(svg.rfind("<?xml", 0) == 0);
  CHECK(svg.size() > 7);
  CHECK(svg.substr(svg.size() - 7) == "</svg>\n");
  CHECK(xml_problem(svg).empty());
  CHECK(count_of(svg, "class=\"track\"") == 2);
  CHECK(count_of(svg, "class=\"gt\"") == 2);
  CHECK(count_of(svg, "class=\"det\"") == 10 + 1);  // max_detections_per_class = 10 of the 15, and Swim's one
  CHECK(count_of(svg, "class=\"activation\"") == 1);  // Swim has no activation
  CHECK(svg.find("vid&lt;1&gt;&amp;&quot;") != std::string::npos);
  CHECK(svg.find("Run &amp; &lt;Jump&gt;") != std::string::npos);
  CHECK(svg.find("<Jump>") == std::string::npos);
  // The 10 drawn are the strongest: the weakest (score 0 .. 0.2) are not there.
  CHECK(svg.find("score 0.0000") == std::string::npos);
  CHECK(svg.find("score 0.7000") != std::string::npos);
  // Deterministic: the same input gives the same bytes.
  CHECK(aicl::video_timeline_svg(p) == svg);
  p.max_detections_per_class = 100;
  CHECK(count_of(aicl::video_timeline_svg(p), "class=\"det\"") == 16);
  // Nothing to draw is still a valid figure.
  aicl::VideoPlot empty;
  empty.video = "v";
  CHECK(xml_problem(aicl::video_timeline_svg(empty)).empty());
}

TEST_CASE("plot: non-finite values and zero durations still give valid numbers", "[plot]") {
  aicl::VideoPlot p = sample_plot("v");
  p.duration = 0;
  p.tracks[0].activation[3] = std::numeric_limits<float>::quiet_NaN();
  p.tracks[0].detections[0].score = std::numeric_limits<double>::infinity();
  const std::string svg = aicl::video_timeline_svg(p);
  CHECK(xml_problem(svg).empty());
  CHECK(svg.find("nan") == std::string::npos);
  CHECK(svg.find("inf") == std::string::npos);
  // Extreme but finite values: the curve axes still end (tick loops once never advanced at 1e308).
  aicl::PlotSeries se{"s", {{0, -1e308}, {1, 1e308}, {2, std::nan("")}}};
  const std::string curves = aicl::curves_svg("t", "step", {{"p", {se}}});
  CHECK(xml_problem(curves).empty());
  CHECK(curves.find("nan") == std::string::npos);
  aicl::VideoPlot far = sample_plot("v");
  far.duration = 1e308;
  CHECK(xml_problem(aicl::video_timeline_svg(far)).empty());
}

TEST_CASE("plot: build_video_plots takes classes with GT or detections and the activation column", "[plot]") {
  const json gt = json::parse(R"({"database": {
    "v1": {"subset": "test", "duration": 50, "annotations": [{"label": "B", "segment": [1, 2]},
                                                           {"label": "B", "segment": [5, 9]}]},
    "v2": {"subset": "test", "annotations": []}}})");
  const json dets = json::parse(R"({"results": {
    "v1": [{"label": "C", "segment": [3, 4], "score": 0.5}, {"label": "Z", "segment": [3, 60], "score300": 0.2}],
    "v2": [{"label": "A", "segment": [0, 7], "score": 0.1}]}})");
  std::map<std::string, aicl::VideoActivation> act;
  act["v1"] = {{0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}, 2, 10.0};  // T = 2, C = 3 (A, B, C)
  const auto plots = aicl::build_video_plots(gt, dets, {"v1", "v2", "absent"}, {"A", "B", "C"}, act);
  REQUIRE(plots.size() == 3);
  REQUIRE(plots[0].tracks.size() == 3);  // B (GT), C (det), Z (det, unknown to the class list: last)
  CHECK(plots[0].tracks[0].name == "B");
  CHECK(plots[0].tracks[0].ground_truth.size() == 2);
  CHECK(plots[0].tracks[0].activation == std::vector<float>{0.2f, 0.5f});
  CHECK(plots[0].tracks[1].name == "C");
  CHECK(plots[0].tracks[1].activation == std::vector<float>{0.3f, 0.6f});
  CHECK(plots[0].tracks[2].name == "Z");
  CHECK(plots[0].tracks[2].detections.at(0).score == 0.2);
  CHECK(plots[0].tracks[2].activation.empty());
  CHECK(plots[0].duration == 50);  // from the ground truth
  REQUIRE(plots[1].tracks.size() == 1);
  CHECK(plots[1].duration == 7);   // no duration given: the furthest segment end
  CHECK(plots[2].tracks.empty());
}

TEST_CASE("plot: AP bars, one per class, at a tIoU or averaged", "[plot]") {
  const aicl::EvalReport r = sample_report();
  const std::string avg = aicl::class_ap_svg(r, -1);
  CHECK(xml_problem(avg).empty());
  CHECK(count_of(avg, "class=\"bar\"") == 3);
  CHECK(avg.find("B&quot;quoted&quot;") != std::string::npos);
  CHECK(avg.find(">75.0<") != std::string::npos);  // class A: mean of 100 and 50
  const std::string at05 = aicl::class_ap_svg(r, 1);
  CHECK(at05.find(">50.0<") != std::string::npos);  // class A at tIoU 0.5
  CHECK(at05.find("mAP 25.00%") != std::string::npos);
  CHECK_THROWS_AS(aicl::class_ap_svg(r, 2), aicl::Error);
  CHECK(aicl::class_ap_svg(r, 0) == aicl::class_ap_svg(r, 0));
}

TEST_CASE("plot: curves thin long series and read a run's metrics.jsonl", "[plot]") {
  aicl::PlotSeries se{"loss", {}};
  for (int i = 0; i < 5000; ++i) se.points.emplace_back(i, 1.0 / (1 + i));
  const std::string svg = aicl::curves_svg("t", "step", {{"p1", {se}}, {"empty", {}}});
  CHECK(xml_problem(svg).empty());
  CHECK(count_of(svg, "class=\"panel\"") == 2);
  const size_t at = svg.find("points=\"");
  REQUIRE(at != std::string::npos);
  const std::string pts = svg.substr(at + 8, svg.find('"', at + 8) - at - 8);
  CHECK(count_of(pts, ",") == 1000);  // 5000 points averaged 5 by 5

  const auto dir = aicl_test::temp_dir("plot_metrics");
  const std::string path = (dir / "metrics.jsonl").string();
  std::ofstream(path) << R"({"step":1,"loss":5,"action":3,"agnostic":2,"modality":0.1,"contrast":9,"consistency":0.01})"
                      << "\n"
                      << R"({"step":2,"loss":4,"action":2,"agnostic":2,"modality":0.1,"contrast":8,"consistency":0.02})"
                      << "\n"
                      << R"({"step":2,"eval":"val","mAP":[0.5,0.25],"tiou":[0.3,0.5],"average_mAP":0.375})" << "\n"
                      << R"({"step":3,"loss":)";  // torn last line of a killed run
  const auto panels = aicl::run_metrics_panels(path);
  REQUIRE(panels.size() == 8);  // 6 loss terms, average mAP, mAP per tIoU
  CHECK(panels[0].series.at(0).points.size() == 2);
  CHECK(panels[6].series.at(0).points.at(0) == std::make_pair(2.0, 37.5));
  CHECK(panels[7].series.size() == 2);
  std::ofstream(path) << "{\"step\":1,\"loss\":5}\nnot json\n{\"step\":2,\"loss\":4}\n";
  CHECK_THROWS_WITH(aicl::run_metrics_panels(path), Catch::Contains(path + ": line 2"));
  CHECK_THROWS_WITH(aicl::run_metrics_panels((dir / "none.jsonl").string()), Catch::Contains("cannot open"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("plot: write_plots writes every figure and an index.html linking them, without scripts", "[plot]") {
  const auto dir = aicl_test::temp_dir("plot_write");
  aicl::PlotRequest rq;
  rq.title = "t <&>";
  rq.ground_truth = json::parse(R"({"database": {"a b": {"subset": "test", "annotations": [{"label": "A", "segment": [1, 2]}]},
                                                 "c/d": {"subset": "test", "annotations": []}}})");
  rq.detections = json::parse(R"({"results": {"a b": [{"label": "A", "segment": [1, 3], "score": 0.4}]}})");
  rq.videos = {"a b", "c/d"};
  rq.class_names = {"A"};
  const aicl::EvalReport rep = sample_report();
  rq.report = &rep;
  const auto files = aicl::write_plots((dir / "out").string(), rq);
  const std::vector<std::string> expected = {"video_00_a_b.svg", "video_01_c_d.svg", "ap_average.svg",
                                             "ap_tiou_0.30.svg", "ap_tiou_0.50.svg", "index.html"};
  CHECK(files == expected);
  const std::string html = slurp((dir / "out" / "index.html").string());
  CHECK(xml_problem(html.substr(html.find("<html"))).empty());
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("http") == std::string::npos);
  CHECK(count_of(html, "<img ") == files.size() - 1);
  CHECK(html.find("t &lt;&amp;&gt;") != std::string::npos);
  for (const auto& f : files) {
    const std::string content = slurp((dir / "out" / f).string());
    CHECK(!content.empty());
    if (f != "index.html") {
      CHECK(html.find("src=\"" + f + "\"") != std::string::npos);
      CHECK(xml_problem(content).empty());
    }
  }
  // Deterministic: a second run writes the same bytes.
  aicl::write_plots((dir / "again").string(), rq);
  for (const auto& f : files) CHECK(slurp((dir / "out" / f).string()) == slurp((dir / "again" / f).string()));
  // A run directory without metrics.jsonl fails before anything is written.
  rq.run_dir = (dir / "norun").string();
  CHECK_THROWS_WITH(aicl::write_plots((dir / "third").string(), rq), Catch::Contains("metrics.jsonl: cannot open"));
  CHECK(std::filesystem::is_empty(dir / "third"));
  std::filesystem::remove_all(dir);
}

namespace {
std::string eval_bin() { return aicl_test::bin_dir() + "/aicl_eval"; }
}  // namespace

TEST_CASE("aicl_eval --plot: scoring mode writes the page, and bad plot flags are clear errors", "[plot][cli]") {
  if (!std::ifstream(eval_bin()).good()) FAIL("build the aicl_eval target first: " + eval_bin());
  const auto dir = aicl_test::temp_dir("plot_cli");
  const std::string gt = (dir / "gt.json").string(), dets = (dir / "dets.json").string();
  std::ofstream(gt) << R"({"database": {"v1": {"subset": "test", "annotations": [{"label": "A", "segment": [1, 4]}]},
                                        "v2": {"subset": "test", "annotations": [{"label": "B", "segment": [2, 3]}]},
                                        "v3": {"subset": "validation", "annotations": []}}})";
  std::ofstream(dets) << R"({"results": {"v1": [{"label": "A", "segment": [1, 3], "score": 0.9}]}})";
  const std::string base = eval_bin() + " --gt " + gt + " --detections " + dets;
  auto r = aicl_test::run_command(base + " --plot " + (dir / "figs").string() + " --quiet");
  CHECK(r.exit_code == 0);
  CHECK(r.output.empty());
  CHECK(std::filesystem::exists(dir / "figs" / "index.html"));
  CHECK(std::filesystem::exists(dir / "figs" / "video_00_v1.svg"));
  CHECK(std::filesystem::exists(dir / "figs" / "video_01_v2.svg"));
  CHECK(!std::filesystem::exists(dir / "figs" / "video_02_v3.svg"));  // another subset
  CHECK(std::filesystem::exists(dir / "figs" / "ap_average.svg"));

  r = aicl_test::run_command(base + " --plot " + (dir / "f2").string() + " --plot-videos v2 --quiet");
  CHECK(r.exit_code == 0);
  CHECK(std::filesystem::exists(dir / "f2" / "video_00_v2.svg"));
  CHECK(!std::filesystem::exists(dir / "f2" / "video_01_v1.svg"));

  r = aicl_test::run_command(base + " --plot " + (dir / "f3").string() + " --plot-videos v3");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("aicl_eval: error: --plot-videos: no video 'v3' in subset 'test'") == 0);
  r = aicl_test::run_command(base + " --plot-videos v1");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("aicl_eval: error: --plot-videos: needs --plot DIR") == 0);
  r = aicl_test::run_command(base + " --plot " + (dir / "f4").string() + " --plot-run " + (dir / "norun").string());
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("metrics.jsonl: cannot open") != std::string::npos);
  std::filesystem::remove_all(dir);
}
