// The interleaved weight layout (interleave.h): the rewrite in place, both ways, and row access for the consumers
// that read rows.
#include "tensor/interleave.h"

#include <algorithm>
#include <cstring>

#include "tensor/k_split.h"

namespace ts {

bool interleave_form(DType t, InterleaveForm* f) {
  switch (t) {
    case DType::Q8_0: *f = {2, 8, 0}; return true;    // fp16 d | 32 int8
    case DType::Q4_K: *f = {0, 36, 0}; return true;   // d, dmin | 12 bytes of scales | 128 bytes of nibbles
    case DType::Q6_K: *f = {0, 52, 2, kQ6KQuadPosition}; return true;  // ql[128] qh[64] scales[16] | fp16 d
    default: return false;
  }
}

bool interleavable(DType t, int64_t rows, int64_t cols) {
  InterleaveForm f;
  return interleave_form(t, &f) && rows > 0 && rows % kInterleaveRows == 0 && cols > 0 &&
         cols % static_cast<int64_t>(traits(t).block_elems) == 0;
}

namespace {

constexpr int kG = static_cast<int>(kInterleaveRows);

// Group after group of a contiguous row-layout matrix (rs bytes a row) rewritten in place, with the form's sizes
// known at compile time (each copy one move): the group's rows copied aside, then each native block of the 16 rows
// written in the interleaved order.
template <int H, int D, int T, bool kQ6K>
void interleave_groups(uint8_t* data, int64_t rows, size_t rs) {
  constexpr size_t B = H + 4 * D + T;
  std::vector<uint8_t> group(kG * rs);
  for (int64_t g = 0; g < rows / kG; ++g) {
    uint8_t* il = data + static_cast<size_t>(g) * kG * rs;
    std::memcpy(group.data(), il, group.size());
    for (size_t b = 0; b < rs / B; ++b, il += kG * B)
      for (size_t L = 0; L < kG; ++L) {
        const uint8_t* src = group.data() + L * rs + b * B;
        std::memcpy(il + L * H, src, H);
        for (int c = 0; c < D; ++c) {
          const int at = kQ6K ? 4 * kQ6KQuadPosition[c / 4] + c % 4 : c;
          std::memcpy(il + kG * H + 64 * at + 4 * L, src + H + 4 * c, 4);
        }
        std::memcpy(il + kG * H + 64 * D + L * T, src + H + 4 * D, T);
      }
  }
}

// row_span's unpacking, with the form's sizes known at compile time (each copy one move).
template <int H, int D, int T, bool kQ6K>
void unpack_rows(const WeightView& W, int64_t r0, int64_t n, size_t b0, size_t nb, uint8_t* dst, size_t span) {
  constexpr size_t B = H + 4 * D + T;
  const auto* base = static_cast<const uint8_t*>(W.data);
  for (int64_t j = 0; j < n; ++j) {
    const int64_t r = r0 + j;
    const size_t L = static_cast<size_t>(r % kG);
    const uint8_t* block = base + static_cast<size_t>(r / kG) * kG * W.row_stride + b0 * kG * B;
    uint8_t* out = dst + static_cast<size_t>(j) * span;
    for (size_t b = 0; b < nb; ++b, block += kG * B, out += B) {
      std::memcpy(out, block + L * H, H);
      const uint8_t* body = block + kG * H + 4 * L;
      for (int c = 0; c < D; ++c) {
        const int at = kQ6K ? 4 * kQ6KQuadPosition[c / 4] + c % 4 : c;
        std::memcpy(out + H + 4 * c, body + 64 * at, 4);
      }
      std::memcpy(out + H + 4 * D, block + kG * H + 64 * D + L * T, T);
    }
  }
}

}  // namespace

void interleave_rows(DType t, uint8_t* data, int64_t rows, int64_t cols) {
  if (!interleavable(t, rows, cols)) return;
  const size_t rs = row_bytes(t, cols);
  switch (t) {  // the forms of interleave_form
    case DType::Q8_0: return interleave_groups<2, 8, 0, false>(data, rows, rs);
    case DType::Q4_K: return interleave_groups<0, 36, 0, false>(data, rows, rs);
    default: return interleave_groups<0, 52, 2, true>(data, rows, rs);
  }
}

void deinterleave_rows(DType t, uint8_t* data, int64_t rows, int64_t cols) {
  if (!interleavable(t, rows, cols)) return;
  WeightView W{t, data, rows, cols, row_bytes(t, cols)};
  W.interleaved = true;
  std::vector<uint8_t> unpacked;
  const RowSpan all = row_span(W, 0, rows, 0, cols, unpacked);
  std::memcpy(data, all.p, all.stride * static_cast<size_t>(rows));
}

RowSpan row_span(const WeightView& W, int64_t r0, int64_t n, int64_t k0, int64_t kc, std::vector<uint8_t>& scratch) {
  if (W.k_segment > 0) {
    const KSegment first = k_segment_of(W, k0 / W.k_segment);
    if (k0 + kc <= first.col0 + first.cols)  // within one segment: its own bytes
      return {first.p + static_cast<size_t>(r0) * first.stride + row_bytes(W.type, k0 - first.col0), first.stride};
    const size_t span = row_bytes(W.type, kc);  // across segments: the pieces copied together
    scratch.resize(static_cast<size_t>(n) * span);
    for (int64_t c = k0; c < k0 + kc;) {
      const KSegment g = k_segment_of(W, c / W.k_segment);
      const int64_t e = std::min(k0 + kc, g.col0 + g.cols);
      const size_t at = row_bytes(W.type, c - k0), off = row_bytes(W.type, c - g.col0), bytes = row_bytes(W.type, e - c);
      for (int64_t j = 0; j < n; ++j)
        std::memcpy(scratch.data() + static_cast<size_t>(j) * span + at, g.p + static_cast<size_t>(r0 + j) * g.stride + off,
                    bytes);
      c = e;
    }
    return {scratch.data(), span};
  }
  const size_t off = row_bytes(W.type, k0);
  if (!W.interleaved) return {W.row(r0) + off, W.row_stride};
  const size_t B = traits(W.type).block_bytes, span = row_bytes(W.type, kc), b0 = off / B;
  scratch.resize(static_cast<size_t>(n) * span);
  switch (W.type) {  // the types interleave_form knows
    case DType::Q8_0: unpack_rows<2, 8, 0, false>(W, r0, n, b0, span / B, scratch.data(), span); break;
    case DType::Q4_K: unpack_rows<0, 36, 0, false>(W, r0, n, b0, span / B, scratch.data(), span); break;
    default: unpack_rows<0, 52, 2, true>(W, r0, n, b0, span / B, scratch.data(), span); break;
  }
  return {scratch.data(), span};
}

WeightRuns weight_runs(const WeightView& W, int64_t r0, int64_t n, int64_t k0, int64_t kc) {
  if (W.k_segment > 0) {  // the runs in the segment holding column k0 (all of them unless the columns straddle two)
    const KSegment g = k_segment_of(W, k0 / W.k_segment);
    const int64_t e = std::min(k0 + kc, g.col0 + g.cols);
    return {g.p + static_cast<size_t>(r0) * g.stride + row_bytes(W.type, k0 - g.col0), g.stride,
            row_bytes(W.type, e - k0), n};
  }
  const size_t off = row_bytes(W.type, k0), bytes = row_bytes(W.type, k0 + kc) - off;
  if (!W.interleaved) return {W.row(r0) + off, W.row_stride, bytes, n};
  const auto* group = static_cast<const uint8_t*>(W.data) + static_cast<size_t>(r0 / kG) * kG * W.row_stride;
  return {group + kG * off, kG * W.row_stride, kG * bytes, (n + kG - 1) / kG};
}

}  // namespace ts
