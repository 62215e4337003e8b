// Q5_0 (ggml type 6): blocks of 32 elements, 22 bytes (layout as in ggml-common.h block_q5_0):
//
//   offset 0   fp16   d        scale
//   offset 2   uint8  qh[4]    fifth bits: bit j of the little-endian uint32 is the high bit of element j
//   offset 6   uint8  qs[16]   element j      = d * (((qs[j] & 0xF) | bit_j << 4)      - 16)    j = 0..15
//                              element j + 16 = d * (((qs[j] >> 4)  | bit_{j+16} << 4) - 16)
//
// Quantizer (ggml's quantize_row_q5_0_ref rule, the bytes llama-quantize writes): d = m / -16 (m: the element of
// largest magnitude), codes = floor(x/d + 16.5) clamped to 31 with the fp32 d; d is then stored as fp16.
#include <algorithm>
#include <cmath>

#include "tensor/quant_impl.h"

namespace ts::quant {

void dequantize_q5_0_ref(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ5_0*>(src);
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const float d = half_to_float(b[i].d);
    uint32_t qh;
    std::memcpy(&qh, b[i].qh, 4);
    for (int j = 0; j < 16; ++j) {
      const int q0 = (b[i].qs[j] & 0xF) | (((qh >> j) & 1) << 4);
      const int q1 = (b[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
      dst[j] = static_cast<float>(q0 - 16) * d;
      dst[j + 16] = static_cast<float>(q1 - 16) * d;
    }
  }
}

void quantize_q5_0_ref(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ5_0*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kQK; ++j)
      if (std::fabs(src[j]) > amax) {
        amax = std::fabs(src[j]);
        max = src[j];
      }
    const float d = max / -16.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b[i].d = float_to_half(d);
    auto code = [&](float x) { return static_cast<uint32_t>(std::min(31, static_cast<int>(x * id + 16.5f))); };
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
      const uint32_t q0 = code(src[j]), q1 = code(src[j + 16]);
      b[i].qs[j] = static_cast<uint8_t>((q0 & 0xF) | ((q1 & 0xF) << 4));
      qh |= ((q0 >> 4) << j) | ((q1 >> 4) << (j + 16));
    }
    std::memcpy(b[i].qh, &qh, 4);
  }
}

}  // namespace ts::quant
