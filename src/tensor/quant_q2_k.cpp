// Q2_K (ggml type 10): super-blocks of 256 elements, 84 bytes (layout as in ggml-common.h block_q2_K):
//
//   offset 0    uint8  scales[16]  per 16 elements: low nibble = scale sc, high nibble = min m
//   offset 16   uint8  qs[64]      2-bit codes
//   offset 80   fp16   d           super-block scale of the scales
//   offset 82   fp16   dmin        super-block scale of the mins
//
// Half h (0..1) covers elements 128h .. 128h+127 and bytes qs[32h .. 32h+31]; for shift group g (0..3), l = 0..31:
//   element 128h + 32g + l = (d * sc[s]) * ((qs[32h+l] >> 2g) & 3) - dmin * m[s],   s = 8h + 2g + l/16
// The product is exact in fp32; only the subtraction rounds.
// Quantizer: per 16 elements a |x|-weighted mean-absolute-error scale/min fit, 4-bit scales and mins relative to the
// largest, codes re-rounded against the stored values (the scheme of ggml's quantize_row_q2_K_ref).
#include <algorithm>
#include <cmath>

#include "tensor/quant_impl.h"

namespace ts::quant {

void dequantize_q2_k_ref(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ2_K*>(src);
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = half_to_float(b[i].d), dmin = half_to_float(b[i].dmin);
    for (int h = 0; h < 2; ++h) {
      const uint8_t* q = b[i].qs + 32 * h;
      for (int g = 0; g < 4; ++g) {
        for (int half = 0; half < 2; ++half) {
          const uint8_t sc = b[i].scales[8 * h + 2 * g + half];
          const float dl = d * static_cast<float>(sc & 0xF), ml = dmin * static_cast<float>(sc >> 4);
          for (int l = 16 * half; l < 16 * half + 16; ++l)
            *dst++ = dl * static_cast<float>((q[l] >> (2 * g)) & 3) - ml;
        }
      }
    }
  }
}

void quantize_q2_k_ref(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ2_K*>(dst);
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
    uint8_t L[kQKK];
    float scales[16], mins[16];
    float max_scale = 0.0f, max_min = 0.0f;
    for (int j = 0; j < 16; ++j) {
      float w[16];
      for (int l = 0; l < 16; ++l) w[l] = std::fabs(src[16 * j + l]);
      scales[j] = fit_scale_min(16, 3, src + 16 * j, w, L + 16 * j, &mins[j], -0.5f, 0.1f, 15, true);
      max_scale = std::max(max_scale, scales[j]);
      max_min = std::max(max_min, mins[j]);
    }
    const float inv_scale = max_scale > 0.0f ? 15.0f / max_scale : 0.0f;
    const float inv_min = max_min > 0.0f ? 15.0f / max_min : 0.0f;
    for (int j = 0; j < 16; ++j) {
      const int ls = std::clamp(round_even(inv_scale * scales[j]), 0, 15);
      const int lm = std::clamp(round_even(inv_min * mins[j]), 0, 15);
      b[i].scales[j] = static_cast<uint8_t>(ls | (lm << 4));
    }
    b[i].d = float_to_half(max_scale / 15.0f);
    b[i].dmin = float_to_half(max_min / 15.0f);
    const float d = half_to_float(b[i].d), dmin = half_to_float(b[i].dmin);
    for (int j = 0; j < 16; ++j) {
      const float ds = d * static_cast<float>(b[i].scales[j] & 0xF);
      if (ds == 0.0f) continue;
      const float dm = dmin * static_cast<float>(b[i].scales[j] >> 4);
      for (int l = 0; l < 16; ++l)
        L[16 * j + l] = static_cast<uint8_t>(std::clamp(round_even((src[16 * j + l] + dm) / ds), 0, 3));
    }
    for (int h = 0; h < 2; ++h)
      for (int l = 0; l < 32; ++l) {
        const uint8_t* Lh = L + 128 * h;
        b[i].qs[32 * h + l] = static_cast<uint8_t>(Lh[l] | (Lh[l + 32] << 2) | (Lh[l + 64] << 4) | (Lh[l + 96] << 6));
      }
  }
}

}  // namespace ts::quant
