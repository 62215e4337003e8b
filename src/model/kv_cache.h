// Key/value cache of one sequence, fp32 (the engine's accuracy bar leaves no room for a lossy cache).
//
// Keys are stored per position (k[layer][pos][kv_head * head_dim + d]) so a query's scores are dot products over
// contiguous rows; values are stored transposed (vt[layer][kv_head * head_dim + d][pos]) so the weighted sum of
// values is also a dot product over contiguous memory.
#pragma once

#include <cstdint>
#include <vector>

#include "model/config.h"

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

  float* k_row(int64_t layer, int64_t pos) { return k_.data() + (layer * capacity_ + pos) * kv_dim_; }
  const float* k_row(int64_t layer, int64_t pos) const { return k_.data() + (layer * capacity_ + pos) * kv_dim_; }
  // Row `j` (0..kv_dim) of the transposed values: capacity() floats, one per position.
  float* vt_row(int64_t layer, int64_t j) { return vt_.data() + (layer * kv_dim_ + j) * capacity_; }
  const float* vt_row(int64_t layer, int64_t j) const { return vt_.data() + (layer * kv_dim_ + j) * capacity_; }

 private:
  int64_t capacity_ = 0, size_ = 0, kv_dim_ = 0;
  std::vector<float> k_, vt_;
};

}  // namespace ts
