// F32 / F16 / BF16 rows and the fp16 / bf16 conversions.
//
// fp16 is checked against the compiler's own _Float16 conversions (libgcc, round to nearest even) on every one of
// the 65536 bit patterns and on random floats; bf16 against hand-worked bit patterns.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "tensor/cpu.h"
#include "tensor/quant.h"

namespace ts {
namespace {

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float float_of(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
uint16_t compiler_fp16(float f) {
  const _Float16 h = static_cast<_Float16>(f);
  uint16_t u;
  std::memcpy(&u, &h, 2);
  return u;
}
float compiler_fp16_to_float(uint16_t u) {
  _Float16 h;
  std::memcpy(&h, &u, 2);
  return static_cast<float>(h);
}

TEST(Fp16, EveryBitPatternConvertsLikeTheCompiler) {
  for (uint32_t u = 0; u < 65536; ++u) {
    const auto h = static_cast<uint16_t>(u);
    const float want = compiler_fp16_to_float(h);
    const float got = fp16_to_fp32(h);
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(got)) << std::hex << u;
      continue;
    }
    ASSERT_EQ(bits_of(got), bits_of(want)) << std::hex << u;
    ASSERT_EQ(fp32_to_fp16(got), h) << std::hex << u;  // every half survives the round trip
  }
}

TEST(Fp16, RoundsToNearestEvenLikeTheCompiler) {
  EXPECT_EQ(fp32_to_fp16(1.0f + 0x1p-11f), 0x3C00);         // tie, down to even
  EXPECT_EQ(fp32_to_fp16(1.0f + 3 * 0x1p-11f), 0x3C02);     // tie, up to even
  EXPECT_EQ(fp32_to_fp16(65519.0f), 0x7BFF);                // just below the overflow tie
  EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7C00);                // overflow tie rounds to infinity
  EXPECT_EQ(fp32_to_fp16(0x1p-25f), 0x0000);                // tie between 0 and the smallest subnormal
  EXPECT_EQ(fp32_to_fp16(3 * 0x1p-25f), 0x0002);            // subnormal tie, up to even
  EXPECT_EQ(fp32_to_fp16(-0.0f), 0x8000);
  EXPECT_TRUE(std::isnan(fp16_to_fp32(fp32_to_fp16(std::nanf("")))));
  std::mt19937 rng(1);
  std::uniform_int_distribution<uint32_t> any;
  for (int i = 0; i < 200000; ++i) {
    // random bit patterns over the whole float range, finite ones only
    const float f = float_of(any(rng));
    if (std::isnan(f)) continue;
    ASSERT_EQ(fp32_to_fp16(f), compiler_fp16(f)) << f;
  }
}

TEST(Bf16, ConvertsByTruncatedBitsAndRoundsToNearestEven) {
  EXPECT_EQ(bf16_to_fp32(0x3F80), 1.0f);
  EXPECT_EQ(bf16_to_fp32(0xC040), -3.0f);
  EXPECT_EQ(bits_of(bf16_to_fp32(0x0001)), 0x00010000u);     // subnormal kept
  EXPECT_EQ(fp32_to_bf16(1.0f + 0x1p-8f), 0x3F80);            // tie, down to even
  EXPECT_EQ(fp32_to_bf16(1.0f + 3 * 0x1p-8f), 0x3F82);        // tie, up to even
  EXPECT_EQ(fp32_to_bf16(1.0f + 0x1p-8f + 0x1p-20f), 0x3F81); // above the tie
  EXPECT_EQ(fp32_to_bf16(float_of(0x7F7FFFFFu)), 0x7F80);     // FLT_MAX rounds to infinity
  EXPECT_TRUE(std::isnan(bf16_to_fp32(fp32_to_bf16(std::nanf("")))));
  for (uint32_t u = 0; u < 65536; ++u) {
    if ((u & 0x7F80u) == 0x7F80u && (u & 0x7Fu)) continue;  // NaN
    ASSERT_EQ(fp32_to_bf16(bf16_to_fp32(static_cast<uint16_t>(u))), u);
  }
}

// Rows of the float types with an odd length, so every SIMD tail path runs; checked at every ISA this CPU has.
TEST(FloatRows, DequantizeAndDotMatchTheStoredValuesAtEveryIsa) {
  const int64_t n = 67;
  std::vector<float> vals(n), x(n);
  for (int64_t i = 0; i < n; ++i) {
    vals[i] = static_cast<float>(i - 30) * 0.25f;  // exact in f16 and bf16
    x[i] = 1.0f / static_cast<float>(i + 1);
  }
  std::vector<uint16_t> h(n), b(n);
  for (int64_t i = 0; i < n; ++i) {
    h[i] = fp32_to_fp16(vals[i]);
    b[i] = fp32_to_bf16(vals[i]);
  }
  double want_dot = 0.0;
  for (int64_t i = 0; i < n; ++i) want_dot += static_cast<double>(vals[i]) * x[i];
  const struct { DType t; const void* data; } rows[] = {{DType::F32, vals.data()}, {DType::F16, h.data()},
                                                        {DType::BF16, b.data()}};
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    set_isa_cap(isa);
    if (active_isa() != isa) continue;
    for (const auto& r : rows) {
      std::vector<float> out(n, -1.0f);
      dequantize_row(r.t, r.data, out.data(), n);
      EXPECT_EQ(out, vals) << dtype_name(r.t) << " " << isa_name(isa);
      EXPECT_NEAR(vec_dot(r.t, r.data, x.data(), n), want_dot, 1e-5 * 60) << dtype_name(r.t) << " " << isa_name(isa);
    }
  }
  set_isa_cap(Isa::kAvx512);
}

TEST(FloatRows, QuantizeWritesTheConvertedValues) {
  const float src[4] = {1.0f, -2.5f, 1.0f + 0x1p-11f, 3.0e38f};
  uint16_t h[4], b[4];
  float f[4];
  ASSERT_TRUE(quantize_row(DType::F16, src, h, 4));
  ASSERT_TRUE(quantize_row(DType::BF16, src, b, 4));
  ASSERT_TRUE(quantize_row(DType::F32, src, f, 4));
  EXPECT_EQ(h[0], 0x3C00);
  EXPECT_EQ(h[1], 0xC100);
  EXPECT_EQ(h[2], 0x3C00);
  EXPECT_EQ(h[3], 0x7C00);
  EXPECT_EQ(b[1], 0xC020);
  EXPECT_EQ(std::memcmp(f, src, sizeof src), 0);
}

}  // namespace
}  // namespace ts
