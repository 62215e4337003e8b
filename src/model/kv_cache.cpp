#include "model/kv_cache.h"

#include <cstring>
#include <string>

namespace ts {

KVCache::KVCache(const ModelConfig& c, int64_t capacity)
    : capacity_(capacity), size_(0), kv_dim_(c.n_head_kv * c.head_dim), n_layer_(c.n_layer) {
  k_.assign(static_cast<size_t>(c.n_layer * capacity * kv_dim_), 0.0f);
  vt_.assign(static_cast<size_t>(c.n_layer * capacity * kv_dim_), 0.0f);
}

Status KVCache::keep_path(int64_t start, std::span<const int64_t> path) {
  if (start < 0 || start > size_)
    return Error::internal("keep_path: tree start " + std::to_string(start) + " outside 0.." + std::to_string(size_));
  for (size_t k = 0; k < path.size(); ++k) {
    if (path[k] < 0 || start + path[k] >= size_ || (k > 0 && path[k] <= path[k - 1]))
      return Error::internal("keep_path: node offset " + std::to_string(path[k]) + " at " + std::to_string(k) +
                             " is out of range or out of order");
  }
  // Increasing offsets: destination k ≤ source path[k] < every later source, so moving in order overwrites nothing
  // still to be read.
  const int64_t m = static_cast<int64_t>(path.size());
  for (int64_t l = 0; l < n_layer_; ++l) {
    for (int64_t k = 0; k < m; ++k) {
      const int64_t src = start + path[static_cast<size_t>(k)], dst = start + k;
      if (src != dst) std::memcpy(k_row(l, dst), k_row(l, src), sizeof(float) * static_cast<size_t>(kv_dim_));
    }
    for (int64_t j = 0; j < kv_dim_; ++j) {
      float* row = vt_row(l, j);
      for (int64_t k = 0; k < m; ++k) row[start + k] = row[start + path[static_cast<size_t>(k)]];
    }
  }
  size_ = start + m;
  return ok_status();
}

}  // namespace ts
