// The interleaved weight layout (interleave.h): the rewrite in place, both ways, and row access for the consumers
// that read rows.
#include "tensor/interleave.h"

#include <cstring>

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

// One native block of the 16 rows: row L's block at rows + L·stride (B bytes) <-> the interleaved block at il.
void to_interleaved(const InterleaveForm& f, const uint8_t* rows, size_t stride, uint8_t* il) {
  const size_t H = static_cast<size_t>(f.head), T = static_cast<size_t>(f.tail);
  uint8_t* body = il + kG * H;
  uint8_t* tail = body + 64 * static_cast<size_t>(f.dwords);
  for (int L = 0; L < kG; ++L) {
    const uint8_t* src = rows + static_cast<size_t>(L) * stride;
    std::memcpy(il + L * H, src, H);
    for (int c = 0; c < f.dwords; ++c) std::memcpy(body + 64 * f.position(c) + 4 * L, src + H + 4 * c, 4);
    std::memcpy(tail + L * T, src + H + 4 * static_cast<size_t>(f.dwords), T);
  }
}

// Row L (0..15) of the interleaved block at il into dst (B bytes).
void row_of_block(const InterleaveForm& f, const uint8_t* il, int L, uint8_t* dst) {
  const size_t H = static_cast<size_t>(f.head), T = static_cast<size_t>(f.tail);
  const uint8_t* body = il + kG * H;
  const uint8_t* tail = body + 64 * static_cast<size_t>(f.dwords);
  std::memcpy(dst, il + L * H, H);
  for (int c = 0; c < f.dwords; ++c) std::memcpy(dst + H + 4 * c, body + 64 * f.position(c) + 4 * L, 4);
  std::memcpy(dst + H + 4 * static_cast<size_t>(f.dwords), tail + L * T, T);
}

// row_span's unpacking with the form's sizes known at compile time (row_of_block's copies become single moves: the
// exact products over interleaved weights unpack every row they read).
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
  InterleaveForm f;
  if (!interleave_form(t, &f)) return;
  const size_t rs = row_bytes(t, cols), B = traits(t).block_bytes, nb = rs / B;
  std::vector<uint8_t> group(kG * rs);
  for (int64_t g = 0; g < rows / kG; ++g) {
    uint8_t* p = data + static_cast<size_t>(g) * kG * rs;
    std::memcpy(group.data(), p, group.size());
    for (size_t b = 0; b < nb; ++b) to_interleaved(f, group.data() + b * B, rs, p + b * kG * B);
  }
}

void deinterleave_rows(DType t, uint8_t* data, int64_t rows, int64_t cols) {
  InterleaveForm f;
  if (!interleave_form(t, &f)) return;
  const size_t rs = row_bytes(t, cols), B = traits(t).block_bytes, nb = rs / B;
  std::vector<uint8_t> group(kG * rs);
  for (int64_t g = 0; g < rows / kG; ++g) {
    uint8_t* p = data + static_cast<size_t>(g) * kG * rs;
    std::memcpy(group.data(), p, group.size());
    for (size_t b = 0; b < nb; ++b)
      for (int L = 0; L < kG; ++L) row_of_block(f, group.data() + b * kG * B, L, p + L * rs + b * B);
  }
}

RowSpan row_span(const WeightView& W, int64_t r0, int64_t n, int64_t k0, int64_t kc, std::vector<uint8_t>& scratch) {
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
  const size_t off = row_bytes(W.type, k0), bytes = row_bytes(W.type, k0 + kc) - off;
  if (!W.interleaved) return {W.row(r0) + off, W.row_stride, bytes, n};
  const auto* group = static_cast<const uint8_t*>(W.data) + static_cast<size_t>(r0 / kG) * kG * W.row_stride;
  return {group + kG * off, kG * W.row_stride, kG * bytes, (n + kG - 1) / kG};
}

}  // namespace ts
