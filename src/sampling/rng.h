// Rng: the one source of randomness of the sampling layer, seeded and identical on every platform.
//
// std::mt19937_64's output sequence is fixed by the C++ standard, but std::uniform_real_distribution is not (each
// standard library maps the bits differently), so uniform() is ours: the top 53 bits of one 64-bit draw, times
// 2^-53, a double in [0, 1) with every value a multiple of 2^-53. A seed therefore replays the same tokens with
// libstdc++, libc++ and MSVC alike. Copying an Rng forks its stream (both copies then produce the same draws).
#pragma once

#include <cstdint>
#include <random>

namespace ts::sampling {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : gen_(seed) {}

  void seed(uint64_t s) { gen_.seed(s); }
  uint64_t next_u64() { return gen_(); }
  // Uniform in [0, 1): 53 random bits, so 1.0 is never returned.
  double uniform() { return static_cast<double>(gen_() >> 11) * 0x1.0p-53; }

 private:
  std::mt19937_64 gen_;
};

}  // namespace ts::sampling
