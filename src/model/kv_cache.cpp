#include "model/kv_cache.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <string>

namespace ts {

KVCache::KVCache(const ModelConfig& c, int64_t capacity)
    : capacity_(capacity), n_layer_(c.n_layer), n_head_kv_(c.n_head_kv), hd_(c.head_dim), nr_(gemm_panel_rows()) {
  key_slivers_ = (capacity_ + nr_ - 1) / nr_;
  value_slivers_ = (hd_ + nr_ - 1) / nr_;
  const size_t heads = static_cast<size_t>(n_layer_ * n_head_kv_);
  k_floats_ = heads * static_cast<size_t>(key_slivers_ * hd_ * nr_);
  v_floats_ = heads * static_cast<size_t>(value_slivers_ * capacity_ * nr_);
  k_ = allocate(k_floats_);
  v_ = allocate(v_floats_);
}

KVCache& KVCache::operator=(const KVCache& other) {
  if (this == &other) return *this;
  capacity_ = other.capacity_, size_ = other.size_, n_layer_ = other.n_layer_, n_head_kv_ = other.n_head_kv_;
  hd_ = other.hd_, nr_ = other.nr_, key_slivers_ = other.key_slivers_, value_slivers_ = other.value_slivers_;
  k_floats_ = other.k_floats_, v_floats_ = other.v_floats_;
  k_ = allocate(k_floats_);
  v_ = allocate(v_floats_);
  if (k_floats_ > 0) std::memcpy(k_.get(), other.k_.get(), k_floats_ * sizeof(float));
  if (v_floats_ > 0) std::memcpy(v_.get(), other.v_.get(), v_floats_ * sizeof(float));
  return *this;
}

// 64-byte aligned (the GEMM's aligned loads), zeroed.
KVCache::Buffer KVCache::allocate(size_t floats) {
  if (floats == 0) return nullptr;
  const size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
  auto* p = static_cast<float*>(std::aligned_alloc(64, bytes));
  if (!p) throw std::bad_alloc();
  std::memset(p, 0, bytes);
  return Buffer(p);
}

size_t KVCache::key_index(int64_t layer, int64_t pos, int64_t j) const {
  const int64_t h = j / hd_, d = j % hd_;
  return static_cast<size_t>((((layer * n_head_kv_ + h) * key_slivers_ + pos / nr_) * hd_ + d) * nr_ + pos % nr_);
}

size_t KVCache::value_index(int64_t layer, int64_t pos, int64_t j) const {
  const int64_t h = j / hd_, d = j % hd_;
  return static_cast<size_t>((((layer * n_head_kv_ + h) * value_slivers_ + d / nr_) * capacity_ + pos) * nr_ + d % nr_);
}

void KVCache::store(int64_t layer, int64_t pos, const float* k, const float* v) {
  float* kp = k_.get();
  for (int64_t j = 0; j < n_head_kv_ * hd_; ++j) kp[key_index(layer, pos, j)] = k[j];
  // a value's dimensions of one sliver are consecutive floats
  float* vp = v_.get();
  for (int64_t h = 0; h < n_head_kv_; ++h)
    for (int64_t d0 = 0; d0 < hd_; d0 += nr_)
      std::memcpy(vp + value_index(layer, pos, h * hd_ + d0), v + h * hd_ + d0,
                  sizeof(float) * static_cast<size_t>(std::min<int64_t>(nr_, hd_ - d0)));
}

PanelView KVCache::keys(int64_t layer, int64_t h, int64_t n) const {
  return PanelView{k_.get() + key_index(layer, 0, h * hd_), n, hd_, hd_ * nr_, nr_};
}

PanelView KVCache::values(int64_t layer, int64_t h, int64_t n) const {
  return PanelView{v_.get() + value_index(layer, 0, h * hd_), hd_, n, capacity_ * nr_, nr_};
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
  const int64_t m = static_cast<int64_t>(path.size()), kv_dim = n_head_kv_ * hd_;
  float *kp = k_.get(), *vp = v_.get();
  for (int64_t l = 0; l < n_layer_; ++l) {
    for (int64_t k = 0; k < m; ++k) {
      const int64_t src = start + path[static_cast<size_t>(k)], dst = start + k;
      if (src == dst) continue;
      for (int64_t j = 0; j < kv_dim; ++j) {
        kp[key_index(l, dst, j)] = kp[key_index(l, src, j)];
        vp[value_index(l, dst, j)] = vp[value_index(l, src, j)];
      }
    }
  }
  size_ = start + m;
  return ok_status();
}

}  // namespace ts
