// Golden test: every per-document score of analysis/document_scores.h for the 12 fixture documents with
// tiny-llama-spm-F16.gguf (scoring model) and, for the two-model scores, tiny-llama-spm-Q8_0.gguf as the reference
// (Fast-DetectGPT's sampling model, Binoculars' observer), computed by the analyzer's fused pass — against
//   (1) the fixture's fp32 PyTorch `reference` logprobs and entropies, for every score whose formula needs only those
//       (log-likelihood, perplexity, bits per byte, Min-K%, zlib ratio, DC-PDD, Chow quantiles, mean entropy, the
//       highest-entropy span), each recomputed here from the paper's formula. The F16 file matches that reference
//       to ~3e-6 nats mean (golden_logits_test), so document means agree to 1e-4;
//   (2) a slow scalar double-precision path written here from the raw logits of Model::forward (log-softmax, then
//       the sums over the whole vocabulary in two passes), for the scores needing full distributions or ranks
//       (log-rank, LRR, Fast-DetectGPT white-box and with a reference model, Binoculars, Min-K%++, varentropy).
//       Same logits, so agreement is to double rounding of the sums: 1e-7 relative.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "analysis/document_scores.h"
#include "fixtures.h"
#include "runtime/analyzer.h"
#include "runtime/engine.h"

namespace ts {
namespace {

// Per-position statistics from raw logits, in double, straight from the definitions.
struct SlowPosition {
  double logprob = 0, entropy = 0, varentropy = 0, log_rank = 0;
  double cross_qp = 0, var_q_logp = 0;  // −Σ q log p, Σ q (log p − E_q log p)²
};

// log p_v, and p_v = exp(log p_v), in double
void log_softmax(const float* z, int64_t V, std::vector<double>& lp, std::vector<double>& p) {
  double m = -INFINITY;
  for (int64_t v = 0; v < V; ++v) m = std::max(m, static_cast<double>(z[v]));
  lp.resize(static_cast<size_t>(V));
  p.resize(static_cast<size_t>(V));
  double s = 0;
  for (int64_t v = 0; v < V; ++v) s += p[v] = std::exp(static_cast<double>(z[v]) - m);
  const double lse = m + std::log(s);
  for (int64_t v = 0; v < V; ++v) {
    lp[v] = static_cast<double>(z[v]) - lse;
    p[v] /= s;
  }
}

SlowPosition slow_position(const float* zp, const float* zq, int64_t V, int32_t target) {
  std::vector<double> lp, p, lq, q;
  log_softmax(zp, V, lp, p);
  log_softmax(zq, V, lq, q);
  SlowPosition r;
  r.logprob = lp[target];
  for (int64_t v = 0; v < V; ++v) r.entropy -= p[v] * lp[v];
  for (int64_t v = 0; v < V; ++v) r.varentropy += p[v] * (lp[v] + r.entropy) * (lp[v] + r.entropy);
  int64_t rank = 1;
  for (int64_t v = 0; v < V; ++v) rank += zp[v] > zp[target];
  r.log_rank = std::log(static_cast<double>(rank));
  for (int64_t v = 0; v < V; ++v) r.cross_qp -= q[v] * lp[v];
  for (int64_t v = 0; v < V; ++v) r.var_q_logp += q[v] * (lp[v] + r.cross_qp) * (lp[v] + r.cross_qp);
  return r;
}

double mean(const std::vector<double>& x) {
  double s = 0;
  for (double v : x) s += v;
  return s / static_cast<double>(x.size());
}

double mean_of_lowest_fraction(std::vector<double> x, double k) {
  std::sort(x.begin(), x.end());
  const size_t c = std::max<size_t>(1, static_cast<size_t>(static_cast<double>(x.size()) * k));
  return mean(std::vector<double>(x.begin(), x.begin() + static_cast<ptrdiff_t>(c)));
}

double linear_quantile(std::vector<double> x, double a) {
  std::sort(x.begin(), x.end());
  const double h = a * static_cast<double>(x.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(h));
  return lo + 1 < x.size() ? x[lo] + (h - static_cast<double>(lo)) * (x[lo + 1] - x[lo]) : x.back();
}

int64_t zlib_bytes(const std::string& s) {
  uLongf len = compressBound(static_cast<uLong>(s.size()));
  std::vector<Bytef> out(len);
  EXPECT_EQ(compress2(out.data(), &len, reinterpret_cast<const Bytef*>(s.data()), static_cast<uLong>(s.size()), 6), Z_OK);
  return static_cast<int64_t>(len);
}

bool near_rel(double a, double b, double rel) { return std::fabs(a - b) <= rel * std::max(1.0, std::fabs(b)); }

struct Doc {
  std::vector<int32_t> ids;
  std::vector<double> ref_logprob, ref_entropy;  // the fixture's fp32 reference
  int64_t text_bytes = 0, zlib = 0;
  analysis::DocumentScores one, two;  // analyzer: F16 alone; F16 scored with Q8_0 as reference
  std::vector<SlowPosition> slow;
};

constexpr int kWindow = 8;
constexpr double kMinK = 0.2, kBound = 0.01;
constexpr int kDocsPerGroup = 1;  // each test instance computes one document (two models, two paths): ~0.5 s

// Loaded once: the two models, the fixture, and DC-PDD's reference counts (all twelve documents' tokens).
struct Shared {
  std::unique_ptr<Engine> f16, q8;
  nlohmann::json ref;
  std::vector<uint64_t> counts;
  std::unique_ptr<analysis::TokenFrequency> freq;
};

const Shared* shared() {
  static const Shared* s = [] {
    auto* r = new Shared;
    const std::string ref_path = test::fixture_path("reference/tiny-llama-spm.json");
    const std::string f16_path = test::fixture_path("models/tiny-llama-spm-F16.gguf");
    const std::string q8_path = test::fixture_path("models/tiny-llama-spm-Q8_0.gguf");
    if (ref_path.empty() || f16_path.empty() || q8_path.empty()) return r;
    auto f16 = Engine::load(f16_path);
    auto q8 = Engine::load(q8_path);
    if (!f16.ok() || !q8.ok()) return r;
    r->f16 = std::move(*f16);
    r->q8 = std::move(*q8);
    std::ifstream in(ref_path);
    r->ref = nlohmann::json::parse(in);
    r->counts.assign(static_cast<size_t>(r->f16->tokenizer.vocab_size()), 0);
    for (const auto& d : r->ref["docs"])
      for (int32_t id : d["ids"].get<std::vector<int32_t>>()) ++r->counts[static_cast<size_t>(id)];
    r->freq = std::make_unique<analysis::TokenFrequency>(r->counts);
    return r;
  }();
  return s;
}

Doc compute(const Shared& sh, size_t index) {
  const auto& src = sh.ref["docs"][index];
  Doc d;
  d.ids = src["ids"].get<std::vector<int32_t>>();
  d.ref_logprob = src["reference"]["logprob"].get<std::vector<double>>();
  d.ref_entropy = src["reference"]["entropy"].get<std::vector<double>>();
  const std::string text = sh.f16->tokenizer.decode(d.ids);
  d.text_bytes = static_cast<int64_t>(text.size());
  d.zlib = zlib_bytes(text);

  ThreadPool pool(2);
  const Model& p = *sh.f16->model;
  const Model& q = *sh.q8->model;
  const int64_t V = p.config().n_vocab;
  const std::vector<SignalPair> pairs = {{&p, nullptr}, {&p, &q}};
  std::vector<analysis::PositionSignals> one, two;
  auto s = analyze_sequence(pairs, d.ids, {}, pool, [&](const AnalyzedPosition& a) {
    one.push_back(a.signals[0]);
    two.push_back(a.signals[1]);
  });
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  analysis::DocumentInputs in;
  in.text_bytes = d.text_bytes;
  in.zlib_bytes = d.zlib;
  in.frequency = sh.freq.get();
  in.min_k = kMinK;
  in.dc_pdd_bound = kBound;
  in.entropy_window = kWindow;
  auto a = analysis::score_document(one, in);
  auto b = analysis::score_document(two, in);
  EXPECT_TRUE(a.ok() && b.ok());
  if (a.ok()) d.one = *a;
  if (b.ok()) d.two = *b;

  // the slow path: every row's logits of each model from one forward call
  const int64_t n = static_cast<int64_t>(d.ids.size());
  std::vector<int64_t> rows;
  for (int64_t r = 0; r + 1 < n; ++r) rows.push_back(r);
  std::vector<float> lp(static_cast<size_t>((n - 1) * V)), lq(lp.size());
  KVCache cp(p.config(), n), cq(q.config(), n);
  EXPECT_TRUE(p.forward(d.ids.data(), n, cp, lp.data(), pool, rows).ok());
  EXPECT_TRUE(q.forward(d.ids.data(), n, cq, lq.data(), pool, rows).ok());
  d.slow.resize(static_cast<size_t>(n - 1));
  pool.parallel_for(n - 1, 1, [&](int64_t a0, int64_t a1, int) {
    for (int64_t r = a0; r < a1; ++r)
      d.slow[r] = slow_position(&lp[r * V], &lq[r * V], V, d.ids[static_cast<size_t>(r + 1)]);
  });
  return d;
}

// Test instance g covers document g; computed once per group for both tests.
class AnalyzerGolden : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    TS_REQUIRE_FIXTURE(ref, "reference/tiny-llama-spm.json");
    TS_REQUIRE_FIXTURE(f16, "models/tiny-llama-spm-F16.gguf");
    TS_REQUIRE_FIXTURE(q8, "models/tiny-llama-spm-Q8_0.gguf");
    const Shared* sh = shared();
    ASSERT_TRUE(sh->f16 && sh->q8);
    ASSERT_EQ(sh->ref["docs"].size(), 12u);
    freq_ = sh->freq.get();
    static std::map<int, std::vector<Doc>> cache;
    auto& docs = cache[GetParam()];
    if (docs.empty())
      for (int i = 0; i < kDocsPerGroup; ++i) docs.push_back(compute(*sh, static_cast<size_t>(GetParam() * kDocsPerGroup + i)));
    docs_ = &docs;
  }
  const std::vector<Doc>* docs_ = nullptr;
  const analysis::TokenFrequency* freq_ = nullptr;
};

TEST_P(AnalyzerGolden, LogprobScoresMatchTheFixtureReference) {
  for (size_t i = 0; i < docs_->size(); ++i) {
    SCOPED_TRACE("doc " + std::to_string(GetParam() * kDocsPerGroup + static_cast<int>(i)));
    const Doc& d = (*docs_)[i];
    const std::vector<double>& lp = d.ref_logprob;
    ASSERT_EQ(lp.size(), d.ids.size() - 1);
    const double n = static_cast<double>(lp.size());
    double sum = 0;
    for (double x : lp) sum += x;
    const analysis::DocumentScores& s = d.one;
    EXPECT_EQ(s.perplexity.tokens, static_cast<int64_t>(lp.size()));
    EXPECT_NEAR(s.log_likelihood, sum / n, 1e-4);                      // Gehrmann / Yeom: mean log p
    EXPECT_NEAR(s.perplexity.nll_sum, -sum, 1e-2);
    EXPECT_NEAR(s.perplexity.ppl, std::exp(-sum / n), 1e-4 * std::exp(-sum / n));
    EXPECT_NEAR(s.perplexity.bits_per_byte, -sum / std::log(2.0) / static_cast<double>(d.text_bytes), 1e-4);
    EXPECT_NEAR(s.min_k, mean_of_lowest_fraction(lp, kMinK), 1e-4);  // Min-K%: mean of the 20% lowest
    ASSERT_TRUE(s.zlib_ratio.has_value());                            // Carlini: NLL / zlib bytes
    EXPECT_NEAR(*s.zlib_ratio, (-sum / n) / static_cast<double>(d.zlib), 1e-7);
    // DC-PDD: first occurrences, min(p · −log f, a), f Laplace-smoothed over the twelve documents' counts
    std::set<int32_t> seen;
    double dc = 0;
    int64_t c = 0;
    const double total = static_cast<double>(freq_->total()), V = static_cast<double>(freq_->vocab_size());
    const std::vector<uint64_t>& count = shared()->counts;
    for (size_t t = 0; t < lp.size(); ++t) {
      const int32_t id = d.ids[t + 1];
      if (!seen.insert(id).second) continue;
      const double f = (static_cast<double>(count[static_cast<size_t>(id)]) + 1) / (total + V);
      dc += std::min(std::exp(lp[t]) * -std::log(f), kBound);
      ++c;
    }
    ASSERT_TRUE(s.dc_pdd.has_value());
    EXPECT_NEAR(*s.dc_pdd, dc / static_cast<double>(c), 1e-6);
    // Chow quantiles of p(x_t)
    std::vector<double> probs;
    for (double x : lp) probs.push_back(std::exp(x));
    ASSERT_EQ(s.chow_quantiles.size(), 11u);
    for (int a = 0; a <= 10; ++a) EXPECT_NEAR(s.chow_quantiles[a], linear_quantile(probs, a / 10.0), 1e-4) << a;
    // entropy from the fixture's own entropies: the mean, and the w = 8 span of highest mean entropy
    const std::vector<double>& h = d.ref_entropy;
    EXPECT_NEAR(s.mean_entropy, mean(h), 1e-4);
    double best = -1;
    size_t best_b = 0;
    for (size_t b = 0; b + kWindow <= h.size(); ++b) {
      const double m = mean(std::vector<double>(h.begin() + b, h.begin() + b + kWindow));
      if (m > best + 1e-12) best = m, best_b = b;
    }
    EXPECT_NEAR(s.highest_entropy_span.mean_entropy, best, 1e-4);
    EXPECT_EQ(s.highest_entropy_span.begin, static_cast<int64_t>(best_b));
    EXPECT_EQ(s.highest_entropy_span.end, static_cast<int64_t>(best_b + kWindow));
  }
}

TEST_P(AnalyzerGolden, FullDistributionScoresMatchTheScalarReference) {
  // The fused pass exponentiates in float-precision SIMD (tensor/vec_ops.h), the slow path in double: sums agree to
  // 1e-6 relative. Fast-DetectGPT's numerator is a difference of two sums of ~n nats, so its tolerance is that
  // relative error of the sums, divided by the denominator.
  constexpr double kRel = 1e-6;
  for (size_t i = 0; i < docs_->size(); ++i) {
    SCOPED_TRACE("doc " + std::to_string(GetParam() * kDocsPerGroup + static_cast<int>(i)));
    const Doc& d = (*docs_)[i];
    const double n = static_cast<double>(d.slow.size());
    double ll = 0, log_rank = 0, h = 0, var = 0, cross = 0, var_q = 0;
    std::vector<double> mkpp;
    for (const SlowPosition& p : d.slow) {
      ll += p.logprob;
      log_rank += p.log_rank;
      h += p.entropy;
      var += p.varentropy;
      cross += p.cross_qp;
      var_q += p.var_q_logp;
      mkpp.push_back((p.logprob + p.entropy) / std::sqrt(p.varentropy));  // Min-K%++: (log p − μ)/σ, μ = −H
    }
    for (const analysis::DocumentScores* s : {&d.one, &d.two}) {
      EXPECT_PRED3(near_rel, s->log_likelihood, ll / n, kRel);
      EXPECT_PRED3(near_rel, s->log_rank, -log_rank / n, kRel);        // GLTR log-rank
      EXPECT_PRED3(near_rel, s->lrr, -ll / log_rank, kRel);            // DetectLLM LRR
      EXPECT_PRED3(near_rel, s->mean_entropy, h / n, kRel);
      EXPECT_PRED3(near_rel, s->min_k_plus_plus, mean_of_lowest_fraction(mkpp, kMinK), kRel);
      // Fast-DetectGPT white-box, q = p: (LL − Σ μ_t) / sqrt(Σ s2_t), μ_t = −H_t, s2_t = varentropy
      const analysis::FastDetectGptTerms& wb = s->fast_detectgpt_white_box;
      EXPECT_PRED3(near_rel, wb.mean_sum, -h, kRel);
      EXPECT_PRED3(near_rel, wb.variance_sum, var, kRel);
      EXPECT_NEAR(wb.score, (ll + h) / std::sqrt(var), kRel * (std::fabs(ll) + h) / std::sqrt(var));
    }
    EXPECT_FALSE(d.one.fast_detectgpt_reference.has_value());
    EXPECT_FALSE(d.one.binoculars.has_value());
    // q = the Q8_0 file: μ_t = Σ q log p, s2_t = Var_q[log p]
    ASSERT_TRUE(d.two.fast_detectgpt_reference.has_value());
    const analysis::FastDetectGptTerms& fr = *d.two.fast_detectgpt_reference;
    EXPECT_PRED3(near_rel, fr.mean_sum, -cross, kRel);
    EXPECT_PRED3(near_rel, fr.variance_sum, var_q, kRel);
    EXPECT_NEAR(fr.score, (ll + cross) / std::sqrt(var_q), kRel * (std::fabs(ll) + cross) / std::sqrt(var_q));
    // Binoculars, observer Q8_0, performer F16: (−LL/n) / (Σ_t H(q_t, p_t) / n)
    ASSERT_TRUE(d.two.binoculars.has_value());
    EXPECT_PRED3(near_rel, d.two.binoculars->log_ppl, -ll / n, kRel);
    EXPECT_PRED3(near_rel, d.two.binoculars->x_ppl, cross / n, kRel);
    EXPECT_PRED3(near_rel, d.two.binoculars->score, (-ll / n) / (cross / n), kRel);
    // the two files are close but not the same model
    EXPECT_NE(fr.score, d.two.fast_detectgpt_white_box.score);
  }
}

INSTANTIATE_TEST_SUITE_P(TwelveDocuments, AnalyzerGolden, ::testing::Range(0, 12 / kDocsPerGroup));

}  // namespace
}  // namespace ts
