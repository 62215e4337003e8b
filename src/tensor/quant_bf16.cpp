// BF16 rows: n bfloat16 values (ggml type 30), 2 bytes each: the top 16 bits of an IEEE binary32.
//
// bf16 -> fp32 is a shift; fp32 -> bf16 rounds to nearest even and keeps NaN a (quiet) NaN.
#include "tensor/quant.h"
#include "tensor/quant_impl.h"

namespace ts {

float bf16_to_fp32(uint16_t h) { return quant::bf16_bits_to_float(h); }
uint16_t fp32_to_bf16(float f) { return quant::float_to_bf16_bits(f); }

namespace quant {

void dequantize_bf16_ref(const void* src, float* dst, int64_t n) {
  const auto* s = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = bf16_bits_to_float(s[i]);
}

void quantize_bf16_ref(const float* src, void* dst, int64_t n) {
  auto* d = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) d[i] = float_to_bf16_bits(src[i]);
}

}  // namespace quant
}  // namespace ts
