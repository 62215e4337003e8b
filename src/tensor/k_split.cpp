// The k-split weight layout (k_split.h).
#include "tensor/k_split.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace ts {

namespace {

constexpr int64_t kMaxSegment = 3072;
constexpr int64_t kSegmentAlign = 256;
constexpr int64_t kL1Budget = int64_t{28} << 10;  // fp32 x plus one row, bytes (quant.cpp's lockstep_pays)

bool splittable_type(DType t) { return t == DType::F16 || t == DType::BF16 || t == DType::F32; }

}  // namespace

int64_t k_segment_for(DType t, int64_t rows, int64_t cols) {
  if (!splittable_type(t) || rows <= 0 || cols <= 0) return 0;
  if (4 * cols + static_cast<int64_t>(row_bytes(t, cols)) <= kL1Budget) return 0;
  const int64_t segments = (cols + kMaxSegment - 1) / kMaxSegment;
  const int64_t width = ((cols + segments - 1) / segments + kSegmentAlign - 1) / kSegmentAlign * kSegmentAlign;
  return width < cols ? width : 0;
}

KSegment k_segment_of(const WeightView& W, int64_t s) {
  const auto* base = static_cast<const uint8_t*>(W.data);
  if (W.k_segment <= 0) return {base, W.row_stride, 0, W.cols};
  const int64_t col0 = s * W.k_segment, cols = std::min(W.k_segment, W.cols - col0);
  // the segments before s are all full width: rows × row_bytes(width) bytes each
  const size_t before = static_cast<size_t>(s) * static_cast<size_t>(W.rows) * row_bytes(W.type, W.k_segment);
  return {base + before, row_bytes(W.type, cols), col0, cols};
}

void k_split_rows(DType t, uint8_t* data, int64_t rows, int64_t cols, int64_t width) {
  const size_t rs = row_bytes(t, cols);
  std::vector<uint8_t> copy(data, data + static_cast<size_t>(rows) * rs);
  uint8_t* out = data;
  for (int64_t c0 = 0; c0 < cols; c0 += width) {
    const size_t off = row_bytes(t, c0), bytes = row_bytes(t, std::min(width, cols - c0));
    for (int64_t r = 0; r < rows; ++r, out += bytes) std::memcpy(out, copy.data() + static_cast<size_t>(r) * rs + off, bytes);
  }
}

}  // namespace ts
