// Test support for the matrix-product tests: random inputs shaped like a transformer's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "tensor/matmul.h"

namespace ts::test {

// A weight matrix's bytes and the view the products take.
struct Weights {
  DType type;
  int64_t rows, cols;
  size_t stride;
  std::vector<uint8_t> bytes;
  WeightView view() const { return WeightView{type, bytes.data(), rows, cols, stride}; }
};

// Uniform values in [−1, 1).
inline std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// Normal activations with an outlier (×20) every 97 elements, like the inputs of a transformer's matrices.
inline std::vector<float> random_activations(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = nd(rng) * (i % 97 == 5 ? 20.0f : 1.0f);
  return v;
}

}  // namespace ts::test
