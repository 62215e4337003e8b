// The entropy-gated decoders' rules on hand-made distributions: entropix's state table, its per-state parameters and
// the best-of-n law; CNTP's trial count, stop tokens and choice of the lowest-perplexity segment; EAD's switching
// with a minimum stay and its catch-up on the full history. The loops run on scripted logits over the demo model's
// vocabulary (the model's weights are not used). Runs on the model itself are in decoders_model_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include "runtime/cntp.h"
#include "runtime/ead.h"
#include "runtime/engine.h"
#include "runtime/entropix.h"

namespace ts {
namespace {

using sampling::Candidates;

const std::string kDemo = std::string(TS_SOURCE_DIR) + "/models/tokenscope-demo.gguf";

Candidates dist(std::vector<float> p) {
  Candidates c;
  for (size_t i = 0; i < p.size(); ++i) c.data.push_back({static_cast<int32_t>(i), std::log(p[i]), p[i]});
  sampling::softmax(c);
  return c;
}

// ---- entropix: pure rules ----

TEST(Entropix, StateTableFollowsTheReferenceDecisionOrder) {
  const EntropixOptions o;  // 0.1, 0.1, 3, 5, 5
  EXPECT_EQ(entropix_state(0.05, 0.05, o), EntropixState::kFlowing);
  EXPECT_EQ(entropix_state(6.0, 0.05, o), EntropixState::kTreading);
  EXPECT_EQ(entropix_state(1.0, 6.0, o), EntropixState::kForks);
  EXPECT_EQ(entropix_state(4.9, 6.0, o), EntropixState::kForks);     // H < 5 wins before the mist test
  EXPECT_EQ(entropix_state(5.5, 6.0, o), EntropixState::kMist);
  EXPECT_EQ(entropix_state(5.0, 6.0, o), EntropixState::kMist);      // H = 5: not < 5, but > 3
  EXPECT_EQ(entropix_state(2.0, 0.0, o), EntropixState::kAdaptive);  // V < 0.1 but H between the thresholds
  EXPECT_EQ(entropix_state(0.05, 3.0, o), EntropixState::kAdaptive);
  EXPECT_EQ(entropix_state(5.0, 0.05, o), EntropixState::kAdaptive);  // H = 5 is not > 5
  EXPECT_EQ(entropix_state(6.0, 5.0, o), EntropixState::kAdaptive);   // V = 5 is not > 5
}

TEST(Entropix, ActionsUseTheReferenceFormulasWithAttentionTermsZero) {
  const EntropixOptions o;  // T .666, P .9, k 27, m .03
  EntropixAction a = entropix_action(0.05, 0.05, 1, o);
  EXPECT_TRUE(a.argmax);
  a = entropix_action(6, 0, 1, o);  // no clarify token configured: T' = min(1.5, .666·1.3)
  EXPECT_FALSE(a.insert);
  EXPECT_NEAR(a.temp, 0.8658, 1e-12);
  EXPECT_EQ(a.top_k, 27);
  a = entropix_action(1, 6, 1, o);  // T' = min(1.5, .666·1.2), k' = max(5, ⌊27·1.5⌋) = 40
  EXPECT_NEAR(a.temp, 0.7992, 1e-12);
  EXPECT_EQ(a.top_k, 40);
  a = entropix_action(6, 6, 1, o);  // T' = max(2, .666·2) = 2, P' = max(.5, .9)
  EXPECT_DOUBLE_EQ(a.temp, 2.0);
  EXPECT_DOUBLE_EQ(a.top_p, 0.9);
  a = entropix_action(2, 0, 1, o);  // T' = .666·(1 + .3·2), m' = clip(.03·(1 − 1), .01, .5) = .01
  EXPECT_EQ(a.state, EntropixState::kAdaptive);
  EXPECT_NEAR(a.temp, 1.0656, 1e-12);
  EXPECT_NEAR(a.min_p, 0.01, 1e-15);
  EXPECT_EQ(a.top_k, 27);
  EXPECT_EQ(a.n_samples, 5);
  a = entropix_action(0.5, 0.3, 1, o);  // m' = .03·(1 − .4) = .018
  EXPECT_NEAR(a.min_p, 0.018, 1e-12);
  EXPECT_NEAR(a.temp, 0.666 * 1.24, 1e-12);
}

TEST(Entropix, ActionsWithAttentionStatisticsFollowTheFullFormulas) {
  const EntropixOptions o;
  EntropixAttention at;
  at.entropy = 1.0, at.varentropy = 0.5, at.agreement = 0.2, at.interaction = 0.4;
  EntropixAction a = entropix_action(6, 0, 1, o, at);  // min(1.5, .666·(1.3 + .2))
  EXPECT_NEAR(a.temp, 0.999, 1e-12);
  a = entropix_action(1, 6, 1, o, at);  // min(1.5, .666·1.32); max(5, ⌊27·1.4⌋) = 37
  EXPECT_NEAR(a.temp, 0.87912, 1e-12);
  EXPECT_EQ(a.top_k, 37);
  a = entropix_action(6, 6, 1, o, at);  // max(2, .666·2.25) = 2; max(.5, .9 − .2) = .7
  EXPECT_DOUBLE_EQ(a.temp, 2.0);
  EXPECT_NEAR(a.top_p, 0.7, 1e-12);
  a = entropix_action(2, 0, 1, o, at);
  // T' = .666·(1 + .6 + .3 − .04); P' = clip(.9·1.05); k' = round(27·(1 + .12 − .04)) = round(29.16) = 29
  EXPECT_NEAR(a.temp, 0.666 * 1.86, 1e-12);
  EXPECT_NEAR(a.top_p, 0.945, 1e-12);
  EXPECT_EQ(a.top_k, 29);
}

TEST(Entropix, TreadingInsertsTheClarifyTokenOnceThenRaisesTheTemperature) {
  EntropixOptions o;
  o.clarify_token = 42;
  EXPECT_TRUE(entropix_action(6, 0, 7, o).insert);
  const EntropixAction again = entropix_action(6, 0, 42, o);
  EXPECT_FALSE(again.insert);
  EXPECT_NEAR(again.temp, 0.8658, 1e-12);
}

TEST(Entropix, BestOfNIsTheLawOfTheMostProbableOfNDraws) {
  // q = (.5 .3 .2), n = 2: tails 1, .5, .2 → 1 − .25 = .75, .25 − .04 = .21, .04
  Candidates q = dist({0.5f, 0.3f, 0.2f});
  best_of_n(q, 2);
  ASSERT_EQ(q.size(), 3u);
  EXPECT_NEAR(sampling::prob_of(q, 0), 0.75, 1e-6);
  EXPECT_NEAR(sampling::prob_of(q, 1), 0.21, 1e-6);
  EXPECT_NEAR(sampling::prob_of(q, 2), 0.04, 1e-6);
  Candidates same = dist({0.5f, 0.3f, 0.2f});
  best_of_n(same, 1);
  EXPECT_NEAR(sampling::prob_of(same, 1), 0.3, 1e-6);
  // the law against n real draws, each keeping the more probable token
  Candidates q2 = dist({0.5f, 0.3f, 0.2f});
  sampling::Rng rng(5);
  std::map<int32_t, int> count;
  const int n = 40000;
  for (int i = 0; i < n; ++i) {
    int32_t best = 99;
    for (int k = 0; k < 2; ++k) best = std::min(best, sampling::sample_inverse_cdf(q2, rng));  // lower id = more probable
    ++count[best];
  }
  EXPECT_NEAR(count[0] / double(n), 0.75, 0.01);
  EXPECT_NEAR(count[2] / double(n), 0.04, 0.005);
}

TEST(Entropix, DistributionTempersThenTruncatesWithMinPTopKTopP) {
  EntropixAction a;
  a.temp = 0.5;   // p ∝ p²: .25 .0625 .0225 .01 → .7246 .1812 .0652 .0290
  a.min_p = 0.2;  // keeps p ≥ .2·.7246: the first two
  a.top_k = 27;
  a.top_p = 0.9;  // renormalised (.8, .2): cumulative .8 < .9, so both stay
  const Candidates c = entropix_distribution(dist({0.5f, 0.25f, 0.15f, 0.1f}), a);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_NEAR(sampling::prob_of(c, 0), 0.8, 1e-6);
  EXPECT_NEAR(sampling::prob_of(c, 1), 0.2, 1e-6);
  a.temp = 1;
  a.min_p = 0;
  a.top_k = 3;    // .5 .25 .15 → /.9
  a.top_p = 0.8;  // .5556, .8333 ≥ .8: two kept, the most probable ones
  const Candidates d = entropix_distribution(dist({0.5f, 0.25f, 0.15f, 0.1f}), a);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_NEAR(sampling::prob_of(d, 0), 2.0 / 3, 1e-6);
}

// ---- CNTP and EAD: pure rules ----

TEST(Cntp, TrialCountScalesWithEntropyAndTruncates) {
  const CntpOptions o;  // 0.01, 1.5, 10
  EXPECT_EQ(cntp_trials(0.0, o), 1);
  EXPECT_EQ(cntp_trials(0.01, o), 1);
  EXPECT_EQ(cntp_trials(0.755, o), 5);   // 1 + 9·0.5 = 5.5 → 5
  EXPECT_EQ(cntp_trials(std::log(2.0), o), 5);  // 1 + 9·(0.6831/1.49) = 5.13
  EXPECT_EQ(cntp_trials(1.5, o), 10);
  EXPECT_EQ(cntp_trials(7.0, o), 10);
  CntpOptions one;
  one.max_trials = 1;
  EXPECT_EQ(cntp_trials(7.0, one), 1);
}

TEST(Cntp, StopTokensAreLonePunctuationWithOptionalLeadingSpaces) {
  const CntpOptions o;
  for (const char* s : {".", ",", "\n", "?", "!", ":", ";", ")", "]", "}", " .", "  ,"}) EXPECT_TRUE(cntp_is_stop(s, o)) << s;
  for (const char* s : {"a", "a.", "..", ".\n", " ", "", "\n\n", "(", " the"}) EXPECT_FALSE(cntp_is_stop(s, o)) << s;
  EXPECT_DOUBLE_EQ(segment_perplexity({std::log(0.5), 0.0}), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(segment_perplexity({}), 1.0);
}

TEST(Ead, SwitchesUpOnTheWindowMeanAndStaysAtLeastMinStay) {
  EadOptions o;
  o.threshold = 1.0;
  o.window = 2;
  o.min_stay = 3;
  auto producers = [](EadOptions opt, const std::vector<double>& h) {
    EadSwitch sw(opt);
    std::string s;
    for (double x : h) {
      s += sw.current() == EadModel::kLarge ? 'L' : 'S';
      sw.observe(x);
    }
    return s;
  };
  // means after each step: 0 0 2 2 0 0 0 0 → up after step 2; the mean is ≤ 1 after step 4, but the large model has
  // produced only 2 tokens then, so it hands back after step 5
  const std::vector<double> h = {0, 0, 4, 0, 0, 0, 0, 0};
  EXPECT_EQ(producers(o, h), "SSSLLLSS");
  o.min_stay = 1;
  EXPECT_EQ(producers(o, h), "SSSLLSSS");
  o.threshold = INFINITY;
  EXPECT_EQ(producers(o, h), "SSSSSSSS");
  o.threshold = -INFINITY;
  o.min_stay = 0;
  EXPECT_EQ(producers(o, h), "SLLLLLLL");
}

// ---- the loops on scripted logits ----

// Logits by prefix from a function; records every request.
class ScriptedOracle : public LogitOracle {
 public:
  using Row = std::function<std::vector<float>(const std::vector<int32_t>& prefix)>;
  ScriptedOracle(int64_t n_vocab, Row row) : V_(n_vocab), row_(std::move(row)) {}
  Status logits_after(std::span<const int32_t> tokens, int64_t from, std::vector<float>& out) override {
    const int64_t n = static_cast<int64_t>(tokens.size());
    requests.push_back({n, from});
    out.clear();
    for (int64_t j = from; j < n; ++j) {
      std::vector<float> r = row_(std::vector<int32_t>(tokens.begin(), tokens.begin() + j + 1));
      EXPECT_EQ(static_cast<int64_t>(r.size()), V_);
      out.insert(out.end(), r.begin(), r.end());
    }
    return ok_status();
  }
  std::vector<std::pair<int64_t, int64_t>> requests;  // (tokens, from)

 private:
  int64_t V_;
  Row row_;
};

constexpr float kOff = -1e4f;  // exp underflows to 0: the token is out of the distribution

// Logits with log p for the listed ids and kOff elsewhere; `rest` spreads over every other id.
std::vector<float> logits_of(int64_t V, const std::map<int32_t, double>& p, double rest = 0) {
  std::vector<float> z(static_cast<size_t>(V), rest > 0 ? static_cast<float>(std::log(rest / (V - p.size()))) : kOff);
  for (const auto& [id, q] : p) z[id] = static_cast<float>(std::log(q));
  return z;
}
std::vector<float> uniform_over(int64_t V, int32_t first, int n) {
  std::map<int32_t, double> p;
  for (int i = 0; i < n; ++i) p[first + i] = 1.0 / n;
  return logits_of(V, p);
}

class DecoderLoops : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!std::filesystem::exists(kDemo)) return;
    auto e = Engine::load(kDemo);
    ASSERT_TRUE(e.ok()) << e.error().message;
    engine_ = std::move(*e).release();
  }
  static void TearDownTestSuite() {
    delete engine_;
    engine_ = nullptr;
  }
  void SetUp() override {
    if (!engine_) GTEST_SKIP() << "no bundled demo model at " << kDemo;
    V = engine_->model->config().n_vocab;
  }
  int32_t token_with_bytes(const std::string& bytes) const {
    for (int32_t id = 0; id < engine_->tokenizer.vocab_size(); ++id)
      if (engine_->tokenizer.token_bytes(id) == bytes) return id;
    ADD_FAILURE() << "no token '" << bytes << "' in the demo vocabulary";
    return 0;
  }
  static Engine* engine_;
  int64_t V = 0;
  const std::vector<int32_t> prompt = {1, 2, 3};
};
Engine* DecoderLoops::engine_ = nullptr;

TEST_F(DecoderLoops, EntropixPicksTheStatePerStepAndRecordsWhatItDrewFrom) {
  const int32_t kA = 500, kClarify = 42;
  const size_t P = prompt.size();
  ScriptedOracle o(V, [&](const std::vector<int32_t>& pre) -> std::vector<float> {
    switch (pre.size() - P) {
      case 0: { std::vector<float> z(V, 0.0f); z[kA] = 20; return z; }  // H ≈ 5e-4 bits: flowing
      case 1: case 2: return uniform_over(V, 1000, 64);                   // H = 6, V = 0: treading
      case 3: return logits_of(V, {{700, 0.9}}, 0.1);                       // H 1.77, V 23.5: forks
      case 4: return logits_of(V, {{700, 0.3}}, 0.7);                       // H 9.98, V 29: mist
      default: return uniform_over(V, 2000, 4);                             // H = 2, V = 0: adaptive
    }
  });
  EntropixOptions eo;
  eo.clarify_token = kClarify;
  GenerateOptions go;
  go.n_new = 6;
  go.top_k = 4;
  go.ignore_eos = true;
  sampling::Chain chain;
  sampling::Rng rng(3);
  std::vector<EntropixStep> steps;
  std::vector<GenToken> toks;
  auto r = entropix_loop(*engine_, o, prompt, chain, rng, go, eo, [&](const GenToken& t) { toks.push_back(t); },
                         [&](const EntropixStep& s) { steps.push_back(s); });
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(toks.size(), 6u);
  ASSERT_EQ(steps.size(), 6u);
  const EntropixState want[] = {EntropixState::kFlowing, EntropixState::kTreading, EntropixState::kTreading,
                                EntropixState::kForks,   EntropixState::kMist,     EntropixState::kAdaptive};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(steps[i].action.state, want[i]) << i;
  EXPECT_NEAR(steps[1].entropy_bits, 6.0, 1e-4);
  EXPECT_NEAR(steps[1].varentropy_bits, 0.0, 1e-4);
  EXPECT_NEAR(steps[3].entropy_bits, 1.77, 0.01);
  EXPECT_EQ(toks[0].id, kA);  // argmax
  EXPECT_EQ(toks[1].id, kClarify);  // inserted
  EXPECT_EQ(toks[1].kept, 1);
  EXPECT_DOUBLE_EQ(toks[1].processed_logprob, 0.0);
  // treading after the clarify token: T' .8658, then top_k 27 of 64 tied tokens (lowest ids), top_p .9 → 25 of them
  EXPECT_FALSE(steps[2].action.insert);
  EXPECT_EQ(toks[2].kept, 25);
  EXPECT_GE(toks[2].id, 1000);
  EXPECT_LT(toks[2].id, 1025);
  // forks and mist: min-p (.03 of the best, after temperature) leaves only the 0.9 / 0.3 token
  EXPECT_EQ(toks[3].kept, 1);
  EXPECT_EQ(toks[3].id, 700);
  EXPECT_EQ(toks[4].kept, 1);
  // adaptive: best of 5 over 4 equal tokens: 1 − .75⁵, .75⁵ − .5⁵, .5⁵ − .25⁵, .25⁵
  ASSERT_EQ(toks[5].processed_top.size(), 4u);
  const double law[] = {1 - std::pow(0.75, 5), std::pow(0.75, 5) - std::pow(0.5, 5),
                        std::pow(0.5, 5) - std::pow(0.25, 5), std::pow(0.25, 5)};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(toks[5].processed_top[i].id, 2000 + i);
    EXPECT_NEAR(std::exp(toks[5].processed_top[i].logprob), law[i], 1e-6);
  }
  EXPECT_EQ(r->per_state[static_cast<int>(EntropixState::kTreading)], 2);
  EXPECT_EQ(r->inserted, 1);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(toks[i].index, i);
}

TEST_F(DecoderLoops, CntpCommitsTheLowestPerplexitySegment) {
  // after the prompt: {A, B} equally likely (H = ln 2 → 5 trials); A → "." surely; B → {C, D} → "." surely;
  // after "." the end of text. Segments: A . (PPL √2) and B C . / B D . (PPL 2^(2/3)).
  const int32_t kA = 300, kB = 301, kC = 302, kD = 303;
  const int32_t kDot = token_with_bytes(".");
  const int32_t kEos = engine_->tokenizer.eos_id();
  for (int32_t id : {kA, kB, kC, kD}) ASSERT_FALSE(cntp_is_stop(engine_->tokenizer.token_bytes(id), CntpOptions{}));
  const size_t P = prompt.size();
  ScriptedOracle o(V, [&](const std::vector<int32_t>& pre) -> std::vector<float> {
    if (pre.size() == P) return logits_of(V, {{kA, 0.5}, {kB, 0.5}});
    const int32_t last = pre.back();
    if (last == kA || last == kC || last == kD) return logits_of(V, {{kDot, 1.0}});
    if (last == kB) return logits_of(V, {{kC, 0.5}, {kD, 0.5}});
    return logits_of(V, {{kEos, 1.0}});
  });
  bool saw_both = false;
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    GenerateOptions go;
    go.n_new = 10;
    go.top_k = 2;
    sampling::Chain chain;
    sampling::Rng rng(seed);
    std::vector<CntpStep> steps;
    std::vector<int32_t> out;
    auto r = cntp_loop(*engine_, o, prompt, chain, rng, go, CntpOptions{}, [&](const GenToken& t) { out.push_back(t.id); },
                       [&](const CntpStep& s) { steps.push_back(s); });
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(steps.size(), 2u) << seed;  // the branched step, then the end of text in one ordinary step
    const CntpStep& s = steps[0];
    EXPECT_NEAR(s.entropy, std::log(2.0), 1e-6);
    ASSERT_EQ(s.trials, 5);
    ASSERT_EQ(s.segments.size(), 5u);
    bool any_a = false, any_b = false;
    for (size_t i = 0; i < s.segments.size(); ++i) {
      const auto& seg = s.segments[i];
      if (seg.front() == kA) {
        any_a = true;
        EXPECT_EQ(seg, (std::vector<int32_t>{kA, kDot}));
        EXPECT_NEAR(s.perplexities[i], std::sqrt(2.0), 1e-6);
      } else {
        any_b = true;
        ASSERT_EQ(seg.size(), 3u);
        EXPECT_EQ(seg.back(), kDot);
        EXPECT_NEAR(s.perplexities[i], std::pow(2.0, 2.0 / 3), 1e-6);
      }
    }
    saw_both |= any_a && any_b;
    // the chosen segment is the first one with the lowest perplexity
    size_t best = 0;
    for (size_t i = 1; i < s.perplexities.size(); ++i)
      if (s.perplexities[i] < s.perplexities[best]) best = i;
    EXPECT_EQ(s.chosen, static_cast<int>(best));
    std::vector<int32_t> want = s.segments[best];
    want.push_back(kEos);
    EXPECT_EQ(out, want) << seed;
    EXPECT_EQ(steps[1].trials, 1);
    EXPECT_EQ(r->stop, "eos");
    EXPECT_EQ(r->branched_steps, 1);
    EXPECT_EQ(r->rollouts, 5);
  }
  EXPECT_TRUE(saw_both) << "no seed drew both kinds of segment";
}

TEST_F(DecoderLoops, CntpRolloutsStopAtTheSegmentCapAndTheTokenBudget) {
  ScriptedOracle o(V, [&](const std::vector<int32_t>&) { return uniform_over(V, 400, 8); });
  for (int32_t id = 400; id < 408; ++id) ASSERT_FALSE(cntp_is_stop(engine_->tokenizer.token_bytes(id), CntpOptions{}));
  for (int cap : {0, 3}) {
    GenerateOptions go;
    go.n_new = 7;
    go.top_k = 0;
    go.ignore_eos = true;
    CntpOptions co;
    co.max_segment = cap;
    sampling::Chain chain;
    sampling::Rng rng(9);
    std::vector<CntpStep> steps;
    int64_t emitted = 0;
    auto r = cntp_loop(*engine_, o, prompt, chain, rng, go, co, [&](const GenToken& t) { EXPECT_EQ(t.index, emitted++); },
                       [&](const CntpStep& s) { steps.push_back(s); });
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->generated, 7);
    EXPECT_EQ(emitted, 7);
    // H = ln 8 → 10 trials; without a cap each rollout runs to the budget of 7 tokens, with cap 3 the segments are
    // 3, 3 and then the 1 token left
    const std::vector<size_t> lens = cap == 0 ? std::vector<size_t>{7} : std::vector<size_t>{3, 3, 1};
    ASSERT_EQ(steps.size(), lens.size()) << cap;
    for (size_t i = 0; i < lens.size(); ++i) {
      EXPECT_EQ(steps[i].trials, 10);
      for (const auto& seg : steps[i].segments) EXPECT_EQ(seg.size(), lens[i]) << cap;
    }
  }
}

TEST_F(DecoderLoops, EadSwitchesModelsAndTheNewModelSeesTheWholeHistory) {
  // small: uniform over 8 tokens (3 bits); large: always token 77 (0 bits). τ 2, w 5, min stay 5:
  // S(3) → mean 3 → L; L ×5 (means 1.5 1 .75 .6 0) → S; S ×4 (means .6 1.2 1.8 2.4) → L ...
  const int32_t kLarge = 77;
  ScriptedOracle small(V, [&](const std::vector<int32_t>&) { return uniform_over(V, 100, 8); });
  ScriptedOracle large(V, [&](const std::vector<int32_t>&) { return logits_of(V, {{kLarge, 1.0}}); });
  GenerateOptions go;
  go.n_new = 12;
  go.top_k = 0;
  go.ignore_eos = true;
  sampling::Chain chain;
  sampling::Rng rng(4);
  std::string producers;
  std::vector<int32_t> out;
  std::vector<EadStep> steps;
  auto r = ead_loop(*engine_, large, small, prompt, chain, rng, go, EadOptions{},
                    [&](const GenToken& t) { out.push_back(t.id); },
                    [&](const EadStep& s) {
                      producers += s.model == EadModel::kLarge ? 'L' : 'S';
                      steps.push_back(s);
                    });
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(producers, "SLLLLLSSSSLL");
  for (size_t i = 0; i < out.size(); ++i) {
    if (producers[i] == 'L') {
      EXPECT_EQ(out[i], kLarge) << i;
      EXPECT_NEAR(steps[i].entropy_bits, 0.0, 1e-6);
    } else {
      EXPECT_TRUE(out[i] >= 100 && out[i] < 108) << i;
      EXPECT_NEAR(steps[i].entropy_bits, 3.0, 1e-5);
    }
  }
  EXPECT_NEAR(steps[4].mean_bits, 0.6, 1e-6);
  EXPECT_EQ(r->large_tokens, 7);
  EXPECT_EQ(r->switches, 3);
  EXPECT_NEAR(r->large_fraction(), 7.0 / 12, 1e-12);
  // every request carries the full history and asks for its last row only: the oracle catches up on the rest
  const int64_t P = static_cast<int64_t>(prompt.size());
  ASSERT_EQ(large.requests.size(), 7u);
  EXPECT_EQ(large.requests[0], (std::pair<int64_t, int64_t>{P + 1, P}));  // after the small model's first token
  EXPECT_EQ(small.requests[1], (std::pair<int64_t, int64_t>{P + 6, P + 5}));  // back after 5 large tokens
}

}  // namespace
}  // namespace ts
