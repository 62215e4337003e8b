// Lossless tree speculative decoding: a draft token tree per round, verified in one tree-masked target pass
// (SpecInfer, Miao et al., ASPLOS 2024; ../shared/docs/decoding.md §2.3, §2.4).
//
// Each round: a drafter proposes a tree below the last committed token (the root); one target pass
// (Model::forward_tree through a TreeLogitOracle) gives the logits at the root and at every node; then, from the
// root, with p the target chain's processed distribution at the current node (after accept() of every token
// emitted so far):
//   - stochastic children x_1..x_m drawn from the draft's q without replacement (multi-step speculative sampling,
//     in the without-replacement form of Sequoia, Chen et al. 2024): for i = 1..m accept x_i with probability
//     min(1, p(x_i)/q(x_i)) and descend into it; on rejection p ← norm(max(0, p − q)) and q ← q with x_i removed,
//     renormalised (x_{i+1} was drawn from exactly that q); all rejected: emit x ~ p (the residual) and end the round;
//   - deterministic children (distinct tokens fixed before the pass: greedy drafts, Token Recycling): draw y from p
//     with the chain's own selector; if y is a child, descend into it, else emit y and end the round. P(y) = p(y)
//     whichever children there are, so this is plain sampling, and it consumes the random stream exactly as plain
//     generation does: a seeded run emits the same tokens as generate();
//   - a leaf: emit a bonus token y ~ p.
// The chain's accept() runs once per emitted token. Each emitted token is distributed as in plain sampling from the
// chain given the tokens before it, provided the draft side decides whether to try a child before drawing which
// token it is (else a child kept because it is likely is no longer a draw from q): see DySpec below.
//
// DySpec drafting (Xiong et al., arXiv 2410.11744), greedy expansion by estimated acceptance. The value of a node is
// the product of the draft's q along its path (the root's is 1). A max-heap holds two kinds of entries:
//   - "expand w", keyed by value(w): computes q_w with one draft forward (the draft chain is a copy of the target
//     chain advanced along w's path) and offers w's first child slot;
//   - "next child of u", keyed by value(u)·E[q_u(x)] for the next draw x (stochastic: the expected q of a draw from
//     q_u without the children drawn so far, a key that does not depend on the token drawn; greedy: value(u)·q_u of
//     the best token not yet taken): popping it adds the child x (drawn now, or the next best) with value
//     value(u)·q_u(x), offers u's next child slot, and, below max_depth, queues "expand x".
// until max_nodes nodes. The paper grows the tree by the same product-of-probabilities rule; we make the sibling
// key independent of the sampled token for the losslessness reason above.
//
// Token Recycling: see token_recycling.h (no draft model; the tree comes from a table of the target's past top-k).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "runtime/generator.h"
#include "runtime/token_recycling.h"
#include "runtime/tree_oracle.h"
#include "sampling/candidates.h"

namespace ts {

enum class TreeDrafter { kDySpec, kRecycle };

struct TreeSpecOptions {
  TreeDrafter drafter = TreeDrafter::kDySpec;
  const Engine* draft = nullptr;       // DySpec's draft model (same vocabulary)
  int max_nodes = 16;                  // drafted nodes per round (the root not counted)
  int max_depth = 8;                   // most drafted tokens on one path (linear drafting's n_draft default)
  bool greedy_draft = false;           // DySpec: children are q's best tokens in order (deterministic tree)
  std::vector<int> recycle_breadth = {4, 2, 2, 1, 1, 1};  // Token Recycling: children per node at each depth
  int recycle_k = 8;                   // successors kept per token
  RecycleTable* table = nullptr;       // Token Recycling: a table to use and keep (hot start); null: a fresh one
  uint64_t draft_seed = 0x5eed;        // the draft's own random stream (stochastic DySpec)
};

// One node's verification: the index of the accepted child, or −1 with the token emitted instead.
struct NodeVerdict {
  int child = -1;
  int32_t token = -1;
};

// Multi-step speculative sampling at a node whose children were drawn from q without replacement, in that order.
NodeVerdict verify_children_with_q(const sampling::Candidates& p, const sampling::Candidates& q,
                                   std::span<const int32_t> children, sampling::Rng& rng);
// Deterministic children: y = chain.select(p, rng); the child equal to y, if any.
NodeVerdict verify_children_one_hot(const sampling::Candidates& p, std::span<const int32_t> children,
                                    const sampling::Chain& chain, sampling::Rng& rng);

// DySpec's tree after `history` (see above); draft_oracle gives the draft model's logits. depth_cap bounds the
// depth for this round (≤ max_depth).
Expected<DraftTree> draft_dyspec(const Engine& draft, TreeLogitOracle& draft_oracle,
                                 const std::vector<int32_t>& history, const sampling::Chain& chain,
                                 const TreeSpecOptions& spec, int64_t depth_cap, sampling::Rng& draft_rng);

// The decoding loop over oracles: kDySpec needs draft_oracle and spec.draft, kRecycle neither.
Expected<GenerateSummary> tree_speculative_loop(const Engine& target, TreeLogitOracle& target_oracle,
                                                TreeLogitOracle* draft_oracle, const std::vector<int32_t>& prompt,
                                                sampling::Chain& chain, sampling::Rng& rng,
                                                const GenerateOptions& opt, const TreeSpecOptions& spec,
                                                const GenSink& sink);

// GenToken records as generate() and generate_speculative() write them (drafted = accepted = the token came from
// the tree); the summary counts drafted nodes, accepted tokens and target passes.
Expected<GenerateSummary> generate_tree_speculative(const Engine& target, const std::vector<int32_t>& prompt,
                                                    sampling::Chain& chain, sampling::Rng& rng,
                                                    const GenerateOptions& opt, const TreeSpecOptions& spec,
                                                    ThreadPool& pool, const GenSink& sink);

}  // namespace ts
