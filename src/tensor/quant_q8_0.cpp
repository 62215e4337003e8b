// Q8_0 (ggml type 8): blocks of 32 elements, 34 bytes (layout as in ggml-common.h block_q8_0):
//
//   offset 0   fp16  d        scale
//   offset 2   int8  qs[32]   element j = d * qs[j]
//
// Every value d * q is exact in fp32 (11-bit significand times 8 bits).
// Quantizer: ggml's quantize_row_q8_0_ref rule, producing the same bytes as llama-quantize: d = max|x| / 127,
// q = round(x / d) (ties away from zero) computed with the fp32 d before it is rounded to fp16 for storage, so an
// element is within d/2 + 127*|d - fp16(d)| of its value.
#include <cmath>

#include "tensor/quant_impl.h"

namespace ts::quant {

void dequantize_q8_0_ref(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ8_0*>(src);
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const float d = half_to_float(b[i].d);
    for (int j = 0; j < kQK; ++j) dst[j] = d * static_cast<float>(b[i].qs[j]);
  }
}

void quantize_q8_0_ref(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::fmax(amax, std::fabs(src[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b[i].d = float_to_half(d);
    for (int j = 0; j < kQK; ++j) b[i].qs[j] = static_cast<int8_t>(std::round(src[j] * id));
  }
}

}  // namespace ts::quant
