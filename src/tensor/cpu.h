// Which SIMD instruction sets this CPU has, detected once; the one place that chooses an ISA.
#pragma once

namespace ts {

enum class Isa { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
  bool avx512vnni = false, avx512bf16 = false;
};

const CpuFeatures& cpu_features();
// The ISA the dispatchers use: the best the CPU has, capped by the environment variable TOKENSCOPE_ISA
// (scalar|avx2|avx512) and by set_isa_cap() (tests use it to run every path).
Isa active_isa();
void set_isa_cap(Isa cap);
const char* isa_name(Isa isa);

}  // namespace ts
