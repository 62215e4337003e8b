// Test support for the matrix-product tests: random inputs shaped like a transformer's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace ts::test {

// Normal activations with an outlier (×20) every 97 elements, like the inputs of a transformer's matrices.
inline std::vector<float> random_activations(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = nd(rng) * (i % 97 == 5 ? 20.0f : 1.0f);
  return v;
}

}  // namespace ts::test
