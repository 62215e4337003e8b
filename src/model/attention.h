// Causal multi-head attention over a KV cache (GQA/MQA: query head h reads kv head h / (n_head / n_head_kv)).
//
//   out_h(i) = Σ_{j ≤ pos0+i} softmax_j(q_h(i) · k_h(j) / √hd) · v_h(j)
//
// Work items are (kv head, block of queries, some of the query heads that share the kv head), 64 rows of queries ×
// heads at most. Each item computes its score block S = Q·Kᵀ and the weighted sum S·V with matmul_panels on the
// calling worker alone (the cache keeps K and Vᵀ in the GEMM's packed layout, kv_cache.h; the same bits as
// matmul_ordered on them as rows): one fp32 summation order at every row count, so a query's output is the same bits
// whether a call evaluates it alone, in a chunk or in a whole prompt, and whatever the thread count (which sets how
// many heads an item stacks). Stacking the heads of a GQA group lets one query (generation) fill a register tile
// and read each cache panel once for the group. Scaling, the softmax
// (e^{s − max} with the vector exp, over the row's own keys) and the division by the sum at the end are per row.
//
// Tree attention (SpecInfer's topology-aware mask, for verifying a token tree in one pass): with a TreeMask, query i
// sees every key before mask.start (the committed cache) and a key j ≥ mask.start only where
// mask.visible[i·ld + (j − start)] is nonzero (its ancestors and itself); the causal bound j ≤ pos0+i still holds,
// so a tree must list every node after its parent. Masked scores get weight exactly 0.
#pragma once

#include <cstdint>

#include "model/config.h"
#include "model/kv_cache.h"
#include "tensor/thread_pool.h"

namespace ts {

struct TreeMask {
  const uint8_t* visible = nullptr;  // n rows of ld flags
  int64_t start = 0;                 // first cache slot of the tree
  int64_t ld = 0;
};

// q: n rows of n_head·hd floats (queries at cache slots pos0..pos0+n−1, already rotated); the cache holds keys and
// values for slots 0..pos0+n−1 of `layer`. out: n rows of n_head·hd floats. tree null: plain causal attention.
void causal_attention(const ModelConfig& c, const KVCache& cache, int64_t layer, const float* q, int64_t n,
                      int64_t pos0, float* out, ThreadPool& pool, const TreeMask* tree = nullptr);

}  // namespace ts
