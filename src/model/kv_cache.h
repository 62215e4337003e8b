// Key/value cache of one sequence, fp32 (the engine's accuracy bar leaves no room for a lossy cache).
//
// Keys are stored per position (k[layer][pos][kv_head * head_dim + d]) so a query's scores are dot products over
// contiguous rows; values are stored transposed (vt[layer][kv_head * head_dim + d][pos]) so the weighted sum of
// values is also a dot product over contiguous memory.
//
// Token trees (Model::forward_tree) occupy slots in tree order after the committed positions; keep_path() then keeps
// one root-to-node path of them, moved to consecutive slots, so the cache reads as if that path had been fed.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "model/config.h"
#include "tokenscope/expected.h"

namespace ts {

class KVCache {
 public:
  KVCache() = default;
  KVCache(const ModelConfig& c, int64_t capacity);

  int64_t capacity() const { return capacity_; }
  int64_t size() const { return size_; }  // positions stored
  void clear() { size_ = 0; }
  void truncate(int64_t n) { if (n < size_) size_ = n; }
  void set_size(int64_t n) { size_ = n; }
  // Of the tree stored at slots start..size(), keeps only the nodes at slot offsets `path` (strictly increasing, so
  // a root-to-node path of a tree that lists parents first), moved to slots start..start+path.size(); size() then
  // ends there. Errors (internal): start or an offset outside the stored slots, offsets not increasing.
  Status keep_path(int64_t start, std::span<const int64_t> path);

  float* k_row(int64_t layer, int64_t pos) { return k_.data() + (layer * capacity_ + pos) * kv_dim_; }
  const float* k_row(int64_t layer, int64_t pos) const { return k_.data() + (layer * capacity_ + pos) * kv_dim_; }
  // Row `j` (0..kv_dim) of the transposed values: capacity() floats, one per position.
  float* vt_row(int64_t layer, int64_t j) { return vt_.data() + (layer * kv_dim_ + j) * capacity_; }
  const float* vt_row(int64_t layer, int64_t j) const { return vt_.data() + (layer * kv_dim_ + j) * capacity_; }

 private:
  int64_t capacity_ = 0, size_ = 0, kv_dim_ = 0, n_layer_ = 0;
  std::vector<float> k_, vt_;
};

}  // namespace ts
