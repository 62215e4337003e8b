// Scoring for /v1/score and /v1/compare, as a Scheduler task.
//
// The windows are score_sequence()'s (runtime/scorer.h): a sequence of n tokens is cut into windows of C = ctx
// tokens with stride C/2, each evaluated from a fresh cache, each scoring only positions not scored before. A step
// evaluates one chunk of a window — `batch` positions (256, the CLI's default, so the numbers equal the CLI's) — and
// emits the positions that chunk scored, so a long document shares the worker with running streams chunk by chunk.
//
// Compare (two models with the same vocabulary): the same windows on both; each position gives the token's logprob,
// rank and entropy under A and B and KL(A ‖ B) = Σ_i p_A(i) (log p_A(i) − log p_B(i)) of the two next-token
// distributions, in nats.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "model/model.h"
#include "server/scheduler.h"

namespace ts::server {

struct ScoreRequest {
  const Model* model = nullptr;
  const Model* compare = nullptr;  // non-null: a CompareTask against this model
  std::vector<int32_t> ids;
  int64_t ctx = 0;     // window (0: the model's context, at most 4096; with compare, the smaller of the two)
  int64_t batch = 256;
  int top_k = 5;
};

std::unique_ptr<Task> make_score_task(ScoreRequest req);

// KL(A ‖ B) in nats from two logit rows of n_vocab floats and their log-partitions.
double kl_divergence(const float* za, double log_za, const float* zb, double log_zb, int64_t n_vocab);

}  // namespace ts::server
