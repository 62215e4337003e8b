// The machine's fp32 FMA peak: independent 512-bit (or 256-bit) FMA chains, no memory traffic. The ceiling for the
// prompt-evaluation GEMM (compare BM_Matmul's GFLOP/s with it, measured in the same run). BM_PeakDpwssd /
// BM_PeakDpbusd: the same for the integer dot-product instructions of the int16 and int8 paths.
//
//   tokenscope_bench --benchmark_filter=Peak
#include <benchmark/benchmark.h>
#include <immintrin.h>

namespace {

constexpr int kInner = 1 << 16;

__attribute__((target("avx512f"))) float fma_chains_512(float seed) {
  __m512 a[12];
#pragma GCC unroll 12
  for (int j = 0; j < 12; ++j) a[j] = _mm512_set1_ps(seed + static_cast<float>(j));
  const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
  for (int i = 0; i < kInner; ++i) {
#pragma GCC unroll 12
    for (int j = 0; j < 12; ++j) a[j] = _mm512_fmadd_ps(a[j], m, c);
  }
  __m512 s = a[0];
#pragma GCC unroll 12
  for (int j = 1; j < 12; ++j) s = _mm512_add_ps(s, a[j]);
  float out[16];
  _mm512_storeu_ps(out, s);
  return out[0];
}

__attribute__((target("avx2,fma"))) float fma_chains_256(float seed) {
  __m256 a[12];
#pragma GCC unroll 12
  for (int j = 0; j < 12; ++j) a[j] = _mm256_set1_ps(seed + static_cast<float>(j));
  const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
  for (int i = 0; i < kInner; ++i) {
#pragma GCC unroll 12
    for (int j = 0; j < 12; ++j) a[j] = _mm256_fmadd_ps(a[j], m, c);
  }
  __m256 s = a[0];
#pragma GCC unroll 12
  for (int j = 1; j < 12; ++j) s = _mm256_add_ps(s, a[j]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0];
}

template <int kWidth>
void BM_PeakFma(benchmark::State& state) {
  const bool ok = kWidth == 16 ? __builtin_cpu_supports("avx512f") : __builtin_cpu_supports("fma");
  if (!ok) {
    state.SkipWithError("CPU lacks the instruction set");
    return;
  }
  float sink = 0;
  for (auto _ : state) sink += kWidth == 16 ? fma_chains_512(sink) : fma_chains_256(sink);
  benchmark::DoNotOptimize(sink);
  const double flops = 2.0 * kWidth * 12.0 * kInner;
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * static_cast<double>(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK_TEMPLATE(BM_PeakFma, 16)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK_TEMPLATE(BM_PeakFma, 8)->Threads(1)->Threads(2)->UseRealTime();

// The integer peaks of the quantized-activation paths: independent 512-bit vpdpwssd (int16 pairs, Precision::kInt16)
// and vpdpbusd (u8 × s8 quads, kFast) chains. "GOP/s" counts a multiply and an add per product, like GFLOP/s counts
// an FMA as two, so the three figures compare directly.
template <bool kWords>
__attribute__((target("avx512f,avx512vnni"))) int vnni_chains_512(int seed) {
  __m512i a[12];
#pragma GCC unroll 12
  for (int j = 0; j < 12; ++j) a[j] = _mm512_set1_epi32(seed + j);
  const __m512i x = _mm512_set1_epi32(0x00030001), y = _mm512_set1_epi32(0x00050002);
  for (int i = 0; i < kInner; ++i) {
#pragma GCC unroll 12
    for (int j = 0; j < 12; ++j) a[j] = kWords ? _mm512_dpwssd_epi32(a[j], x, y) : _mm512_dpbusd_epi32(a[j], x, y);
  }
  __m512i s = a[0];
#pragma GCC unroll 12
  for (int j = 1; j < 12; ++j) s = _mm512_add_epi32(s, a[j]);
  int out[16];
  _mm512_storeu_si512(out, s);
  return out[0];
}

template <bool kWords>
void BM_PeakVnni(benchmark::State& state) {
  if (!__builtin_cpu_supports("avx512vnni")) {
    state.SkipWithError("CPU lacks AVX-512 VNNI");
    return;
  }
  int sink = 0;
  for (auto _ : state) sink += vnni_chains_512<kWords>(sink);
  benchmark::DoNotOptimize(sink);
  const double ops = 2.0 * (kWords ? 32 : 64) * 12.0 * kInner;  // products per instruction: 16 lanes × 2 or × 4
  state.counters["GOP/s"] =
      benchmark::Counter(ops * static_cast<double>(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}
void BM_PeakDpwssd(benchmark::State& state) { BM_PeakVnni<true>(state); }
void BM_PeakDpbusd(benchmark::State& state) { BM_PeakVnni<false>(state); }
BENCHMARK(BM_PeakDpwssd)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_PeakDpbusd)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
