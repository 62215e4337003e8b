// Internal to src/tensor: the int16-activation matrix product behind matmul(..., Precision::kInt16).
//
// Weights are read exactly as the int8 path reads them (matmul_int8.h, Int8Format with activation blocks of 32):
// integer codes u with a per-sub-block scale ws and, for the types with mins, a per-sub-block min wm,
//
//   w[k] = ws[s] · (u[k] − offset) − wm[s]          k in sub-block s (sb = 16 or 32 elements)
//
// but the codes enter the product as w16 = u − offset, an int16 (|w16| <= 128 for every type), so no correction
// term is needed. Activations are rounded per block of 32: dx = max|x| / 32767, q = round-to-nearest-even(x / dx)
// in −32767..32767 (computed as x · (32767 / max|x|), the same float operations in the reference and the kernel).
// One output is
//
//   y = Σ_s ws[s] · dx[s] · (Σ_{k∈s} w16[k] · q[k])  −  Σ_s wm[s] · Σ_{k∈s} x[k]
//
// The inner sums are exact in int32: |Σ_{k∈s} w16·q| <= 32 · 128 · 32767 < 2²⁷ (even the brief's looser
// 32 · 255 · 32767 < 2³¹), and each sub-block's sum is converted to fp32 and scaled on its own, never added to another
// sub-block's in int32. The min term uses the unquantized activations (fp32 sums). So the only approximation besides
// fp32 rounding of the scaled partial sums is the rounding of x to dx·q: at most dx/2 = max|x|/65534 per element,
// 258 times finer than the int8 path's max|x|/254.
#pragma once

#include <cstdint>

#include "tensor/matmul_int8.h"

namespace ts::int16_detail {

// k-block of the GEMM: a multiple of every block size (32, 256); a 32-row B sliver of 256 int16 codes is 16 KiB and
// stays in L1 with its scales while the A slivers stream past it.
constexpr int64_t kKc = 256;
// Elements per activation scale.
constexpr int kActBlock = 32;
constexpr float kQMax = 32767.0f;

// kFast on float weights (F16, BF16, F32; matmul_float_int16): the weights are rounded per block of 32 of a row by
// the activations' rule, and both with this largest code: 13-bit integers, so that a sub-block's integer sum stays
// exact in int32 (32 · 8191² < 2³¹). Each element is then off by at most 1/16382 of its block's max|value|.
constexpr float kFloatQMax = 8191.0f;

// Scalar reference activation quantization of x[0..n) in blocks of 32 (n a multiple of 32): q[0..n), dx[0..n/32);
// qmax: the largest code.
void quantize_act_ref(const float* x, int64_t n, int16_t* q, float* dx, float qmax = kQMax);

// The AVX-512 VNNI pieces of the int16 GEMM, run by int8_detail::blocked_matmul. Packed layouts for a k-block of kc
// columns, ns = kc / f.sb (f: the weight type's Int8Format with activation blocks of 32):
//   A sliver (mr activation rows), 64-byte aligned:
//     q     int16  [kc/2][mr][2]   q[p][i][t] = quantized X[i, k0 + 2p + t]; rows past the end are 0
//     dx    fp32   [ns][mr]        the activation scale of the block holding sub-block s
//     sx    fp32   [ns][mr]        Σ_{k∈s} X[i, k] (fp32; only when the format has mins)
//   B sliver (nr weight rows), 64-byte aligned:
//     w16   int16  [kc/2][nr][2]   u − offset of W[j, k0 + 2p + t]; rows past the end are 0
//     ws    fp32   [ns][nr]        scales (0 past the end), each native scale repeated native_sb / sb times
//     wm    fp32   [ns][nr]        mins (room for the table always; written only when the format has them)
// Defined in matmul_int16_avx512.cpp; call only when active_isa() is kAvx512 and the CPU has AVX-512 VNNI.
int8_detail::Int8Kernel int16_kernel_avx512();
// The same kernel for float weights: activations and weights rounded with kFloatQMax (B sliver: w16 the weights'
// 13-bit codes, ws their block scales, no mins; the format: blocks of 32, offset 0). Same CPUs.
int8_detail::Int8Kernel float_int16_kernel_avx512();

// The GEMV for m <= gemv_max_rows(type) activation rows (generation, speculative verification, short prompts: each
// weight row streamed once and decoded once for all m rows). Its result is bit-identical to the GEMM's for the same
// rows: the same quantized activations, exact integer sub-block sums, and the GEMM tile's fp32 operations in the
// same order (matmul_int16_avx512.cpp says how). So where the GEMV stops changes speed, never a bit.
// kGemvMaxRows: the most rows it takes for any type.
constexpr int64_t kGemvMaxRows = 32;
// Up to how many rows the GEMV is the faster product for type t. Measured on Zen 4 (one thread, weights in L2,
// k = 2048, µs per activation row, GEMV / GEMM): Q8_0 m = 5: 8 / 14, 8: 7 / 12, 16: 7 / 9, 32: 7 / 7, 64: 7 / 6;
// Q4_K 5: 16 / 21, 8: 14 / 22, 16: 14 / 16, 32: 13 / 14, 64: 13 / 13; Q6_K 5: 14 / 18, 8: 13 / 18, 12: 12 / 12,
// 16: 12-16 / 13, 24: 12 / 11; the other types (codes decoded into a buffer) Q4_0 8: 20 / 35, 16: 17 / 22,
// 24: 17 / 17, 64: 16 / 14. The GEMM packs each weight sliver once per pass and pays it back over many rows; the
// GEMV decodes in registers but repeats its activation broadcasts for every 16 weight rows.
int64_t gemv_max_rows(DType t);
// Weight rows per GEMV group (the lanes of one zmm); the rows are split between threads in whole groups.
constexpr int64_t kGemvRows = 16;
// The int16 GEMM's B sliver (layout above) of nr rows (a multiple of 16, all present) of Q4_K weights, columns
// [k0, k0 + kc) (multiples of 256), straight from the rows (row r at base + r·stride); the same bytes as the
// generic decode + widen + transpose. In matmul_pack_avx512.cpp (row loaders: rows16_avx512.h). interleaved: the
// rows are in the interleaved layout (interleave.h; base: the first row's group, stride: the row bytes).
void pack_b_q4_k_avx512(const uint8_t* base, size_t stride, int64_t k0, int64_t kc, int nr, uint8_t* dst,
                        bool interleaved = false);
// The same for Q6_K (codes − 32, scales per 16 elements) and Q8_0 (the stored int8 weights; kc a multiple of 32).
void pack_b_q6_k_avx512(const uint8_t* base, size_t stride, int64_t k0, int64_t kc, int nr, uint8_t* dst,
                        bool interleaved = false);
void pack_b_q8_0_avx512(const uint8_t* base, size_t stride, int64_t k0, int64_t kc, int nr, uint8_t* dst,
                        bool interleaved = false);

// Quantizes m rows of X (k columns, row stride ldx; k a multiple of 32) as pack_a does, in the GEMV's layout: the
// quad of elements e .. e+3 of row i at q + m·e + 4i (m·k int16 slots, 64-byte aligned), as four low bytes ql then
// four high bytes qh (q = 256·qh + ql); per product sub-block (ns = k / f.sb per row, [m][ns]) dx, Σx (fp32) and
// the correction the GEMV adds to its integer sums (int32): −offset·Σq, and for Q8_0 (offset 128, whose stored
// int8 codes the GEMV reads directly) −32768·Σqh.
void quantize_rows_avx512(const int8_detail::Int8Format& f, const float* x, int64_t ldx, int64_t m, int64_t k,
                          int16_t* q, float* dx, float* sx, int32_t* corr);
// Y[i, r] (row stride ldy) for i < m and weight rows r in groups [g0, g1) of kGemvRows, from quantize_rows' output.
// W.rows >= kGemvRows (a last partial group is read as the matrix's last 16 rows).
// block_bytes: row_bytes(t, kKc), the bytes of one k-block of a row.
void gemv_avx512(DType t, const int8_detail::Int8Format& f, const WeightView& W, int64_t g0, int64_t g1,
                 const int16_t* q, const float* dx, const float* sx, const int32_t* corr, int m, float* Y,
                 int64_t ldy, size_t block_bytes);
// The same for one activation row (m = 1, generation) over interleaved Q4_K or Q6_K weights, the next group swept
// into L2 while a group runs (matmul_gemv1_avx512.cpp); bit-identical to gemv_avx512. Returns false, doing nothing,
// for any other type or the row layout.
bool gemv1_avx512(DType t, const WeightView& W, int64_t g0, int64_t g1, const int16_t* q, const float* dx,
                  const float* sx, const int32_t* corr, float* Y, size_t block_bytes);
// Which kernel gemv_avx512 runs for one row of W: -1 the general one (no choice: not interleaved Q4_K / Q6_K), 0 the
// general one, 1 gemv1_avx512, whichever its recent calls measured faster (one_row_record), the other one now and
// then. Speed only: both give the same bits. *slot (set where there is a choice): where one_row_record keeps the
// call's measurement.
int one_row_kernel(DType t, const WeightView& W, int* slot);
// A call's cycles and weight bytes, for one_row_kernel.
void one_row_record(int slot, int kernel, uint64_t cycles, size_t bytes);
// For tests: always kernel 0 or 1 where there is a choice; -1 (the default) measures.
void force_one_row_kernel(int kernel);

}  // namespace ts::int16_detail
