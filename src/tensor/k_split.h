// The k-split weight layout (WeightView::k_segment): the columns of a float matrix cut into segments of k_segment
// columns (the last may be shorter), each segment stored as its own contiguous rows × width matrix, segment after
// segment. For generation (one activation row, memory-bound) rows this long do not fit in a core's L1 together with
// their fp32 activations (F16 rows of the 1.1B shape's down projection, k = 5632: 22 KiB of x and 11 KiB of row
// against 32 KiB), so a row at a time reloads x from L2, and 8 rows in lockstep (the way out so far) make 8 streams
// per core. Split, a GEMV walks one segment's matrix as one forward stream whose x segment stays in L1 (the pool's
// chunks go segment after segment), and adds the segments' dot products: measured on Zen 4, two threads streaming
// the down projection reach 0.93 of a plain read in the machine's fast-memory state instead of 0.72, 1.00 instead of
// 0.93 in the slow one (bench/README.md).
//
// Order of the sums (what the product of one activation row computes; matmul.h): y = ((d₀ + d₁) + d₂) + …, where
// d_s is vec_dot of the row's segment s with x's segment s. Products of more rows (the GEMM) pack the same weights
// and compute what they compute on the row layout, bit for bit.
//
// Where: Model::load rewrites F16, BF16 and F32 product matrices whose rows are that long (k_segment_for) when it
// holds its own copy of the file (gguf::Residency kCopy / kAuto); a mapped file keeps the row layout.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tensor/matmul.h"
#include "tokenscope/dtype.h"

namespace ts {

// The segment width for a rows × cols matrix of type t: 0 (keep rows whole) unless t is a float type and x plus a
// row pass 28 KiB (the point where a row at a time stops paying, quant.cpp); then cols in the fewest segments of at
// most 3072 columns, each a multiple of 256 (the GEMM's k-block, so that no block straddles two segments).
int64_t k_segment_for(DType t, int64_t rows, int64_t cols);

// Number of segments of W (1 for the row layout).
inline int64_t k_segments(const WeightView& W) {
  return W.k_segment > 0 ? (W.cols + W.k_segment - 1) / W.k_segment : 1;
}

// Segment s of W as a row-layout matrix: row r at p + r · stride, columns col0 .. col0 + cols − 1 of W.
struct KSegment {
  const uint8_t* p = nullptr;
  size_t stride = 0;
  int64_t col0 = 0, cols = 0;
};
KSegment k_segment_of(const WeightView& W, int64_t s);

// Rewrites a contiguous rows × cols row-layout matrix of type t into segments of `width` columns, in place.
void k_split_rows(DType t, uint8_t* data, int64_t rows, int64_t cols, int64_t width);

}  // namespace ts
