// Matrix products with weights in any stored type and fp32 activations.
//
//   Y[m, n] = X[m, k] · W[n, k]ᵀ      (W: n rows of k elements each, as GGUF stores a linear layer's weight)
//
// m == 1 (generation) is memory-bound: each weight row is streamed once through vec_dot, rows split across threads.
// m > 1 (prompt evaluation) is compute-bound: panels of W are dequantized to fp32 once and multiplied with a
// cache-blocked fp32 kernel, so every product is exact to fp32 rounding whatever the weight type.
//
// Precision::kFast (the CLI's --fast) trades that exactness for speed the way llama.cpp does: for more than
// kFastMinRows activation rows and a quantized weight type with an int8 form, each activation row is rounded to
// int8 per block of 32 (scale max|x|/127) and multiplied with the weights' integer codes by AVX-512 VNNI
// (matmul_int8.h has the formula); float weights (F16, BF16, F32) and their activations are both rounded to 13-bit
// integers per block of 32 and multiplied by vpdpwssd (matmul_float_int16 below). For m <= kFastMinRows
// (generation, memory-bound) kFast runs kInt16's GEMV (more exact than int8 and as fast) or, for float weights, the
// exact product; on a CPU without AVX-512 VNNI it computes exactly what kExact does.
//
// Precision::kInt16 (--precision int16) keeps the default bar (at least twice as exact as llama.cpp) at integer
// speed: activations are rounded to int16 per block of 32 and multiplied with the weights' integer codes by AVX-512
// VNNI's vpdpwssd (matmul_int16.h has the formula). Unlike kFast it runs at every m: a GEMV for few rows (up to
// 12-32 by type) whose outputs are bit-identical to the GEMM's, so every position gets the same numbers however many
// positions a call evaluates. Same types as kFast; other types (F32, F16, BF16) and CPUs without AVX-512 VNNI compute exactly what
// kExact does, at every m.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

#include "tensor/thread_pool.h"
#include "tokenscope/dtype.h"

namespace ts {

// A typed view of a 2-D weight matrix inside a mapped file: rows × cols, rows of row_stride bytes.
struct WeightView {
  DType type = DType::F32;
  const void* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  size_t row_stride = 0;  // bytes; row_bytes(type, cols) for a contiguous tensor
  // The rows in groups of 16 with their blocks interleaved (tensor/interleave.h; Q8_0, Q4_K, Q6_K, contiguous rows,
  // a multiple of 16): every product reads it, bit-identical to the row layout; row() does not apply.
  bool interleaved = false;
  // Nonzero: the columns in segments of k_segment columns, each stored as its own rows × width matrix (row_stride:
  // a full segment's row bytes), for float rows too long for one core's L1 together with their activations
  // (tensor/k_split.h). Every product reads it; products of up to 4 rows then sum per segment.
  int64_t k_segment = 0;

  // Row r's bytes (row layout only).
  const uint8_t* row(int64_t r) const { return static_cast<const uint8_t*>(data) + static_cast<size_t>(r) * row_stride; }
};

enum class Precision {
  kExact,  // fp32 activations, weights exactly as stored: exact to fp32 rounding (the reference; the model's default)
  kFast,   // int8 activations per block of 32 where the weight type and CPU allow (llama.cpp's precision); float
           // weights and activations both 13-bit per block of 32
  // int16 activations where the weight type and CPU allow, at every m. Error model: each activation block of 32 is
  // rounded to dx·q with dx = max|x|/32767, q an integer in −32767..32767, so |x − dx·q| ≤ dx/2 (2⁻¹⁶ of the block's max);
  // the weights are the exact stored values and the integer products and sub-block sums are exact; the sub-block
  // sums are scaled and added in fp32. Mean |Δlogprob| against the fixtures' float64 forward: 0.00004 (Q8_0) and
  // 0.00007 (Q4_K_M), some 250 times below llama.cpp's (golden_int16_test).
  kInt16,
};

// Y (m × W.rows, row stride ldy floats) = X (m × W.cols, row stride ldx floats) · Wᵀ.
void matmul(const WeightView& W, const float* X, int64_t m, int64_t ldx, float* Y, int64_t ldy, ThreadPool& pool);
// The same product in fp32 with one summation order at every m: each output Y[i, j] is the fp32 FMA chain
//   acc = 0; acc = fma(X[i, p], W[j, p], acc) for p in k-block b (blocks of 256 columns, in order); Y = Y + acc
// (the first block stores acc), on AVX-512 and AVX2; without them (active_isa() scalar) acc = acc + X·W in two
// roundings. It is the blocked GEMM that matmul() runs above 4 rows, so for any m a row of Y is bit-identical to the
// same row of a call with more or fewer rows, on any thread count, and to matmul() with m > 4 (same ISA). For
// callers whose numbers must not depend on how many rows a call evaluates (attention over the KV cache); matmul()
// keeps its faster dot-product path for m <= 4, whose order differs (a few fp32 roundings apart).
void matmul_ordered(const WeightView& W, const float* X, int64_t m, int64_t ldx, float* Y, int64_t ldy,
                    ThreadPool& pool);

// fp32 weights stored the way the blocked GEMM packs them (matmul_kernels.h), so that a product reads them in place:
// the rows in slivers of nr rows, element (r, c) at data[(r / nr) · sliver_stride + c · nr + r % nr] (sliver_stride
// ≥ cols · nr). The attention's KV cache keeps its keys and values so, instead of having every product transpose the
// whole cache again. nr: gemm_panel_rows() of the ISA the data was laid out for; data 64-byte aligned, and so
// sliver_stride · 4 bytes a multiple of 64.
struct PanelView {
  const float* data = nullptr;
  int64_t rows = 0, cols = 0;
  int64_t sliver_stride = 0;
  int nr = 0;
};
// The sliver width of the GEMM that active_isa() selects (32 for AVX-512, 16 for AVX2, 8 scalar).
int gemm_panel_rows();
// matmul_ordered on W as a row-major fp32 matrix, on the calling thread: the same bits, without packing W (when W.nr
// is the active GEMM's sliver width; otherwise W is copied to rows first, which costs what packing would).
void matmul_panels(const PanelView& W, const float* X, int64_t m, int64_t ldx, float* Y, int64_t ldy);

// Elements per activation scale of the int8 path: kFastBlock (32, llama.cpp's Q8_0 rule) or kFastFineBlock (16,
// twice the scales for twice the fp32 work per integer product: for inputs with outlier channels, where an outlier's
// scale flattens the other elements of its block).
constexpr int kFastBlock = 32;
constexpr int kFastFineBlock = 16;

void matmul(const WeightView& W, const float* X, int64_t m, int64_t ldx, float* Y, int64_t ldy, ThreadPool& pool,
            Precision precision, int act_block = kFastBlock);

// kFast uses its int8 path only above this many rows: generation is memory-bound, and kInt16's GEMV (which kFast
// runs up to this many rows) is as fast there. (kInt16 runs at every m, with a GEMV up to this many rows.)
constexpr int64_t kFastMinRows = 4;

// Whether the int8 path runs for weights of type t on this CPU (AVX-512 VNNI, capped by active_isa(); Q8_0, Q4_0,
// Q4_1, Q5_0, Q5_1, Q2_K .. Q6_K).
bool fast_matmul_available(DType t);
// The int8 path for any m (tests, benchmarks); falls back to matmul() where fast_matmul_available(W.type) is false.
void matmul_int8(const WeightView& W, const float* X, int64_t m, int64_t ldx, float* Y, int64_t ldy, ThreadPool& pool,
                 int act_block = kFastBlock);

// Whether the int16 path runs for weights of type t on this CPU (the same CPUs and types as the int8 path).
bool int16_matmul_available(DType t);
// The int16 path for any m (what matmul(..., kInt16) runs); activation blocks of 32 always. Falls back to matmul()
// (exact) where int16_matmul_available(W.type) is false.
void matmul_int16(const WeightView& W, const float* X, int64_t m, int64_t ldx, float* Y, int64_t ldy,
                  ThreadPool& pool);

// kFast on float weights (F16, BF16, F32), above kFastMinRows rows, on CPUs with AVX-512 VNNI: the weights and the
// activations are both rounded per block of 32 to 13-bit integers (scale max|v| / 8191, round to nearest even) and
// multiplied by vpdpwssd, the integer sub-block sums exact, then scaled in fp32. Where llama.cpp rounds F16 models'
// activations to F16 (11 significant bits), this rounds each element to 1/16382 of its block's max; on the fixture
// model's F16 file its mean |Δlogprob| against the float64 forward stays below llama.cpp's (golden_precision_test).
bool float_fast_available(DType t);
// That product for any m (tests, benchmarks); falls back to matmul() where float_fast_available(W.type) is false.
void matmul_float_int16(const WeightView& W, const float* X, int64_t m, int64_t ldx, float* Y, int64_t ldy,
                        ThreadPool& pool);

// One product of a group (matmul_int16_group): Y (m × W.rows, stride ldy) = X (m × W.cols, stride ldx) · Wᵀ.
struct GroupProduct {
  WeightView W;
  const float* X;
  int64_t ldx;
  float* Y;
  int64_t ldy;
};
// The int16 GEMV of several products with the same m in one pass of the pool, each output bit-identical to
// matmul_int16's: q, k and v (or gate and up) are streamed by both threads together, so the small k and v matrices
// do not run alone, one wake-up serves them all, and an activation read by several products is quantized once.
// aligned = false: the weight-row groups of all the products are split between the threads as one range.
// aligned = true (every W the same rows, a multiple of 16): a unit of work is one row range of every product,
// followed by epilogue(r0, r1) on the same thread for those rows (gate and up, then SwiGLU on the rows just made).
// Returns false, computing nothing, where the GEMV does not run: m above a product type's GEMV rows (Q8_0, Q4_K 32,
// Q6_K 12, others 16: matmul_int16.h), more than 8 products, a type without an int16 form, a CPU without AVX-512
// VNNI, fewer than 16 rows, or unequal rows when aligned.
bool matmul_int16_group(std::span<const GroupProduct> group, int64_t m, ThreadPool& pool, bool aligned,
                        const std::function<void(int64_t r0, int64_t r1)>& epilogue = {});

// The naive reference: dequantize each row, dot in double, round to float. Kept for tests.
void matmul_ref(const WeightView& W, const float* X, int64_t m, int64_t ldx, float* Y, int64_t ldy);
// The int8 path's reference: activations quantized by the same rule, integer block sums, scales applied in double.
// For a type without an int8 form it is matmul_ref.
void matmul_int8_ref(const WeightView& W, const float* X, int64_t m, int64_t ldx, float* Y, int64_t ldy,
                     int act_block = kFastBlock);
// The int16 path's reference: activations quantized by its rule, exact integer sub-block sums, scales applied in
// double. For a type without an integer form it is matmul_ref.
void matmul_int16_ref(const WeightView& W, const float* X, int64_t m, int64_t ldx, float* Y, int64_t ldy);
// matmul_float_int16's reference: weights and activations rounded by its rule, integer sub-block sums, scales applied
// in double. W: F16, BF16 or F32.
void matmul_float_int16_ref(const WeightView& W, const float* X, int64_t m, int64_t ldx, float* Y, int64_t ldy);

}  // namespace ts
