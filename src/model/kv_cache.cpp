#include "model/kv_cache.h"

namespace ts {

KVCache::KVCache(const ModelConfig& c, int64_t capacity)
    : capacity_(capacity), size_(0), kv_dim_(c.n_head_kv * c.head_dim) {
  k_.assign(static_cast<size_t>(c.n_layer * capacity * kv_dim_), 0.0f);
  vt_.assign(static_cast<size_t>(c.n_layer * capacity * kv_dim_), 0.0f);
}

}  // namespace ts
