// Tree logits from a model with cache reuse; see tree_oracle.h for the contract.
#include "runtime/tree_oracle.h"

#include <algorithm>
#include <string>

namespace ts {

namespace {

// Catch-ups longer than this are fed by a plain causal forward rather than as a chain in the tree, whose mask costs
// (chain + tree)² bytes.
constexpr int64_t kMaxChainInTree = 64;

// The tree one forward_tree evaluates after `done` cached committed tokens: the rest of the committed tokens as a
// chain, then the root (the last history token), then the draft nodes.
void internal_tree(std::span<const int32_t> committed, int64_t done, int32_t root, std::span<const int32_t> tokens,
                   std::span<const int32_t> parents, std::vector<int32_t>& tok, std::vector<int32_t>& par) {
  const int64_t chain = static_cast<int64_t>(committed.size()) - done;
  tok.clear();
  par.clear();
  for (int64_t i = 0; i < chain; ++i) {
    tok.push_back(committed[static_cast<size_t>(done + i)]);
    par.push_back(static_cast<int32_t>(i - 1));
  }
  tok.push_back(root);
  par.push_back(static_cast<int32_t>(chain - 1));
  for (size_t i = 0; i < tokens.size(); ++i) {
    tok.push_back(tokens[i]);
    par.push_back(static_cast<int32_t>(parents[i] < 0 ? chain : chain + 1 + parents[i]));
  }
}

}  // namespace

ModelTreeOracle::ModelTreeOracle(const Model& model, int64_t capacity, ThreadPool& pool)
    : model_(&model), cache_(model.config(), std::max<int64_t>(1, capacity)), pool_(&pool) {}

Status ModelTreeOracle::tree_logits(std::span<const int32_t> history, std::span<const int32_t> tokens,
                                    std::span<const int32_t> parents, std::span<const int32_t> rows,
                                    std::vector<float>& out) {
  const int64_t n = static_cast<int64_t>(history.size()), m = static_cast<int64_t>(tokens.size());
  const int64_t V = model_->config().n_vocab;
  if (n == 0) return Error::input("tree_logits: empty history");
  if (parents.size() != tokens.size() || rows.empty())
    return Error::internal("tree_logits: " + std::to_string(parents.size()) + " parents for " + std::to_string(m) +
                           " nodes, " + std::to_string(rows.size()) + " rows asked for");
  for (int32_t r : rows)
    if (r < -1 || r >= m) return Error::internal("tree_logits: row " + std::to_string(r) + " not in the tree");
  const auto committed = history.first(static_cast<size_t>(n - 1));
  const int64_t done = static_cast<int64_t>(lin_.size());
  const bool extends = done <= n - 1 && std::equal(lin_.begin(), lin_.end(), committed.begin());
  std::vector<int32_t> want_tok, want_par;
  int64_t keep = 0;  // nodes of the cached tree reused in place
  if (!tree_tok_.empty() && extends) {
    // (a) the path the committed tokens took through the cached tree
    std::vector<int64_t> path;
    int32_t at = -1;
    for (int64_t pos = done; pos < n - 1; ++pos) {
      int32_t next = -1;
      for (int32_t i = at + 1; i < static_cast<int32_t>(tree_tok_.size()); ++i) {
        if (tree_par_[i] == at && tree_tok_[i] == committed[static_cast<size_t>(pos)]) {
          next = i;
          break;
        }
      }
      if (next < 0) break;
      path.push_back(next);
      at = next;
    }
    // (b) the nodes the new tree repeats at its start
    internal_tree(committed, done, history.back(), tokens, parents, want_tok, want_par);
    const int64_t common = std::min(want_tok.size(), tree_tok_.size());
    while (keep < common && tree_tok_[keep] == want_tok[keep] && tree_par_[keep] == want_par[keep]) ++keep;
    if (static_cast<int64_t>(path.size()) > keep) {
      if (auto s = cache_.keep_path(done, path); !s) return s;
      for (int64_t i : path) lin_.push_back(tree_tok_[static_cast<size_t>(i)]);
      tree_tok_.clear();
      tree_par_.clear();
      keep = 0;
    }
  } else {
    cache_.truncate(done);  // drop any tree, then keep the committed prefix in common
    tree_tok_.clear();
    tree_par_.clear();
    int64_t c = 0;
    while (c < std::min(done, n - 1) && lin_[c] == committed[c]) ++c;
    cache_.truncate(c);
    lin_.resize(static_cast<size_t>(c));
  }
  if (tree_tok_.empty() && n - 1 - static_cast<int64_t>(lin_.size()) > kMaxChainInTree) {
    const int64_t from = static_cast<int64_t>(lin_.size()), len = n - 1 - from;
    std::vector<float> last(static_cast<size_t>(V));
    if (auto s = model_->forward(committed.data() + from, len, cache_, last.data(), *pool_, {len - 1}); !s) {
      cache_.truncate(from);
      return s;
    }
    lin_.insert(lin_.end(), committed.begin() + from, committed.end());
    evaluated_ += len;
    ++calls_;
  }
  internal_tree(committed, static_cast<int64_t>(lin_.size()), history.back(), tokens, parents, want_tok, want_par);
  const int64_t chain = n - 1 - static_cast<int64_t>(lin_.size());
  std::vector<int64_t> local(rows.size());
  for (size_t k = 0; k < rows.size(); ++k) {
    local[k] = rows[k] < 0 ? chain : chain + 1 + rows[k];
    keep = std::min(keep, local[k]);  // a row asked for is computed now
  }
  for (int64_t& r : local) r -= keep;
  cache_.truncate(static_cast<int64_t>(lin_.size()) + keep);
  tree_tok_.resize(static_cast<size_t>(keep));
  tree_par_.resize(static_cast<size_t>(keep));
  const int64_t fresh = static_cast<int64_t>(want_tok.size()) - keep;
  out.resize(rows.size() * static_cast<size_t>(V));
  if (auto s = model_->forward_tree(want_tok.data() + keep, want_par.data(), fresh, cache_, out.data(), *pool_, local,
                                    keep);
      !s) {
    cache_.truncate(static_cast<int64_t>(lin_.size()) + keep);
    return s;
  }
  tree_tok_ = std::move(want_tok);
  tree_par_ = std::move(want_par);
  evaluated_ += fresh;
  ++calls_;
  return ok_status();
}

}  // namespace ts
