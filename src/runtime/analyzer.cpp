// See analyzer.h for the contract.
#include "runtime/analyzer.h"

#include <algorithm>
#include <string>

#include "analysis/contrast.h"
#include "model/kv_cache.h"

namespace ts {

namespace {

// One model reading prefix ++ ids[window] with its own cache; logits holds the rows of the last forward call.
struct Stream {
  const Model* model = nullptr;
  std::vector<int32_t> prefix;
  KVCache cache;
  std::vector<float> logits;
};

// positions: indices into ids, ascending; rows[s] + k·V: stream s's logits predicting ids[positions[k]].
using ChunkFn = std::function<Status(std::span<const int64_t> positions, std::span<const float* const> rows)>;

int64_t lockstep_context(std::span<const Model* const> models, const AnalyzerOptions& opt) {
  if (opt.ctx > 0) return opt.ctx;
  int64_t c = 4096;
  for (const Model* m : models) c = std::min<int64_t>(c, m->config().n_ctx_train);
  return c;
}

// Feeds tokens[0..n) in calls of at most `batch`, asking for logits of the last row only (the row that predicts
// what follows); a forward call needs at least one logit row, and the last one is the only one a prefix needs.
Status feed_prefix(Stream& s, const std::vector<int32_t>& tokens, int64_t batch, ThreadPool& pool) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  s.logits.resize(static_cast<size_t>(s.model->config().n_vocab));
  for (int64_t b0 = 0; b0 < n; b0 += batch) {
    const int64_t len = std::min(batch, n - b0);
    if (auto st = s.model->forward(&tokens[static_cast<size_t>(b0)], len, s.cache, s.logits.data(), pool, {len - 1});
        !st)
      return st;
  }
  return ok_status();
}

// The windowed lockstep loop (the windowing of score_sequence, with each stream's prefix re-read per window).
// Scores positions first..n−1 of ids; first = 0 needs every prefix non-empty.
Status run_lockstep(std::vector<Stream>& streams, const std::vector<int32_t>& ids, int64_t first, int64_t C,
                    int64_t batch, ThreadPool& pool, const ChunkFn& fn) {
  const int64_t n = static_cast<int64_t>(ids.size());
  if (n <= first || streams.empty()) return ok_status();
  int64_t max_prefix = 0;
  for (const Stream& s : streams) {
    max_prefix = std::max<int64_t>(max_prefix, static_cast<int64_t>(s.prefix.size()));
    if (first == 0 && s.prefix.empty()) return Error::internal("run_lockstep: position 0 needs every prefix");
  }
  const int64_t W = C - max_prefix;  // ids per window
  if (W < 2)
    return Error::input("context " + std::to_string(C) + " too small for a prefix of " + std::to_string(max_prefix) +
                        " tokens (need at least 2 more)");
  const int64_t stride = std::max<int64_t>(1, W / 2);
  batch = std::max<int64_t>(1, batch);
  const int64_t V = streams.front().model->config().n_vocab;
  for (Stream& s : streams) s.cache = KVCache(s.model->config(), static_cast<int64_t>(s.prefix.size()) + std::min(W, n));
  std::vector<const float*> rows(streams.size());
  std::vector<int64_t> positions, logit_rows;

  int64_t next = first;  // first position not yet scored
  for (int64_t start = 0; next < n; start += stride) {
    const int64_t end = std::min(n, start + W);  // window ids[start, end)
    for (Stream& s : streams) {
      s.cache.clear();
      if (!s.prefix.empty())
        if (auto st = feed_prefix(s, s.prefix, batch, pool); !st) return st;
    }
    if (start == next) {  // the prefixes' last rows predict ids[start] (first window, first = 0 only)
      for (size_t i = 0; i < streams.size(); ++i) rows[i] = streams[i].logits.data();
      const int64_t p = start;
      if (auto st = fn({&p, 1}, rows); !st) return st;
      next = start + 1;
    }
    for (int64_t b0 = start; b0 < end; b0 += batch) {
      const int64_t b1 = std::min(end, b0 + batch);
      // row r of this chunk predicts ids[b0 + r + 1]
      positions.clear();
      logit_rows.clear();
      for (int64_t r = 0; r < b1 - b0; ++r)
        if (b0 + r + 1 >= next && b0 + r + 1 < n) {
          logit_rows.push_back(r);
          positions.push_back(b0 + r + 1);
        }
      if (logit_rows.empty()) logit_rows.push_back(b1 - b0 - 1);  // needed only for the cache; one row keeps it uniform
      for (size_t i = 0; i < streams.size(); ++i) {
        Stream& s = streams[i];
        s.logits.resize(logit_rows.size() * static_cast<size_t>(V));
        if (auto st = s.model->forward(&ids[static_cast<size_t>(b0)], b1 - b0, s.cache, s.logits.data(), pool,
                                       logit_rows);
            !st)
          return st;
        rows[i] = s.logits.data();
      }
      if (positions.empty()) continue;
      if (auto st = fn(positions, rows); !st) return st;
      next = positions.back() + 1;
    }
    if (end == n) break;
  }
  return ok_status();
}

Status check_vocab_sizes(std::span<const Model* const> models) {
  for (const Model* m : models)
    if (m->config().n_vocab != models.front()->config().n_vocab)
      return Error::input("models in lockstep have different vocabulary sizes: " +
                          std::to_string(models.front()->config().n_vocab) + " and " +
                          std::to_string(m->config().n_vocab));
  return ok_status();
}

}  // namespace

Status analyze_sequence(std::span<const SignalPair> pairs, const std::vector<int32_t>& ids,
                        const AnalyzerOptions& opt, ThreadPool& pool,
                        const std::function<void(const AnalyzedPosition&)>& sink) {
  if (pairs.empty()) return Error::input("analyze: no model to run");
  // Distinct models, each run once; per pair the indices of its scoring and reference model among them.
  std::vector<const Model*> models;
  auto index_of = [&](const Model* m) -> int {
    for (size_t i = 0; i < models.size(); ++i)
      if (models[i] == m) return static_cast<int>(i);
    models.push_back(m);
    return static_cast<int>(models.size() - 1);
  };
  std::vector<int> scoring(pairs.size()), reference(pairs.size());
  for (size_t p = 0; p < pairs.size(); ++p) {
    if (!pairs[p].scoring) return Error::input("analyze: a signal pair has no scoring model");
    scoring[p] = index_of(pairs[p].scoring);
    reference[p] = pairs[p].reference ? index_of(pairs[p].reference) : -1;
  }
  if (auto s = check_vocab_sizes(models); !s) return s;
  std::vector<uint8_t> is_scoring(models.size(), 0);
  for (int s : scoring) is_scoring[static_cast<size_t>(s)] = 1;

  std::vector<Stream> streams(models.size());
  for (size_t i = 0; i < models.size(); ++i) streams[i].model = models[i];
  const int64_t V = models.front()->config().n_vocab;
  const int64_t C = lockstep_context(models, opt);
  if (C < 2) return Error::input("context " + std::to_string(C) + " too small (need at least 2)");
  std::vector<AnalyzedPosition> out;
  return run_lockstep(streams, ids, 1, C, opt.batch, pool, [&](std::span<const int64_t> positions,
                                                               std::span<const float* const> rows) -> Status {
    out.assign(positions.size(), {});
    pool.parallel_for(static_cast<int64_t>(positions.size()), 1, [&](int64_t a, int64_t b, int) {
      std::vector<TokenStats> stats(models.size());
      for (int64_t k = a; k < b; ++k) {
        const int64_t pos = positions[static_cast<size_t>(k)];
        const int32_t id = ids[static_cast<size_t>(pos)];
        for (size_t m = 0; m < models.size(); ++m)
          if (is_scoring[m])
            stats[m] = token_stats(rows[m] + k * V, V, id, static_cast<int>(m) == scoring[0] ? opt.top_k : 0);
        AnalyzedPosition& r = out[static_cast<size_t>(k)];
        r.pos = pos;
        r.signals.reserve(pairs.size());
        for (size_t p = 0; p < pairs.size(); ++p) {
          const TokenStats& s = stats[static_cast<size_t>(scoring[p])];
          if (reference[p] < 0) {
            r.signals.push_back(analysis::position_signals(s));
          } else {
            const analysis::ContrastStats c = analysis::contrast_stats(
                rows[static_cast<size_t>(reference[p])] + k * V, rows[static_cast<size_t>(scoring[p])] + k * V, V, id);
            r.signals.push_back(analysis::position_signals(s, c));
          }
        }
        r.stats = std::move(stats[static_cast<size_t>(scoring[0])]);
      }
    });
    for (const AnalyzedPosition& r : out) sink(r);
    return ok_status();
  });
}

Status analyze_sequence(const Model& scoring, const Model* reference, const std::vector<int32_t>& ids,
                        const AnalyzerOptions& opt, ThreadPool& pool,
                        const std::function<void(const AnalyzedPosition&)>& sink) {
  const SignalPair pair{&scoring, reference};
  return analyze_sequence(std::span<const SignalPair>(&pair, 1), ids, opt, pool, sink);
}

Status analyze_context_shift(const Model& model, const std::vector<int32_t>& context_prefix,
                             const std::vector<int32_t>& plain_prefix, const std::vector<int32_t>& answer,
                             const AnalyzerOptions& opt, ThreadPool& pool,
                             const std::function<void(const ContextShiftPosition&)>& sink) {
  std::vector<Stream> streams(2);
  streams[0].model = streams[1].model = &model;
  streams[0].prefix = context_prefix;  // A: with context
  streams[1].prefix = plain_prefix;    // B: without
  const Model* const m = &model;
  const int64_t C = lockstep_context(std::span<const Model* const>(&m, 1), opt);
  const int64_t V = model.config().n_vocab;
  const int64_t first = context_prefix.empty() || plain_prefix.empty() ? 1 : 0;
  std::vector<ContextShiftPosition> out;
  return run_lockstep(streams, answer, first, C, opt.batch, pool, [&](std::span<const int64_t> positions,
                                                                      std::span<const float* const> rows) -> Status {
    out.assign(positions.size(), {});
    pool.parallel_for(static_cast<int64_t>(positions.size()), 1, [&](int64_t a, int64_t b, int) {
      for (int64_t k = a; k < b; ++k) {
        const int64_t j = positions[static_cast<size_t>(k)];
        out[static_cast<size_t>(k)].index = j;
        out[static_cast<size_t>(k)].contrast =
            analysis::contrast_stats(rows[0] + k * V, rows[1] + k * V, V, answer[static_cast<size_t>(j)]);
      }
    });
    for (const ContextShiftPosition& r : out) sink(r);
    return ok_status();
  });
}

Status check_shared_vocabulary(const Engine& a, const std::string& a_path, const Engine& b, const std::string& b_path) {
  const Tokenizer& ta = a.tokenizer;
  const Tokenizer& tb = b.tokenizer;
  const int64_t va = a.model->config().n_vocab, vb = b.model->config().n_vocab;
  if (va != vb || ta.vocab_size() != tb.vocab_size())
    return Error::input(a_path + " and " + b_path + " do not share a vocabulary: " + std::to_string(ta.vocab_size()) +
                        " tokens (" + std::to_string(va) + " logits) vs " + std::to_string(tb.vocab_size()) +
                        " tokens (" + std::to_string(vb) + " logits)");
  for (int32_t id = 0; id < ta.vocab_size(); ++id)
    if (ta.token_text(id) != tb.token_text(id))
      return Error::input(a_path + " and " + b_path + " do not share a vocabulary: token " + std::to_string(id) +
                          " is '" + ta.token_text(id) + "' in the first and '" + tb.token_text(id) +
                          "' in the second");
  return ok_status();
}

}  // namespace ts
