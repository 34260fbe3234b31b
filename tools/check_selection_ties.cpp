// Compares kernels/snippet_select and kernels/topk_mil with the torch outputs written by tools/selection_tie_oracle.py.
// Build and run: see the usage in tools/selection_tie_oracle.py. Prints one line per mismatch and a summary.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "kernels/snippet_select.h"
#include "kernels/topk_mil.h"

namespace {

std::vector<int> decode(const std::string& s) {
  std::vector<int> v;
  for (char ch : s) v.push_back(ch <= '9' ? ch - '0' : ch - 'a' + 10);
  return v;
}

float prototype_cas(int proto, int c) { return static_cast<float>(((proto * 7 + c * 3) % 11) / 4.0 - 1.25); }

std::vector<float> read_levels(std::istream& in, int B) {
  std::vector<float> out;
  for (int b = 0; b < B; ++b) {
    std::string line;
    in >> line;
    for (int l : decode(line)) out.push_back(static_cast<float>(l / 16.0));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CASES.txt\n", argv[0]);
    return 2;
  }
  std::ifstream in(argv[1]);
  int ncases = 0;
  in >> ncases;
  int bad_cases = 0, snip = 0, topk = 0, combined_diff = 0;
  double worst_cas_top_rel = 0, worst_combined_abs = 0;
  long combined_total = 0;
  for (int ci = 0; ci < ncases; ++ci) {
    std::string kind;
    int B, Tn, k;
    in >> kind >> B >> Tn >> k;
    bool ok = true;
    if (kind == "snip") {
      ++snip;
      auto a1 = read_levels(in, B), a2 = read_levels(in, B);
      std::vector<int> got[4];
      for (auto& g : got) g.resize(static_cast<size_t>(B) * k);
      aicl::snippet_select_forward<float>(got[0].data(), got[1].data(), got[2].data(), got[3].data(), a1.data(),
                                          a2.data(), B, Tn, k);
      for (int o = 0; o < 4; ++o)
        for (size_t i = 0; i < got[o].size(); ++i) {
          int want;
          in >> want;
          if (want != got[o][i]) ok = false;
        }
    } else {
      ++topk;
      std::vector<float> cas;
      std::vector<int> proto;
      for (int b = 0; b < B; ++b) {
        std::string line;
        in >> line;
        for (int p : decode(line)) proto.push_back(p);
      }
      for (int p : proto)
        for (int c = 0; c < 20; ++c) cas.push_back(prototype_cas(p, c));
      auto flow = read_levels(in, B), rgb = read_levels(in, B);
      std::vector<float> cas_top(B * 20), combined(static_cast<size_t>(B) * Tn * 20);
      std::vector<int> idx(static_cast<size_t>(B) * k * 20);
      combined_total += static_cast<long>(combined.size());
      aicl::topk_mil_forward<float>(cas_top.data(), idx.data(), combined.data(), cas.data(), flow.data(), rgb.data(),
                                    B, Tn, 20, k);
      for (size_t i = 0; i < idx.size(); ++i) {
        int want;
        in >> want;
        if (want != idx[i]) ok = false;
      }
      for (size_t i = 0; i < combined.size(); ++i) {
        std::string hex;
        in >> hex;
        const double want = std::strtod(hex.c_str(), nullptr);
        if (want != combined[i]) ++combined_diff;
        worst_combined_abs = std::max(worst_combined_abs, std::fabs(want - combined[i]));
      }
      for (size_t i = 0; i < cas_top.size(); ++i) {
        std::string hex;
        in >> hex;
        const double want = std::strtod(hex.c_str(), nullptr);
        worst_cas_top_rel = std::max(worst_cas_top_rel, std::fabs(want - cas_top[i]) / std::max(1e-30, std::fabs(want)));
      }
    }
    if (!ok) {
      ++bad_cases;
      std::printf("MISMATCH case %d (%s B=%d T=%d k=%d)\n", ci, kind.c_str(), B, Tn, k);
    }
  }
  std::printf("%d snip + %d topk cases, %d with index mismatches; combined values differing bitwise from torch: %d of %ld "
              "(worst abs difference %.3g); worst cas_top relative error %.3g\n",
              snip, topk, bad_cases, combined_diff, combined_total, worst_combined_abs, worst_cas_top_rel);
  return bad_cases == 0 ? 0 : 1;
}
