// Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 blocks built by hand from chosen per-element codes, packed here by the ggml layout
// (ggml-common.h), and the values the layout defines computed here, independently of src/tensor. Scales are powers
// of two so every expected value is exact. Each block is checked through the reference, the dispatched dequantize
// at every ISA this CPU has, and vec_dot against a double-precision sum.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "tensor/cpu.h"
#include "tensor/quant.h"

namespace ts {
namespace {

constexpr uint16_t kHalfQuarter = 0x3400;    // 0.25
constexpr uint16_t kHalfMinusHalf = 0xB800;  // -0.5
constexpr uint16_t kHalfTwo = 0x4000;        // 2.0
constexpr uint16_t kHalfMinusOne = 0xBC00;   // -1.0
constexpr uint16_t kHalfEighth = 0x3000;     // 0.125

void put16(std::vector<uint8_t>& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v & 0xFF);
  b[at + 1] = static_cast<uint8_t>(v >> 8);
}

// The row must decode to `want` through every path; vec_dot must equal sum want[i]*x[i].
void expect_row(DType t, const std::vector<uint8_t>& bytes, const std::vector<float>& want) {
  const auto n = static_cast<int64_t>(want.size());
  ASSERT_EQ(bytes.size(), row_bytes(t, n));
  std::vector<float> x(n);
  double dot = 0.0, mag = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = 0.5f + static_cast<float>((i * 37) % 11) / 8.0f - (i % 3 == 0 ? 2.0f : 0.0f);
    dot += static_cast<double>(want[i]) * x[i];
    mag += std::abs(static_cast<double>(want[i]) * x[i]);
  }
  std::vector<float> got(n, -99.0f);
  dequantize_row_ref(t, bytes.data(), got.data(), n);
  EXPECT_EQ(got, want) << dtype_name(t) << " reference";
  EXPECT_NEAR(vec_dot_ref(t, bytes.data(), x.data(), n), dot, 1e-6 * mag) << dtype_name(t) << " reference";
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    set_isa_cap(isa);
    if (active_isa() != isa) continue;
    std::fill(got.begin(), got.end(), -99.0f);
    dequantize_row(t, bytes.data(), got.data(), n);
    EXPECT_EQ(got, want) << dtype_name(t) << " " << isa_name(isa);
    EXPECT_NEAR(vec_dot(t, bytes.data(), x.data(), n), dot, 1e-5 * mag) << dtype_name(t) << " " << isa_name(isa);
  }
  set_isa_cap(Isa::kAvx512);
}

TEST(Q8_0, HandBuiltBlocksDecodeToScaleTimesSignedBytes) {
  const int nb = 2;
  std::vector<uint8_t> bytes(34 * nb);
  std::vector<float> want(32 * nb);
  const uint16_t d_bits[nb] = {kHalfQuarter, kHalfMinusHalf};
  const float d[nb] = {0.25f, -0.5f};
  for (int b = 0; b < nb; ++b) {
    put16(bytes, 34 * b, d_bits[b]);
    for (int j = 0; j < 32; ++j) {
      const int q = j == 0 ? -128 : j == 1 ? 127 : (j * 29 + b * 7) % 256 - 128;
      bytes[34 * b + 2 + j] = static_cast<uint8_t>(static_cast<int8_t>(q));
      want[32 * b + j] = d[b] * static_cast<float>(q);
    }
  }
  expect_row(DType::Q8_0, bytes, want);
}

TEST(Q4_0, LowNibblesAreElements0To15AndHighNibbles16To31) {
  const int nb = 2;
  std::vector<uint8_t> bytes(18 * nb);
  std::vector<float> want(32 * nb);
  const uint16_t d_bits[nb] = {kHalfTwo, kHalfMinusHalf};
  const float d[nb] = {2.0f, -0.5f};
  for (int b = 0; b < nb; ++b) {
    put16(bytes, 18 * b, d_bits[b]);
    for (int e = 0; e < 32; ++e) {
      const int code = (e * 7 + 3 + b) % 16;
      bytes[18 * b + 2 + (e % 16)] |= static_cast<uint8_t>(e < 16 ? code : code << 4);
      want[32 * b + e] = d[b] * static_cast<float>(code - 8);
    }
  }
  expect_row(DType::Q4_0, bytes, want);
}

TEST(Q4_1, ValueIsScaleTimesNibblePlusMin) {
  const int nb = 2;
  std::vector<uint8_t> bytes(20 * nb);
  std::vector<float> want(32 * nb);
  for (int b = 0; b < nb; ++b) {
    put16(bytes, 20 * b, b == 0 ? kHalfQuarter : kHalfTwo);
    put16(bytes, 20 * b + 2, b == 0 ? kHalfMinusOne : kHalfEighth);
    const float d = b == 0 ? 0.25f : 2.0f, m = b == 0 ? -1.0f : 0.125f;
    for (int e = 0; e < 32; ++e) {
      const int code = (e * 5 + 1 + b) % 16;
      bytes[20 * b + 4 + (e % 16)] |= static_cast<uint8_t>(e < 16 ? code : code << 4);
      want[32 * b + e] = d * static_cast<float>(code) + m;
    }
  }
  expect_row(DType::Q4_1, bytes, want);
}

// Q5_0 / Q5_1: bit e of the little-endian uint32 qh is the fifth bit of element e.
TEST(Q5_0, FifthBitOfElementEIsBitEOfQh) {
  const int nb = 2;
  std::vector<uint8_t> bytes(22 * nb);
  std::vector<float> want(32 * nb);
  for (int b = 0; b < nb; ++b) {
    put16(bytes, 22 * b, b == 0 ? kHalfQuarter : kHalfMinusOne);
    const float d = b == 0 ? 0.25f : -1.0f;
    uint32_t qh = 0;
    for (int e = 0; e < 32; ++e) {
      const int code = (e * 11 + 5 + 3 * b) % 32;
      bytes[22 * b + 6 + (e % 16)] |= static_cast<uint8_t>(e < 16 ? (code & 15) : (code & 15) << 4);
      qh |= static_cast<uint32_t>(code >> 4) << e;
      want[32 * b + e] = d * static_cast<float>(code - 16);
    }
    std::memcpy(&bytes[22 * b + 2], &qh, 4);
  }
  expect_row(DType::Q5_0, bytes, want);
}

TEST(Q5_1, ValueIsScaleTimesFiveBitCodePlusMin) {
  const int nb = 2;
  std::vector<uint8_t> bytes(24 * nb);
  std::vector<float> want(32 * nb);
  for (int b = 0; b < nb; ++b) {
    put16(bytes, 24 * b, b == 0 ? kHalfEighth : kHalfTwo);
    put16(bytes, 24 * b + 2, b == 0 ? kHalfMinusOne : kHalfMinusHalf);
    const float d = b == 0 ? 0.125f : 2.0f, m = b == 0 ? -1.0f : -0.5f;
    uint32_t qh = 0;
    for (int e = 0; e < 32; ++e) {
      const int code = (e * 13 + 2 + b) % 32;
      bytes[24 * b + 8 + (e % 16)] |= static_cast<uint8_t>(e < 16 ? (code & 15) : (code & 15) << 4);
      qh |= static_cast<uint32_t>(code >> 4) << e;
      want[32 * b + e] = d * static_cast<float>(code) + m;
    }
    std::memcpy(&bytes[24 * b + 4], &qh, 4);
  }
  expect_row(DType::Q5_1, bytes, want);
}

TEST(UnsupportedType, DequantizeGivesNaNAndQuantizeRefuses) {
  std::vector<uint8_t> bytes(36, 0);
  std::vector<float> out(32, 0.0f);
  dequantize_row(DType::Q8_1, bytes.data(), out.data(), 32);
  EXPECT_TRUE(std::isnan(out[0]));
  EXPECT_TRUE(std::isnan(vec_dot(DType::Q8_1, bytes.data(), out.data(), 32)));
  EXPECT_FALSE(quantize_row(DType::Q8_K, out.data(), bytes.data(), 0));
}

}  // namespace
}  // namespace ts
