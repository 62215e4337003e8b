// Key/value cache of one sequence, fp32 (the engine's accuracy bar leaves no room for a lossy cache).
//
// Both halves are stored the way the attention's GEMM packs its weight operand (tensor/matmul.h, PanelView), so the
// products read the cache in place instead of transposing all of it again for every token (at a depth of a few
// hundred positions that transposition was ~6% of a generated token's time). nr is the GEMM's sliver width when the
// cache is made (gemm_panel_rows(): 32 with AVX-512); per layer l and kv head h:
//   keys:   positions in slivers of nr, element (pos, d) at K[(l, h)][pos / nr][d][pos % nr]: the scores' product
//           Q·Kᵀ has the keys as its weight rows;
//   values: head dimensions in slivers of nr, element (pos, d) at V[(l, h)][d / nr][pos][d % nr]: the weighted sum
//           S·V has the value dimensions as its weight rows and the positions as its k.
// Slots past size() hold zeros or stale values; products never read them into a result. Padding: capacity rounded up
// to nr for the keys, head_dim rounded up to nr for the values (head_dim 64: none; 80: a fifth more value bytes).
//
// Token trees (Model::forward_tree) occupy slots in tree order after the committed positions; keep_path() then keeps
// one root-to-node path of them, moved to consecutive slots, so the cache reads as if that path had been fed.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>

#include "model/config.h"
#include "tensor/matmul.h"
#include "tokenscope/expected.h"

namespace ts {

class KVCache {
 public:
  KVCache() = default;
  KVCache(const ModelConfig& c, int64_t capacity);
  KVCache(const KVCache& other) { *this = other; }
  KVCache& operator=(const KVCache& other);
  KVCache(KVCache&&) noexcept = default;
  KVCache& operator=(KVCache&&) noexcept = default;

  int64_t capacity() const { return capacity_; }
  int64_t size() const { return size_; }  // positions stored
  void clear() { size_ = 0; }
  void truncate(int64_t n) { if (n < size_) size_ = n; }
  void set_size(int64_t n) { size_ = n; }
  // Of the tree stored at slots start..size(), keeps only the nodes at slot offsets `path` (strictly increasing, so
  // a root-to-node path of a tree that lists parents first), moved to slots start..start+path.size(); size() then
  // ends there. Errors (internal): start or an offset outside the stored slots, offsets not increasing.
  Status keep_path(int64_t start, std::span<const int64_t> path);

  // Writes slot `pos` of `layer`: k and v hold n_head_kv · head_dim floats each (kv head h at h · head_dim).
  void store(int64_t layer, int64_t pos, const float* k, const float* v);
  // Element j (0..n_head_kv · head_dim) of slot pos's key / value.
  float key(int64_t layer, int64_t pos, int64_t j) const { return k_.get()[key_index(layer, pos, j)]; }
  float value(int64_t layer, int64_t pos, int64_t j) const { return v_.get()[value_index(layer, pos, j)]; }
  // Kv head h's keys of slots 0..n−1 (n rows of head_dim) and its values transposed (head_dim rows of n), for
  // matmul_panels.
  PanelView keys(int64_t layer, int64_t h, int64_t n) const;
  PanelView values(int64_t layer, int64_t h, int64_t n) const;

 private:
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  using Buffer = std::unique_ptr<float, Free>;
  static Buffer allocate(size_t floats);
  size_t key_index(int64_t layer, int64_t pos, int64_t j) const;
  size_t value_index(int64_t layer, int64_t pos, int64_t j) const;

  int64_t capacity_ = 0, size_ = 0, n_layer_ = 0, n_head_kv_ = 0, hd_ = 0;
  int nr_ = 0;
  int64_t key_slivers_ = 0, value_slivers_ = 0;  // per (layer, kv head): of positions / of head dimensions
  size_t k_floats_ = 0, v_floats_ = 0;
  Buffer k_, v_;
};

}  // namespace ts
