// matmul against matmul_ref on random data, for every ISA this CPU has, both regimes (row-parallel vec_dot for
// m <= 4, blocked GEMM above), several weight types, edge sizes and strided X / Y; matmul_ordered's rows against
// the blocked GEMM's bit for bit at every row count; the fused F16 / BF16 panel packing against dequantize_row +
// pack_b (the same panel, bit for bit), and F16 / BF16 products against F32 products of the same values.
//
// Tolerance: |Y - Y_ref| <= 1e-5 · Σ_i |x_i · w_i| + 1e-6 per element. Y_ref sums in double; matmul sums in fp32,
// whose rounding error on k <= 768 terms is some 1e-7..1e-6 of Σ|x_i w_i| in practice, while one wrong or missing
// term would be ~1/k ≈ 1e-3 of it.
#include "isa_support.h"
#include "matmul_support.h"
#include "tensor/matmul.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "tensor/cpu.h"
#include "tensor/matmul_kernels.h"
#include "tensor/quant.h"

namespace ts {
namespace {

using test::Weights;
using test::random_floats;

using test::available_isas;
using test::IsaCapGuard;
// Random weights quantized with quantize_row; a row stride with slack checks that matmul honours row_stride.
bool make_weights(DType t, int64_t rows, int64_t cols, uint32_t seed, Weights* w) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> src(static_cast<size_t>(cols));
  w->type = t;
  w->rows = rows;
  w->cols = cols;
  w->stride = row_bytes(t, cols) + 64;
  w->bytes.assign(w->stride * static_cast<size_t>(rows), 0);
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& v : src) v = u(rng);
    if (!quantize_row(t, src.data(), w->bytes.data() + static_cast<size_t>(r) * w->stride, cols)) return false;
  }
  return true;
}

// Σ_p |x_p w_p| for the error bound, with the reference dequantization.
std::vector<double> abs_dot_bounds(const WeightView& W, const float* X, int64_t m, int64_t ldx) {
  std::vector<double> out(static_cast<size_t>(m * W.rows));
  std::vector<float> w(static_cast<size_t>(W.cols));
  for (int64_t r = 0; r < W.rows; ++r) {
    dequantize_row_ref(W.type, W.row(r), w.data(), W.cols);
    for (int64_t i = 0; i < m; ++i) {
      double s = 0.0;
      for (int64_t p = 0; p < W.cols; ++p) s += std::fabs(static_cast<double>(w[static_cast<size_t>(p)]) * X[i * ldx + p]);
      out[static_cast<size_t>(i * W.rows + r)] = s;
    }
  }
  return out;
}

constexpr float kSentinel = 12345.0f;

// Runs matmul and matmul_ref on X (m × k, stride ldx) into Y (stride ldy) and checks every element and that the
// padding columns of Y are untouched. Returns Y for further comparisons.
std::vector<float> check_matmul(const WeightView& W, const std::vector<float>& X, int64_t m, int64_t ldx, int64_t ldy,
                                ThreadPool& pool, const std::string& what) {
  const int64_t n = W.rows;
  std::vector<float> y(static_cast<size_t>(m * ldy), kSentinel), ref(static_cast<size_t>(m * ldy), kSentinel);
  matmul(W, X.data(), m, ldx, y.data(), ldy, pool);
  matmul_ref(W, X.data(), m, ldx, ref.data(), ldy);
  const std::vector<double> bound = abs_dot_bounds(W, X.data(), m, ldx);
  int failures = 0;
  for (int64_t i = 0; i < m && failures < 5; ++i) {
    for (int64_t j = 0; j < ldy && failures < 5; ++j) {
      const float got = y[static_cast<size_t>(i * ldy + j)];
      if (j >= n) {
        if (got != kSentinel) {
          ADD_FAILURE() << what << ": wrote padding Y[" << i << "][" << j << "]";
          ++failures;
        }
        continue;
      }
      const double want = ref[static_cast<size_t>(i * ldy + j)];
      const double tol = 1e-5 * bound[static_cast<size_t>(i * n + j)] + 1e-6;
      if (!(std::fabs(got - want) <= tol)) {
        ADD_FAILURE() << what << ": Y[" << i << "][" << j << "] = " << got << ", reference " << want << ", tolerance "
                      << tol;
        ++failures;
      }
    }
  }
  return y;
}

TEST(Matmul, MatchesReferenceForEveryIsaTypeAndShape) {
  IsaCapGuard guard;
  const std::vector<Isa> isas = available_isas();
  ThreadPool pool(2);
  constexpr int64_t k = 512;  // two k-blocks of the GEMM
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K}) {
    for (int64_t n : {33, 100}) {
      Weights w;
      if (!make_weights(t, n, k, 7 + static_cast<uint32_t>(n), &w)) {
        std::printf("[  NOTE    ] quantize_row cannot make %s weights: type not tested\n",
                    std::string(dtype_name(t)).c_str());
        break;
      }
      for (int64_t m : {1, 2, 3, 4, 5, 7, 64, 130}) {
        const std::vector<float> X = random_floats(static_cast<size_t>(m * k), 100 + static_cast<uint32_t>(m));
        for (Isa isa : isas) {
          set_isa_cap(isa);
          const std::string what = std::string(dtype_name(t)) + " " + isa_name(isa) + " m=" + std::to_string(m) +
                                   " n=" + std::to_string(n) + " k=" + std::to_string(k);
          check_matmul(w.view(), X, m, k, n, pool, what);
        }
      }
    }
  }
}

TEST(Matmul, HonoursStridesAndLeavesYPaddingAlone) {
  IsaCapGuard guard;
  const std::vector<Isa> isas = available_isas();
  ThreadPool pool(2);
  constexpr int64_t k = 256, n = 45, ldx = k + 5, ldy = n + 3;
  Weights w;
  ASSERT_TRUE(make_weights(DType::F16, n, k, 3, &w));
  for (int64_t m : {2, 9, 70}) {
    const std::vector<float> X = random_floats(static_cast<size_t>(m * ldx), 11);
    for (Isa isa : isas) {
      set_isa_cap(isa);
      check_matmul(w.view(), X, m, ldx, ldy, pool, std::string("strided ") + isa_name(isa) + " m=" + std::to_string(m));
    }
  }
}

TEST(Matmul, HandlesKThatIsNoMultipleOfTheVectorWidth) {
  // F32 / F16 rows may have any length: the packing loops' scalar tails and a short last k-block run here.
  IsaCapGuard guard;
  const std::vector<Isa> isas = available_isas();
  ThreadPool pool(2);
  for (DType t : {DType::F32, DType::F16}) {
    for (int64_t k : {5, 300}) {
      Weights w;
      ASSERT_TRUE(make_weights(t, 37, k, 5, &w));
      for (int64_t m : {1, 10}) {
        const std::vector<float> X = random_floats(static_cast<size_t>(m * k), 13);
        for (Isa isa : isas) {
          set_isa_cap(isa);
          check_matmul(w.view(), X, m, k, 37, pool,
                       std::string(dtype_name(t)) + " " + isa_name(isa) + " k=" + std::to_string(k) +
                           " m=" + std::to_string(m));
        }
      }
    }
  }
}

TEST(Matmul, OneAndTwoThreadsGiveBitIdenticalResults) {
  // Each output element is computed by one thread in a fixed order, whatever the split.
  constexpr int64_t k = 512, n = 100;
  Weights w;
  ASSERT_TRUE(make_weights(DType::Q8_0, n, k, 21, &w));
  ThreadPool one(1), two(2);
  for (int64_t m : {1, 3, 64}) {
    const std::vector<float> X = random_floats(static_cast<size_t>(m * k), 17);
    std::vector<float> y1(static_cast<size_t>(m * n)), y2(static_cast<size_t>(m * n));
    matmul(w.view(), X.data(), m, k, y1.data(), n, one);
    matmul(w.view(), X.data(), m, k, y2.data(), n, two);
    for (size_t i = 0; i < y1.size(); ++i) ASSERT_EQ(y1[i], y2[i]) << "m=" << m << " element " << i;
  }
}

TEST(Matmul, MoreRowsThanOnePassOfTheBlockedKernel) {
  // m above the per-pass row limit (at most 1024): X and Y are processed in several passes.
  constexpr int64_t k = 256, n = 20, m = 1030;
  Weights w;
  ASSERT_TRUE(make_weights(DType::F16, n, k, 23, &w));
  ThreadPool pool(2);
  const std::vector<float> X = random_floats(static_cast<size_t>(m * k), 29);
  check_matmul(w.view(), X, m, k, n, pool, "m=1030");
}

// matmul_ordered: a row's outputs do not depend on how many rows the call has (the small-m tile and the register
// tile perform the same operations per output), equal matmul()'s blocked GEMM (m > 4) bit for bit, and are a correct
// product (reference tolerance as above). Rows are taken from different offsets of one 64-row X, Y has a stride
// with padding columns that must stay untouched.
TEST(MatmulOrdered, RowsAreBitIdenticalWhateverTheRowCount) {
  IsaCapGuard guard;
  const std::vector<Isa> isas = available_isas();
  ThreadPool one(1), two(2);
  constexpr int64_t kRows = 64, n = 100, ldy = n + 3;
  struct Case {
    DType type;
    int64_t k;
  };
  // k = 300: a short last k-block and a tail no transpose covers; 600: three blocks; Q8_0: the dequantized panel
  for (const Case& cs : {Case{DType::F32, 64}, Case{DType::F32, 300}, Case{DType::F32, 600}, Case{DType::Q8_0, 512}}) {
    Weights w;
    ASSERT_TRUE(make_weights(cs.type, n, cs.k, 31 + static_cast<uint32_t>(cs.k), &w));
    const int64_t k = cs.k, ldx = k + 1;
    const std::vector<float> X = random_floats(static_cast<size_t>(kRows * ldx), 41 + static_cast<uint32_t>(k));
    const std::vector<double> bound = abs_dot_bounds(w.view(), X.data(), kRows, ldx);
    std::vector<float> ref(static_cast<size_t>(kRows * ldy));
    matmul_ref(w.view(), X.data(), kRows, ldx, ref.data(), ldy);
    for (Isa isa : isas) {
      set_isa_cap(isa);
      const std::string what = std::string(dtype_name(cs.type)) + " k=" + std::to_string(k) + " " + isa_name(isa);
      std::vector<float> full(static_cast<size_t>(kRows * ldy), kSentinel), gemm(full);
      matmul_ordered(w.view(), X.data(), kRows, ldx, full.data(), ldy, two);
      matmul(w.view(), X.data(), kRows, ldx, gemm.data(), ldy, two);
      for (int64_t i = 0; i < kRows; ++i) {
        for (int64_t j = 0; j < n; ++j) {
          const size_t e = static_cast<size_t>(i * ldy + j);
          ASSERT_EQ(full[e], gemm[e]) << what << ": matmul_ordered vs matmul, Y[" << i << "][" << j << "]";
          ASSERT_LE(std::fabs(full[e] - ref[e]), 1e-5 * bound[static_cast<size_t>(i * n + j)] + 1e-6)
              << what << ": Y[" << i << "][" << j << "] against the reference";
        }
      }
      for (int64_t m : {1, 2, 3, 4, 5, 6, 7, 8, 9, 33}) {
        for (ThreadPool* pool : {&one, &two}) {
          const int64_t r0 = (m * 7) % (kRows - m + 1);  // rows r0..r0+m-1 of X
          std::vector<float> y(static_cast<size_t>(m * ldy), kSentinel);
          matmul_ordered(w.view(), X.data() + r0 * ldx, m, ldx, y.data(), ldy, *pool);
          for (int64_t i = 0; i < m; ++i) {
            for (int64_t j = 0; j < ldy; ++j) {
              const float got = y[static_cast<size_t>(i * ldy + j)];
              const float want = j < n ? full[static_cast<size_t>((r0 + i) * ldy + j)] : kSentinel;
              ASSERT_EQ(got, want) << what << " m=" << m << " threads=" << pool->size() << ": Y[" << i << "][" << j
                                   << "] (row " << r0 + i << " of the 64-row call)";
            }
          }
        }
      }
    }
  }
}

// The GEMM kernel of an ISA (as select_kernel() in matmul.cpp picks it); the scalar one has no fused packing.
matmul_detail::GemmKernel kernel_for(Isa isa) {
  return isa == Isa::kAvx512 ? matmul_detail::gemm_kernel_avx512() : matmul_detail::gemm_kernel_avx2();
}

// Rows of random 16-bit patterns: every class of value (normal, subnormal, ±0, ±inf, NaN) of F16 and BF16.
std::vector<uint16_t> random_halves(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint16_t> v(n);
  for (auto& h : v) h = static_cast<uint16_t>(rng());
  return v;
}

TEST(MatmulPacking, FusedHalfPackingMakesTheSamePanelAsDequantizeThenPack) {
  // pack_b_f16 / pack_b_bf16 widen and transpose in one pass; the panel must be the one that dequantize_row (on the
  // same ISA) followed by pack_b makes, bit for bit, for whole and partial slivers (rows < nr), column counts on and
  // off the vector widths, and NaN / inf / subnormal inputs. Nothing past the kc · nr floats may be written.
  IsaCapGuard guard;
  int tested = 0;
  for (Isa isa : available_isas()) {
    if (isa == Isa::kScalar) continue;
    set_isa_cap(isa);
    const matmul_detail::GemmKernel kern = kernel_for(isa);
    for (DType t : {DType::F16, DType::BF16}) {
      const auto fused = t == DType::F16 ? kern.pack_b_f16 : kern.pack_b_bf16;
      ASSERT_NE(fused, nullptr) << isa_name(isa);
      for (int rows : {1, 5, kern.nr / 2 + 1, kern.nr - 1, kern.nr}) {
        for (int64_t kc : {1, 7, 8, 15, 16, 17, 31, 32, 33, 44, 100, 256}) {
          const int64_t ld = kc + 3;  // odd: rows start at every alignment
          const std::vector<uint16_t> src =
              random_halves(static_cast<size_t>(rows * ld), static_cast<uint32_t>(1000 + kc * 40 + rows));
          const size_t panel = static_cast<size_t>(kc * kern.nr), guard_floats = 64;
          std::vector<float> tmp(static_cast<size_t>(rows * kc));
          for (int j = 0; j < rows; ++j) dequantize_row(t, &src[static_cast<size_t>(j * ld)], &tmp[j * kc], kc);
          // 64-byte-aligned destinations, as matmul's panel buffer
          std::vector<float> want_buf(panel + guard_floats + 16, kSentinel), got_buf(want_buf);
          float* want = want_buf.data() + (16 - reinterpret_cast<uintptr_t>(want_buf.data()) / 4 % 16) % 16;
          float* got = got_buf.data() + (16 - reinterpret_cast<uintptr_t>(got_buf.data()) / 4 % 16) % 16;
          kern.pack_b(tmp.data(), kc, rows, kc, want);
          fused(src.data(), ld, rows, kc, got);
          const std::string what = std::string(isa_name(isa)) + " " + std::string(dtype_name(t)) +
                                   " rows=" + std::to_string(rows) + " kc=" + std::to_string(kc);
          ASSERT_EQ(std::memcmp(want, got, panel * sizeof(float)), 0) << what << ": panels differ";
          for (size_t i = panel; i < panel + guard_floats; ++i)
            ASSERT_EQ(got[i], kSentinel) << what << ": wrote past the panel at float " << i;
          ++tested;
        }
      }
    }
  }
  if (tested == 0) GTEST_SKIP() << "no SIMD ISA on this CPU: the scalar kernel has no fused packing";
}

// Bitwise equality of two float vectors (NaN-safe), reporting the first difference.
void expect_same_bits(const std::vector<float>& a, const std::vector<float>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) {
      ADD_FAILURE() << what << ": element " << i << " is " << a[i] << ", the F32 product's " << b[i];
      return;
    }
}

TEST(Matmul, HalfWeightsGiveTheBitsOfF32WeightsWithTheSameValues) {
  // F16 / BF16 panels are widened in the packing, F32 panels transposed straight from W: the same panel, so the
  // blocked GEMM (matmul above 4 rows, matmul_ordered at any row count) gives the same bits for both. k off the
  // k-block (256) and vector widths, n off the sliver width (32 / 16), strided X and Y, one and two threads.
  IsaCapGuard guard;
  const std::vector<Isa> isas = available_isas();
  ThreadPool one(1), two(2);
  for (DType t : {DType::F16, DType::BF16}) {
    for (int64_t k : {44, 300, 530}) {
      constexpr int64_t n = 45;
      Weights w;
      ASSERT_TRUE(make_weights(t, n, k, 61 + static_cast<uint32_t>(k), &w));
      // a few subnormals, zeros and large values among the random weights
      for (int64_t r = 0; r < n; r += 7) {
        uint16_t* row = reinterpret_cast<uint16_t*>(w.bytes.data() + static_cast<size_t>(r) * w.stride);
        row[r % k] = 0x0001;
        row[(r + 1) % k] = 0x8000;
        row[(r + 2) % k] = t == DType::F16 ? 0x7bff : 0x7f7f;
      }
      Weights f;  // the same values as F32 rows
      f.type = DType::F32;
      f.rows = n;
      f.cols = k;
      f.stride = row_bytes(DType::F32, k);
      f.bytes.resize(f.stride * static_cast<size_t>(n));
      for (int64_t r = 0; r < n; ++r)
        dequantize_row_ref(t, w.view().row(r), reinterpret_cast<float*>(f.bytes.data() + f.stride * r), k);
      const int64_t ldx = k + 1, ldy = n + 2;
      for (Isa isa : isas) {
        set_isa_cap(isa);
        for (int64_t m : {1, 3, 5, 13, 64}) {
          const std::vector<float> X = random_floats(static_cast<size_t>(m * ldx), 71 + static_cast<uint32_t>(m));
          for (ThreadPool* pool : {&one, &two}) {
            const std::string what = std::string(dtype_name(t)) + " " + isa_name(isa) + " k=" + std::to_string(k) +
                                     " m=" + std::to_string(m) + " threads=" + std::to_string(pool->size());
            std::vector<float> yh(static_cast<size_t>(m * ldy), kSentinel), yf(yh);
            matmul_ordered(w.view(), X.data(), m, ldx, yh.data(), ldy, *pool);
            matmul_ordered(f.view(), X.data(), m, ldx, yf.data(), ldy, *pool);
            expect_same_bits(yh, yf, "matmul_ordered " + what);
            if (m > 4) {
              std::fill(yh.begin(), yh.end(), kSentinel);
              std::fill(yf.begin(), yf.end(), kSentinel);
              matmul(w.view(), X.data(), m, ldx, yh.data(), ldy, *pool);
              matmul(f.view(), X.data(), m, ldx, yf.data(), ldy, *pool);
              expect_same_bits(yh, yf, "matmul " + what);
            }
          }
        }
      }
    }
  }
}

TEST(Matmul, ZeroRowsOfXWritesNothing) {
  constexpr int64_t k = 256, n = 8;
  Weights w;
  ASSERT_TRUE(make_weights(DType::F32, n, k, 1, &w));
  ThreadPool pool(2);
  std::vector<float> y(n, kSentinel);
  matmul(w.view(), nullptr, 0, k, y.data(), n, pool);
  for (float v : y) EXPECT_EQ(v, kSentinel);
}

}  // namespace
}  // namespace ts
