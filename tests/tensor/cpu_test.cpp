// ISA detection and capping (src/tensor/cpu.h).
#include <gtest/gtest.h>

#include <string>

#include "tensor/cpu.h"

namespace ts {
namespace {

TEST(Cpu, CapNeverRaisesTheIsaAndFullCapRestoresIt) {
  set_isa_cap(Isa::kAvx512);
  const Isa best = active_isa();
  for (Isa cap : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    set_isa_cap(cap);
    EXPECT_LE(static_cast<int>(active_isa()), static_cast<int>(cap)) << isa_name(cap);
    EXPECT_LE(static_cast<int>(active_isa()), static_cast<int>(best)) << isa_name(cap);
  }
  set_isa_cap(Isa::kScalar);
  EXPECT_EQ(active_isa(), Isa::kScalar);
  set_isa_cap(Isa::kAvx512);
  EXPECT_EQ(active_isa(), best);
}

TEST(Cpu, ChosenIsaIsBackedByTheDetectedFeatures) {
  set_isa_cap(Isa::kAvx512);
  const CpuFeatures& f = cpu_features();
  const Isa isa = active_isa();
  std::printf("[  INFO    ] active ISA %s (avx2=%d fma=%d f16c=%d avx512 f/bw/vl/dq=%d%d%d%d vnni=%d bf16=%d)\n",
              isa_name(isa), f.avx2, f.fma, f.f16c, f.avx512f, f.avx512bw, f.avx512vl, f.avx512dq, f.avx512vnni,
              f.avx512bf16);
  if (isa != Isa::kScalar) {
    EXPECT_TRUE(f.avx2 && f.fma && f.f16c);
  }
  if (isa == Isa::kAvx512) {
    EXPECT_TRUE(f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq);
  }
}

TEST(Cpu, IsaNamesMatchTheEnvironmentValues) {
  EXPECT_EQ(std::string(isa_name(Isa::kScalar)), "scalar");
  EXPECT_EQ(std::string(isa_name(Isa::kAvx2)), "avx2");
  EXPECT_EQ(std::string(isa_name(Isa::kAvx512)), "avx512");
}

}  // namespace
}  // namespace ts
