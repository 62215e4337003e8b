// Two next-token distributions over the same vocabulary at one position: model A (p_A) and model B (p_B), given
// by their logits. Everything below comes from one pass over both logit vectors after one pass for their maxima
// (log-sum-exp first, so no exponential overflows), with exponentials and sums in double.
//
//   log p_A(v) = a_v − log S_A,   a_v = z_A(v) − max z_A,   S_A = Σ_v e^{a_v}        (likewise for B, with b_v)
//   H(A)       = −Σ p_A log p_A
//   H(A,B)     = −Σ_v p_A(v) log p_B(v)          cross-entropy of A's distribution under B; E_A[log p_B] = −H(A,B)
//   KL(A‖B)    = Σ_v p_A(v) (log p_A(v) − log p_B(v)) = H(A,B) − H(A)
//   Var_A[log p_B] = Σ_v p_A(v) (log p_B(v))² − H(A,B)²  = Σ p_A b_v² − (Σ p_A b_v)²   (shift-free form)
//   and the same with A and B swapped.
//
// Roles in the detectors (analysis/fast_detectgpt.h, analysis/binoculars.h): A is the reference model — Fast-
// DetectGPT's sampling model q, Binoculars' observer M1 — and B the scoring model — Fast-DetectGPT's scoring model
// p, Binoculars' performer M2. So μ_t = −cross_ab, s2_t = var_a_log_b, and Binoculars' X-PPL term is cross_ab.
//
// Zero probabilities: where z_A = −inf, A's terms are skipped (0·log 0 = 0). Where A has mass but z_B = −inf,
// H(A,B), KL(A‖B) and Var_A[log p_B] are +inf.
#pragma once

#include <cstdint>

namespace ts::analysis {

struct ContrastStats {
  int32_t id = -1;           // the target token (-1: none)
  double logprob_a = 0;      // log p_A(id), nats (0 without a target)
  double logprob_b = 0;      // log p_B(id)
  double logprob_diff = 0;   // log p_A(id) − log p_B(id): cDPO's contrastive estimate with A = positive, B = negative
  double log_z_a = 0, log_z_b = 0;
  double entropy_a = 0;      // H(A)
  double entropy_b = 0;      // H(B)
  double cross_ab = 0;       // H(A,B) = −E_A[log p_B]
  double cross_ba = 0;       // H(B,A) = −E_B[log p_A]
  double kl_ab = 0;          // KL(A‖B) ≥ 0
  double kl_ba = 0;          // KL(B‖A) ≥ 0
  double var_a_log_b = 0;    // Var_{v∼A}[log p_B(v)]
  double var_b_log_a = 0;    // Var_{v∼B}[log p_A(v)]
  int32_t top1_a = -1;       // argmax of A (ties: the lower id)
  int32_t top1_b = -1;
  bool top1_agree = false;
};

// logits_a, logits_b: n_vocab floats each (n_vocab ≥ 1, each with at least one finite logit). target may be -1.
ContrastStats contrast_stats(const float* logits_a, const float* logits_b, int64_t n_vocab, int32_t target);

}  // namespace ts::analysis
