// quantize_row then dequantize_row: the error each reference quantizer leaves, bounded per format.
//
// Legacy formats have hard bounds from their rounding rule (stated per test). The k-quants choose scales by a search,
// so they get statistical bounds on Gaussian data (RMS error relative to the data's RMS, about 1.3x what they
// achieve) plus exact round trips for zero rows.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "tensor/quant.h"

namespace ts {
namespace {

std::vector<float> gaussian(int64_t n, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, sigma);
  std::vector<float> x(n);
  for (auto& v : x) v = g(rng);
  return x;
}

std::vector<float> round_trip(DType t, const std::vector<float>& x, std::vector<uint8_t>* bytes_out = nullptr) {
  const auto n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> bytes(row_bytes(t, n));
  EXPECT_TRUE(quantize_row(t, x.data(), bytes.data(), n)) << dtype_name(t);
  std::vector<float> y(n);
  dequantize_row_ref(t, bytes.data(), y.data(), n);
  if (bytes_out) *bytes_out = bytes;
  return y;
}

float half_at(const std::vector<uint8_t>& b, size_t off) {
  uint16_t h;
  std::memcpy(&h, &b[off], 2);
  return fp16_to_fp32(h);
}

TEST(RoundTrip, FloatFormatsRoundOnlyToTheirPrecision) {
  const auto x = gaussian(512, 1, 10.0f);
  EXPECT_EQ(round_trip(DType::F32, x), x);
  const auto h = round_trip(DType::F16, x), b = round_trip(DType::BF16, x);
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_LE(std::fabs(h[i] - x[i]), std::fabs(x[i]) * 0x1p-11f) << i;  // half an ulp of an 11-bit significand
    EXPECT_LE(std::fabs(b[i] - x[i]), std::fabs(x[i]) * 0x1p-8f) << i;   // half an ulp of an 8-bit significand
  }
}

// The legacy quantizers follow ggml's reference rule: codes are computed with the exact fp32 scale (and min), which is
// then stored rounded to fp16. So an element is within half a step of the exact grid, plus |code| times the scale's
// fp16 rounding (and the min's). The tests recompute the exact scale from the data, as the format defines it.

float abs_max_signed(const float* x, int n) {  // the element of largest magnitude, first one on ties
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < n; ++j)
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  return max;
}

// Q8_0: d = max|x| / 127, codes round(x / d).
TEST(RoundTrip, Q8_0IsWithinHalfAStepPlusScaleRounding) {
  const auto x = gaussian(1024, 2);
  std::vector<uint8_t> bytes;
  const auto y = round_trip(DType::Q8_0, x, &bytes);
  for (size_t i = 0; i < x.size(); ++i) {
    const float d = std::fabs(abs_max_signed(&x[32 * (i / 32)], 32)) / 127.0f;
    const float d_stored = half_at(bytes, 34 * (i / 32));
    ASSERT_LE(std::fabs(y[i] - x[i]), d * 0.5f * (1.0f + 1e-5f) + 127.0f * std::fabs(d - d_stored)) << i;
  }
}

// Q4_0 / Q5_0: d = m / -8 (-16), m the element of largest magnitude, which maps to the lowest code. Elements of the
// opposite sign beyond 7.5 (15.5) steps are clamped to the top code: within one step instead of half.
TEST(RoundTrip, Q4_0AndQ5_0AreWithinHalfAStepExceptTheClampedTop) {
  for (auto [t, bytes_per_block, levels] : {std::tuple{DType::Q4_0, 18, 8.0f}, std::tuple{DType::Q5_0, 22, 16.0f}}) {
    const auto x = gaussian(1024, 3);
    std::vector<uint8_t> bytes;
    const auto y = round_trip(t, x, &bytes);
    for (size_t i = 0; i < x.size(); ++i) {
      const float d = abs_max_signed(&x[32 * (i / 32)], 32) / -levels;
      const float d_stored = half_at(bytes, bytes_per_block * (i / 32));
      const float steps = x[i] / d;
      const float bound = std::fabs(d) * (steps > levels - 0.5f ? 1.0f : 0.5f) * (1.0f + 1e-5f) +
                          levels * std::fabs(d - d_stored);
      ASSERT_LE(std::fabs(y[i] - x[i]), bound) << dtype_name(t) << " " << i;
    }
  }
}

// Q4_1 / Q5_1: m = min, d = (max - min) / 15 (31), codes round((x - m) / d).
TEST(RoundTrip, Q4_1AndQ5_1AreWithinHalfAStepPlusScaleRounding) {
  for (auto [t, bytes_per_block, top] : {std::tuple{DType::Q4_1, 20, 15.0f}, std::tuple{DType::Q5_1, 24, 31.0f}}) {
    const auto x = gaussian(1024, 4);
    std::vector<uint8_t> bytes;
    const auto y = round_trip(t, x, &bytes);
    for (size_t i = 0; i < x.size(); ++i) {
      const size_t blk = i / 32;
      const auto [lo, hi] = std::minmax_element(x.begin() + 32 * blk, x.begin() + 32 * blk + 32);
      const float d = (*hi - *lo) / top;
      const float d_stored = half_at(bytes, bytes_per_block * blk), m_stored = half_at(bytes, bytes_per_block * blk + 2);
      const float bound = d * 0.5f * (1.0f + 1e-5f) + std::fabs(*lo - m_stored) + top * std::fabs(d - d_stored) + 1e-6f;
      ASSERT_LE(std::fabs(y[i] - x[i]), bound) << dtype_name(t) << " " << i;
    }
  }
}

TEST(RoundTrip, ValuesOnTheGridComeBackExactly) {
  // Q8_0: k * 0.25 for k = -127..127, the largest magnitude 127 * 0.25, so d = 0.25 exactly.
  std::vector<float> x(256);
  for (int i = 0; i < 256; ++i) x[i] = 0.25f * static_cast<float>(i % 32 == 0 ? 127 : (i * 37) % 255 - 127);
  EXPECT_EQ(round_trip(DType::Q8_0, x), x);
  // Q4_0: d * (q - 8) with d = -0.5: the largest magnitude, 4.0, is code 0, which makes the quantizer pick d = -0.5.
  for (int i = 0; i < 256; ++i) x[i] = -0.5f * static_cast<float>(i % 32 == 0 ? -8 : (i * 5) % 16 - 8);
  EXPECT_EQ(round_trip(DType::Q4_0, x), x);
}

TEST(RoundTrip, ZeroRowsStayZeroInEveryFormat) {
  const std::vector<float> zeros(512, 0.0f);
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0,
                  DType::Q5_1, DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
    const auto y = round_trip(t, zeros);
    for (float v : y) ASSERT_EQ(v, 0.0f) << dtype_name(t);
  }
}

double relative_rms_error(DType t, const std::vector<float>& x) {
  const auto y = round_trip(t, x);
  double e2 = 0.0, x2 = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    e2 += (static_cast<double>(y[i]) - x[i]) * (static_cast<double>(y[i]) - x[i]);
    x2 += static_cast<double>(x[i]) * x[i];
  }
  return std::sqrt(e2 / x2);
}

// Bounds about 1.3x the achieved error on Gaussian data (a uniform b-bit grid over the block range gives roughly
// step/sqrt(12)); a layout or packing bug gives errors of order 1.
TEST(RoundTrip, KQuantsReachTheirExpectedRmsError) {
  const auto x = gaussian(4096, 5, 0.02f);
  const struct { DType t; double bound; } cases[] = {
      {DType::Q2_K, 0.38}, {DType::Q3_K, 0.20}, {DType::Q4_K, 0.095}, {DType::Q5_K, 0.047}, {DType::Q6_K, 0.023},
      {DType::Q4_0, 0.11}, {DType::Q4_1, 0.10}, {DType::Q5_0, 0.055}, {DType::Q5_1, 0.05}, {DType::Q8_0, 0.007},
  };
  for (const auto& c : cases) {
    const double e = relative_rms_error(c.t, x);
    std::printf("[  INFO    ] %-5s relative RMS error %.4f (bound %.3f)\n", std::string(dtype_name(c.t)).c_str(), e,
                c.bound);
    EXPECT_LE(e, c.bound) << dtype_name(c.t);
  }
}

}  // namespace
}  // namespace ts
