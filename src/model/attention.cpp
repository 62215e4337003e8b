#include "model/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "tensor/matmul.h"
#include "tensor/vec_ops.h"

namespace ts {

namespace {

// exp_shift_sum over s[0..valid) with the tree's hidden keys excluded: they are set to −inf before the max, and
// since the vector exp clamps its input (−inf gives ≈1e−38, not 0) they are zeroed afterwards and taken out of the
// sum, so a hidden key contributes exactly nothing.
double masked_exp_sum(float* s, int64_t valid, const TreeMask& tree, int64_t row) {
  const uint8_t* vis = tree.visible + row * tree.ld;
  for (int64_t j = tree.start; j < valid; ++j)
    if (!vis[j - tree.start]) s[j] = -INFINITY;
  double sum = exp_shift_sum(s, valid, max_of(s, valid));
  for (int64_t j = tree.start; j < valid; ++j) {
    if (vis[j - tree.start]) continue;
    sum -= s[j];
    s[j] = 0.0f;
  }
  return sum;
}

// Query heads per work item: the largest divisor of the GQA group (heads sharing one kv head) that still leaves an
// item per thread. The heads of an item are stacked as extra rows of one product, so the cache panel that the product
// packs is read once for all of them, and a single query fills a register tile. matmul_ordered gives every row the
// same numbers whatever the stacking, so this choice (which depends on the thread count) changes no result.
int64_t heads_per_item(const ModelConfig& c, int64_t n, int64_t query_rows, int threads) {
  const int64_t group = c.n_head / c.n_head_kv;
  for (int64_t g = group; g > 1; --g) {
    if (group % g != 0) continue;
    const int64_t qb = std::max<int64_t>(1, query_rows / g);
    if (c.n_head_kv * (group / g) * ((n + qb - 1) / qb) >= threads) return g;
  }
  return 1;
}

}  // namespace

void causal_attention(const ModelConfig& c, const KVCache& cache, int64_t layer, const float* q, int64_t n,
                      int64_t pos0, float* out, ThreadPool& pool, const TreeMask* tree) {
  constexpr int64_t kItemRows = 64;  // rows (queries × stacked heads) per work item
  const int64_t hd = c.head_dim, q_dim = c.n_head * hd;
  const int64_t group = c.n_head / c.n_head_kv;
  const int64_t gs = heads_per_item(c, n, kItemRows, pool.size());
  const int64_t qb = std::max<int64_t>(1, kItemRows / gs);  // queries per item
  const int64_t blocks = (n + qb - 1) / qb, subgroups = group / gs;
  const int64_t ld = pos0 + n;  // row stride of a score block: the longest row
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)));

  // Item (kv head kvh, query block b, heads h0..h0+gs−1 of kvh's group). Its rows are query-major: row r·gs + e is
  // query i0 + r under head h0 + e, so the queries' head vectors are copied in contiguous runs of gs·hd floats.
  pool.parallel_for(c.n_head_kv * subgroups * blocks, 1, [&](int64_t begin, int64_t end, int) {
    thread_local std::vector<float> qs, scores, acc, sums;
    qs.resize(static_cast<size_t>(qb * gs * hd));
    scores.resize(static_cast<size_t>(qb * gs * ld));
    acc.resize(static_cast<size_t>(qb * gs * hd));
    sums.resize(static_cast<size_t>(qb * gs));
    for (int64_t item = begin; item < end; ++item) {
      const int64_t b = item / (c.n_head_kv * subgroups), kvh = item % c.n_head_kv;
      const int64_t h0 = kvh * group + (item / c.n_head_kv) % subgroups * gs;
      const int64_t i0 = b * qb, queries = std::min(qb, n - i0), rows = queries * gs;
      const int64_t n_kv = pos0 + i0 + queries;  // keys the block's last query sees
      for (int64_t r = 0; r < queries; ++r)
        std::copy_n(q + (i0 + r) * q_dim + h0 * hd, gs * hd, &qs[static_cast<size_t>(r * gs * hd)]);
      matmul_panels(cache.keys(layer, kvh, n_kv), qs.data(), rows, hd, scores.data(), ld);
      for (int64_t row = 0; row < rows; ++row) {
        const int64_t r = row / gs;
        float* s = &scores[static_cast<size_t>(row * ld)];
        const int64_t valid = pos0 + i0 + r + 1;
        for (int64_t j = 0; j < valid; ++j) s[j] *= scale;
        if (tree) {
          sums[static_cast<size_t>(row)] = static_cast<float>(masked_exp_sum(s, valid, *tree, i0 + r));
        } else {
          sums[static_cast<size_t>(row)] = static_cast<float>(exp_shift_sum(s, valid, max_of(s, valid)));
        }
        std::fill(s + valid, s + n_kv, 0.0f);  // causal mask
      }
      matmul_panels(cache.values(layer, kvh, n_kv), scores.data(), rows, ld, acc.data(), hd);
      for (int64_t row = 0; row < rows; ++row) {
        const float inv = 1.0f / sums[static_cast<size_t>(row)];
        float* o = out + (i0 + row / gs) * q_dim + (h0 + row % gs) * hd;
        for (int64_t e = 0; e < hd; ++e) o[e] = acc[static_cast<size_t>(row * hd + e)] * inv;
      }
    }
  });
}

}  // namespace ts
