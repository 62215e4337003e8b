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

}  // namespace

void causal_attention(const ModelConfig& c, const KVCache& cache, int64_t layer, const float* q, int64_t n,
                      int64_t pos0, float* out, ThreadPool& pool, const TreeMask* tree) {
  constexpr int64_t kQueryBlock = 64;
  const int64_t hd = c.head_dim, q_dim = c.n_head * hd, kv_dim = c.n_head_kv * hd;
  const int64_t group = c.n_head / c.n_head_kv;
  const int64_t blocks = (n + kQueryBlock - 1) / kQueryBlock;
  const int64_t ld = pos0 + n;  // row stride of a score block: the longest row
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)));

  pool.parallel_for(c.n_head * blocks, 1, [&](int64_t begin, int64_t end, int) {
    thread_local ThreadPool solo(1);  // the item's matmuls run on this worker only
    thread_local std::vector<float> scores, acc, sums;
    scores.resize(static_cast<size_t>(kQueryBlock * ld));
    acc.resize(static_cast<size_t>(kQueryBlock * hd));
    sums.resize(kQueryBlock);
    for (int64_t item = begin; item < end; ++item) {
      const int64_t h = item % c.n_head, b = item / c.n_head, kvh = h / group;
      const int64_t i0 = b * kQueryBlock, rows = std::min(kQueryBlock, n - i0);
      const int64_t n_kv = pos0 + i0 + rows;  // keys the block's last query sees
      const WeightView keys{DType::F32, cache.k_row(layer, 0) + kvh * hd, n_kv, hd, sizeof(float) * kv_dim};
      matmul(keys, q + i0 * q_dim + h * hd, rows, q_dim, scores.data(), ld, solo);
      for (int64_t r = 0; r < rows; ++r) {
        float* s = &scores[static_cast<size_t>(r * ld)];
        const int64_t valid = pos0 + i0 + r + 1;
        for (int64_t j = 0; j < valid; ++j) s[j] *= scale;
        if (tree) {
          sums[static_cast<size_t>(r)] = static_cast<float>(masked_exp_sum(s, valid, *tree, i0 + r));
        } else {
          sums[static_cast<size_t>(r)] = static_cast<float>(exp_shift_sum(s, valid, max_of(s, valid)));
        }
        std::fill(s + valid, s + n_kv, 0.0f);  // causal mask
      }
      const WeightView values{DType::F32, cache.vt_row(layer, kvh * hd), hd, n_kv,
                              sizeof(float) * static_cast<size_t>(cache.capacity())};
      matmul(values, scores.data(), rows, ld, acc.data(), hd, solo);
      for (int64_t r = 0; r < rows; ++r) {
        const float inv = 1.0f / sums[static_cast<size_t>(r)];
        float* o = out + (i0 + r) * q_dim + h * hd;
        for (int64_t e = 0; e < hd; ++e) o[e] = acc[static_cast<size_t>(r * hd + e)] * inv;
      }
    }
  });
}

}  // namespace ts
