// Tree speculative decoding is lossless: the multi-step rule on hand-made distributions, Token Recycling's table
// and template, the tree oracle against plain forwards, greedy and seeded outputs identical to plain generation,
// and χ² tests (α = 0.001, 10⁵ samples) that the first three tokens of DySpec (demo model target, its Q4_0 copy as
// stochastic draft) and Token Recycling generation are distributed as plain sampling.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <thread>

#include "demo_pair.h"
#include "model/requantize.h"
#include "runtime/engine.h"
#include "runtime/generate.h"
#include "runtime/generator.h"
#include "runtime/speculative.h"
#include "runtime/tree_speculative.h"

namespace ts {
namespace {

using test::chi2;
using test::Chi2;
using test::dist;

using sampling::Candidates;


TEST(TreeVerify, MultiStepRuleWithoutReplacementEmitsTheTargetDistribution) {
  // p = (.6 .2 .2 0), q = (.1 .1 .1 .7); two children drawn from q without replacement. The rule emits p, and once
  // every child is rejected the residual is 0 on each of them. (Verifying the second child against the original q,
  // as for children drawn with replacement, would emit (1/3, 1/3, 1/3) here: the first child is token 3 most of the
  // time, always rejected.)
  const Candidates p = dist({0.6f, 0.2f, 0.2f, 0.0f}), q = dist({0.1f, 0.1f, 0.1f, 0.7f});
  sampling::Rng rng(7), draw(8);
  std::map<std::vector<int32_t>, int64_t> obs;
  const int64_t n = 100000;
  int64_t second_child_accepted = 0;
  for (int64_t i = 0; i < n; ++i) {
    std::vector<int32_t> kids;
    std::vector<float> w = {0.1f, 0.1f, 0.1f, 0.7f};
    for (int k = 0; k < 2; ++k) {
      double total = 0;
      for (float x : w) total += x;
      const double u = draw.uniform() * total;
      double acc = 0;
      int32_t pick = 3;
      for (int32_t t = 0; t < 4; ++t) {
        acc += w[static_cast<size_t>(t)];
        if (w[static_cast<size_t>(t)] > 0 && u < acc) {
          pick = t;
          break;
        }
      }
      kids.push_back(pick);
      w[static_cast<size_t>(pick)] = 0;
    }
    const NodeVerdict v = verify_children_with_q(p, q, kids, rng);
    if (v.child >= 0) {
      EXPECT_EQ(v.token, kids[static_cast<size_t>(v.child)]);
    } else {
      EXPECT_NE(v.token, kids[0]);
      EXPECT_NE(v.token, kids[1]);
    }
    second_child_accepted += v.child == 1;
    ++obs[{v.token}];
  }
  const Chi2 c = chi2({{{0}, 0.6}, {{1}, 0.2}, {{2}, 0.2}}, obs, n);
  EXPECT_GT(c.p, 0.001) << "chi2 " << c.stat << " dof " << c.dof;
  EXPECT_EQ(obs.count({3}), 0u);           // p(3) = 0: never emitted, though q drafts it
  EXPECT_GT(second_child_accepted, n / 20);  // the second child is really tried
}

TEST(TreeVerify, DeterministicChildrenDescendIntoTheSampledToken) {
  const Candidates p = dist({0.0f, 1.0f, 0.0f});
  auto chain = sampling::Chain::parse("dist");
  ASSERT_TRUE(chain.ok());
  sampling::Rng rng(3);
  const std::vector<int32_t> has = {2, 1}, lacks = {0, 2};
  EXPECT_EQ(verify_children_one_hot(p, has, *chain, rng).child, 1);
  const NodeVerdict v = verify_children_one_hot(p, lacks, *chain, rng);
  EXPECT_EQ(v.child, -1);
  EXPECT_EQ(v.token, 1);
}

TEST(TokenRecycling, TableKeepsTheLatestTopKAndTheTreeFollowsTheTemplate) {
  RecycleTable table(10, 3);
  EXPECT_EQ(table.successors(4)[0], -1);
  //                      0  1  2  3  4  5  6  7  8  9
  const float a[10] = {0, 1, 5, 9, 2, 9, 0, 7, 0, 0};  // ties 3 = 5 at 9: the lower id first
  const float b[10] = {9, 0, 0, 0, 0, 0, 0, 0, 8, 7};
  const float c[10] = {0, 0, 0, 0, 0, 0, 1, 0, 0, 0};
  table.update(4, a);
  table.update(3, b);
  table.update(3, c);  // the latest row replaces the earlier one
  EXPECT_EQ(std::vector<int32_t>(table.successors(4).begin(), table.successors(4).end()),
            (std::vector<int32_t>{3, 5, 7}));
  EXPECT_EQ(table.successors(3)[0], 6);
  table.update(5, b);
  // root 4 → {3, 5} (breadth 2); then one child each: 3 → 6, 5 → 0; depth 2 ends it
  const std::vector<int> breadth = {2, 1, 1};
  const DraftTree t = recycle_tree(table, 4, breadth, 2, 16);
  EXPECT_EQ(t.tokens, (std::vector<int32_t>{3, 5, 6, 0}));
  EXPECT_EQ(t.parents, (std::vector<int32_t>{-1, -1, 0, 1}));
  EXPECT_TRUE(t.q.empty());
  EXPECT_EQ(recycle_tree(table, 4, breadth, 2, 3).size(), 3);  // the node budget
  EXPECT_EQ(recycle_tree(table, 9, breadth, 2, 16).size(), 0);  // a token never seen drafts nothing
}

class TreeSpeculativeModel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (const test::DemoPair* p = test::demo_pair()) target_ = p->target.get(), draft_ = p->draft.get();
  }
  void SetUp() override {
    if (!target_) GTEST_SKIP() << "no bundled demo model at " << test::demo_model_path();
  }
  std::vector<int32_t> prompt(const std::string& text) const { return target_->tokenizer.encode(text).ids; }

  static Engine* target_;
  static Engine* draft_;
};
Engine* TreeSpeculativeModel::target_ = nullptr;
Engine* TreeSpeculativeModel::draft_ = nullptr;

std::vector<int32_t> run(const Engine& e, const std::vector<int32_t>& prompt, const std::string& chain_spec,
                         uint64_t seed, int64_t n, const TreeSpecOptions* spec, GenerateSummary* summary = nullptr) {
  auto chain = sampling::Chain::parse(chain_spec);
  EXPECT_TRUE(chain.ok());
  sampling::Rng rng(seed);
  ThreadPool pool(1);
  GenerateOptions go;
  go.n_new = n;
  go.top_k = 0;
  go.ignore_eos = true;
  std::vector<int32_t> out;
  auto sink = [&](const GenToken& t) { out.push_back(t.id); };
  auto s = spec ? generate_tree_speculative(e, prompt, *chain, rng, go, *spec, pool, sink)
                : generate(e, prompt, *chain, rng, go, pool, sink);
  EXPECT_TRUE(s.ok()) << s.error().message;
  if (summary && s.ok()) *summary = *s;
  return out;
}

TEST_F(TreeSpeculativeModel, GreedyTreeSpeculativeEqualsGreedyPlainTokenForToken) {
  for (const char* text : {"And it came to pass", "The Lord said unto Moses,", "hacker: n. A person who"}) {
    const auto ids = prompt(text);
    const auto plain = run(*target_, ids, "greedy", 0, 64, nullptr);
    ASSERT_EQ(plain.size(), 64u);
    TreeSpecOptions dyspec;  // stochastic draft against a greedy target: p is one-hot
    dyspec.draft = draft_;
    TreeSpecOptions dyspec_greedy = dyspec;
    dyspec_greedy.greedy_draft = true;
    TreeSpecOptions recycle;
    recycle.drafter = TreeDrafter::kRecycle;
    for (const auto* spec : {&dyspec, &dyspec_greedy, &recycle}) {
      GenerateSummary s;
      EXPECT_EQ(run(*target_, ids, "greedy", 0, 64, spec, &s), plain) << text;
      EXPECT_GT(s.accepted, 0) << text;
      EXPECT_LT(s.target_passes, 64) << text;
      EXPECT_EQ(s.generated, 64) << text;
    }
  }
}

TEST_F(TreeSpeculativeModel, DeterministicTreesReplayPlainSeededSampling) {
  // deterministic children consume the random stream exactly as plain generation does (tree_speculative.h)
  const auto ids = prompt("And it came to pass");
  for (uint64_t seed : {1u, 2u, 3u}) {
    const auto plain = run(*target_, ids, "default", seed, 48, nullptr);
    TreeSpecOptions dyspec_greedy;
    dyspec_greedy.draft = draft_;
    dyspec_greedy.greedy_draft = true;
    EXPECT_EQ(run(*target_, ids, "default", seed, 48, &dyspec_greedy), plain) << seed;
    TreeSpecOptions recycle;
    recycle.drafter = TreeDrafter::kRecycle;
    EXPECT_EQ(run(*target_, ids, "default", seed, 48, &recycle), plain) << seed;
  }
}

TEST_F(TreeSpeculativeModel, ARecyclingTableKeptAcrossGenerationsDraftsFromTheFirstRound) {
  const auto ids = prompt("And it came to pass");
  RecycleTable table(target_->model->config().n_vocab, 8);
  TreeSpecOptions recycle;
  recycle.drafter = TreeDrafter::kRecycle;
  recycle.table = &table;
  GenerateSummary cold, hot;
  const auto first = run(*target_, ids, "greedy", 0, 1, &recycle, &cold);
  EXPECT_EQ(cold.drafted, 0);  // n_new = 1: nothing to draft, but the pass fills the table
  const auto again = run(*target_, ids, "greedy", 0, 2, &recycle, &hot);
  EXPECT_GT(hot.drafted, 0);
  EXPECT_EQ(again[0], first[0]);
}

// Logits by prefix, computed once: the forward is a function of the prefix, so caching it changes nothing but time.
class MemoTreeOracle : public TreeLogitOracle {
 public:
  MemoTreeOracle(const Model& m, ThreadPool& pool) : inner_(m, m.config().n_ctx_train, pool), V_(m.config().n_vocab) {}
  Status tree_logits(std::span<const int32_t> history, std::span<const int32_t> tokens,
                     std::span<const int32_t> parents, std::span<const int32_t> rows,
                     std::vector<float>& out) override {
    out.resize(rows.size() * static_cast<size_t>(V_));
    for (size_t k = 0; k < rows.size(); ++k) {
      std::vector<int32_t> path;
      for (int32_t a = rows[k]; a >= 0; a = parents[static_cast<size_t>(a)])
        path.push_back(tokens[static_cast<size_t>(a)]);
      std::vector<int32_t> prefix(history.begin(), history.end());
      prefix.insert(prefix.end(), path.rbegin(), path.rend());
      const std::vector<float>& row = get(prefix);
      std::copy(row.begin(), row.end(), out.begin() + static_cast<std::ptrdiff_t>(k) * V_);
    }
    return ok_status();
  }
  const std::vector<float>& get(const std::vector<int32_t>& prefix) {
    auto it = memo_.find(prefix);
    if (it != memo_.end()) return it->second;
    std::vector<float> z;
    EXPECT_TRUE(inner_.logits_after(prefix, static_cast<int64_t>(prefix.size()) - 1, z).ok());
    return memo_.emplace(prefix, std::move(z)).first->second;
  }

 private:
  ModelOracle inner_;
  int64_t V_;
  std::map<std::vector<int32_t>, std::vector<float>> memo_;
};

// Exact joint distribution of the first `depth` tokens under plain sampling from the chain.
void exact_joint(const Engine& e, MemoTreeOracle& o, sampling::Chain& chain, std::vector<int32_t> prefix, double p,
                 int depth, std::vector<int32_t>& path, std::map<std::vector<int32_t>, double>& out) {
  if (depth == 0) {
    out[path] += p;
    return;
  }
  const auto& z = o.get(prefix);
  const Candidates c = chain.apply(z.data(), e.model->config().n_vocab, chain_context(e, prefix, nullptr));
  for (const auto& cand : c.data) {
    if (cand.p <= 0) continue;
    prefix.push_back(cand.id);
    path.push_back(cand.id);
    exact_joint(e, o, chain, prefix, p * cand.p, depth - 1, path, out);
    prefix.pop_back();
    path.pop_back();
  }
}

TEST_F(TreeSpeculativeModel, ModelTreeOracleMatchesPlainForwardsAndReusesItsCache) {
  ThreadPool pool(1);
  const Model& m = *target_->model;
  const int64_t V = m.config().n_vocab;
  ModelTreeOracle oracle(m, 256, pool);
  MemoTreeOracle plain(m, pool);  // every row by a causal forward of its own prefix
  std::vector<float> got, want;
  auto same = [&](std::span<const int32_t> h, std::span<const int32_t> tok, std::span<const int32_t> par,
                  std::vector<int32_t> rows, const char* step) {
    ASSERT_TRUE(oracle.tree_logits(h, tok, par, rows, got).ok()) << step;
    ASSERT_TRUE(plain.tree_logits(h, tok, par, rows, want).ok()) << step;
    ASSERT_EQ(got.size(), rows.size() * static_cast<size_t>(V));
    double worst = 0;
    for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(double(got[i]) - want[i]));
    EXPECT_LT(worst, 1e-3) << step;
  };
  std::vector<int32_t> h = prompt("And it came to pass, when the king");
  const int64_t n = static_cast<int64_t>(h.size());
  // a tree: 10 -1, 20 under 10, 30 -1; then 40 under 30 alone (one more position)
  const std::vector<int32_t> tok = {10, 20, 30, 40}, par = {-1, 0, -1, 2};
  same(h, std::span(tok).first(3), std::span(par).first(3), {-1, 0, 1, 2}, "first tree");
  EXPECT_EQ(oracle.positions_evaluated(), n + 3);
  same(h, tok, par, {3}, "grown by one node");
  EXPECT_EQ(oracle.positions_evaluated(), n + 4);
  // the round accepted 30 → 40 and emitted 50: the accepted nodes stay, only 50 and the new tree are evaluated
  std::vector<int32_t> h2 = h;
  for (int32_t t : {30, 40, 50}) h2.push_back(t);
  const std::vector<int32_t> tok2 = {60, 70}, par2 = {-1, 0};
  same(h2, tok2, par2, {-1, 0, 1}, "next round");
  EXPECT_EQ(oracle.positions_evaluated(), n + 4 + 3);
  // a history that leaves the cached one: only the common prefix is kept
  std::vector<int32_t> h3(h.begin(), h.begin() + 3);
  h3.push_back(99);
  same(h3, {}, {}, {-1}, "diverged");
  // a long catch-up (a plain forward first), then a tree
  std::vector<int32_t> h4 = h2;
  for (int i = 0; i < 80; ++i) h4.push_back(static_cast<int32_t>(100 + 7 * i));
  same(h4, tok2, par2, {-1, 1}, "long catch-up");
  EXPECT_FALSE(oracle.tree_logits(h, tok, par, std::vector<int32_t>{4}, got).ok());  // no node 4
}

class TreeChi2 : public TreeSpeculativeModel {
 protected:
  static constexpr const char* kChain = "top_k=6;temp=1.3;dist";  // flat: several likely paths per position
  static constexpr int64_t kSamples = 100000;

  std::vector<int32_t> ids() const { return prompt("the king of the land, and the king of the"); }

  std::map<std::vector<int32_t>, double> exact() {
    auto chain = sampling::Chain::parse(kChain);
    EXPECT_TRUE(chain.ok());
    ThreadPool pool(1);
    MemoTreeOracle t(*target_->model, pool);
    std::map<std::vector<int32_t>, double> out;
    std::vector<int32_t> path;
    exact_joint(*target_, t, *chain, ids(), 1.0, 3, path, out);
    double total = 0;
    for (const auto& [k, v] : out) total += v;
    EXPECT_NEAR(total, 1.0, 1e-4);
    return out;
  }

  // kSamples runs of 3 tokens, half on each of two threads (separate caches and tables; the models are shared,
  // read-only). A Token Recycling table lives on across a thread's runs: every run's output is distributed as plain
  // sampling whatever the table holds, so the samples stay independent draws of the same law.
  struct Tally {
    std::map<std::vector<int32_t>, int64_t> obs;
    int64_t drafted = 0, accepted = 0, passes = 0;
  };
  Tally sample(const TreeSpecOptions& base, uint64_t seed) {
    auto chain = sampling::Chain::parse(kChain);
    EXPECT_TRUE(chain.ok());
    const auto prompt_ids = ids();
    Tally tallies[2];
    auto half = [&](int h) {
      ThreadPool pool1(1);
      MemoTreeOracle tm(*target_->model, pool1), dm(*draft_->model, pool1);
      RecycleTable table(target_->model->config().n_vocab, base.recycle_k);
      sampling::Rng rng(seed + 1000 * static_cast<uint64_t>(h));
      GenerateOptions go;
      go.n_new = 3;
      go.top_k = -1;
      go.ignore_eos = true;
      Tally& t = tallies[h];
      for (int64_t i = 0; i < kSamples / 2; ++i) {
        TreeSpecOptions spec = base;
        if (spec.drafter == TreeDrafter::kRecycle) spec.table = &table;
        spec.draft_seed = static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ull + seed + static_cast<uint64_t>(h);
        sampling::Chain c = *chain;
        std::vector<int32_t> out;
        const bool dyspec = spec.drafter == TreeDrafter::kDySpec;
        auto s = tree_speculative_loop(*target_, tm, dyspec ? &dm : nullptr, prompt_ids, c, rng, go, spec,
                                       [&](const GenToken& g) { out.push_back(g.id); });
        if (!s.ok()) {
          ADD_FAILURE() << s.error().message;
          return;
        }
        t.drafted += s->drafted, t.accepted += s->accepted, t.passes += s->target_passes;
        ++t.obs[out];
      }
    };
    std::thread other([&] { half(1); });
    half(0);
    other.join();
    for (const auto& [k, v] : tallies[1].obs) tallies[0].obs[k] += v;
    tallies[0].drafted += tallies[1].drafted;
    tallies[0].accepted += tallies[1].accepted;
    tallies[0].passes += tallies[1].passes;
    return tallies[0];
  }

  void check(const char* name, const Tally& t, const std::map<std::vector<int32_t>, double>& want) {
    const Chi2 c = chi2(want, t.obs, kSamples);
    EXPECT_GT(c.p, 0.001) << name << ": chi2 " << c.stat << " on " << c.dof << " dof";
    EXPECT_GT(t.accepted, 0) << name;
    std::printf("%s: chi2 %.1f on %d dof (p = %.3f), %.3f of %.2f drafted nodes per pass accepted, %.3f tokens/pass\n",
                name, c.stat, c.dof, c.p, static_cast<double>(t.accepted) / static_cast<double>(t.passes),
                static_cast<double>(t.drafted) / static_cast<double>(t.passes),
                3.0 * kSamples / static_cast<double>(t.passes));
  }
};

TEST_F(TreeChi2, DySpecFirstThreeTokensAreDistributedAsPlainSampling) {
  const auto want = exact();
  TreeSpecOptions spec;
  spec.draft = draft_;
  spec.max_nodes = 6;
  check("DySpec (stochastic draft)", sample(spec, 11), want);
}

TEST_F(TreeChi2, TokenRecyclingFirstThreeTokensAreDistributedAsPlainSampling) {
  const auto want = exact();
  TreeSpecOptions spec;
  spec.drafter = TreeDrafter::kRecycle;
  spec.recycle_breadth = {2, 2};  // two children at each level: descents at both
  check("Token Recycling", sample(spec, 22), want);
}

}  // namespace
}  // namespace ts
