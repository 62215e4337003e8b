// KVCache keeps keys and values in the GEMM's packed layout (kv_cache.h): what store() writes reads back through
// key() / value() and through the PanelViews that attention multiplies, keep_path() moves whole slots, a copy is
// independent, on head sizes on and off the sliver width.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "model/kv_cache.h"

namespace ts {
namespace {

ModelConfig config(int64_t n_layer, int64_t n_head_kv, int64_t hd) {
  ModelConfig c;
  c.n_layer = n_layer;
  c.n_head = 2 * n_head_kv;
  c.n_head_kv = n_head_kv;
  c.head_dim = hd;
  c.n_embd = c.n_head * hd;
  return c;
}

// A value that names its place: layer, slot, element, and which half.
float tag(int64_t l, int64_t pos, int64_t j, bool value) {
  return static_cast<float>(l * 1000000 + pos * 1000 + j) + (value ? 0.5f : 0.0f);
}

void fill(KVCache& cache, const ModelConfig& c, int64_t n) {
  const int64_t kv_dim = c.n_head_kv * c.head_dim;
  std::vector<float> k(static_cast<size_t>(kv_dim)), v(k.size());
  for (int64_t l = 0; l < c.n_layer; ++l) {
    for (int64_t p = 0; p < n; ++p) {
      for (int64_t j = 0; j < kv_dim; ++j) {
        k[static_cast<size_t>(j)] = tag(l, p, j, false);
        v[static_cast<size_t>(j)] = tag(l, p, j, true);
      }
      cache.store(l, p, k.data(), v.data());
    }
  }
  cache.set_size(n);
}

// Element (r, c) of a panel view, by its documented formula.
float at(const PanelView& w, int64_t r, int64_t c) {
  return w.data[(r / w.nr) * w.sliver_stride + c * w.nr + r % w.nr];
}

TEST(KVCache, StoredSlotsReadBackThroughKeyValueAndThePanelViews) {
  for (int64_t hd : {8, 40, 64}) {
    const ModelConfig c = config(2, 3, hd);
    const int64_t cap = 37, n = 35;
    KVCache cache(c, cap);
    fill(cache, c, n);
    for (int64_t l = 0; l < c.n_layer; ++l) {
      for (int64_t h = 0; h < c.n_head_kv; ++h) {
        const PanelView keys = cache.keys(l, h, n), values = cache.values(l, h, n);
        ASSERT_EQ(keys.rows, n);
        ASSERT_EQ(keys.cols, hd);
        ASSERT_EQ(values.rows, hd);
        ASSERT_EQ(values.cols, n);
        ASSERT_EQ(reinterpret_cast<uintptr_t>(keys.data) % 64, 0u);
        ASSERT_EQ(reinterpret_cast<uintptr_t>(values.data) % 64, 0u);
        ASSERT_EQ(keys.sliver_stride * 4 % 64, 0);
        ASSERT_EQ(values.sliver_stride * 4 % 64, 0);
        for (int64_t p = 0; p < n; ++p) {
          for (int64_t d = 0; d < hd; ++d) {
            const int64_t j = h * hd + d;
            const std::string what = "hd=" + std::to_string(hd) + " l=" + std::to_string(l) + " p=" +
                                     std::to_string(p) + " j=" + std::to_string(j);
            ASSERT_EQ(cache.key(l, p, j), tag(l, p, j, false)) << what;
            ASSERT_EQ(cache.value(l, p, j), tag(l, p, j, true)) << what;
            ASSERT_EQ(at(keys, p, d), tag(l, p, j, false)) << what;
            ASSERT_EQ(at(values, d, p), tag(l, p, j, true)) << what;
          }
        }
      }
    }
  }
}

TEST(KVCache, KeepPathMovesWholeSlotsAndACopyIsIndependent) {
  const ModelConfig c = config(2, 2, 40);
  const int64_t kv_dim = c.n_head_kv * c.head_dim;
  KVCache cache(c, 70);
  fill(cache, c, 66);
  KVCache copy(cache);
  // a tree at slots 30..65; keep the nodes at offsets 1, 3 and 35 (slots 31, 33, 65) at slots 30, 31, 32
  const std::vector<int64_t> path = {1, 3, 35};
  ASSERT_TRUE(cache.keep_path(30, path));
  EXPECT_EQ(cache.size(), 33);
  for (int64_t l = 0; l < c.n_layer; ++l) {
    for (int64_t j = 0; j < kv_dim; ++j) {
      for (int64_t p = 0; p < 30; ++p) ASSERT_EQ(cache.key(l, p, j), tag(l, p, j, false));
      for (int64_t i = 0; i < 3; ++i) {
        const int64_t src = 30 + path[static_cast<size_t>(i)];
        ASSERT_EQ(cache.key(l, 30 + i, j), tag(l, src, j, false)) << "slot " << 30 + i << " j " << j;
        ASSERT_EQ(cache.value(l, 30 + i, j), tag(l, src, j, true)) << "slot " << 30 + i << " j " << j;
      }
      for (int64_t p = 0; p < 66; ++p) ASSERT_EQ(copy.value(l, p, j), tag(l, p, j, true));  // the copy kept its own
    }
  }
  EXPECT_FALSE(cache.keep_path(40, std::vector<int64_t>{0}));  // past the stored slots
  EXPECT_FALSE(cache.keep_path(30, std::vector<int64_t>{2, 1}));  // not increasing
}

}  // namespace
}  // namespace ts
