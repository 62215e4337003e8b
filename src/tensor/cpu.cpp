// CPU feature detection and the one choice of ISA the dispatchers in quant.cpp (and matmul) follow.
//
// kAvx2 needs AVX2 + FMA + F16C + BMI2 (the *_avx2.cpp files are compiled with -mavx2 -mfma -mf16c -mbmi2);
// kAvx512 additionally needs AVX-512 F, BW, VL, DQ. __builtin_cpu_supports also checks that the OS saves the
// vector registers (XCR0), so a hypervisor that hides AVX-512 state is handled.
#include "tensor/cpu.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ts {
namespace {

CpuFeatures detect() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
  f.f16c = __builtin_cpu_supports("f16c");
  f.avx512f = __builtin_cpu_supports("avx512f");
  f.avx512bw = __builtin_cpu_supports("avx512bw");
  f.avx512vl = __builtin_cpu_supports("avx512vl");
  f.avx512dq = __builtin_cpu_supports("avx512dq");
  f.avx512vnni = __builtin_cpu_supports("avx512vnni");
  f.avx512bf16 = __builtin_cpu_supports("avx512bf16");
#endif
  return f;
}

bool has_bmi2() {
#if defined(__x86_64__) || defined(__i386__)
  return __builtin_cpu_supports("bmi2");
#else
  return false;
#endif
}

Isa best_isa(const CpuFeatures& f) {
  const bool avx2 = f.avx2 && f.fma && f.f16c && has_bmi2();
  if (avx2 && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq) return Isa::kAvx512;
  if (avx2) return Isa::kAvx2;
  return Isa::kScalar;
}

// TOKENSCOPE_ISA caps the choice; an unknown value is reported once on stderr and ignored.
Isa env_cap() {
  const char* v = std::getenv("TOKENSCOPE_ISA");
  if (v == nullptr || *v == '\0') return Isa::kAvx512;
  if (std::strcmp(v, "scalar") == 0) return Isa::kScalar;
  if (std::strcmp(v, "avx2") == 0) return Isa::kAvx2;
  if (std::strcmp(v, "avx512") == 0) return Isa::kAvx512;
  std::fprintf(stderr, "tokenscope: TOKENSCOPE_ISA: value '%s' is not scalar|avx2|avx512; ignored\n", v);
  return Isa::kAvx512;
}

Isa min_isa(Isa a, Isa b) { return static_cast<int>(a) < static_cast<int>(b) ? a : b; }

// The best ISA allowed by hardware and environment, computed once (thread-safe static initialization).
Isa hardware_env_isa() {
  static const Isa isa = min_isa(best_isa(cpu_features()), env_cap());
  return isa;
}

std::atomic<int> g_cap{static_cast<int>(Isa::kAvx512)};

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

Isa active_isa() { return min_isa(hardware_env_isa(), static_cast<Isa>(g_cap.load(std::memory_order_relaxed))); }

void set_isa_cap(Isa cap) { g_cap.store(static_cast<int>(cap), std::memory_order_relaxed); }

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
  }
  return "unknown";
}

}  // namespace ts
