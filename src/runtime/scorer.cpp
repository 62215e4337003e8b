#include "runtime/scorer.h"

#include <algorithm>

namespace ts {

int64_t effective_context(const Model& model, const ScoreOptions& opt) {
  if (opt.ctx > 0) return opt.ctx;
  return std::min<int64_t>(model.config().n_ctx_train, 4096);
}

Status score_sequence(const Model& model, const std::vector<int32_t>& ids, const ScoreOptions& opt, ThreadPool& pool,
                      const std::function<void(const ScoredToken&)>& sink) {
  const int64_t n = static_cast<int64_t>(ids.size());
  if (n < 2) return ok_status();
  const int64_t C = effective_context(model, opt);
  if (C < 2) return Error::input("context " + std::to_string(C) + " too small (need at least 2)");
  const int64_t stride = std::max<int64_t>(1, C / 2);
  const int64_t batch = std::max<int64_t>(1, opt.batch);
  const int64_t V = model.config().n_vocab;
  KVCache cache(model.config(), std::min(C, n));  // a window never holds more than the sequence
  std::vector<float> logits;
  std::vector<ScoredToken> out;

  int64_t next = 1;  // first position not yet scored
  for (int64_t start = 0; next < n; start += stride) {
    const int64_t end = std::min(n, start + C);  // window ids[start, end)
    cache.clear();
    for (int64_t b0 = start; b0 < end; b0 += batch) {
      const int64_t b1 = std::min(end, b0 + batch);
      // rows of this chunk whose logits predict a position >= next (row r predicts ids[b0 + r + 1])
      std::vector<int64_t> rows;
      for (int64_t r = 0; r < b1 - b0; ++r)
        if (b0 + r + 1 >= next && b0 + r + 1 < n) rows.push_back(r);
      if (rows.empty()) {
        // still needed for the cache; ask for one row of logits to keep the call uniform
        rows.push_back(b1 - b0 - 1);
      }
      logits.resize(rows.size() * static_cast<size_t>(V));
      if (auto s = model.forward(&ids[static_cast<size_t>(b0)], b1 - b0, cache, logits.data(), pool, rows); !s)
        return s.error();
      out.assign(rows.size(), {});
      pool.parallel_for(static_cast<int64_t>(rows.size()), 1, [&](int64_t a, int64_t b, int) {
        for (int64_t i = a; i < b; ++i) {
          const int64_t pos = b0 + rows[static_cast<size_t>(i)] + 1;
          if (pos < next || pos >= n) continue;
          out[static_cast<size_t>(i)].pos = pos;
          out[static_cast<size_t>(i)].stats =
              token_stats(&logits[static_cast<size_t>(i * V)], V, ids[static_cast<size_t>(pos)], opt.top_k);
        }
      });
      for (size_t i = 0; i < rows.size(); ++i) {
        const int64_t pos = b0 + rows[i] + 1;
        if (pos < next || pos >= n) continue;
        sink(out[i]);
        next = pos + 1;
      }
    }
    if (end == n) break;
  }
  return ok_status();
}

}  // namespace ts
