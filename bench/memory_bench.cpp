// Memory bandwidth, STREAM-style: the bound on generation speed (every weight byte is read once per token).
//
//   tokenscope_bench --benchmark_filter=Memory
// Read: sum of 64-bit words (ts::sum_words, the read `tokenscope bench` measures generation against) over a 1 GiB
// buffer, split between the benchmark's threads. Copy: memcpy of 512 MiB (bytes counted once read + once written,
// as STREAM does). Bytes/s in the output is the bandwidth.
// ReadHugePages: the same read over a 1 GiB buffer on 2 MiB pages, where `--load copy` (the default for models that
// fit) keeps the weights: the bound that generation is measured against. The plain heap buffer sits on 4 KiB pages,
// whose TLB misses cost a single core about a third of its rate on Zen 4.
#include <benchmark/benchmark.h>

#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "tensor/vec_ops.h"

namespace {

constexpr size_t kBytes = size_t{1} << 30;

std::vector<uint64_t>& buffer() {
  static std::vector<uint64_t> b(kBytes / sizeof(uint64_t), 1);  // touched once, so pages are mapped
  return b;
}

// 1 GiB on transparent huge pages (2 MiB-aligned, MADV_HUGEPAGE), filled once; the heap buffer if mmap fails.
const uint64_t* huge_buffer() {
  static const uint64_t* b = [] {
    constexpr size_t kHuge = size_t{2} << 20;
    void* base = mmap(nullptr, kBytes + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return static_cast<const uint64_t*>(buffer().data());
    auto* p = reinterpret_cast<uint64_t*>((reinterpret_cast<uintptr_t>(base) + kHuge - 1) & ~(kHuge - 1));
    madvise(p, kBytes, MADV_HUGEPAGE);
    for (size_t i = 0; i < kBytes / sizeof(uint64_t); ++i) p[i] = 1;
    return static_cast<const uint64_t*>(p);
  }();
  return b;
}

uint64_t sum_words(const uint64_t* p, size_t n) { return ts::sum_words(p, static_cast<int64_t>(n)); }

void BM_MemoryRead(benchmark::State& state) {
  auto& b = buffer();
  const size_t n = b.size() / static_cast<size_t>(state.threads());
  const uint64_t* p = b.data() + n * static_cast<size_t>(state.thread_index());
  for (auto _ : state) benchmark::DoNotOptimize(sum_words(p, n));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n * sizeof(uint64_t)));
}
BENCHMARK(BM_MemoryRead)->Threads(1)->Threads(2)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_MemoryReadHugePages(benchmark::State& state) {
  const size_t n = kBytes / sizeof(uint64_t) / static_cast<size_t>(state.threads());
  const uint64_t* p = huge_buffer() + n * static_cast<size_t>(state.thread_index());
  for (auto _ : state) benchmark::DoNotOptimize(sum_words(p, n));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n * sizeof(uint64_t)));
}
BENCHMARK(BM_MemoryReadHugePages)->Threads(1)->Threads(2)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_MemoryCopy(benchmark::State& state) {
  auto& b = buffer();
  const size_t half = b.size() / 2;
  const size_t n = half / static_cast<size_t>(state.threads());
  const uint64_t* src = b.data() + n * static_cast<size_t>(state.thread_index());
  uint64_t* dst = b.data() + half + n * static_cast<size_t>(state.thread_index());
  for (auto _ : state) {
    std::memcpy(dst, src, n * sizeof(uint64_t));
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * 2 * n * sizeof(uint64_t)));
}
BENCHMARK(BM_MemoryCopy)->Threads(1)->Threads(2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
