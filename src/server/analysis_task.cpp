// See analysis_task.h for the contract; the window loop is runtime/analyzer.cpp's run_lockstep (no prefixes, first
// scored position 1) taken one chunk per step, and the per-chunk reduction is analyze_sequence()'s.
#include "server/analysis_task.h"

#include <algorithm>
#include <string>

#include "analysis/contrast.h"
#include "model/kv_cache.h"

namespace ts::server {
namespace {

class AnalysisTask : public Task {
 public:
  AnalysisTask(AnalysisRequest r, std::shared_ptr<AnalysisResult> out) : r_(std::move(r)), out_(std::move(out)) {
    // Distinct models, each run once; per pair the indices of its scoring and reference model among them.
    auto index_of = [&](const Model* m) -> int {
      for (size_t i = 0; i < models_.size(); ++i)
        if (models_[i] == m) return static_cast<int>(i);
      models_.push_back(m);
      return static_cast<int>(models_.size() - 1);
    };
    for (const SignalPair& p : r_.pairs) {
      if (!p.scoring) {
        setup_error_ = "analysis: a signal pair has no scoring model";
        return;
      }
      scoring_.push_back(index_of(p.scoring));
      reference_.push_back(p.reference ? index_of(p.reference) : -1);
    }
    if (models_.empty()) {
      setup_error_ = "analysis: no model to run";
      return;
    }
    V_ = models_.front()->config().n_vocab;
    for (const Model* m : models_)
      if (m->config().n_vocab != V_) {
        setup_error_ = "models in lockstep have different vocabulary sizes: " + std::to_string(V_) + " and " +
                       std::to_string(m->config().n_vocab);
        return;
      }
    is_scoring_.assign(models_.size(), 0);
    for (int s : scoring_) is_scoring_[static_cast<size_t>(s)] = 1;
    C_ = r_.ctx;
    if (C_ <= 0) {  // analyzer.cpp's lockstep_context
      C_ = 4096;
      for (const Model* m : models_) C_ = std::min<int64_t>(C_, m->config().n_ctx_train);
    }
    stride_ = std::max<int64_t>(1, C_ / 2);
    batch_ = std::max<int64_t>(1, r_.batch);
    out_->docs.assign(r_.docs.size(), {});
  }

  bool step(Job& job, StepContext& ctx) override {
    if (!setup_error_.empty()) return fail(job, setup_error_, true);
    if (C_ < 2) return fail(job, "context " + std::to_string(C_) + " too small (need at least 2)", true);
    // Skip documents with nothing to predict (fewer than two tokens).
    while (doc_ < r_.docs.size() && (r_.docs[doc_].size() < 2 || next_ >= std::ssize(r_.docs[doc_]))) next_doc();
    if (doc_ >= r_.docs.size()) return done(job);
    const std::vector<int32_t>& ids = r_.docs[doc_];
    const int64_t n = std::ssize(ids);
    if (caches_.empty()) {  // a new document: caches sized as run_lockstep sizes them
      for (const Model* m : models_) caches_.emplace_back(m->config(), std::min(C_, n));
      logits_.resize(models_.size());
    }
    const int64_t end = std::min(n, start_ + C_);  // window ids[start, end)
    if (!open_) {
      for (KVCache& c : caches_) c.clear();
      b0_ = start_;
      open_ = true;
    }
    const int64_t b1 = std::min(end, b0_ + batch_);
    // row r of this chunk predicts ids[b0 + r + 1]
    positions_.clear();
    rows_.clear();
    for (int64_t r = 0; r < b1 - b0_; ++r)
      if (b0_ + r + 1 >= next_ && b0_ + r + 1 < n) {
        rows_.push_back(r);
        positions_.push_back(b0_ + r + 1);
      }
    if (rows_.empty()) rows_.push_back(b1 - b0_ - 1);  // the chunk is needed for the cache only
    for (size_t m = 0; m < models_.size(); ++m) {
      logits_[m].resize(rows_.size() * static_cast<size_t>(V_));
      auto s = models_[m]->forward(&ids[static_cast<size_t>(b0_)], b1 - b0_, caches_[m], logits_[m].data(), ctx.pool,
                                   rows_);
      if (!s) return fail(job, s.error().message, s.error().kind == Error::Kind::kInput);
    }
    if (!positions_.empty()) {
      reduce(ids, ctx);
      next_ = positions_.back() + 1;
    }
    b0_ = b1;
    if (b0_ >= end) {
      open_ = false;
      if (end == n) next_doc();
      else start_ += stride_;
    }
    return false;
  }

 private:
  // analyze_sequence()'s reduction of one chunk: token_stats of every scoring model (alternatives for the first
  // pair's only), contrast_stats of every (reference, scoring) pair.
  void reduce(const std::vector<int32_t>& ids, StepContext& ctx) {
    std::vector<AnalyzedPosition>& out = out_->docs[doc_];
    const size_t base = out.size();
    out.resize(base + positions_.size());
    const int64_t V = V_;
    ctx.pool.parallel_for(std::ssize(positions_), 1, [&](int64_t a, int64_t b, int) {
      std::vector<TokenStats> stats(models_.size());
      for (int64_t k = a; k < b; ++k) {
        const int64_t pos = positions_[static_cast<size_t>(k)];
        const int32_t id = ids[static_cast<size_t>(pos)];
        for (size_t m = 0; m < models_.size(); ++m)
          if (is_scoring_[m])
            stats[m] = token_stats(logits_[m].data() + k * V, V, id,
                                   static_cast<int>(m) == scoring_[0] ? r_.top_k : 0);
        AnalyzedPosition& r = out[base + static_cast<size_t>(k)];
        r.pos = pos;
        r.signals.reserve(r_.pairs.size());
        for (size_t p = 0; p < r_.pairs.size(); ++p) {
          const size_t si = static_cast<size_t>(scoring_[p]);
          const TokenStats& s = stats[si];
          if (reference_[p] < 0) {
            r.signals.push_back(analysis::position_signals(s));
          } else {
            const size_t ri = static_cast<size_t>(reference_[p]);
            const analysis::ContrastStats c =
                analysis::contrast_stats(logits_[ri].data() + k * V, logits_[si].data() + k * V, V, id);
            r.signals.push_back(analysis::position_signals(s, c));
          }
        }
        r.stats = std::move(stats[static_cast<size_t>(scoring_[0])]);
      }
    });
  }

  void next_doc() {
    ++doc_;
    start_ = 0;
    b0_ = 0;
    next_ = 1;
    open_ = false;
    caches_.clear();
  }

  bool done(Job& job) {
    Event e;
    e.kind = Event::Kind::kDone;
    job.emit(std::move(e));
    return true;
  }

  bool fail(Job& job, std::string message, bool input_error) {
    Event e;
    e.kind = Event::Kind::kError;
    e.message = std::move(message);
    e.input_error = input_error;
    job.emit(std::move(e));
    return true;
  }

  AnalysisRequest r_;
  std::shared_ptr<AnalysisResult> out_;
  std::string setup_error_;
  std::vector<const Model*> models_;
  std::vector<int> scoring_, reference_;
  std::vector<uint8_t> is_scoring_;
  int64_t V_ = 0, C_ = 0, stride_ = 1, batch_ = 256;
  size_t doc_ = 0;
  int64_t start_ = 0, b0_ = 0, next_ = 1;  // window start, chunk start, first position not yet scored
  bool open_ = false;
  std::vector<KVCache> caches_;
  std::vector<std::vector<float>> logits_;
  std::vector<int64_t> positions_, rows_;
};

}  // namespace

std::unique_ptr<Task> make_analysis_task(AnalysisRequest req, std::shared_ptr<AnalysisResult> out) {
  return std::make_unique<AnalysisTask>(std::move(req), std::move(out));
}

}  // namespace ts::server
