// Vectorised fp32 loops over long arrays that the model and the statistics share: exponentials for softmax, the
// online log-sum-exp / entropy accumulators of a distribution, threshold scans for top-k, SwiGLU's gate, and a plain
// read of memory.
//
// Each function has a scalar reference (the *_ref forms) and AVX2 / AVX-512 versions in vec_ops_avx2.cpp /
// vec_ops_avx512.cpp, chosen by active_isa(). The vector exp is a degree-6 polynomial after range reduction
// (relative error < 3e-7 over the range used here); inputs below −87 give exactly or nearly 0.
#pragma once

#include <cstdint>

namespace ts {

// x[i] ← exp(x[i] − shift) for i < n; returns Σ of the new x[i] (accumulated in double).
double exp_shift_sum(float* x, int64_t n, float shift);
double exp_shift_sum_ref(float* x, int64_t n, float shift);

float max_of(const float* x, int64_t n);  // −inf for n == 0

// Online statistics of a distribution given by logits z (see analysis/token_stats.h for the formulas):
//   m = running max, S = Σ e^{z−m}, T = Σ e^{z−m}(z−m), U = Σ e^{z−m}(z−m)², greater = #{z > z_target}.
// When the maximum rises from m to m' (δ = m − m' < 0, a = e^δ), each term's weight scales by a and its (z−m) gains
// δ, so S ← a·S, T ← a·(T + δS), U ← a·(U + 2δT + δ²S) (T, S the old values).
struct LogitAccumulator {
  double m = -__builtin_inf();
  double S = 0;
  double T = 0;
  double U = 0;
  int64_t greater = 0;
};
void accumulate_logits(LogitAccumulator& acc, const float* z, int64_t n, float z_target);
void accumulate_logits_ref(LogitAccumulator& acc, const float* z, int64_t n, float z_target);

// Writes the indices i < n with z[i] > threshold to idx (capacity n) and returns their count, in increasing order.
int64_t indices_above(const float* z, int64_t n, float threshold, int32_t* idx);

// SwiGLU's gate: gate[i] ← silu(gate[i])·up[i] = gate[i] / (1 + e^−gate[i]) · up[i], for i < n (the vector exp
// above: within a few fp32 ulps of the reference's std::exp; far below −88 the vector form gives a tiny number
// where the reference gives 0).
void silu_mul(float* gate, const float* up, int64_t n);
void silu_mul_ref(float* gate, const float* up, int64_t n);

// Σ p[i] for i < n, wrapping: reads the n words once at the rate memory streams them (the read that `bench` and the
// memory benchmarks measure generation against: every weight byte is read once per token).
uint64_t sum_words(const uint64_t* p, int64_t n);
uint64_t sum_words_ref(const uint64_t* p, int64_t n);

}  // namespace ts
