// matmul_panels: fp32 weights stored in the GEMM's packed layout (PanelView) give matmul_ordered's bits on the same
// matrix as rows, at every row count (register tiles and the small-m tile with slivers read in place, several
// k-blocks accumulated in Y), on every ISA; also when the layout was made for another ISA's sliver width (the
// fallback that copies to rows first). Y's padding columns stay untouched.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "isa_support.h"
#include "matmul_support.h"
#include "tensor/cpu.h"
#include "tensor/matmul.h"

namespace ts {
namespace {

using test::available_isas;
using test::random_floats;
using test::IsaCapGuard;

constexpr float kSentinel = -12345.0f;

// W (n × k, row-major) in panels of nr rows, with slack between slivers (sliver_stride > k · nr) that holds garbage
// the product must not read into a result, and garbage in the last sliver's missing rows.
struct Panels {
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float, Free> buf;
  PanelView view;
};

Panels to_panels(const std::vector<float>& W, int64_t n, int64_t k, int nr) {
  const int64_t slivers = (n + nr - 1) / nr, stride = (k + 3) * nr;
  const size_t floats = static_cast<size_t>(slivers * stride);
  auto* d = static_cast<float*>(std::aligned_alloc(64, (floats * 4 + 63) / 64 * 64));
  Panels p{std::unique_ptr<float, Panels::Free>(d), {}};
  for (size_t i = 0; i < floats; ++i) d[i] = 1e30f;  // finite garbage
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < k; ++c) d[(r / nr) * stride + c * nr + r % nr] = W[static_cast<size_t>(r * k + c)];
  p.view = PanelView{d, n, k, stride, nr};
  return p;
}

TEST(MatmulPanels, SameBitsAsMatmulOrderedOnTheRows) {
  IsaCapGuard guard;
  ThreadPool one(1);
  const std::vector<Isa> isas = available_isas();
  struct Case {
    int64_t n, k;
  };
  // k = 64 (a head's keys), 300 and 600 (values over a short last k-block; three blocks); n on and off the widths
  for (const Case& cs : {Case{1, 64}, Case{31, 64}, Case{32, 64}, Case{33, 300}, Case{64, 600}, Case{100, 300}}) {
    const int64_t n = cs.n, k = cs.k, ldx = k + 1, ldy = n + 3;
    const std::vector<float> W = random_floats(static_cast<size_t>(n * k), 7 + static_cast<uint32_t>(n * k));
    const std::vector<float> X = random_floats(static_cast<size_t>(40 * ldx), 9 + static_cast<uint32_t>(k));
    const WeightView rows{DType::F32, W.data(), n, k, sizeof(float) * static_cast<size_t>(k)};
    for (Isa layout : isas) {
      set_isa_cap(layout);
      const Panels p = to_panels(W, n, k, gemm_panel_rows());
      for (Isa isa : isas) {
        set_isa_cap(isa);
        for (int64_t m : {1, 2, 3, 5, 7, 8, 9, 16, 33}) {
          const std::string what = "n=" + std::to_string(n) + " k=" + std::to_string(k) + " m=" + std::to_string(m) +
                                   " layout " + isa_name(layout) + " run " + isa_name(isa);
          std::vector<float> want(static_cast<size_t>(m * ldy), kSentinel), got(want);
          matmul_ordered(rows, X.data(), m, ldx, want.data(), ldy, one);
          matmul_panels(p.view, X.data(), m, ldx, got.data(), ldy);
          for (size_t e = 0; e < want.size(); ++e)
            ASSERT_EQ(std::memcmp(&want[e], &got[e], sizeof(float)), 0)
                << what << ": Y[" << e / ldy << "][" << e % ldy << "] " << got[e] << " against " << want[e];
        }
      }
    }
  }
}

TEST(MatmulPanels, ZeroColumnsGiveZeros) {
  std::vector<float> y(6, kSentinel);
  const float x[1] = {0.0f};
  matmul_panels(PanelView{nullptr, 2, 0, 0, gemm_panel_rows()}, x, 2, 0, y.data(), 3);
  EXPECT_EQ(y, (std::vector<float>{0.0f, 0.0f, kSentinel, 0.0f, 0.0f, kSentinel}));
}

}  // namespace
}  // namespace ts
