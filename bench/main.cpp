// The one main() of tokenscope_bench (Google Benchmark); the benchmarks live in the other files of bench/.
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
