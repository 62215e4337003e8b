// Tree speculative decoding: DySpec drafting, multi-step verification, the loop; see tree_speculative.h.
#include "runtime/tree_speculative.h"

#include "runtime/decoder_common.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <queue>

namespace ts {

using sampling::Candidates;

NodeVerdict verify_children_with_q(const Candidates& p, const Candidates& q, std::span<const int32_t> children,
                                   sampling::Rng& rng) {
  int32_t max_id = 0;
  for (const auto& c : p.data) max_id = std::max(max_id, c.id);
  for (const auto& c : q.data) max_id = std::max(max_id, c.id);
  for (int32_t x : children) max_id = std::max(max_id, x);
  // dense p and q, each normalised; p's support is where the residual lives
  std::vector<double> pd(static_cast<size_t>(max_id) + 1, 0.0), qd(pd.size(), 0.0);
  double zp = 0, zq = 0;
  for (const auto& c : p.data) pd[c.id] = c.p, zp += c.p;
  for (const auto& c : q.data) qd[c.id] = c.p, zq += c.p;
  if (!(zp > 0)) return {-1, -1};
  for (const auto& c : p.data) pd[c.id] /= zp;
  if (zq > 0)
    for (const auto& c : q.data) qd[c.id] /= zq;
  for (size_t i = 0; i < children.size(); ++i) {
    const int32_t x = children[i];
    const double r = rng.uniform();
    if (qd[x] <= 0 || r * qd[x] < pd[x]) return {static_cast<int>(i), x};  // r < min(1, p/q); q(x) > 0 for a draw
    // rejected: p ← norm(max(0, p − q)); q ← q without x, renormalised (the next child's law)
    double rest = 0;
    for (const auto& c : p.data) {
      pd[c.id] = std::max(0.0, pd[c.id] - qd[c.id]);
      rest += pd[c.id];
    }
    if (!(rest > 0)) return {static_cast<int>(i), x};  // p ≤ q everywhere: only when p == q, where x is right
    for (const auto& c : p.data) pd[c.id] /= rest;
    qd[x] = 0;
    double left = 0;
    for (const auto& c : q.data) left += qd[c.id];
    if (left > 0)
      for (const auto& c : q.data) qd[c.id] /= left;
  }
  // every child rejected: draw from the residual by inverse CDF in p's order
  const double u = rng.uniform();
  double acc = 0;
  int32_t last = -1;
  for (const auto& c : p.data) {
    const double w = pd[c.id];
    if (w <= 0) continue;
    acc += w;
    last = c.id;
    if (u < acc) return {-1, c.id};
  }
  return {-1, last};  // rounding at the top end
}

NodeVerdict verify_children_one_hot(const Candidates& p, std::span<const int32_t> children,
                                    const sampling::Chain& chain, sampling::Rng& rng) {
  const int32_t y = chain.select(p, rng);
  for (size_t i = 0; i < children.size(); ++i)
    if (children[i] == y) return {static_cast<int>(i), y};
  return {-1, y};
}

namespace {

// A node of the draft tree under construction; nodes[0] is the root (the last committed token).
struct DraftNode {
  int32_t token = -1;
  int32_t parent = -1;  // index into nodes; −1 for the root
  int64_t depth = 0;
  double value = 1;     // product of q along the path
  sampling::Chain chain;  // the draft chain after this node's path (expanded nodes)
  Candidates q;           // the draft's processed distribution after the path (expanded nodes)
  std::vector<int32_t> taken;  // children drawn so far, in order
  double left = 0, left_sq = 0;  // stochastic: Σ q and Σ q² over the tokens not drawn yet
  size_t next = 0;               // greedy: index of the next best token in q (sorted by p)
  int32_t fed = -1;              // index in the draft oracle's tree; −1 for the root
};

struct HeapEntry {
  double key;
  int64_t seq;  // ties: the earlier entry first, so the tree is a function of the draws alone
  int32_t node;
  bool expand;  // true: compute q at node; false: add node's next child
  bool operator<(const HeapEntry& o) const { return key < o.key || (key == o.key && seq > o.seq); }
};

}  // namespace

Expected<DraftTree> draft_dyspec(const Engine& draft, TreeLogitOracle& oracle, const std::vector<int32_t>& history,
                                 const sampling::Chain& chain, const TreeSpecOptions& spec, int64_t depth_cap,
                                 sampling::Rng& drng) {
  const int64_t V = draft.model->config().n_vocab;
  const bool stochastic = !spec.greedy_draft;
  DraftTree tree;
  std::vector<DraftNode> nodes(1);
  nodes[0].token = history.back();
  std::vector<int32_t> fed_tok, fed_par;  // the draft oracle's tree: expanded nodes in order of expansion
  std::vector<float> dl;
  std::priority_queue<HeapEntry> heap;
  int64_t seq = 0;
  heap.push({1.0, seq++, 0, true});

  auto offer_child = [&](int32_t u) {
    const DraftNode& n = nodes[static_cast<size_t>(u)];
    if (stochastic) {
      if (n.left > 1e-9) heap.push({n.value * n.left_sq / n.left, seq++, u, false});
    } else if (n.next < n.q.size()) {
      heap.push({n.value * n.q.data[n.next].p, seq++, u, false});
    }
  };
  auto expand = [&](int32_t w) -> Status {
    std::vector<int32_t> hist = history;  // history + the path below the root
    std::vector<int32_t> path;
    for (int32_t a = w; a > 0; a = nodes[static_cast<size_t>(a)].parent)
      path.push_back(nodes[static_cast<size_t>(a)].token);
    hist.insert(hist.end(), path.rbegin(), path.rend());
    std::vector<int32_t> rows = {-1};
    DraftNode& n = nodes[static_cast<size_t>(w)];
    if (w > 0) {
      const DraftNode& par = nodes[static_cast<size_t>(n.parent)];
      n.fed = static_cast<int32_t>(fed_tok.size());
      fed_tok.push_back(n.token);
      fed_par.push_back(par.fed);
      rows[0] = n.fed;
      n.chain = par.chain;
      n.chain.accept(n.token);
    } else {
      n.chain = chain;
    }
    if (auto s = oracle.tree_logits(history, fed_tok, fed_par, rows, dl); !s) return s;
    n.q = n.chain.apply(dl.data(), V, chain_context(draft, hist, &drng));
    if (stochastic) {
      for (const auto& c : n.q.data) n.left += c.p, n.left_sq += static_cast<double>(c.p) * c.p;
    } else {
      std::stable_sort(n.q.data.begin(), n.q.data.end(), [](const auto& a, const auto& b) {
        return a.p > b.p || (a.p == b.p && a.id < b.id);
      });
    }
    offer_child(w);
    return ok_status();
  };

  while (!heap.empty() && tree.size() < spec.max_nodes) {
    const HeapEntry e = heap.top();
    heap.pop();
    if (e.expand) {
      if (auto s = expand(e.node); !s) return s.error();
      continue;
    }
    DraftNode& u = nodes[static_cast<size_t>(e.node)];
    int32_t x = -1;
    double qx = 0;
    if (stochastic) {  // a draw from q without the children drawn so far
      const double target = drng.uniform() * u.left;
      double acc = 0;
      for (const auto& c : u.q.data) {
        if (c.p <= 0 || std::find(u.taken.begin(), u.taken.end(), c.id) != u.taken.end()) continue;
        acc += c.p;
        x = c.id, qx = c.p;
        if (target < acc) break;
      }
      u.left -= qx;
      u.left_sq -= qx * qx;
    } else {
      x = u.q.data[u.next].id;
      qx = u.q.data[u.next].p;
      ++u.next;
    }
    if (x < 0) continue;
    u.taken.push_back(x);
    DraftNode child;
    child.token = x;
    child.parent = e.node;
    child.depth = u.depth + 1;
    child.value = u.value * qx;
    const bool deeper = child.depth < depth_cap;
    const double value = child.value;
    nodes.push_back(std::move(child));  // u is invalid from here
    tree.add(x, e.node == 0 ? -1 : e.node - 1);
    offer_child(e.node);
    if (deeper) heap.push({value, seq++, static_cast<int32_t>(nodes.size() - 1), true});
  }
  if (stochastic) {
    tree.q.resize(nodes.size());
    for (size_t k = 0; k < nodes.size(); ++k)
      if (!nodes[k].taken.empty()) tree.q[k] = std::move(nodes[k].q);
  }
  return tree;
}

namespace {

Status check_request(const std::vector<int32_t>& prompt, int64_t n_ctx, const GenerateOptions& opt,
                     const TreeSpecOptions& spec) {
  if (auto s = decoder::check_request("generate", prompt, n_ctx, opt); !s) return s;
  if (spec.max_nodes < 1) return Error::input("generate: tree node budget " + std::to_string(spec.max_nodes) +
                                              " must be at least 1");
  if (spec.max_depth < 1) return Error::input("generate: tree depth " + std::to_string(spec.max_depth) +
                                              " must be at least 1");
  return ok_status();
}

}  // namespace

Expected<GenerateSummary> tree_speculative_loop(const Engine& target, TreeLogitOracle& toracle,
                                                TreeLogitOracle* doracle, const std::vector<int32_t>& prompt,
                                                sampling::Chain& chain, sampling::Rng& rng,
                                                const GenerateOptions& opt, const TreeSpecOptions& spec,
                                                const GenSink& sink) {
  const int64_t n_ctx = decoder::context_limit(target, opt);
  if (auto s = check_request(prompt, n_ctx, opt, spec); !s) return s.error();
  const bool dyspec = spec.drafter == TreeDrafter::kDySpec;
  if (dyspec && (!doracle || !spec.draft)) return Error::input("generate: DySpec tree drafting needs a draft model");
  if (!dyspec && doracle) return Error::internal("tree_speculative_loop: Token Recycling takes no draft oracle");
  const int64_t V = target.model->config().n_vocab;
  std::unique_ptr<RecycleTable> own_table;
  RecycleTable* table = dyspec ? nullptr : spec.table;
  if (!dyspec && !table) {
    own_table = std::make_unique<RecycleTable>(V, spec.recycle_k);
    table = own_table.get();
  }
  if (table && table->n_vocab() != V)
    return Error::internal("tree_speculative_loop: recycling table for " + std::to_string(table->n_vocab()) +
                           " tokens, the target has " + std::to_string(V));
  sampling::Rng drng(spec.draft_seed);
  std::vector<int32_t> history = prompt, rows, kid_tokens;
  std::vector<float> tl;
  GenerateSummary sum;
  sum.prompt_tokens = static_cast<int64_t>(prompt.size());
  sum.stop = "length";
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  auto t_gen = t0;
  bool done = false;
  while (!done && sum.generated < opt.n_new) {
    const int64_t room = n_ctx - static_cast<int64_t>(history.size());
    if (room <= 0) {
      sum.stop = "context";
      break;
    }
    const int64_t depth_cap = std::min<int64_t>({spec.max_depth, opt.n_new - sum.generated - 1, room - 1});
    // 1. draft a tree below the last committed token
    DraftTree tree;
    if (depth_cap > 0 && dyspec) {
      auto t = draft_dyspec(*spec.draft, *doracle, history, chain, spec, depth_cap, drng);
      if (!t) return t.error();
      tree = std::move(*t);
    } else if (depth_cap > 0) {
      tree = recycle_tree(*table, history.back(), spec.recycle_breadth, depth_cap, spec.max_nodes);
    }
    const int64_t m = tree.size();
    // 2. one target pass: the root's row, then one per node
    rows.assign(1, -1);
    for (int32_t i = 0; i < m; ++i) rows.push_back(i);
    if (auto s = toracle.tree_logits(history, tree.tokens, tree.parents, rows, tl); !s) return s.error();
    if (sum.target_passes == 0) t_gen = Clock::now();
    ++sum.target_passes;
    sum.drafted += m;
    if (table) {  // Token Recycling: every computed row renews its input token's successors
      table->update(history.back(), tl.data());
      for (int64_t i = 0; i < m; ++i) table->update(tree.tokens[static_cast<size_t>(i)], tl.data() + (1 + i) * V);
    }
    // 3. verify from the root down
    std::vector<std::vector<int32_t>> kids(static_cast<size_t>(m + 1));
    for (int32_t i = 0; i < m; ++i) kids[static_cast<size_t>(tree.parents[static_cast<size_t>(i)] + 1)].push_back(i);
    int32_t u = 0;
    while (!done) {
      const float* z = tl.data() + static_cast<int64_t>(u) * V;
      Candidates p = chain.apply(z, V, chain_context(target, history, &rng));
      const auto& ku = kids[static_cast<size_t>(u)];
      kid_tokens.clear();
      for (int32_t k : ku) kid_tokens.push_back(tree.tokens[static_cast<size_t>(k)]);
      NodeVerdict v;
      if (ku.empty()) {
        v = {-1, chain.select(p, rng)};
      } else if (!tree.q.empty()) {
        v = verify_children_with_q(p, tree.q[static_cast<size_t>(u)], kid_tokens, rng);
      } else {
        v = verify_children_one_hot(p, kid_tokens, chain, rng);
      }
      if (v.token < 0) return Error::internal("generate: the sampler chain left no candidate");
      chain.accept(v.token);
      GenToken t = make_record(z, V, p, v.token, opt.top_k);
      t.index = sum.generated;
      t.drafted = t.accepted = v.child >= 0;
      history.push_back(v.token);
      ++sum.generated;
      sum.accepted += v.child >= 0 ? 1 : 0;
      if (sink) sink(t);
      if (!opt.ignore_eos && is_end_of_generation(target, v.token)) {
        sum.stop = "eos";
        done = true;
      } else if (sum.generated >= opt.n_new) {
        done = true;
      }
      if (v.child < 0) break;
      u = 1 + ku[static_cast<size_t>(v.child)];
    }
  }
  const auto t1 = Clock::now();
  sum.prompt_seconds = std::chrono::duration<double>(t_gen - t0).count();
  sum.seconds = std::chrono::duration<double>(t1 - t_gen).count();
  return sum;
}

Expected<GenerateSummary> generate_tree_speculative(const Engine& target, const std::vector<int32_t>& prompt,
                                                    sampling::Chain& chain, sampling::Rng& rng,
                                                    const GenerateOptions& opt, const TreeSpecOptions& spec,
                                                    ThreadPool& pool, const GenSink& sink) {
  const int64_t n_ctx = decoder::context_limit(target, opt);
  if (auto s = check_request(prompt, n_ctx, opt, spec); !s) return s.error();
  // slots: the committed tokens (at most n_ctx − 1 before the last round) plus the root and the tree
  const int64_t committed = std::min(n_ctx, static_cast<int64_t>(prompt.size()) + opt.n_new);
  const int64_t cap = committed + spec.max_nodes + 1;
  ModelTreeOracle t(*target.model, cap, pool);
  std::unique_ptr<ModelTreeOracle> d;
  if (spec.drafter == TreeDrafter::kDySpec && spec.draft) {
    const ModelConfig& dc = spec.draft->model->config();
    if (dc.n_vocab != target.model->config().n_vocab)
      return Error::input("generate: the draft model has " + std::to_string(dc.n_vocab) + " tokens, the target " +
                          std::to_string(target.model->config().n_vocab));
    if (dc.n_ctx_train < committed)
      return Error::input("generate: the draft model's context (" + std::to_string(dc.n_ctx_train) +
                          ") is shorter than " + std::to_string(committed) + " tokens");
    d = std::make_unique<ModelTreeOracle>(*spec.draft->model, cap, pool);
  }
  return tree_speculative_loop(target, t, d.get(), prompt, chain, rng, opt, spec, sink);
}

}  // namespace ts
