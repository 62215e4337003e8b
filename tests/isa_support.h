// Test support: run a test body under every instruction set this CPU has (tensor/cpu.h's cap), and put the cap
// back whatever happens.
#pragma once

#include <cstdio>
#include <vector>

#include "tensor/cpu.h"

namespace ts::test {

// Restores the ISA cap (to the best the CPU has) when a test ends.
struct IsaCapGuard {
  ~IsaCapGuard() { set_isa_cap(Isa::kAvx512); }
};

// The ISAs this machine can run, scalar first; the ones it cannot are reported (they go untested).
inline std::vector<Isa> available_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    set_isa_cap(isa);
    if (active_isa() == isa)
      out.push_back(isa);
    else
      std::printf("[  NOTE    ] %s not available on this CPU (or capped by TOKENSCOPE_ISA): not tested\n",
                  isa_name(isa));
  }
  set_isa_cap(Isa::kAvx512);
  return out;
}

}  // namespace ts::test
