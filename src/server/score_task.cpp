// See score_task.h for the contract; the window arithmetic is score_sequence()'s (runtime/scorer.cpp).
#include "server/score_task.h"

#include <algorithm>
#include <cmath>

#include "runtime/scorer.h"

namespace ts::server {

double kl_divergence(const float* za, double log_za, const float* zb, double log_zb, int64_t n_vocab) {
  double kl = 0;
  for (int64_t i = 0; i < n_vocab; ++i) {
    const double la = static_cast<double>(za[i]) - log_za;
    if (!std::isfinite(la)) continue;  // p_A(i) = 0 contributes nothing
    const double lb = static_cast<double>(zb[i]) - log_zb;
    kl += std::exp(la) * (la - lb);
  }
  return std::max(0.0, kl);
}

namespace {

class WindowedTask : public Task {
 public:
  explicit WindowedTask(ScoreRequest r) : r_(std::move(r)) {
    n_ = static_cast<int64_t>(r_.ids.size());
    ScoreOptions so;
    so.ctx = r_.ctx;
    C_ = effective_context(*r_.model, so);
    if (r_.compare) C_ = std::min(C_, effective_context(*r_.compare, so));
    stride_ = std::max<int64_t>(1, C_ / 2);
    batch_ = std::max<int64_t>(1, r_.batch);
    caches_.emplace_back(r_.model->config(), std::max<int64_t>(1, std::min(C_, n_)));
    if (r_.compare) caches_.emplace_back(r_.compare->config(), std::max<int64_t>(1, std::min(C_, n_)));
  }

  bool step(Job& job, StepContext& ctx) override {
    if (n_ < 2 || next_ >= n_) return done(job);
    if (C_ < 2) return fail(job, "context " + std::to_string(C_) + " too small (need at least 2)");
    const int64_t end = std::min(n_, start_ + C_);  // window ids[start, end)
    if (!open_) {
      for (KVCache& c : caches_) c.clear();
      b0_ = start_;
      open_ = true;
    }
    const int64_t b1 = std::min(end, b0_ + batch_);
    std::vector<int64_t> rows;  // row r predicts ids[b0 + r + 1]
    for (int64_t r = 0; r < b1 - b0_; ++r)
      if (b0_ + r + 1 >= next_ && b0_ + r + 1 < n_) rows.push_back(r);
    const bool any = !rows.empty();
    if (!any) rows.push_back(b1 - b0_ - 1);  // the chunk is needed for the cache only
    const Model* models[2] = {r_.model, r_.compare};
    for (size_t m = 0; m < caches_.size(); ++m) {
      const int64_t V = models[m]->config().n_vocab;
      logits_[m].resize(rows.size() * static_cast<size_t>(V));
      auto s = models[m]->forward(&r_.ids[static_cast<size_t>(b0_)], b1 - b0_, caches_[m], logits_[m].data(),
                                  ctx.pool, rows);
      if (!s) return fail(job, s.error().message);
    }
    if (any) emit_rows(job, ctx, rows);
    b0_ = b1;
    if (b0_ >= end) {
      open_ = false;
      if (end == n_) return done(job);
      start_ += stride_;
    }
    return false;
  }

 private:
  void emit_rows(Job& job, StepContext& ctx, const std::vector<int64_t>& rows) {
    const int64_t V = r_.model->config().n_vocab;
    const int64_t k = static_cast<int64_t>(rows.size());
    Event e;
    if (!r_.compare) {
      e.kind = Event::Kind::kScored;
      e.scored.resize(static_cast<size_t>(k));
      ctx.pool.parallel_for(k, 1, [&](int64_t a, int64_t b, int) {
        for (int64_t i = a; i < b; ++i) {
          const int64_t pos = b0_ + rows[static_cast<size_t>(i)] + 1;
          e.scored[static_cast<size_t>(i)].pos = pos;
          e.scored[static_cast<size_t>(i)].stats =
              token_stats(&logits_[0][static_cast<size_t>(i * V)], V, r_.ids[static_cast<size_t>(pos)], r_.top_k);
        }
      });
    } else {
      e.kind = Event::Kind::kCompared;
      e.compared.resize(static_cast<size_t>(k));
      ctx.pool.parallel_for(k, 1, [&](int64_t a, int64_t b, int) {
        for (int64_t i = a; i < b; ++i) {
          const int64_t pos = b0_ + rows[static_cast<size_t>(i)] + 1;
          const int32_t id = r_.ids[static_cast<size_t>(pos)];
          const float* za = &logits_[0][static_cast<size_t>(i * V)];
          const float* zb = &logits_[1][static_cast<size_t>(i * V)];
          const TokenStats sa = token_stats(za, V, id, 0), sb = token_stats(zb, V, id, 0);
          ComparedToken& c = e.compared[static_cast<size_t>(i)];
          c.pos = pos;
          c.id = id;
          c.logprob_a = sa.logprob;
          c.logprob_b = sb.logprob;
          c.rank_a = sa.rank;
          c.rank_b = sb.rank;
          c.entropy_a = sa.entropy;
          c.entropy_b = sb.entropy;
          c.kl = kl_divergence(za, sa.log_z, zb, sb.log_z, V);
        }
      });
    }
    next_ = b0_ + rows.back() + 2;
    job.emit(std::move(e));
  }

  bool done(Job& job) {
    Event e;
    e.kind = Event::Kind::kDone;
    job.emit(std::move(e));
    return true;
  }

  bool fail(Job& job, std::string message) {
    Event e;
    e.kind = Event::Kind::kError;
    e.message = std::move(message);
    e.input_error = true;
    job.emit(std::move(e));
    return true;
  }

  ScoreRequest r_;
  int64_t n_ = 0, C_ = 0, stride_ = 1, batch_ = 256;
  int64_t start_ = 0, b0_ = 0, next_ = 1;  // window start, chunk start, first position not yet scored
  bool open_ = false;
  std::vector<KVCache> caches_;
  std::vector<float> logits_[2];
};

}  // namespace

std::unique_ptr<Task> make_score_task(ScoreRequest req) { return std::make_unique<WindowedTask>(std::move(req)); }

}  // namespace ts::server
