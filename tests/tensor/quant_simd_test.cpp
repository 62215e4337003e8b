// Every SIMD path against the scalar reference on random rows of every type.
//
// dequantize_row must be bit-identical to dequantize_row_ref. vec_dot may differ from vec_dot_ref (a double sum)
// only by fp32 summation order: with n <= 2048 every path sums at most 128 products per fp32 lane chain plus a short
// final reduction, so |simd - ref| <= 1e-5 * sum |w_i x_i| holds with margin (128 * 2^-24 ~ 7.6e-6).
// Rows and activations are placed at misaligned addresses (2-byte aligned rows, 4-byte aligned x and F32 rows), as
// rows inside a GGUF mapping can be.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "tensor/cpu.h"
#include "tensor/quant.h"

namespace ts {
namespace {

constexpr double kDotRelTol = 1e-5;

struct HalfFields {
  DType t;
  std::vector<int> offsets;  // byte offsets of the fp16 fields inside one block
};

const HalfFields kBlockTypes[] = {
    {DType::Q4_0, {0}},      {DType::Q4_1, {0, 2}},  {DType::Q5_0, {0}},   {DType::Q5_1, {0, 2}},
    {DType::Q8_0, {0}},      {DType::Q2_K, {80, 82}}, {DType::Q3_K, {108}}, {DType::Q4_K, {0, 2}},
    {DType::Q5_K, {0, 2}},   {DType::Q6_K, {208}},
};

// Random bytes, with every fp16 field a finite value of moderate size (random bits there could be Inf/NaN).
std::vector<uint8_t> random_row(DType t, const std::vector<int>& half_offsets, int64_t n, std::mt19937& rng) {
  const DTypeTraits tr = traits(t);
  std::vector<uint8_t> row(row_bytes(t, n));
  std::uniform_int_distribution<int> byte(0, 255);
  for (auto& b : row) b = static_cast<uint8_t>(byte(rng));
  std::uniform_real_distribution<float> scale(-0.1f, 0.1f);
  for (int64_t blk = 0; blk < n / tr.block_elems; ++blk)
    for (int off : half_offsets) {
      const uint16_t h = fp32_to_fp16(scale(rng));
      std::memcpy(&row[blk * tr.block_bytes + off], &h, 2);
    }
  return row;
}

std::vector<float> random_x(int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> x(n);
  for (auto& v : x) v = g(rng);
  return x;
}

// Checks one row at every ISA this CPU has; returns how many SIMD ISAs ran.
int check_row(DType t, const std::vector<uint8_t>& row_in, const std::vector<float>& x_in, int64_t n) {
  // Copy to misaligned offsets: x at +1 float, the row at +2 bytes (F32 rows at +4: GGUF keeps them 4-aligned).
  const size_t shift = t == DType::F32 ? 4 : 2;
  std::vector<uint8_t> row_buf(row_in.size() + shift);
  std::memcpy(row_buf.data() + shift, row_in.data(), row_in.size());
  const void* row = row_buf.data() + shift;
  std::vector<float> x_buf(n + 1);
  std::memcpy(x_buf.data() + 1, x_in.data(), x_in.size() * sizeof(float));
  const float* x = x_buf.data() + 1;

  std::vector<float> want(n);
  dequantize_row_ref(t, row, want.data(), n);
  double mag = 0.0;
  for (int64_t i = 0; i < n; ++i) mag += std::abs(static_cast<double>(want[i]) * x[i]);
  const float ref_dot = vec_dot_ref(t, row, x, n);
  int ran = 0;
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    set_isa_cap(isa);
    if (active_isa() != isa) continue;
    ++ran;
    std::vector<float> got(n + 1, -7.0f);
    dequantize_row(t, row, got.data(), n);
    EXPECT_EQ(0, std::memcmp(got.data(), want.data(), n * sizeof(float)))
        << dtype_name(t) << " dequantize " << isa_name(isa) << " n=" << n;
    EXPECT_EQ(got[n], -7.0f) << dtype_name(t) << " wrote past the row, " << isa_name(isa);
    EXPECT_NEAR(vec_dot(t, row, x, n), ref_dot, kDotRelTol * mag + 1e-30)
        << dtype_name(t) << " vec_dot " << isa_name(isa) << " n=" << n;
  }
  set_isa_cap(Isa::kAvx512);
  return ran;
}

void report_skips(int ran) {
  set_isa_cap(Isa::kAvx512);
  if (active_isa() != Isa::kAvx512)
    std::printf("[  NOTE    ] AVX-512 unavailable (CPU or TOKENSCOPE_ISA; best: %s): its paths not tested\n",
                isa_name(active_isa()));
  if (ran == 0) GTEST_SKIP() << "no AVX2 (CPU or TOKENSCOPE_ISA): no SIMD path to test";
}

TEST(SimdVsReference, BlockTypesDequantizeBitExactAndDotWithinTolerance) {
  std::mt19937 rng(42);
  int ran = 0;
  for (const auto& bt : kBlockTypes) {
    const int64_t be = traits(bt.t).block_elems;
    for (int64_t n : {be, 2 * be, 2048 - 2048 % be}) {
      for (int rep = 0; rep < 3; ++rep) {
        const auto row = random_row(bt.t, bt.offsets, n, rng);
        ran = std::max(ran, check_row(bt.t, row, random_x(n, rng), n));
      }
    }
  }
  report_skips(ran);
}

TEST(SimdVsReference, FloatTypesAtEveryLengthUpTo70AndLongRows) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> bits(0, 0xFFFF);
  std::normal_distribution<float> g(0.0f, 3.0f);
  int ran = 0;
  std::vector<int64_t> lengths;
  for (int64_t n = 1; n <= 70; ++n) lengths.push_back(n);
  lengths.push_back(1000);
  lengths.push_back(2048);
  for (int64_t n : lengths) {
    std::vector<float> f(n);
    std::vector<uint16_t> h(n), b(n);
    for (int64_t i = 0; i < n; ++i) {
      f[i] = g(rng);
      uint16_t hb;
      do hb = static_cast<uint16_t>(bits(rng)); while ((hb & 0x7C00) == 0x7C00);  // any finite half, subnormals too
      h[i] = hb;
      b[i] = fp32_to_bf16(g(rng));
    }
    auto bytes = [](const void* p, size_t len) {
      return std::vector<uint8_t>(static_cast<const uint8_t*>(p), static_cast<const uint8_t*>(p) + len);
    };
    const auto x = random_x(n, rng);
    ran = std::max(ran, check_row(DType::F32, bytes(f.data(), 4 * n), x, n));
    ran = std::max(ran, check_row(DType::F16, bytes(h.data(), 2 * n), x, n));
    ran = std::max(ran, check_row(DType::BF16, bytes(b.data(), 2 * n), x, n));
  }
  report_skips(ran);
}

// Extreme scales: subnormal and largest fp16 scales, all-maximal codes, so no lane overflows or flushes differently.
TEST(SimdVsReference, ExtremeScalesStayBitExact) {
  std::mt19937 rng(3);
  int ran = 0;
  for (const auto& bt : kBlockTypes) {
    const DTypeTraits tr = traits(bt.t);
    const int64_t n = 2 * tr.block_elems;
    for (uint16_t h : {uint16_t{0x0001}, uint16_t{0x03FF}, uint16_t{0x7BFF}, uint16_t{0xFBFF}, uint16_t{0x8000}}) {
      for (uint8_t fill : {uint8_t{0x00}, uint8_t{0xFF}, uint8_t{0x5A}}) {
        std::vector<uint8_t> row(row_bytes(bt.t, n), fill);
        for (int64_t blk = 0; blk < n / tr.block_elems; ++blk)
          for (int off : bt.offsets) std::memcpy(&row[blk * tr.block_bytes + off], &h, 2);
        std::vector<float> x(n, 0.0f);
        for (int64_t i = 0; i < n; i += 7) x[i] = 1e-3f;  // keeps 65504-scale products finite in fp32
        ran = std::max(ran, check_row(bt.t, row, x, n));
      }
    }
  }
  report_skips(ran);
}

}  // namespace
// Every type with a SIMD dot: the block types and the float types.
std::vector<DType> every_type() {
  std::vector<DType> types;
  for (const auto& bt : kBlockTypes) types.push_back(bt.t);
  types.insert(types.end(), {DType::F32, DType::F16, DType::BF16});
  return types;
}

// A random row of any type: float types quantized from normal values, block types random bytes (random_row).
std::vector<uint8_t> any_row(DType t, int64_t n, std::mt19937& rng) {
  if (traits(t).block_elems == 1) {
    std::vector<uint8_t> row(row_bytes(t, n));
    const std::vector<float> v = random_x(n, rng);
    EXPECT_TRUE(quantize_row(t, v.data(), row.data(), n));
    return row;
  }
  std::vector<int> halves;
  for (const auto& bt : kBlockTypes)
    if (bt.t == t) halves = bt.offsets;
  return random_row(t, halves, n, rng);
}

// vec_dot_tile decodes a row once for several activation rows; each result must be vec_dot's for that row, bit
// for bit (the batched forward relies on it: a sequence's numbers may not depend on its batch), at every ISA, for
// every type, for 1..9 rows (groups of four plus a remainder) and a tail length for the float types.
TEST(SimdVsReference, MultiRowDotIsBitIdenticalToSingleRowDot) {
  std::mt19937 rng(7);
  int checked = 0;
  for (DType t : every_type()) {
    const int64_t be = traits(t).block_elems;
    std::vector<int64_t> lengths = {2048 - 2048 % be};
    if (be == 1) lengths.push_back(70);
    for (int64_t n : lengths) {
      const std::vector<uint8_t> row = any_row(t, n, rng);
      const int64_t ldx = n + 3;  // a stride that is not the row length
      std::vector<float> x(static_cast<size_t>(9 * ldx));
      for (auto& v : x) v = random_x(1, rng)[0];
      for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
        set_isa_cap(isa);
        if (active_isa() != isa) continue;
        for (int m = 1; m <= 9; ++m) {
          std::vector<float> out(static_cast<size_t>(m) + 1, -7.0f);
          vec_dot_tile(t, row.data(), 0, 1, x.data(), ldx, m, n, out.data(), 1);
          for (int i = 0; i < m; ++i) {
            const float one = vec_dot(t, row.data(), x.data() + i * ldx, n);
            EXPECT_EQ(0, std::memcmp(&out[i], &one, sizeof(float)))
                << dtype_name(t) << " " << isa_name(isa) << " m=" << m << " row " << i << ": " << out[i] << " vs " << one;
          }
          EXPECT_EQ(out[m], -7.0f) << "wrote past out";
          ++checked;
        }
      }
    }
  }
  set_isa_cap(Isa::kAvx512);
  EXPECT_GT(checked, 0);
}

// vec_dot_tile over several weight rows: 11 rows at a stride that is not the row size, 1..9 activation rows, long
// rows (with a tail of 6 for the float types), outputs at a stride.
TEST(SimdVsReference, TileDotIsBitIdenticalToSingleRowDot) {
  std::mt19937 rng(11);
  int checked = 0;
  for (DType t : every_type()) {
    const int64_t be = traits(t).block_elems;
    const int64_t n = be == 1 ? 2118 : 2560;  // a float tail of 6 past the 64-wide steps
    constexpr int64_t kRows = 11;
    const size_t rb = row_bytes(t, n), stride = rb + 6;  // rows not back to back, 2-byte aligned
    std::vector<uint8_t> w(kRows * stride);
    for (int64_t j = 0; j < kRows; ++j) {
      std::memcpy(&w[j * stride], any_row(t, n, rng).data(), rb);
    }
    const int64_t ldx = n + 5;
    const std::vector<float> x = random_x(9 * ldx, rng);
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
      set_isa_cap(isa);
      if (active_isa() != isa) continue;
      for (int64_t m = 1; m <= 9; ++m) {
        const int64_t ldo = kRows + 2;
        std::vector<float> out(static_cast<size_t>(m * ldo), -7.0f);
        vec_dot_tile(t, w.data(), stride, kRows, x.data(), ldx, m, n, out.data(), ldo);
        for (int64_t i = 0; i < m; ++i) {
          for (int64_t j = 0; j < kRows; ++j) {
            const float one = vec_dot(t, &w[j * stride], x.data() + i * ldx, n);
            EXPECT_EQ(0, std::memcmp(&out[i * ldo + j], &one, sizeof(float)))
                << dtype_name(t) << " " << isa_name(isa) << " m=" << m << " (" << i << ", " << j << ")";
          }
          EXPECT_EQ(out[i * ldo + kRows], -7.0f) << "wrote past a row's outputs";
        }
        ++checked;
      }
    }
  }
  set_isa_cap(Isa::kAvx512);
  EXPECT_GT(checked, 0);
}

}  // namespace ts
