// Q5_K (ggml type 13): super-blocks of 256 elements, 176 bytes (layout as in ggml-common.h block_q5_K):
//
//   offset 0    fp16   d           super-block scale of the sub-block scales
//   offset 2    fp16   dmin        super-block scale of the sub-block mins
//   offset 4    uint8  scales[12]  eight 6-bit scales sc[j] and mins m[j], packed as in Q4_K (k4_scale_min)
//   offset 16   uint8  qh[32]      fifth bits
//   offset 48   uint8  qs[128]     low 4 bits
//
// Chunk c (0..3) covers elements 64c .. 64c+63 and bytes qs[32c .. 32c+31]; l = 0..31:
//   element 64c + l      = (d*sc[2c])   * ((qs[32c+l] & 0xF) + 16 * bit 2c   of qh[l]) - dmin*m[2c]
//   element 64c + 32 + l = (d*sc[2c+1]) * ((qs[32c+l] >> 4)  + 16 * bit 2c+1 of qh[l]) - dmin*m[2c+1]
// The product is exact in fp32; only the subtraction rounds.
// Quantizer: as Q4_K with 5-bit codes (the scheme of ggml's quantize_row_q5_K_ref).
#include <algorithm>
#include <cmath>

#include "tensor/quant_impl.h"

namespace ts::quant {

void dequantize_q5_k_ref(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ5_K*>(src);
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = half_to_float(b[i].d), dmin = half_to_float(b[i].dmin);
    for (int c = 0; c < 4; ++c) {
      uint8_t sc, m;
      k4_scale_min(2 * c, b[i].scales, &sc, &m);
      const float d1 = d * sc, m1 = dmin * m;
      k4_scale_min(2 * c + 1, b[i].scales, &sc, &m);
      const float d2 = d * sc, m2 = dmin * m;
      const uint8_t* q = b[i].qs + 32 * c;
      const uint8_t* qh = b[i].qh;
      for (int l = 0; l < 32; ++l)
        *dst++ = d1 * static_cast<float>((q[l] & 0xF) | (((qh[l] >> (2 * c)) & 1) << 4)) - m1;
      for (int l = 0; l < 32; ++l)
        *dst++ = d2 * static_cast<float>((q[l] >> 4) | (((qh[l] >> (2 * c + 1)) & 1) << 4)) - m2;
    }
  }
}

void quantize_q5_k_ref(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ5_K*>(dst);
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
    uint8_t L[kQKK];
    quantize_k4_codes(src, 31, -0.5f, 0.1f, 15, b[i].scales, &b[i].d, &b[i].dmin, L);
    std::memset(b[i].qh, 0, 32);
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l) {
        const uint8_t lo = L[64 * c + l], hi = L[64 * c + 32 + l];
        b[i].qs[32 * c + l] = static_cast<uint8_t>((lo & 0xF) | ((hi & 0xF) << 4));
        b[i].qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
      }
  }
}

}  // namespace ts::quant
