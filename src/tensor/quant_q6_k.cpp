// Q6_K (ggml type 14): super-blocks of 256 elements, 210 bytes (layout as in ggml-common.h block_q6_K):
//
//   offset 0     uint8  ql[128]     low 4 bits of the 6-bit codes
//   offset 128   uint8  qh[64]      high 2 bits of the codes
//   offset 192   int8   scales[16]  one scale per 16 elements
//   offset 208   fp16   d           super-block scale
//
// Half h (0..1) covers elements 128h .. 128h+127 with ql[64h ..], qh[32h ..], scales[8h ..]; for l = 0..31, s = l/16:
//   element 128h + l      : code (ql[64h+l]    & 0xF) | ((qh[32h+l] >> 0) & 3) << 4, scale scales[8h+s]
//   element 128h + 32 + l : code (ql[64h+32+l] & 0xF) | ((qh[32h+l] >> 2) & 3) << 4, scale scales[8h+s+2]
//   element 128h + 64 + l : code (ql[64h+l]    >> 4)  | ((qh[32h+l] >> 4) & 3) << 4, scale scales[8h+s+4]
//   element 128h + 96 + l : code (ql[64h+32+l] >> 4)  | ((qh[32h+l] >> 6) & 3) << 4, scale scales[8h+s+6]
//   value = (d * scale) * (code - 32)        exact in fp32 (11 + 7 + 5 significant bits)
// Quantizer: per 16 elements a symmetric scale fit (codes -32..31), 8-bit scales relative to the largest, codes
// re-rounded against the stored scales (the scheme of ggml's quantize_row_q6_K_ref).
#include <algorithm>
#include <cmath>

#include "tensor/quant_impl.h"

namespace ts::quant {

void dequantize_q6_k_ref(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ6_K*>(src);
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = half_to_float(b[i].d);
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = b[i].ql + 64 * h;
      const uint8_t* qh = b[i].qh + 32 * h;
      const int8_t* sc = b[i].scales + 8 * h;
      float* y = dst + 256 * i + 128 * h;
      for (int l = 0; l < 32; ++l) {
        const int s = l / 16;
        const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = (d * sc[s]) * static_cast<float>(q1);
        y[l + 32] = (d * sc[s + 2]) * static_cast<float>(q2);
        y[l + 64] = (d * sc[s + 4]) * static_cast<float>(q3);
        y[l + 96] = (d * sc[s + 6]) * static_cast<float>(q4);
      }
    }
  }
}

void quantize_q6_k_ref(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ6_K*>(dst);
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
    int8_t L[kQKK];
    float scales[16];
    float max_scale = 0.0f, max_abs = 0.0f;
    for (int j = 0; j < 16; ++j) {
      scales[j] = fit_scale_symmetric(16, 32, src + 16 * j, L + 16 * j);
      if (std::fabs(scales[j]) > max_abs) {
        max_abs = std::fabs(scales[j]);
        max_scale = scales[j];
      }
    }
    std::memset(&b[i], 0, sizeof(BlockQ6_K));
    if (max_abs < 1e-15f) continue;  // all (near) zero: d = 0, every element 0
    const float iscale = -128.0f / max_scale;
    b[i].d = float_to_half(1.0f / iscale);
    for (int j = 0; j < 16; ++j) b[i].scales[j] = static_cast<int8_t>(std::min(127, round_even(iscale * scales[j])));
    const float d = half_to_float(b[i].d);
    for (int j = 0; j < 16; ++j) {
      const float ds = d * b[i].scales[j];
      if (ds == 0.0f) continue;
      for (int l = 0; l < 16; ++l)
        L[16 * j + l] = static_cast<int8_t>(std::clamp(round_even(src[16 * j + l] / ds), -32, 31) + 32);
    }
    for (int h = 0; h < 2; ++h) {
      const int8_t* Lh = L + 128 * h;
      uint8_t* ql = b[i].ql + 64 * h;
      uint8_t* qh = b[i].qh + 32 * h;
      for (int l = 0; l < 32; ++l) {
        ql[l] = static_cast<uint8_t>((Lh[l] & 0xF) | ((Lh[l + 64] & 0xF) << 4));
        ql[l + 32] = static_cast<uint8_t>((Lh[l + 32] & 0xF) | ((Lh[l + 96] & 0xF) << 4));
        qh[l] = static_cast<uint8_t>((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) | ((Lh[l + 64] >> 4) << 4) |
                                     ((Lh[l + 96] >> 4) << 6));
      }
    }
  }
}

}  // namespace ts::quant
