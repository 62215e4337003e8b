// The interleaved weight layout (tensor/interleave.h). It only rearranges bytes, so:
//  * the rewrite puts each byte where the header says and the inverse restores the row layout exactly;
//  * row_span hands out exactly the row layout's bytes;
//  * every product over interleaved weights gives the same bits as over the same weights in the row layout: the GEMV
//    and the GEMMs that read the layout directly, and every path that unpacks rows (exact, other ISAs, references),
//    at every row count, precision and thread count.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "isa_support.h"
#include "matmul_support.h"
#include "tensor/cpu.h"
#include "tensor/interleave.h"
#include "tensor/matmul.h"
#include "tensor/matmul_int16.h"
#include "tensor/quant.h"

namespace ts {
namespace {

using test::IsaCapGuard;
using test::random_activations;
using test::Weights;

// Normal weights with a few large ones, quantized, rows contiguous (the layout needs row_stride = row_bytes).
Weights make_weights(DType t, int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 0.05f);
  Weights w{t, rows, cols, row_bytes(t, cols), {}};
  w.bytes.assign(w.stride * static_cast<size_t>(rows), 0);
  std::vector<float> src(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& v : src) v = nd(rng);
    src[static_cast<size_t>((7 * r) % cols)] *= 8.0f;
    EXPECT_TRUE(quantize_row(t, src.data(), w.bytes.data() + static_cast<size_t>(r) * w.stride, cols));
  }
  return w;
}

// The same weights in the interleaved layout.
Weights interleaved(const Weights& w) {
  Weights il = w;
  interleave_rows(il.type, il.bytes.data(), il.rows, il.cols);
  return il;
}
WeightView view(const Weights& w, bool il) {
  WeightView v = w.view();
  v.interleaved = il;
  return v;
}

constexpr DType kTypes[] = {DType::Q8_0, DType::Q4_K, DType::Q6_K};

std::string name(DType t) { return std::string(dtype_name(t)); }

void expect_same_bits(const std::vector<float>& a, const std::vector<float>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t e = 0; e < a.size(); ++e)
    ASSERT_EQ(std::memcmp(&a[e], &b[e], sizeof(float)), 0) << what << ": element " << e << ": " << a[e] << " vs " << b[e];
}

TEST(Interleave, FormsAndEligibility) {
  for (DType t : kTypes) {
    InterleaveForm f;
    ASSERT_TRUE(interleave_form(t, &f)) << name(t);
    EXPECT_EQ(static_cast<uint32_t>(f.head + 4 * f.dwords + f.tail), traits(t).block_bytes) << name(t);
    std::vector<int> seen(static_cast<size_t>(f.dwords), 0);  // the body order is a permutation
    for (int c = 0; c < f.dwords; ++c) ++seen[static_cast<size_t>(f.position(c))];
    EXPECT_EQ(seen, std::vector<int>(static_cast<size_t>(f.dwords), 1)) << name(t);
    EXPECT_TRUE(interleavable(t, 32, 256)) << name(t);
    EXPECT_FALSE(interleavable(t, 40, 256)) << name(t) << ": rows not a multiple of 16";
    EXPECT_FALSE(interleavable(t, 0, 256)) << name(t);
  }
  InterleaveForm f;
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q4_0, DType::Q5_K}) {
    EXPECT_FALSE(interleave_form(t, &f)) << name(t);
    EXPECT_FALSE(interleavable(t, 32, 256)) << name(t);
  }
}

// Every byte where the layout puts it, and back.
TEST(Interleave, PutsEachByteWhereTheLayoutSaysAndTheInverseRestoresTheRows) {
  for (DType t : kTypes) {
    InterleaveForm f;
    ASSERT_TRUE(interleave_form(t, &f));
    const Weights w = make_weights(t, 48, 512, 11);
    const Weights il = interleaved(w);
    ASSERT_NE(il.bytes, w.bytes) << name(t);
    const size_t B = traits(t).block_bytes, rs = w.stride, H = static_cast<size_t>(f.head);
    const size_t T = static_cast<size_t>(f.tail), D = static_cast<size_t>(f.dwords);
    for (size_t r = 0; r < 48; ++r)
      for (size_t b = 0; b < rs / B; ++b) {
        const uint8_t* row_block = w.bytes.data() + r * rs + b * B;
        const uint8_t* il_block = il.bytes.data() + (r / 16) * 16 * rs + b * 16 * B;
        const size_t L = r % 16;
        for (size_t i = 0; i < B; ++i) {
          size_t at;
          if (i < H) at = L * H + i;
          else if (i < H + 4 * D)
            at = 16 * H + 64 * static_cast<size_t>(f.position(static_cast<int>((i - H) / 4))) + 4 * L + (i - H) % 4;
          else at = 16 * H + 64 * D + L * T + (i - H - 4 * D);
          ASSERT_EQ(row_block[i], il_block[at]) << name(t) << " row " << r << " block " << b << " byte " << i;
        }
      }
    Weights back = il;
    deinterleave_rows(t, back.bytes.data(), back.rows, back.cols);
    EXPECT_EQ(back.bytes, w.bytes) << name(t);
  }
}

TEST(Interleave, RowSpanGivesTheRowLayoutsBytes) {
  for (DType t : kTypes) {
    const int64_t k = 1024;
    const Weights w = make_weights(t, 32, k, 12);
    const Weights il = interleaved(w);
    const int64_t blk = static_cast<int64_t>(traits(t).block_elems);
    std::vector<uint8_t> scratch;
    for (int64_t r0 : {0, 5, 16, 31})
      for (int64_t n : {1, 11, 16}) {
        if (r0 + n > 32) continue;
        for (int64_t k0 : {int64_t{0}, 2 * blk})
          for (int64_t kc : {blk, k - 2 * blk}) {
            const RowSpan rows = row_span(view(w, false), r0, n, k0, kc, scratch);
            EXPECT_EQ(rows.p, w.view().row(r0) + row_bytes(t, k0)) << "the row layout's own bytes";
            const RowSpan s = row_span(view(il, true), r0, n, k0, kc, scratch);
            for (int64_t j = 0; j < n; ++j)
              ASSERT_EQ(std::memcmp(s.p + j * s.stride, w.view().row(r0 + j) + row_bytes(t, k0), row_bytes(t, kc)), 0)
                  << name(t) << " rows " << r0 << "+" << n << " k0 " << k0 << " kc " << kc << " row " << j;
          }
      }
  }
}

// Y for m rows of X by one entry point, over W.
using Product = void (*)(const WeightView&, const float*, int64_t, float*, ThreadPool&);
std::vector<float> run(Product p, const WeightView& W, const std::vector<float>& X, int64_t m, ThreadPool& pool) {
  std::vector<float> Y(static_cast<size_t>(m * W.rows), -1.0f);
  p(W, X.data(), m, Y.data(), pool);
  return Y;
}

TEST(Interleave, EveryProductGivesTheRowLayoutsBits) {
  IsaCapGuard guard;
  const std::pair<const char*, Product> products[] = {
      {"exact", [](const WeightView& W, const float* X, int64_t m, float* Y, ThreadPool& pool) {
         matmul(W, X, m, W.cols, Y, W.rows, pool, Precision::kExact);
       }},
      {"int16", [](const WeightView& W, const float* X, int64_t m, float* Y, ThreadPool& pool) {
         matmul(W, X, m, W.cols, Y, W.rows, pool, Precision::kInt16);
       }},
      {"fast", [](const WeightView& W, const float* X, int64_t m, float* Y, ThreadPool& pool) {
         matmul(W, X, m, W.cols, Y, W.rows, pool, Precision::kFast);
       }},
      {"int8 (fine blocks)", [](const WeightView& W, const float* X, int64_t m, float* Y, ThreadPool& pool) {
         matmul_int8(W, X, m, W.cols, Y, W.rows, pool, kFastFineBlock);
       }},
      {"ordered", [](const WeightView& W, const float* X, int64_t m, float* Y, ThreadPool& pool) {
         matmul_ordered(W, X, m, W.cols, Y, W.rows, pool);
       }},
  };
  ThreadPool one(1), two(2);
  for (Isa isa : test::available_isas()) {
    set_isa_cap(isa);
    for (DType t : kTypes)
      for (int64_t k : {512, 2816}) {  // 2816: a short last k-block in both integer GEMMs
        const Weights w = make_weights(t, 48, k, 21);
        const Weights il = interleaved(w);
        for (int64_t m : {1, 2, 3, 4, 5, 17, 40}) {
          const std::vector<float> X = random_activations(static_cast<size_t>(m * k), 7 + static_cast<uint32_t>(m));
          for (const auto& [what, p] : products)
            for (ThreadPool* pool : {&one, &two}) {
              const std::string label = std::string(isa_name(isa)) + " " + name(t) + " k " + std::to_string(k) +
                                        " m " + std::to_string(m) + " " + what + " threads " +
                                        std::to_string(pool->size());
              expect_same_bits(run(p, view(w, false), X, m, *pool), run(p, view(il, true), X, m, *pool), label);
            }
        }
      }
  }
}

// One activation row of interleaved Q4_K / Q6_K runs either of two kernels, whichever measured faster lately
// (int16_detail::one_row_kernel): each, forced, gives the row layout's bits (which runs the general GEMV), over
// groups split between threads at odd places (48 rows: 3 groups) and short and long rows.
TEST(Interleave, BothOneRowKernelsGiveTheRowLayoutsBits) {
  struct Unforce {
    ~Unforce() { int16_detail::force_one_row_kernel(-1); }
  } unforce;
  ThreadPool one(1), two(2);
  for (DType t : {DType::Q4_K, DType::Q6_K})
    for (int64_t k : {256, 2816}) {
      const Weights w = make_weights(t, 48, k, 41);
      const Weights il = interleaved(w);
      const std::vector<float> X = random_activations(static_cast<size_t>(k), 43);
      for (ThreadPool* pool : {&one, &two}) {
        std::vector<float> want(48), got(48);
        matmul(view(w, false), X.data(), 1, k, want.data(), 48, *pool, Precision::kInt16);
        for (int kernel : {0, 1, -1}) {
          int16_detail::force_one_row_kernel(kernel);
          for (int rep = 0; rep < (kernel < 0 ? 40 : 1); ++rep) {  // measuring: both kernels take turns
            std::fill(got.begin(), got.end(), -1.0f);
            matmul(view(il, true), X.data(), 1, k, got.data(), 48, *pool, Precision::kInt16);
            expect_same_bits(want, got, name(t) + " k " + std::to_string(k) + " kernel " + std::to_string(kernel) +
                                            " threads " + std::to_string(pool->size()));
          }
        }
      }
    }
}

TEST(Interleave, ReferencesReadTheLayout) {
  for (DType t : kTypes) {
    const int64_t k = 512, m = 3;
    const Weights w = make_weights(t, 32, k, 31);
    const Weights il = interleaved(w);
    const std::vector<float> X = random_activations(static_cast<size_t>(m * k), 5);
    std::vector<float> a(static_cast<size_t>(m * 32)), b(a.size());
    matmul_ref(view(w, false), X.data(), m, k, a.data(), 32);
    matmul_ref(view(il, true), X.data(), m, k, b.data(), 32);
    expect_same_bits(a, b, name(t) + " matmul_ref");
    matmul_int16_ref(view(w, false), X.data(), m, k, a.data(), 32);
    matmul_int16_ref(view(il, true), X.data(), m, k, b.data(), 32);
    expect_same_bits(a, b, name(t) + " matmul_int16_ref");
    matmul_int8_ref(view(w, false), X.data(), m, k, a.data(), 32);
    matmul_int8_ref(view(il, true), X.data(), m, k, b.data(), 32);
    expect_same_bits(a, b, name(t) + " matmul_int8_ref");
  }
}

// The grouped GEMV (q, k, v of different types and sizes; gate and up with an epilogue) over interleaved weights.
TEST(Interleave, GroupedGemvGivesTheRowLayoutsBits) {
  const int64_t k = 768;
  const Weights q = make_weights(DType::Q8_0, 64, k, 41), kk = make_weights(DType::Q4_K, 32, k, 42),
                v = make_weights(DType::Q6_K, 48, k, 43);
  const Weights qi = interleaved(q), ki = interleaved(kk), vi = interleaved(v);
  ThreadPool two(2);
  for (int64_t m : {1, 2, 4}) {
    const std::vector<float> X = random_activations(static_cast<size_t>(m * k), 9);
    auto outputs = [&](const Weights& a, const Weights& b, const Weights& c, bool il) {
      std::vector<float> Y(static_cast<size_t>(m * (64 + 32 + 48)), -1.0f);
      const GroupProduct g[] = {{view(a, il), X.data(), k, Y.data(), 64},
                                {view(b, il), X.data(), k, Y.data() + m * 64, 32},
                                {view(c, il), X.data(), k, Y.data() + m * 96, 48}};
      if (!matmul_int16_group(g, m, two, false)) return std::vector<float>();
      return Y;
    };
    const std::vector<float> rows = outputs(q, kk, v, false), ils = outputs(qi, ki, vi, true);
    if (rows.empty()) GTEST_SKIP() << "no int16 GEMV on this CPU";
    expect_same_bits(rows, ils, "m " + std::to_string(m));
  }
}

}  // namespace
}  // namespace ts
