// Q5_1 (ggml type 7): blocks of 32 elements, 24 bytes (layout as in ggml-common.h block_q5_1):
//
//   offset 0   fp16   d        scale
//   offset 2   fp16   m        offset (the block minimum)
//   offset 4   uint8  qh[4]    fifth bits: bit j of the little-endian uint32 is the high bit of element j
//   offset 8   uint8  qs[16]   element j      = d * ((qs[j] & 0xF) | bit_j << 4)      + m    j = 0..15
//                              element j + 16 = d * ((qs[j] >> 4)  | bit_{j+16} << 4) + m
//
// d*q is exact in fp32; only the addition rounds. Quantizer (ggml's quantize_row_q5_1_ref rule, the bytes
// llama-quantize writes): m = min, d = (max - min) / 31, codes = floor((x - min) / d + 0.5) with the fp32 min and d
// (at most 31), both then stored as fp16.
#include <algorithm>
#include <cmath>

#include "tensor/quant_impl.h"

namespace ts::quant {

void dequantize_q5_1_ref(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ5_1*>(src);
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const float d = half_to_float(b[i].d), m = half_to_float(b[i].m);
    uint32_t qh;
    std::memcpy(&qh, b[i].qh, 4);
    for (int j = 0; j < 16; ++j) {
      const int q0 = (b[i].qs[j] & 0xF) | (((qh >> j) & 1) << 4);
      const int q1 = (b[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
      dst[j] = static_cast<float>(q0) * d + m;
      dst[j + 16] = static_cast<float>(q1) * d + m;
    }
  }
}

void quantize_q5_1_ref(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ5_1*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    const auto [lo, hi] = std::minmax_element(src, src + kQK);
    const float min = *lo, d = (*hi - *lo) / 31.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b[i].d = float_to_half(d);
    b[i].m = float_to_half(min);
    auto code = [&](float x) { return static_cast<uint32_t>(std::min(31, static_cast<int>((x - min) * id + 0.5f))); };
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
