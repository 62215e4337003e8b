// Q4_0 (ggml type 2): blocks of 32 elements, 18 bytes (layout as in ggml-common.h block_q4_0):
//
//   offset 0   fp16   d        scale
//   offset 2   uint8  qs[16]   element j      = d * ((qs[j] & 0xF) - 8)    j = 0..15
//                              element j + 16 = d * ((qs[j] >> 4)  - 8)
//
// Quantizer (ggml's quantize_row_q4_0_ref rule, the bytes llama-quantize writes): d = m / -8 where m is the element of
// largest magnitude (so it maps to code 0), codes = floor(x/d + 8.5) clamped to 15, with the fp32 d; d is then
// stored as fp16.
#include <algorithm>
#include <cmath>

#include "tensor/quant_impl.h"

namespace ts::quant {

void dequantize_q4_0_ref(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ4_0*>(src);
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const float d = half_to_float(b[i].d);
    for (int j = 0; j < 16; ++j) {
      dst[j] = static_cast<float>((b[i].qs[j] & 0xF) - 8) * d;
      dst[j + 16] = static_cast<float>((b[i].qs[j] >> 4) - 8) * d;
    }
  }
}

void quantize_q4_0_ref(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ4_0*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kQK; ++j)
      if (std::fabs(src[j]) > amax) {
        amax = std::fabs(src[j]);
        max = src[j];
      }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b[i].d = float_to_half(d);
    // x * id >= -8 here, so truncation is floor
    auto code = [&](float x) { return static_cast<uint8_t>(std::min(15, static_cast<int>(x * id + 8.5f))); };
    for (int j = 0; j < 16; ++j) b[i].qs[j] = static_cast<uint8_t>(code(src[j]) | (code(src[j + 16]) << 4));
  }
}

}  // namespace ts::quant
