// The k-split layout (tensor/k_split.h): which matrices it takes, that the rewrite keeps every byte (row_span reads
// the rows back, within a segment and across segments), that products of up to 4 rows compute the documented sum of
// per-segment dot products bit for bit, and that the GEMMs (exact and kFast's float path) give the row layout's
// bits.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "matmul_support.h"
#include "tensor/interleave.h"
#include "tensor/k_split.h"
#include "tensor/matmul.h"
#include "tensor/quant.h"

namespace ts {
namespace {

using test::random_floats;

TEST(KSplit, TakesOnlyFloatRowsTooLongForL1) {
  EXPECT_EQ(k_segment_for(DType::F16, 2048, 5632), 2816);   // the 1.1B down projection: two segments
  EXPECT_EQ(k_segment_for(DType::BF16, 2048, 5632), 2816);
  EXPECT_EQ(k_segment_for(DType::F16, 4096, 11008), 2816);  // 7B: 3 × 2816 + 2560
  EXPECT_EQ(k_segment_for(DType::F16, 4096, 14336), 3072);  // 8B: 4 × 3072 + 2048
  EXPECT_EQ(k_segment_for(DType::F32, 64, 4096), 2048);
  EXPECT_EQ(k_segment_for(DType::F16, 2048, 2048), 0);      // x and a row fit in L1
  EXPECT_EQ(k_segment_for(DType::F16, 2048, 4608), 0);
  EXPECT_EQ(k_segment_for(DType::F32, 64, 3584), 0);
  EXPECT_EQ(k_segment_for(DType::Q8_0, 2048, 5632), 0);     // quantized types have their own GEMV
  EXPECT_EQ(k_segment_for(DType::F16, 0, 5632), 0);
  for (int64_t cols = 4608; cols <= 40000; cols += 256) {
    const int64_t w = k_segment_for(DType::F16, 8, cols);
    if (w == 0) continue;
    EXPECT_EQ(w % 256, 0) << cols;
    EXPECT_LE(w, 3072) << cols;
    EXPECT_LT(w, cols) << cols;
  }
}

// A rows × cols matrix of type t in the row layout and the same bytes k-split.
struct Pair {
  std::vector<uint8_t> rows, split;
  WeightView row_view, split_view;
};

Pair make_pair(DType t, int64_t n, int64_t k, int64_t width, uint32_t seed) {
  Pair p;
  const size_t rs = row_bytes(t, k);
  p.rows.resize(rs * static_cast<size_t>(n));
  const std::vector<float> src = random_floats(static_cast<size_t>(n * k), seed);
  for (int64_t r = 0; r < n; ++r) EXPECT_TRUE(quantize_row(t, &src[static_cast<size_t>(r * k)], &p.rows[r * rs], k));
  p.split = p.rows;
  k_split_rows(t, p.split.data(), n, k, width);
  p.row_view = WeightView{t, p.rows.data(), n, k, rs};
  p.split_view = WeightView{t, p.split.data(), n, k, row_bytes(t, width)};
  p.split_view.k_segment = width;
  return p;
}

TEST(KSplit, RowSpanReadsTheRowsBackWithinAndAcrossSegments) {
  const int64_t n = 40, k = 1280, width = 512;  // segments 512, 512, 256
  for (DType t : {DType::F16, DType::F32}) {
    const Pair p = make_pair(t, n, k, width, 3);
    EXPECT_EQ(k_segments(p.split_view), 3);
    std::vector<uint8_t> scratch;
    struct Range {
      int64_t r0, rows, k0, kc;
    };
    for (const Range& q : {Range{0, 40, 0, 1280}, Range{3, 5, 0, 512}, Range{7, 9, 512, 256}, Range{1, 2, 1024, 256},
                           Range{5, 30, 256, 512}, Range{0, 1, 768, 512}}) {
      const RowSpan got = row_span(p.split_view, q.r0, q.rows, q.k0, q.kc, scratch);
      const size_t off = row_bytes(t, q.k0), bytes = row_bytes(t, q.kc);
      for (int64_t j = 0; j < q.rows; ++j)
        ASSERT_EQ(std::memcmp(got.p + j * got.stride, p.row_view.row(q.r0 + j) + off, bytes), 0)
            << dtype_name(t) << " rows " << q.r0 << "+" << q.rows << " cols " << q.k0 << "+" << q.kc << " row " << j;
      // within one segment the span is the layout's own bytes
      if (q.k0 / width == (q.k0 + q.kc - 1) / width) {
        EXPECT_GE(got.p, p.split.data());
        EXPECT_LT(got.p, p.split.data() + p.split.size());
      }
    }
    const WeightRuns runs = weight_runs(p.split_view, 4, 8, 512, 256);  // segment 1, columns 0..255
    EXPECT_EQ(runs.count, 8);
    EXPECT_EQ(runs.bytes, row_bytes(t, 256));
    EXPECT_EQ(runs.stride, row_bytes(t, 512));
    EXPECT_EQ(runs.first, p.split.data() + n * row_bytes(t, 512) + 4 * row_bytes(t, 512));
  }
}

TEST(KSplit, FewRowsSumTheSegmentsDotsAndTheGemmsGiveTheRowLayoutsBits) {
  ThreadPool one(1), two(2);
  const int64_t n = 70, k = 5632;
  for (DType t : {DType::F16, DType::BF16, DType::F32}) {
    const int64_t width = t == DType::F32 ? 1024 : k_segment_for(t, n, k);
    const Pair p = make_pair(t, n, k, width, 5);
    const int64_t ldx = k + 8, ldy = n + 2;
    const std::vector<float> X = test::random_activations(static_cast<size_t>(40 * ldx), 7);
    for (int64_t m : {1, 2, 3, 4, 5, 8, 33}) {
      for (ThreadPool* pool : {&one, &two}) {
        const std::string what = std::string(dtype_name(t)) + " m=" + std::to_string(m) + " threads=" +
                                 std::to_string(pool->size());
        std::vector<float> got(static_cast<size_t>(m * ldy), -7.0f), want(got);
        matmul(p.split_view, X.data(), m, ldx, got.data(), ldy, *pool);
        if (m <= 4) {
          for (int64_t i = 0; i < m; ++i)
            for (int64_t r = 0; r < n; ++r) {
              float y = 0.0f;
              for (int64_t s = 0; s < k_segments(p.split_view); ++s) {
                const KSegment g = k_segment_of(p.split_view, s);
                const float d = vec_dot(t, g.p + r * g.stride, X.data() + i * ldx + g.col0, g.cols);
                y = s == 0 ? d : y + d;
              }
              want[static_cast<size_t>(i * ldy + r)] = y;
            }
        } else {
          matmul(p.row_view, X.data(), m, ldx, want.data(), ldy, *pool);
        }
        for (size_t e = 0; e < got.size(); ++e)
          ASSERT_EQ(std::memcmp(&got[e], &want[e], sizeof(float)), 0)
              << what << ": Y[" << e / ldy << "][" << e % ldy << "] " << got[e] << " against " << want[e];
        if (m > 4 && float_fast_available(t)) {
          std::vector<float> fs(got.size(), -7.0f), fr(got.size(), -7.0f);
          matmul_float_int16(p.split_view, X.data(), m, ldx, fs.data(), ldy, *pool);
          matmul_float_int16(p.row_view, X.data(), m, ldx, fr.data(), ldy, *pool);
          ASSERT_EQ(std::memcmp(fs.data(), fr.data(), fs.size() * sizeof(float)), 0) << what << " (kFast)";
        }
      }
    }
  }
}

}  // namespace
}  // namespace ts
