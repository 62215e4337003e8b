// Shared by the speculative, tree and decoder tests: the bundled demo model and its Q4_0 copy (made once per test
// binary with requantize, removed at exit), hand-made distributions, and Pearson's χ² against an exact distribution.
#pragma once

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fixtures.h"
#include "model/requantize.h"
#include "runtime/engine.h"
#include "sampling/candidates.h"

namespace ts::test {

inline const std::string& demo_model_path() {
  static const std::string p = std::string(TS_SOURCE_DIR) + "/models/tokenscope-demo.gguf";
  return p;
}

struct DemoPair {
  TempDir dir;                            // holds the Q4_0 copy; declared first, so removed after the engines go
  std::unique_ptr<Engine> target, draft;  // the demo model and its Q4_0 copy
};

// Null when the demo model is missing (callers skip).
inline const DemoPair* demo_pair() {
  static std::unique_ptr<DemoPair> pair = []() -> std::unique_ptr<DemoPair> {
    if (!std::filesystem::exists(demo_model_path())) return nullptr;
    auto p = std::make_unique<DemoPair>();
    auto t = Engine::load(demo_model_path());
    if (!t) return nullptr;
    p->target = std::move(*t);
    ThreadPool pool(1);
    RequantizeOptions ro;
    ro.type = DType::Q4_0;
    ro.file_type = 2;
    const std::string path = p->dir.file("draft-q4_0.gguf");
    if (!requantize(*p->target->file, ro, path, pool)) return nullptr;
    auto d = Engine::load(path);
    if (!d) return nullptr;
    p->draft = std::move(*d);
    return p;
  }();
  return pair.get();
}

// A distribution over ids 0..n−1 with the given probabilities.
inline sampling::Candidates dist(std::vector<float> p) {
  sampling::Candidates c;
  for (size_t i = 0; i < p.size(); ++i) c.data.push_back({static_cast<int32_t>(i), std::log(p[i]), p[i]});
  return c;
}

// P(χ²_k > x) by the Wilson–Hilferty normal approximation (good to a few percent of the p-value for k ≥ 10).
inline double chi2_p_value(double x, double k) {
  const double z = (std::cbrt(x / k) - (1 - 2 / (9 * k))) / std::sqrt(2 / (9 * k));
  return 0.5 * std::erfc(z / std::sqrt(2.0));
}

struct Chi2 {
  double stat = 0;
  int dof = 0;
  double p = 1;
};

// Pearson χ² of observed counts against expected probabilities; cells expected below 5 are pooled into one, with
// every outcome the exact distribution does not list.
inline Chi2 chi2(const std::map<std::vector<int32_t>, double>& expected,
                 const std::map<std::vector<int32_t>, int64_t>& obs, int64_t n) {
  Chi2 r;
  double pooled_e = 0, pooled_o = 0, seen = 0;
  for (const auto& [k, p] : expected) {
    const auto it = obs.find(k);
    const double o = it == obs.end() ? 0 : static_cast<double>(it->second);
    seen += o;
    const double e = p * static_cast<double>(n);
    if (e < 5) {
      pooled_e += e, pooled_o += o;
      continue;
    }
    r.stat += (o - e) * (o - e) / e;
    ++r.dof;
  }
  pooled_o += static_cast<double>(n) - seen;
  if (pooled_e > 0) {
    r.stat += (pooled_o - pooled_e) * (pooled_o - pooled_e) / pooled_e;
    ++r.dof;
  }
  r.dof -= 1;
  r.p = chi2_p_value(r.stat, r.dof);
  return r;
}

}  // namespace ts::test
