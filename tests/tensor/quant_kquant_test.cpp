// Q2_K, Q3_K, Q4_K, Q5_K, Q6_K super-blocks built by hand: codes chosen per element, packed here by the ggml layout
// (ggml-common.h, ggml-quants.c), the values the layout defines computed here independently of src/tensor.
// Sub-block scales are chosen to use their high bits; super-block scales are powers of two so values are exact.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "tensor/cpu.h"
#include "tensor/quant.h"

namespace ts {
namespace {

constexpr uint16_t kHalfQuarter = 0x3400;     // 0.25
constexpr uint16_t kHalfSixteenth = 0x2C00;   // 0.0625
constexpr uint16_t kHalfThirtySecond = 0x2800;  // 0.03125
constexpr uint16_t kHalfMinusHalf = 0xB800;   // -0.5

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v & 0xFF);
  p[1] = static_cast<uint8_t>(v >> 8);
}

void expect_row(DType t, const std::vector<uint8_t>& bytes, const std::vector<float>& want) {
  const auto n = static_cast<int64_t>(want.size());
  ASSERT_EQ(bytes.size(), row_bytes(t, n));
  std::vector<float> x(n);
  double dot = 0.0, mag = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = 0.75f - static_cast<float>((i * 53) % 17) / 16.0f;
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

// The 2-bit low part of element e (within a super-block) sits in qs[32*(e/128) + e%32] at bit 2*((e%128)/32).
void put_low2(uint8_t* qs, int e, int v) {
  qs[32 * (e / 128) + e % 32] |= static_cast<uint8_t>((v & 3) << (2 * ((e % 128) / 32)));
}
// Q4_K/Q5_K: nibble of element e sits in qs[32*(e/64) + e%32], low nibble when e%64 < 32.
void put_nibble(uint8_t* qs, int e, int v) {
  qs[32 * (e / 64) + e % 32] |= static_cast<uint8_t>(e % 64 < 32 ? (v & 15) : (v & 15) << 4);
}
// Q4_K/Q5_K six-bit scale/min of sub-block j into the 12 scale bytes.
void put_k4_scale_min(uint8_t* s, int j, int sc, int m) {
  if (j < 4) {
    s[j] |= static_cast<uint8_t>(sc);
    s[j + 4] |= static_cast<uint8_t>(m);
  } else {
    s[j + 4] |= static_cast<uint8_t>((sc & 15) | ((m & 15) << 4));
    s[j - 4] |= static_cast<uint8_t>((sc >> 4) << 6);
    s[j] |= static_cast<uint8_t>((m >> 4) << 6);
  }
}

TEST(Q2_K, ElementUsesTwoBitCodeAndNibbleScaleAndMinOfItsSixteen) {
  const int nb = 2;
  std::vector<uint8_t> bytes(84 * nb, 0);
  std::vector<float> want(256 * nb);
  for (int b = 0; b < nb; ++b) {
    uint8_t* blk = &bytes[84 * b];
    const float d = b == 0 ? 0.25f : 0.0625f, dmin = b == 0 ? 0.0625f : 0.25f;
    put16(blk + 80, b == 0 ? kHalfQuarter : kHalfSixteenth);
    put16(blk + 82, b == 0 ? kHalfSixteenth : kHalfQuarter);
    for (int s = 0; s < 16; ++s) blk[s] = static_cast<uint8_t>(((s + b) % 16) | (((15 - s) % 16) << 4));
    for (int e = 0; e < 256; ++e) {
      const int code = (e * 3 + e / 7 + b) % 4;
      put_low2(blk + 16, e, code);
      const int s = e / 16;
      want[256 * b + e] = d * static_cast<float>((s + b) % 16) * static_cast<float>(code) -
                          dmin * static_cast<float>(15 - s);
    }
  }
  expect_row(DType::Q2_K, bytes, want);
}

TEST(Q3_K, ElementUsesHmaskBitAndSignedSixBitScale) {
  const int nb = 2;
  std::vector<uint8_t> bytes(110 * nb, 0);
  std::vector<float> want(256 * nb);
  for (int b = 0; b < nb; ++b) {
    uint8_t* blk = &bytes[110 * b];
    const float d = b == 0 ? 0.25f : -0.5f;
    put16(blk + 108, b == 0 ? kHalfQuarter : kHalfMinusHalf);
    int raw[16];
    for (int s = 0; s < 16; ++s) {
      raw[s] = (s * 13 + 5 + 7 * b) % 64;  // stored 6-bit value, scale = raw - 32
      uint8_t* sc = blk + 96;
      sc[s % 8] |= static_cast<uint8_t>(s < 8 ? (raw[s] & 15) : (raw[s] & 15) << 4);
      sc[8 + s % 4] |= static_cast<uint8_t>((raw[s] >> 4) << (2 * (s / 4)));
    }
    for (int e = 0; e < 256; ++e) {
      const int code = (e * 5 + e / 9 + b) % 8 - 4;  // -4..3, stored as code + 4
      const int stored = code + 4;
      put_low2(blk + 32, e, stored & 3);
      if (stored & 4) blk[e % 32] |= static_cast<uint8_t>(1u << (e / 32));
      want[256 * b + e] = d * static_cast<float>(raw[e / 16] - 32) * static_cast<float>(code);
    }
  }
  expect_row(DType::Q3_K, bytes, want);
}

TEST(Q4_K, ElementUsesNibbleAndSixBitScaleAndMinOfItsThirtyTwo) {
  const int nb = 2;
  std::vector<uint8_t> bytes(144 * nb, 0);
  std::vector<float> want(256 * nb);
  for (int b = 0; b < nb; ++b) {
    uint8_t* blk = &bytes[144 * b];
    const float d = b == 0 ? 0.0625f : 0.25f, dmin = b == 0 ? 0.03125f : 0.0625f;
    put16(blk + 0, b == 0 ? kHalfSixteenth : kHalfQuarter);
    put16(blk + 2, b == 0 ? kHalfThirtySecond : kHalfSixteenth);
    int sc[8], m[8];
    for (int j = 0; j < 8; ++j) {
      sc[j] = 63 - 5 * j - b;  // high bits set for the first ones
      m[j] = (7 * j + 19 + b) % 64;
      put_k4_scale_min(blk + 4, j, sc[j], m[j]);
    }
    for (int e = 0; e < 256; ++e) {
      const int code = (e * 7 + e / 13 + b) % 16;
      put_nibble(blk + 16, e, code);
      want[256 * b + e] = d * static_cast<float>(sc[e / 32]) * static_cast<float>(code) -
                          dmin * static_cast<float>(m[e / 32]);
    }
  }
  expect_row(DType::Q4_K, bytes, want);
}

TEST(Q5_K, FifthBitOfElementEIsBitEOver32OfQh) {
  const int nb = 2;
  std::vector<uint8_t> bytes(176 * nb, 0);
  std::vector<float> want(256 * nb);
  for (int b = 0; b < nb; ++b) {
    uint8_t* blk = &bytes[176 * b];
    const float d = b == 0 ? 0.03125f : 0.0625f, dmin = b == 0 ? 0.25f : 0.03125f;
    put16(blk + 0, b == 0 ? kHalfThirtySecond : kHalfSixteenth);
    put16(blk + 2, b == 0 ? kHalfQuarter : kHalfThirtySecond);
    int sc[8], m[8];
    for (int j = 0; j < 8; ++j) {
      sc[j] = (11 * j + 40 + b) % 64;
      m[j] = 60 - 6 * j - b;
      put_k4_scale_min(blk + 4, j, sc[j], m[j]);
    }
    for (int e = 0; e < 256; ++e) {
      const int code = (e * 11 + e / 5 + b) % 32;
      put_nibble(blk + 48, e, code & 15);
      if (code & 16) blk[16 + e % 32] |= static_cast<uint8_t>(1u << (e / 32));
      want[256 * b + e] = d * static_cast<float>(sc[e / 32]) * static_cast<float>(code) -
                          dmin * static_cast<float>(m[e / 32]);
    }
  }
  expect_row(DType::Q5_K, bytes, want);
}

TEST(Q6_K, ElementUsesSixBitCodeMinus32AndSignedByteScaleOfItsSixteen) {
  const int nb = 2;
  std::vector<uint8_t> bytes(210 * nb, 0);
  std::vector<float> want(256 * nb);
  for (int b = 0; b < nb; ++b) {
    uint8_t* blk = &bytes[210 * b];
    const float d = b == 0 ? 0.0625f : -0.5f;
    put16(blk + 208, b == 0 ? kHalfSixteenth : kHalfMinusHalf);
    int sc[16];
    for (int s = 0; s < 16; ++s) {
      sc[s] = s == 0 ? -128 : s == 1 ? 127 : (s * 37 + b * 11) % 256 - 128;
      blk[192 + s] = static_cast<uint8_t>(static_cast<int8_t>(sc[s]));
    }
    for (int e = 0; e < 256; ++e) {
      const int code = (e * 13 + e / 11 + b) % 64;
      // e = 128h + 32g + l: low nibble in ql[64h + l] (g = 0, 2) or ql[64h + 32 + l] (g = 1, 3), the high nibble
      // for g >= 2; the top two bits at bit 2g of qh[32h + l].
      const int h = e / 128, g = (e % 128) / 32, l = e % 32;
      uint8_t& ql = blk[64 * h + (g % 2) * 32 + l];
      ql |= static_cast<uint8_t>(g < 2 ? (code & 15) : (code & 15) << 4);
      blk[128 + 32 * h + l] |= static_cast<uint8_t>((code >> 4) << (2 * g));
      want[256 * b + e] = d * static_cast<float>(sc[e / 16]) * static_cast<float>(code - 32);
    }
  }
  expect_row(DType::Q6_K, bytes, want);
}

}  // namespace
}  // namespace ts
