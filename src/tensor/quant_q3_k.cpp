// Q3_K (ggml type 11): super-blocks of 256 elements, 110 bytes (layout as in ggml-common.h block_q3_K):
//
//   offset 0     uint8  hmask[32]   high bit of the 3-bit codes: element e uses bit e/32 of hmask[e%32]
//   offset 32    uint8  qs[64]      low 2 bits of the codes
//   offset 96    uint8  scales[12]  sixteen 6-bit scales biased by 32 (packing: q3k_scale in quant_impl.h)
//   offset 108   fp16   d           super-block scale
//
// Half h (0..1) covers elements 128h .. 128h+127 and bytes qs[32h ..]; for shift group g (0..3), l = 0..31,
// e = 128h + 32g + l, s = 8h + 2g + l/16:
//   code  = ((qs[32h+l] >> 2g) & 3) - (bit (4h+g) of hmask[l] set ? 0 : 4)        in -4..3
//   value = (d * (scale6[s] - 32)) * code                                           exact in fp32
// Quantizer: per 16 elements an x^2-weighted symmetric fit refined code by code (fit_scale_q3), 6-bit signed scales
// relative to the largest, codes re-rounded against the stored scales (the scheme of ggml's quantize_row_q3_K_ref).
#include <algorithm>
#include <cmath>

#include "tensor/quant_impl.h"

namespace ts::quant {

void dequantize_q3_k_ref(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ3_K*>(src);
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = half_to_float(b[i].d);
    for (int h = 0; h < 2; ++h) {
      const uint8_t* q = b[i].qs + 32 * h;
      for (int g = 0; g < 4; ++g) {
        const int bit = 4 * h + g;
        for (int half = 0; half < 2; ++half) {
          const float dl = d * static_cast<float>(q3k_scale(8 * h + 2 * g + half, b[i].scales));
          for (int l = 16 * half; l < 16 * half + 16; ++l) {
            const int code = ((q[l] >> (2 * g)) & 3) - (((b[i].hmask[l] >> bit) & 1) ? 0 : 4);
            *dst++ = dl * static_cast<float>(code);
          }
        }
      }
    }
  }
}

void quantize_q3_k_ref(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ3_K*>(dst);
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
    int8_t L[kQKK];
    float scales[16];
    float max_scale = 0.0f, amax = 0.0f;
    for (int j = 0; j < 16; ++j) {
      scales[j] = fit_scale_q3(16, 4, src + 16 * j, L + 16 * j);
      if (std::fabs(scales[j]) > amax) {
        amax = std::fabs(scales[j]);
        max_scale = scales[j];
      }
    }
    std::memset(b[i].scales, 0, 12);
    if (max_scale != 0.0f) {
      const float iscale = -32.0f / max_scale;
      for (int j = 0; j < 16; ++j) {
        const int l = std::clamp(round_even(iscale * scales[j]), -32, 31) + 32;
        if (j < 8)
          b[i].scales[j] = static_cast<uint8_t>(l & 0xF);
        else
          b[i].scales[j - 8] |= static_cast<uint8_t>((l & 0xF) << 4);
        b[i].scales[8 + j % 4] |= static_cast<uint8_t>((l >> 4) << (2 * (j / 4)));
      }
      b[i].d = float_to_half(1.0f / iscale);
    } else {
      b[i].d = float_to_half(0.0f);
    }
    const float d = half_to_float(b[i].d);
    for (int j = 0; j < 16; ++j) {
      const float ds = d * static_cast<float>(q3k_scale(j, b[i].scales));
      if (ds == 0.0f) continue;
      for (int l = 0; l < 16; ++l)
        L[16 * j + l] = static_cast<int8_t>(std::clamp(round_even(src[16 * j + l] / ds), -4, 3) + 4);
    }
    std::memset(b[i].hmask, 0, 32);
    uint8_t low[kQKK];
    for (int e = 0; e < kQKK; ++e) {
      if (L[e] > 3) b[i].hmask[e % 32] |= static_cast<uint8_t>(1u << (e / 32));
      low[e] = static_cast<uint8_t>(L[e] & 3);
    }
    for (int h = 0; h < 2; ++h)
      for (int l = 0; l < 32; ++l) {
        const uint8_t* Lh = low + 128 * h;
        b[i].qs[32 * h + l] = static_cast<uint8_t>(Lh[l] | (Lh[l + 32] << 2) | (Lh[l + 64] << 4) | (Lh[l + 96] << 6));
      }
  }
}

}  // namespace ts::quant
