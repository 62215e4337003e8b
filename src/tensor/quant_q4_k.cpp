// Q4_K (ggml type 12): super-blocks of 256 elements, 144 bytes (layout as in ggml-common.h block_q4_K):
//
//   offset 0    fp16   d           super-block scale of the sub-block scales
//   offset 2    fp16   dmin        super-block scale of the sub-block mins
//   offset 4    uint8  scales[12]  eight 6-bit scales sc[j] and eight 6-bit mins m[j] (packing: k4_scale_min)
//   offset 16   uint8  qs[128]     4-bit codes
//
// Eight sub-blocks of 32. Chunk c (0..3) covers elements 64c .. 64c+63 and bytes qs[32c .. 32c+31]:
//   element 64c + l      = (d*sc[2c])   * (qs[32c+l] & 0xF) - dmin*m[2c]      l = 0..31
//   element 64c + 32 + l = (d*sc[2c+1]) * (qs[32c+l] >> 4)  - dmin*m[2c+1]
// d*sc*q is exact in fp32; only the final subtraction rounds (so an fma gives the same bits).
// Quantizer: per sub-block a weighted (weights |x| + rms) scale/min fit, then 6-bit scales and mins relative to the
// largest, then codes re-rounded against the stored scales (the scheme of ggml's quantize_row_q4_K_ref).
#include <algorithm>
#include <cmath>

#include "tensor/quant_impl.h"

namespace ts::quant {

void dequantize_q4_k_ref(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ4_K*>(src);
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = half_to_float(b[i].d);
    const float dmin = half_to_float(b[i].dmin);
    for (int c = 0; c < 4; ++c) {
      uint8_t sc, m;
      k4_scale_min(2 * c, b[i].scales, &sc, &m);
      const float d1 = d * sc, m1 = dmin * m;
      k4_scale_min(2 * c + 1, b[i].scales, &sc, &m);
      const float d2 = d * sc, m2 = dmin * m;
      const uint8_t* q = b[i].qs + 32 * c;
      for (int l = 0; l < 32; ++l) *dst++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) *dst++ = d2 * static_cast<float>(q[l] >> 4) - m2;
    }
  }
}

void quantize_q4_k_ref(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ4_K*>(dst);
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
    uint8_t L[kQKK];
    quantize_k4_codes(src, 15, -1.0f, 0.1f, 20, b[i].scales, &b[i].d, &b[i].dmin, L);
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l)
        b[i].qs[32 * c + l] = static_cast<uint8_t>(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
  }
}

}  // namespace ts::quant
