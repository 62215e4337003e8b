// F16 rows: n IEEE binary16 values (ggml type 1), 2 bytes each, little-endian.
//
// Conversions are exact to fp32; fp32 -> fp16 rounds to nearest even, overflows to infinity, keeps NaN a NaN.
#include "tensor/quant.h"
#include "tensor/quant_impl.h"

namespace ts {

float fp16_to_fp32(uint16_t h) { return quant::half_to_float(h); }
uint16_t fp32_to_fp16(float f) { return quant::float_to_half(f); }

namespace quant {

void dequantize_f16_ref(const void* src, float* dst, int64_t n) {
  const auto* s = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = half_to_float(s[i]);
}

void quantize_f16_ref(const float* src, void* dst, int64_t n) {
  auto* d = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) d[i] = float_to_half(src[i]);
}

}  // namespace quant
}  // namespace ts
