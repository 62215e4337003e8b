#include "analysis/contrast.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ts::analysis {

namespace {

struct ArgMax {
  float value = -std::numeric_limits<float>::infinity();
  int32_t id = -1;
};

ArgMax arg_max(const float* z, int64_t n) {
  ArgMax r;
  for (int64_t i = 0; i < n; ++i)
    if (z[i] > r.value) r = {z[i], static_cast<int32_t>(i)};  // strict: ties keep the lower id
  return r;
}

}  // namespace

ContrastStats contrast_stats(const float* logits_a, const float* logits_b, int64_t n_vocab, int32_t target) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  ContrastStats r;
  const ArgMax top_a = arg_max(logits_a, n_vocab);
  const ArgMax top_b = arg_max(logits_b, n_vocab);
  r.top1_a = top_a.id;
  r.top1_b = top_b.id;
  r.top1_agree = top_a.id == top_b.id;
  const double ma = top_a.value, mb = top_b.value;

  // Sums of e^{a}, e^{a}·a, e^{a}·b, e^{a}·b² (and with A, B swapped); a, b are the max-shifted logits.
  double sa = 0, sa_a = 0, sa_b = 0, sa_b2 = 0;
  double sb = 0, sb_b = 0, sb_a = 0, sb_a2 = 0;
  bool a_outside_b = false, b_outside_a = false;  // mass of one where the other is exactly 0
  for (int64_t v = 0; v < n_vocab; ++v) {
    const float za = logits_a[v], zb = logits_b[v];
    const bool fa = za != -std::numeric_limits<float>::infinity();
    const bool fb = zb != -std::numeric_limits<float>::infinity();
    const double a = static_cast<double>(za) - ma, b = static_cast<double>(zb) - mb;
    if (fa) {
      const double e = std::exp(a);
      sa += e;
      sa_a += e * a;
      if (fb) {
        sa_b += e * b;
        sa_b2 += e * b * b;
      } else if (e > 0) {
        a_outside_b = true;
      }
    }
    if (fb) {
      const double e = std::exp(b);
      sb += e;
      sb_b += e * b;
      if (fa) {
        sb_a += e * a;
        sb_a2 += e * a * a;
      } else if (e > 0) {
        b_outside_a = true;
      }
    }
  }
  const double log_sa = std::log(sa), log_sb = std::log(sb);
  r.log_z_a = ma + log_sa;
  r.log_z_b = mb + log_sb;
  // log p_A = a − log S_A, so E_A[log p_A] = sa_a/sa − log S_A and E_A[log p_B] = sa_b/sa − log S_B.
  const double ea_a = sa_a / sa, ea_b = sa_b / sa, eb_b = sb_b / sb, eb_a = sb_a / sb;
  r.entropy_a = log_sa - ea_a;
  r.entropy_b = log_sb - eb_b;
  if (a_outside_b) {
    r.cross_ab = r.kl_ab = r.var_a_log_b = kInf;
  } else {
    r.cross_ab = log_sb - ea_b;
    r.kl_ab = std::max(0.0, r.cross_ab - r.entropy_a);
    r.var_a_log_b = std::max(0.0, sa_b2 / sa - ea_b * ea_b);
  }
  if (b_outside_a) {
    r.cross_ba = r.kl_ba = r.var_b_log_a = kInf;
  } else {
    r.cross_ba = log_sa - eb_a;
    r.kl_ba = std::max(0.0, r.cross_ba - r.entropy_b);
    r.var_b_log_a = std::max(0.0, sb_a2 / sb - eb_a * eb_a);
  }
  if (target >= 0 && target < n_vocab) {
    r.id = target;
    r.logprob_a = static_cast<double>(logits_a[target]) - r.log_z_a;
    r.logprob_b = static_cast<double>(logits_b[target]) - r.log_z_b;
    r.logprob_diff = r.logprob_a - r.logprob_b;
  }
  return r;
}

}  // namespace ts::analysis
