// Tree-masked forward (Model::forward_tree) and KVCache::keep_path: each node of a token tree gets the logits of a
// plain causal forward of its root-to-node path, fed all at once or in two calls, and a cache that kept an accepted
// path continues exactly like one fed that path.
#include <gtest/gtest.h>

#include <cmath>

#include "fixtures.h"
#include "model_support.h"
#include "model/model.h"

namespace ts {
namespace {

using test::load_model;

// Logits of the last token of `tokens`, by a plain causal forward in a fresh cache.
std::vector<float> plain_last(const Model& m, const std::vector<int32_t>& tokens, ThreadPool& pool) {
  const int64_t V = m.config().n_vocab, n = static_cast<int64_t>(tokens.size());
  KVCache cache(m.config(), n);
  std::vector<float> z(static_cast<size_t>(V));
  EXPECT_TRUE(m.forward(tokens.data(), n, cache, z.data(), pool, {n - 1}).ok());
  return z;
}

double max_abs_diff(const float* a, const float* b, int64_t n) {
  double worst = 0;
  for (int64_t i = 0; i < n; ++i) worst = std::max(worst, std::fabs(static_cast<double>(a[i]) - b[i]));
  return worst;
}

const std::vector<int32_t> kCommitted = {1, 450, 4996, 17354, 1701, 29879};
//                                     node: 0    1    2    3     4    5     6
const std::vector<int32_t> kTokens = {100, 200, 300, 400, 500, 600, 700};
const std::vector<int32_t> kParents = {-1, 0, 0, 1, -1, 4, 2};  // two roots; node 6 hangs under node 2

std::vector<int32_t> path_to(int32_t node) {
  std::vector<int32_t> path;
  for (int32_t a = node; a >= 0; a = kParents[static_cast<size_t>(a)]) path.insert(path.begin(), kTokens[a]);
  return path;
}

TEST(TreeForward, EachNodeGetsTheLogitsOfItsRootToNodePath) {
  TS_REQUIRE_FIXTURE(path, "models/tiny-llama-spm-F16.gguf");
  auto m = load_model(path);
  ASSERT_TRUE(m);
  ThreadPool pool(2);
  const int64_t V = m->config().n_vocab, n = static_cast<int64_t>(kTokens.size());
  const int64_t c = static_cast<int64_t>(kCommitted.size());
  KVCache cache(m->config(), c + n);
  std::vector<float> scratch(static_cast<size_t>(V)), tree(static_cast<size_t>(n * V));
  ASSERT_TRUE(m->forward(kCommitted.data(), c, cache, scratch.data(), pool, {c - 1}).ok());
  ASSERT_TRUE(m->forward_tree(kTokens.data(), kParents.data(), n, cache, tree.data(), pool).ok());
  EXPECT_EQ(cache.size(), c + n);
  for (int32_t i = 0; i < n; ++i) {
    std::vector<int32_t> seq = kCommitted;
    for (int32_t t : path_to(i)) seq.push_back(t);
    const auto want = plain_last(*m, seq, pool);
    EXPECT_LT(max_abs_diff(&tree[static_cast<size_t>(i * V)], want.data(), V), 1e-4) << "node " << i;
  }
}

TEST(TreeForward, GrowingATreeInTwoCallsMatchesOneCall) {
  TS_REQUIRE_FIXTURE(path, "models/tiny-llama-spm-F16.gguf");
  auto m = load_model(path);
  ASSERT_TRUE(m);
  ThreadPool pool(2);
  const int64_t V = m->config().n_vocab, n = static_cast<int64_t>(kTokens.size());
  const int64_t c = static_cast<int64_t>(kCommitted.size());
  std::vector<float> scratch(static_cast<size_t>(V)), once(static_cast<size_t>(n * V));
  KVCache a(m->config(), c + n), b(m->config(), c + n);
  ASSERT_TRUE(m->forward(kCommitted.data(), c, a, scratch.data(), pool, {c - 1}).ok());
  ASSERT_TRUE(m->forward(kCommitted.data(), c, b, scratch.data(), pool, {c - 1}).ok());
  ASSERT_TRUE(m->forward_tree(kTokens.data(), kParents.data(), n, a, once.data(), pool).ok());
  // first 4 nodes, then the other 3 (node 6's parent, node 2, is from the first call); only the last row asked for
  std::vector<float> first(static_cast<size_t>(4 * V)), last(static_cast<size_t>(V));
  ASSERT_TRUE(m->forward_tree(kTokens.data(), kParents.data(), 4, b, first.data(), pool).ok());
  ASSERT_TRUE(m->forward_tree(kTokens.data() + 4, kParents.data(), 3, b, last.data(), pool, {2}, 4).ok());
  EXPECT_EQ(b.size(), c + n);
  for (int64_t i = 0; i < 4; ++i)
    EXPECT_LT(max_abs_diff(&first[static_cast<size_t>(i * V)], &once[static_cast<size_t>(i * V)], V), 1e-4) << i;
  EXPECT_LT(max_abs_diff(last.data(), &once[static_cast<size_t>(6 * V)], V), 1e-4);
}

TEST(TreeForward, KeepingAnAcceptedPathContinuesLikeACacheFedThatPath) {
  TS_REQUIRE_FIXTURE(path, "models/tiny-llama-spm-F16.gguf");
  auto m = load_model(path);
  ASSERT_TRUE(m);
  ThreadPool pool(2);
  const int64_t V = m->config().n_vocab, n = static_cast<int64_t>(kTokens.size());
  const int64_t c = static_cast<int64_t>(kCommitted.size());
  const std::vector<int32_t> next = {42, 4321, 77};
  KVCache tree_cache(m->config(), c + n + 3);
  std::vector<float> scratch(static_cast<size_t>(n * V));
  ASSERT_TRUE(m->forward(kCommitted.data(), c, tree_cache, scratch.data(), pool, {c - 1}).ok());
  ASSERT_TRUE(m->forward_tree(kTokens.data(), kParents.data(), n, tree_cache, scratch.data(), pool).ok());
  const std::vector<int64_t> accepted = {0, 2, 6};  // 100 → 300 → 700
  ASSERT_TRUE(tree_cache.keep_path(c, accepted).ok());
  EXPECT_EQ(tree_cache.size(), c + 3);
  std::vector<float> got(static_cast<size_t>(3 * V));
  ASSERT_TRUE(m->forward(next.data(), 3, tree_cache, got.data(), pool).ok());

  std::vector<int32_t> seq = kCommitted;
  for (int32_t t : {100, 300, 700}) seq.push_back(t);
  KVCache linear(m->config(), c + 6);
  ASSERT_TRUE(m->forward(seq.data(), c + 3, linear, scratch.data(), pool, {c + 2}).ok());
  std::vector<float> want(static_cast<size_t>(3 * V));
  ASSERT_TRUE(m->forward(next.data(), 3, linear, want.data(), pool).ok());
  EXPECT_LT(max_abs_diff(got.data(), want.data(), 3 * V), 1e-4);
}

TEST(TreeForward, KeepPathRejectsOffsetsOutOfOrderOrPastTheEnd) {
  ModelConfig c;
  c.n_layer = 1, c.n_head_kv = 1, c.head_dim = 2;
  KVCache cache(c, 8);
  cache.set_size(6);
  const std::vector<int64_t> backwards = {2, 1}, past = {0, 4}, fine = {1, 3};
  EXPECT_FALSE(cache.keep_path(2, backwards).ok());
  EXPECT_FALSE(cache.keep_path(2, past).ok());  // slot 6: the last stored is 5
  EXPECT_TRUE(cache.keep_path(2, fine).ok());
  EXPECT_EQ(cache.size(), 4);
}

TEST(TreeForward, AParentAfterItsChildIsAnError) {
  TS_REQUIRE_FIXTURE(path, "models/tiny-llama-spm-F16.gguf");
  auto m = load_model(path);
  ASSERT_TRUE(m);
  ThreadPool pool(1);
  KVCache cache(m->config(), 8);
  const std::vector<int32_t> tokens = {5, 6}, parents = {1, -1};
  std::vector<float> z(static_cast<size_t>(2 * m->config().n_vocab));
  EXPECT_FALSE(m->forward_tree(tokens.data(), parents.data(), 2, cache, z.data(), pool).ok());
  EXPECT_EQ(cache.size(), 0);
}

}  // namespace
}  // namespace ts
