// matmul throughput on the 1.1B Llama shapes (d 2048, ffn 5632): GFLOP/s = 2·m·n·k / time, and for m = 1 the rate
// at which weight bytes are streamed (GB/s), which is what bounds generation.
//
//   tokenscope_bench --benchmark_filter=Matmul
// Arguments of each case: m, k, n, weight type (ggml id), threads. BM_MatmulFast: the same with Precision::kFast
// (int8 activations per block of 32, AVX-512 VNNI; for F16 weights and activations rounded to 13-bit integers); BM_MatmulFastFine: blocks of 16 (the FFN down projection);
// BM_MatmulInt16: Precision::kInt16 (int16 activations per block of 32, AVX-512 VNNI; m = 512, 4 and 1).
// BM_GemvStream: m = 1 and 4 (generation), 8 and 16 (speculative verification, short prompts: the GEMVs up to
// gemv_max_rows), exact and int16 (row and interleaved layouts), with the weights streamed from memory as in
// generation.
// Compare with the machine's measured peaks (docs/performance.md) and always measure a baseline in the same run:
// the cores may be shared.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <map>
#include <random>
#include <tuple>
#include <vector>

#include "tensor/interleave.h"
#include "tensor/matmul.h"
#include "tensor/quant.h"

namespace {

using ts::DType;

// Weights are made once per (type, n, k) and kept: quantizing the larger shapes takes longer than measuring them.
const std::vector<uint8_t>& weights(DType t, int64_t n, int64_t k) {
  static std::map<std::tuple<DType, int64_t, int64_t>, std::vector<uint8_t>> cache;
  auto& w = cache[{t, n, k}];
  if (w.empty()) {
    std::mt19937 rng(42);
    std::normal_distribution<float> nd(0.0f, 0.02f);
    std::vector<float> row(static_cast<size_t>(k));
    const size_t rb = ts::row_bytes(t, k);
    w.resize(rb * static_cast<size_t>(n));
    for (int64_t r = 0; r < n; ++r) {
      for (auto& v : row) v = nd(rng);
      ts::quantize_row(t, row.data(), w.data() + rb * static_cast<size_t>(r), k);
    }
  }
  return w;
}

// Precision of the product: the default exact fp32 path, --fast's int8 activations or int16 activations (both fall
// back to exact where the CPU has no AVX-512 VNNI; the label says which ran).
template <ts::Precision P, int kActBlock = ts::kFastBlock>
void run_matmul(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const auto t = static_cast<DType>(state.range(3));
  const int threads = static_cast<int>(state.range(4));
  const std::vector<uint8_t>& w = weights(t, n, k);
  const ts::WeightView W{t, w.data(), n, k, ts::row_bytes(t, k)};
  std::vector<float> x(static_cast<size_t>(m * k)), y(static_cast<size_t>(m * n));
  std::mt19937 rng(7);
  std::normal_distribution<float> nd;
  for (auto& v : x) v = nd(rng);
  ts::ThreadPool pool(threads);
  for (auto _ : state) {
    ts::matmul(W, x.data(), m, k, y.data(), n, pool, P, kActBlock);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const bool int8 = P == ts::Precision::kFast && m > ts::kFastMinRows && ts::fast_matmul_available(t);
  const bool int16 = P == ts::Precision::kInt16 && ts::int16_matmul_available(t);  // every m (GEMV for m <= 4)
  state.SetLabel(std::string(ts::dtype_name(t)) + " " + std::to_string(threads) + "T" +
                 (int8 ? " int8/" + std::to_string(kActBlock) : "") + (int16 ? " int16/32" : ""));
  // Rates print with SI prefixes: "FLOP/s=200G/s" is 200 GFLOP/s.
  state.counters["FLOP/s"] =
      benchmark::Counter(2.0 * static_cast<double>(m * n * k), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["weight_B/s"] =
      benchmark::Counter(static_cast<double>(w.size()), benchmark::Counter::kIsIterationInvariantRate);
}

void Shapes(benchmark::internal::Benchmark* b) {
  for (int64_t m : {512, 4, 1})
    for (auto [k, n] : {std::pair<int64_t, int64_t>{2048, 2048}, {2048, 5632}, {5632, 2048}})
      for (DType t : {DType::F16, DType::Q8_0, DType::Q4_K})
        for (int64_t threads : {1, 2}) b->Args({m, k, n, static_cast<int64_t>(t), threads});
}

void BM_Matmul(benchmark::State& state) { run_matmul<ts::Precision::kExact>(state); }
void BM_MatmulFast(benchmark::State& state) { run_matmul<ts::Precision::kFast>(state); }
void BM_MatmulInt16(benchmark::State& state) { run_matmul<ts::Precision::kInt16>(state); }
// Activation blocks of 16, as the model uses for the FFN down projection (k = 5632).
void BM_MatmulFastFine(benchmark::State& state) { run_matmul<ts::Precision::kFast, ts::kFastFineBlock>(state); }

// The int8 path: prompt-sized m only (m <= kFastMinRows runs the exact path), the types of Q8_0 and Q4_K_M files.
void FastShapes(benchmark::internal::Benchmark* b) {
  for (auto [k, n] : {std::pair<int64_t, int64_t>{2048, 2048}, {2048, 5632}, {5632, 2048}})
    for (DType t : {DType::Q8_0, DType::Q4_K, DType::Q6_K})
      for (int64_t threads : {1, 2}) b->Args({512, k, n, static_cast<int64_t>(t), threads});
}

// kFast on F16 weights: weights and activations rounded to 13-bit integers, vpdpwssd (matmul_float_int16).
void FloatFastShapes(benchmark::internal::Benchmark* b) {
  for (auto [k, n] : {std::pair<int64_t, int64_t>{2048, 2048}, {2048, 5632}, {5632, 2048}})
    for (int64_t threads : {1, 2}) b->Args({512, k, n, static_cast<int64_t>(DType::F16), threads});
}

BENCHMARK(BM_Matmul)->Apply(Shapes)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MatmulFast)->Apply(FastShapes)->Apply(FloatFastShapes)->UseRealTime()->Unit(benchmark::kMillisecond);
// kInt16's GEMV (generation): m = 1 and 4, to compare with BM_Matmul's m = 1 and 4 rows in weight_B/s.
void GemvShapes(benchmark::internal::Benchmark* b) {
  for (int64_t m : {1, 4})
    for (auto [k, n] : {std::pair<int64_t, int64_t>{2048, 2048}, {2048, 5632}, {5632, 2048}})
      for (DType t : {DType::Q8_0, DType::Q4_K, DType::Q6_K})
        for (int64_t threads : {1, 2}) b->Args({m, k, n, static_cast<int64_t>(t), threads});
}

BENCHMARK(BM_MatmulInt16)->Apply(FastShapes)->Apply(GemvShapes)->UseRealTime()->Unit(benchmark::kMillisecond);

// Generation as the model runs it: the weights come from memory, not from the last-level cache the matrices above
// fit in. Each iteration multiplies the next of several copies of one matrix (more than 96 MiB in all).
// Arguments: m, k, n, weight type, threads, precision (0 exact, 2 int16, 3 int16 on the interleaved layout:
// tensor/interleave.h, what Model::load gives a copied file's matrices).
void BM_GemvStream(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const auto t = static_cast<DType>(state.range(3));
  const int threads = static_cast<int>(state.range(4));
  const ts::Precision p = state.range(5) >= 2 ? ts::Precision::kInt16 : ts::Precision::kExact;
  const bool interleaved = state.range(5) == 3 && ts::interleavable(t, n, k);
  const std::vector<uint8_t>& w = weights(t, n, k);
  const size_t copies = std::max<size_t>(4, (size_t{96} << 20) / w.size() + 1);
  std::vector<std::vector<uint8_t>> c(copies, w);
  if (interleaved)
    for (auto& copy : c) ts::interleave_rows(t, copy.data(), n, k);
  std::vector<float> x(static_cast<size_t>(m * k)), y(static_cast<size_t>(m * n));
  std::mt19937 rng(7);
  std::normal_distribution<float> nd;
  for (auto& v : x) v = nd(rng);
  ts::ThreadPool pool(threads);
  size_t i = 0;
  for (auto _ : state) {
    ts::WeightView W{t, c[i++ % copies].data(), n, k, ts::row_bytes(t, k)};
    W.interleaved = interleaved;
    ts::matmul(W, x.data(), m, k, y.data(), n, pool, p);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const bool int16 = p == ts::Precision::kInt16 && ts::int16_matmul_available(t);
  state.SetLabel(std::string(ts::dtype_name(t)) + " " + std::to_string(threads) + "T" +
                 (int16 ? " int16/32" : " exact") + (interleaved ? " interleaved" : ""));
  state.counters["weight_B/s"] =
      benchmark::Counter(static_cast<double>(w.size()), benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(BM_GemvStream)
    ->ArgsProduct({{1, 4, 8, 16}, {2048}, {5632}, {static_cast<int64_t>(DType::Q8_0), static_cast<int64_t>(DType::Q4_K),
                                           static_cast<int64_t>(DType::Q6_K)}, {1, 2}, {0, 2, 3}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK(BM_MatmulFastFine)
    ->ArgsProduct({{512}, {5632}, {2048}, {static_cast<int64_t>(DType::Q8_0), static_cast<int64_t>(DType::Q4_K),
                                           static_cast<int64_t>(DType::Q6_K)}, {1, 2}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

// The bench target has no main of its own yet; when a second bench file arrives, move this to bench/main.cpp.
