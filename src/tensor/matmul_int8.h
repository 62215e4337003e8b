// Internal to src/tensor: the int8-activation matrix product behind matmul(..., Precision::kFast).
//
// Every supported weight type is read as integer codes u (0..255) with a per-sub-block scale and, for the types
// with mins, a per-sub-block min:
//
//   w[k] = ws[s] * (u[k] - offset) - wm[s]          k in sub-block s (sb elements: 16 or 32)
//
// exactly the value the file stores (ws, wm are products of the block's fp16 scales and small integer scales, exact
// in fp32). Activations are quantized per block of 32 (or 16, see matmul.h): dx = max|x| / 127,
// q = round-to-nearest-even(x · 127/max|x|) in -127..127 (llama.cpp's Q8_0 activation rule, here for every weight
// type). One output is then
//
//   y = Σ_s ws[s] · dx[s] · (Σ_{k∈s} u[k]·q[k] − offset · Σ_{k∈s} q[k])  −  Σ_s wm[s] · Σ_{k∈s} x[k]
//
// The integer sums are exact (vpdpbusd: u8 × s8, summed in int32); the min term uses the unquantized activations,
// so the only approximation is the rounding of x to dx·q (relative 1/254 of each block's max at most).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "tensor/matmul.h"
#include "tokenscope/dtype.h"

namespace ts::int8_detail {

// A growable 64-byte-aligned byte buffer (packed slivers, quantized activations); kept thread_local by its users so
// repeated products do not allocate.
class AlignedBytes {
 public:
  uint8_t* get(size_t n) {
    if (n > cap_) {
      ptr_.reset(static_cast<uint8_t*>(std::aligned_alloc(64, (n + 63) / 64 * 64)));
      cap_ = n;
    }
    return ptr_.get();
  }

 private:
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, Free> ptr_;
  size_t cap_ = 0;
};

// k-block of the GEMM: a multiple of every block size (32, 256); a 32-row B sliver of 512 codes is 16 KiB and stays
// in L1 with its scales while the A slivers stream past it.
constexpr int64_t kKc = 512;

struct Int8Format {
  int native_sb = 32;  // elements per sub-block of the weight type (one scale, and one min where it has them)
  int act = 32;        // elements per activation scale: 32 or 16
  int sb = 32;         // elements per sub-block of the product: min(native_sb, act); a native scale covers
                       // native_sb / sb of them
  int offset = 0;      // subtracted from every code
  bool mins = false;   // the type has a per-sub-block min (wm)
};

// False for a type without an int8 form (F32, F16, BF16, ...). act_block: 32 or 16.
bool int8_format(DType t, int act_block, Int8Format* f);

// Scalar reference decode of one row's columns [k0, k0 + kc) (k0, kc multiples of the type's block size):
// u[0..kc) codes, ws[0..kc/native_sb) scales, and wm[0..kc/native_sb) mins when the format has them (wm may be null
// otherwise).
void decode_row_ref(DType t, const uint8_t* row, int64_t k0, int64_t kc, uint8_t* u, float* ws, float* wm);

// Scalar reference activation quantization of x[0..n) in blocks of `block` (16 or 32; n a multiple of 32):
// q[0..n), dx[0..n/block).
void quantize_act_ref(const float* x, int64_t n, int64_t block, int8_t* q, float* dx);

// The per-ISA pieces of the blocked int8 GEMM. Packed layouts, for a k-block of kc columns, ns = kc / sb:
//   A sliver (mr activation rows), a_bytes(kc) bytes, 64-byte aligned:
//     q     int8   [kc/4][mr][4]   q[p][i][t] = quantized X[i, k0 + 4p + t]; rows past the end are 0
//     corr  int32  [ns][mr]        −offset · Σ_{k∈s} q[i, k]
//     dx    fp32   [ns][mr]        the activation scale of the block holding sub-block s
//     sx    fp32   [ns][mr]        Σ_{k∈s} X[i, k] (fp32; only when the format has mins)
//   B sliver (nr weight rows), b_bytes(kc) bytes, 64-byte aligned:
//     u     uint8  [kc/4][nr][4]   codes of W[j, k0 + 4p + t]; rows past the end are 0
//     ws    fp32   [ns][nr]        scales (0 past the end), each native scale repeated native_sb / sb times
//     wm    fp32   [ns][nr]        mins (only when the format has them), repeated likewise
// The int16 path (matmul_int16.h) plugs its own layouts into the same struct and driver.
struct Int8Kernel {
  int mr = 0, nr = 0;
  int64_t kc = kKc;  // the k-block the driver cuts k into: a multiple of 256
  // Bytes of one packed A sliver (mr rows) and one B sliver (nr rows) of kc columns; multiples of 64.
  int64_t (*a_sliver_bytes)(const Int8Format& f, int64_t kc) = nullptr;
  int64_t (*b_sliver_bytes)(const Int8Format& f, int64_t kc) = nullptr;
  // Packs rows × kc of X (row stride ldx, starting at column k0 of the row pointers given) into an A sliver.
  void (*pack_a)(const Int8Format& f, const float* x, int64_t ldx, int rows, int64_t kc, uint8_t* dst) = nullptr;
  // Packs rows × kc of W starting at column k0 (row r at base + r * stride) into a B sliver.
  void (*pack_b)(DType t, const Int8Format& f, const uint8_t* base, size_t stride, int rows, int64_t k0, int64_t kc,
                 uint8_t* dst) = nullptr;
  // Packs the same sliver from interleaved weights (interleave.h; group = the first row's group, rows a multiple of
  // 16, row_stride as the WeightView's), returning false (writing nothing) for a type it does not read that way.
  // Null: none (the driver unpacks the rows and calls pack_b).
  bool (*pack_b_interleaved)(DType t, const Int8Format& f, const uint8_t* group, size_t row_stride, int rows,
                             int64_t k0, int64_t kc, uint8_t* dst) = nullptr;
  // C (row stride ldc) = [C +] the products of an A and a B sliver on a rows × cols corner of the mr × nr tile.
  void (*tile)(const Int8Format& f, int64_t kc, const uint8_t* a, const uint8_t* b, float* c, int64_t ldc, int rows,
               int cols, bool accumulate) = nullptr;
};

inline int64_t a_bytes(const Int8Format& f, int mr, int64_t kc) {
  return (kc * mr + 3 * (kc / f.sb) * mr * 4 + 63) / 64 * 64;
}
inline int64_t b_bytes(const Int8Format& f, int nr, int64_t kc) {
  return (kc * nr + 2 * (kc / f.sb) * nr * 4 + 63) / 64 * 64;
}

// Defined in matmul_int8_avx512.cpp; call only when active_isa() is kAvx512 and the CPU has AVX-512 VNNI.
Int8Kernel int8_kernel_avx512();

// The blocked, threaded driver (matmul_int8.cpp) for any such kernel: Y (m × W.rows) = X · Wᵀ, k cut into
// kern.kc blocks, X packed once per pass, W decoded per (chunk of rows, k-block). W.type must have an int8 form.
void blocked_matmul(const Int8Kernel& kern, const Int8Format& f, const WeightView& W, const float* X, int64_t m,
                    int64_t ldx, float* Y, int64_t ldy, ThreadPool& pool);

// AVX-512 pieces shared by the int8 and int16 kernels (matmul_int8_avx512.cpp; AVX-512 CPUs only).
// The largest kc the shared decoder takes.
constexpr int64_t kMaxDecodeKc = 512;
// Decodes columns [k0, k0 + kc) of weight rows j < rows (row j at base + j·stride) into codes[j·ld + p] (u8, as
// decode_row_ref) and the scale tables ws / wm laid out [kc/f.sb][nr] as in a B sliver (each native scale repeated
// native_sb / sb times; wm must have room for its table even when the format has no mins). Rows rows..nr−1 get
// zero codes and scales. codes: 64-byte aligned, ld a multiple of 64; kc <= kMaxDecodeKc.
void decode_sliver_avx512(DType t, const Int8Format& f, const uint8_t* base, size_t stride, int rows, int nr,
                          int64_t k0, int64_t kc, uint8_t* codes, int64_t ld, float* ws, float* wm);
// Q8_0, Q4_K and Q6_K rows (nr of them, a multiple of 16, all present) straight into a B sliver of the int8 layout
// above, product sub-blocks of sb elements; the same bytes as decode_sliver_avx512 + transpose_dwords_avx512.
// False, writing nothing, for the other types. Defined in matmul_pack_avx512.cpp (the int16 GEMV's row loaders:
// rows16_avx512.h). interleaved: as for int16_detail::pack_b_q4_k_avx512.
bool pack_b_codes_avx512(DType t, int sb, const uint8_t* base, size_t stride, int64_t k0, int64_t kc, int nr,
                         uint8_t* dst, bool interleaved = false);
// out[p·nr + j] = src[j·ld + p] for j < nr (a multiple of 16) and p < n dwords; src rows 64-byte aligned, ld a
// multiple of 16, out 64-byte aligned.
void transpose_dwords_avx512(const int32_t* src, int64_t ld, int nr, int64_t n, int32_t* out);

// ---- the int8 GEMV: kFast for a few activation rows (matmul_gemv_avx512.cpp, beside the int16 GEMV it shares its
// code with; AVX-512 VNNI CPUs only) ----
// Each group of 16 weight rows is read once and decoded in registers for all m rows (the GEMM packs a sliver per
// k-block and pays that back only over many rows); one vpdpbusd per quad of elements, row and group. Its outputs are
// bit-identical to the GEMM's: the same quantized activations, exact integer sub-block sums, and the GEMM tile's
// fp32 operations in its order (per k-block of kKc: f = 0, f = fma(float(Σ + corr), ws·dx, f), f = f − wm·Σx;
// Y = [Y +] f).
// The most rows it takes, and up to how many it takes for type t: Q8_0 up to 16, no other type (0). Measured on
// Zen 4, one thread, weights in L2, k = 2048, µs per activation row, GEMV / GEMM: Q8_0 m = 5: 5 / 7, 8: 4 / 7,
// 12: 4 / 5, 16: 4 / 5; Q4_K 5: 10 / 13, 8: 9 / 13; Q6_K 5: 11 / 12, 8: 11 / 12; Q4_0 5: 20-33 / 23. End to end
// (1.1B files, --fast, 2 threads, 4 alternating rounds, medians, positions/s): Q8_0 pp5 73.0 -> 85.3, pp8
// 92.6 -> 105.8; Q4_K_M pp5 95 -> 83, pp8 105 -> 106 (memory-bound there: the weights stream at the same rate
// either way), so Q4_K and Q6_K keep the GEMM.
constexpr int64_t kGemvMaxRows = 16;
int64_t gemv_max_rows(DType t);
// Quantizes m rows of X (k columns, row stride ldx; k a multiple of 32) as pack_a does, in the GEMV's layout: the
// quad of elements e .. e+3 of row i at q + m·e + 4i (m·k bytes); per product sub-block ([m][k / f.sb]) dx, Σx
// (written only when the format has mins) and corr = −offset·Σq.
void quantize_rows_avx512(const Int8Format& f, const float* x, int64_t ldx, int64_t m, int64_t k, int8_t* q,
                          float* dx, float* sx, int32_t* corr);
// Y[i, r] (row stride ldy) for i < m and weight rows r in the groups [g0, g1) of 16, from quantize_rows' output.
// W.rows >= 16 (a last partial group is read as the matrix's last 16 rows); block_bytes: row_bytes(t, 256).
void gemv_avx512(DType t, const Int8Format& f, const WeightView& W, int64_t g0, int64_t g1, const int8_t* q,
                 const float* dx, const float* sx, const int32_t* corr, int m, float* Y, int64_t ldy,
                 size_t block_bytes);

}  // namespace ts::int8_detail
