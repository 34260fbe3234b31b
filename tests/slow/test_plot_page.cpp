// The --plot page in a real browser: headless Chromium loads index.html, and a test page (in the test's temp
// dir, not in the product page) loads every image it links and reports naturalWidth > 0 for each.
// Skipped where /usr/bin/chromium is absent (scripts/install-test-extras.sh installs it).
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <sstream>

#include "core/eval/evaluator.h"
#include "core/eval/plot.h"
#include "test_util.h"

using aicl::json;

namespace {

const char* kChromium = "/usr/bin/chromium";

// Chromium's DOM after load (scripts run), or fails the test when it cannot run.
std::string dump_dom(const std::filesystem::path& html, const std::filesystem::path& profile) {
  const std::string cmd = std::string("timeout 180 ") + kChromium +
                          " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
                          " --disable-background-networking --disable-component-update --disable-sync"
                          " --user-data-dir=" + profile.string() + " --dump-dom file://" + html.string() +
                          " 2>/dev/null";
  const auto r = aicl_test::run_command(cmd);
  INFO(cmd << "\n" << r.output);
  REQUIRE(r.exit_code == 0);
  return r.output;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("plot page: every figure of index.html renders in headless Chromium", "[plot][browser]") {
  if (!std::filesystem::exists(kChromium)) aicl_test::skip(std::string(kChromium) + " not installed (scripts/install-test-extras.sh)");
  const auto dir = aicl_test::temp_dir("plot_page");

  // A page with every kind of figure: timelines with activation, AP bars, training curves.
  aicl::PlotRequest rq;
  rq.title = "browser check <&>";
  rq.ground_truth = json::parse(R"({"database": {
    "v1": {"subset": "test", "duration": 40, "annotations": [{"label": "A", "segment": [3, 9]}, {"label": "B", "segment": [20, 31]}]},
    "v 2": {"subset": "test", "duration": 12, "annotations": [{"label": "A", "segment": [1, 2]}]}}})");
  rq.detections = json::parse(R"({"results": {"v1": [{"label": "A", "segment": [2, 10], "score": 0.8},
                                                     {"label": "B", "segment": [21, 25], "score": 0.3}]}})");
  rq.videos = {"v1", "v 2"};
  rq.class_names = {"A", "B"};
  aicl::VideoActivation act;
  act.samples = 40;
  act.seconds_per_sample = 1;
  for (int t = 0; t < 40; ++t) {
    act.values.push_back(t >= 3 && t < 9 ? 0.9f : 0.1f);
    act.values.push_back(t >= 20 && t < 31 ? 0.7f : 0.05f);
  }
  rq.activations["v1"] = act;
  aicl::EvalReport rep;
  rep.tiou = {0.3, 0.5};
  rep.mAP = {0.6, 0.4};
  rep.average_mAP = 0.5;
  rep.class_names = {"A", "B"};
  rep.class_ap = {{0.8, 0.6}, {0.4, 0.2}};
  rq.report = &rep;
  std::filesystem::create_directories(dir / "run");
  {
    std::ofstream m(dir / "run" / "metrics.jsonl");
    for (int s = 1; s <= 30; ++s)
      m << json{{"step", s}, {"loss", 5.0 / s}, {"action", 3.0 / s}, {"agnostic", 2.0}, {"modality", 0.01},
                {"contrast", 9.0}, {"consistency", 0.02}}.dump()
        << "\n";
    m << R"({"step":30,"eval":"val","mAP":[0.6,0.4],"tiou":[0.3,0.5],"average_mAP":0.5})" << "\n";
  }
  rq.run_dir = (dir / "run").string();
  const auto files = aicl::write_plots((dir / "plots").string(), rq);
  REQUIRE(files.size() == 7);  // 2 videos, 3 AP charts, training, index.html

  // 1. The page itself loads: Chromium's DOM has the title and one <img> per figure.
  const std::string page = dump_dom(dir / "plots" / "index.html", dir / "profile1");
  CHECK(page.find("browser check &lt;&amp;&gt;") != std::string::npos);
  std::vector<std::string> srcs;
  const std::string html = slurp(dir / "plots" / "index.html");
  const std::regex img("<img src=\"([^\"]+)\"");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), img); it != std::sregex_iterator(); ++it)
    srcs.push_back((*it)[1]);
  CHECK(srcs.size() == files.size() - 1);
  size_t imgs_in_dom = 0;
  for (size_t p = page.find("<img"); p != std::string::npos; p = page.find("<img", p + 1)) ++imgs_in_dom;
  CHECK(imgs_in_dom == srcs.size());

  // 2. Every image renders: a test page next to index.html loads the same sources and reports each.
  std::string check = "<!DOCTYPE html><html><head><title>pending</title></head><body>\n";
  for (const auto& s : srcs) check += "<img src=\"" + s + "\">\n";
  check += R"(<pre id="result">pending</pre><script>
window.addEventListener('load', function () {
  var bad = [], ok = 0;
  for (var i = 0; i < document.images.length; ++i) {
    var im = document.images[i];
    if (im.complete && im.naturalWidth > 0 && im.naturalHeight > 0) ++ok; else bad.push(im.getAttribute('src'));
  }
  var r = 'RESULT ok=' + ok + ' bad=[' + bad.join(',') + ']';
  document.title = r;
  document.getElementById('result').textContent = r;
});
</script></body></html>
)";
  std::ofstream(dir / "plots" / "check_images.html") << check;
  const std::string dom = dump_dom(dir / "plots" / "check_images.html", dir / "profile2");
  const std::string expected = "RESULT ok=" + std::to_string(srcs.size()) + " bad=[]";
  INFO(dom.substr(0, 2000));
  CHECK(dom.find(expected) != std::string::npos);

  // 3. The check itself can fail: a broken SVG is reported as bad.
  std::ofstream(dir / "plots" / "broken.svg") << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><rect";
  std::string broken = check;
  broken.replace(broken.find("<img src=\""), 10, "<img src=\"broken.svg\"><img src=\"");
  std::ofstream(dir / "plots" / "check_broken.html") << broken;
  const std::string dom2 = dump_dom(dir / "plots" / "check_broken.html", dir / "profile3");
  CHECK(dom2.find("bad=[broken.svg]") != std::string::npos);
  std::filesystem::remove_all(dir);
}
