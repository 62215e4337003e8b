// Q4_1 (ggml type 3): blocks of 32 elements, 20 bytes (layout as in ggml-common.h block_q4_1):
//
//   offset 0   fp16   d        scale
//   offset 2   fp16   m        offset (the block minimum)
//   offset 4   uint8  qs[16]   element j      = d * (qs[j] & 0xF) + m    j = 0..15
//                              element j + 16 = d * (qs[j] >> 4)  + m
//
// d*q is exact in fp32; only the addition rounds (so an fma gives the same bits).
// Quantizer (ggml's quantize_row_q4_1_ref rule, the bytes llama-quantize writes): m = min, d = (max - min) / 15,
// codes = floor((x - min) / d + 0.5) clamped to 15 with the fp32 min and d; both are then stored as fp16.
#include <algorithm>
#include <cmath>

#include "tensor/quant_impl.h"

namespace ts::quant {

void dequantize_q4_1_ref(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ4_1*>(src);
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const float d = half_to_float(b[i].d), m = half_to_float(b[i].m);
    for (int j = 0; j < 16; ++j) {
      dst[j] = static_cast<float>(b[i].qs[j] & 0xF) * d + m;
      dst[j + 16] = static_cast<float>(b[i].qs[j] >> 4) * d + m;
    }
  }
}

void quantize_q4_1_ref(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ4_1*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    const auto [lo, hi] = std::minmax_element(src, src + kQK);
    const float min = *lo, d = (*hi - *lo) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b[i].d = float_to_half(d);
    b[i].m = float_to_half(min);
    auto code = [&](float x) { return static_cast<uint8_t>(std::min(15, static_cast<int>((x - min) * id + 0.5f))); };
    for (int j = 0; j < 16; ++j) b[i].qs[j] = static_cast<uint8_t>(code(src[j]) | (code(src[j + 16]) << 4));
  }
}

}  // namespace ts::quant
