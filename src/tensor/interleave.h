// The interleaved weight layout (WeightView::interleaved): the rows of a Q8_0, Q4_K or Q6_K matrix rearranged in
// groups of 16 so that one 64-byte load gives the same 4 bytes of 16 rows, the operand a 16-lane integer dot product
// wants. Generation reads every weight once per token, and with the file's row layout the int16 GEMV spent about half
// its time moving bytes between rows and lanes (4 × 4 transposes, per-row scale loads); with this layout one core
// streams Q8_0 at about twice the rate (measured: 32 → 63 GB/s from L2 on Zen 4), enough to be bound by memory
// bandwidth rather than by the core. The same idea as ggml's "repacked" CPU formats; the layout here is our own.
//
// Layout. rows is a multiple of 16 and rows are contiguous (row_stride = row_bytes(type, cols)). Group g (rows
// 16g .. 16g + 15) occupies the same bytes as its rows do in the row layout, [16g·row_stride, 16(g+1)·row_stride).
// Within a group, native block b (block_bytes B, the same for every row) of the 16 rows takes 16·B bytes at b·16·B:
//   head   16 × H bytes  the rows' first H bytes of the block, row after row
//   body   D × 64 bytes  the block's next 4·D bytes as D dwords, each as 16 dwords (dword c of row L at
//                        64·pos(c) + 4L)
//   tail   16 × T bytes  the rows' last T bytes, row after row
// with (H, D, T) = Q8_0 (2, 8, 0): the fp16 scale, 32 int8 codes; Q4_K (0, 36, 0); Q6_K (0, 52, 2): ql, qh and
// scales in the body, the fp16 d in the tail. pos(c) = c, except for Q6_K, whose body is stored in the order its
// readers take it (kQ6KQuadPosition), so that they stream each group forwards, as the hardware prefetcher follows.
// So a block's bytes are all there, only in another order: every consumer either reads this layout directly (the
// int16 GEMV, the integer GEMMs' sliver packers) or asks for row bytes (row_span), unpacked into a scratch buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tensor/matmul.h"
#include "tokenscope/dtype.h"

namespace ts {

// Rows per interleaved group.
constexpr int64_t kInterleaveRows = 16;

// Q6_K's body order: quad r of a row's first 208 bytes (dwords 4r .. 4r + 3) is stored as quad kQ6KQuadPosition[r]
// of the body: the scales (quad 12) first, then for each half t and 16-byte column h the high bits (quad 8 + 2t + h)
// and the two quads of low bits they complete (4t + h, 4t + 2 + h), as the GEMV and the packers read them.
inline constexpr uint8_t kQ6KQuadPosition[13] = {2, 5, 3, 6, 8, 11, 9, 12, 1, 4, 7, 10, 0};

// The split of one native block: H head bytes, D body dwords, T tail bytes (H + 4D + T = block_bytes); quad_pos:
// where each quad of body dwords is stored (null: in order).
struct InterleaveForm {
  int head = 0, dwords = 0, tail = 0;
  const uint8_t* quad_pos = nullptr;
  // The body position of row dword c.
  int position(int c) const { return quad_pos ? 4 * quad_pos[c / 4] + c % 4 : c; }
};
// False for a type without an interleaved form.
bool interleave_form(DType t, InterleaveForm* f);
// Whether a rows × cols matrix of type t can be interleaved: a type with a form, rows a positive multiple of 16.
bool interleavable(DType t, int64_t rows, int64_t cols);

// Rewrites a contiguous rows × cols matrix of type t (row layout, interleavable) into the interleaved layout, in place.
void interleave_rows(DType t, uint8_t* data, int64_t rows, int64_t cols);
// The other way: the interleaved matrix in data back to the row layout, in place.
void deinterleave_rows(DType t, uint8_t* data, int64_t rows, int64_t cols);

// The bytes of rows [r0, r0 + n) over columns [k0, k0 + kc) (k0, kc multiples of the type's block) in the row
// layout: row r0 + j at p + j·stride, column k0 at the first byte. For the row layout, and for columns within one
// segment of the k-split layout (k_split.h), these are W's own bytes; for the interleaved layout, and columns across
// segments, they are copied into `scratch`.
struct RowSpan {
  const uint8_t* p = nullptr;
  size_t stride = 0;
};
RowSpan row_span(const WeightView& W, int64_t r0, int64_t n, int64_t k0, int64_t kc, std::vector<uint8_t>& scratch);

// The first byte of the group holding row r (interleaved W).
inline const uint8_t* interleaved_group(const WeightView& W, int64_t r) {
  return static_cast<const uint8_t*>(W.data) + static_cast<size_t>(r / kInterleaveRows * kInterleaveRows) * W.row_stride;
}

// Where the bytes of rows [r0, r0 + n), columns [k0, k0 + kc) lie: `count` runs of `bytes` bytes, run i at
// first + i·stride. A run is one row in the row layout; one group of 16 rows in the interleaved layout (r0 and n
// multiples of 16 there); in the k-split layout, one row's part in the segment holding column k0. For prefetching.
struct WeightRuns {
  const uint8_t* first = nullptr;
  size_t stride = 0, bytes = 0;
  int64_t count = 0;
};
WeightRuns weight_runs(const WeightView& W, int64_t r0, int64_t n, int64_t k0, int64_t kc);

}  // namespace ts
