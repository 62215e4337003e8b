#include "runtime/analysis_record.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "analysis/forking_tokens.h"
#include "analysis/window_entropy.h"

namespace ts {
namespace {

using Json = nlohmann::ordered_json;

}  // namespace

double round6(double x) {
  if (!std::isfinite(x)) return x;
  return std::round(x * 1e6) / 1e6;
}

TokenAnalysis analyze_tokens(std::span<const AnalyzedPosition> toks, int64_t window, double top_fraction) {
  TokenAnalysis a;
  a.window = window;
  a.signals.reserve(toks.size());
  a.typicality.reserve(toks.size());
  for (const AnalyzedPosition& t : toks) {
    const analysis::PositionSignals& s = t.signals.front();
    a.signals.push_back(s);
    a.typicality.push_back(std::fabs(s.logprob + s.entropy));
  }
  a.window_entropy = analysis::window_entropy(a.signals, window);
  a.hwe = analysis::high_window_entropy_flags(a.signals, window, top_fraction);
  a.forking = analysis::forking_token_flags(a.signals, top_fraction);
  return a;
}

Json analysis_token_record(int64_t doc, std::span<const AnalyzedPosition> toks, const TokenAnalysis& a, size_t i,
                           const TokenizedText& d, const Tokenizer& tok, bool top) {
  const AnalyzedPosition& t = toks[i];
  const analysis::PositionSignals& s = a.signals[i];
  Json j = {{"doc", doc},
            {"pos", t.pos},
            {"id", s.id},
            {"token", tok.token_text(s.id)},
            {"offset", d.offsets[static_cast<size_t>(t.pos)]},
            {"logprob", round6(s.logprob)},
            {"rank", s.rank},
            {"entropy", round6(s.entropy)},
            {"varentropy", round6(s.varentropy)},
            {"max_prob", round6(s.max_prob)},
            {"margin", round6(s.margin)},
            {"typicality", round6(a.typicality[i])},
            {"window_entropy", round6(a.window_entropy[i])},
            {"hwe", a.hwe[i] != 0},
            {"forking", a.forking[i] != 0}};
  if (top) {
    Json alts = Json::array();
    for (const TopEntry& e : t.stats.top)
      alts.push_back({{"id", e.id}, {"token", tok.token_text(e.id)}, {"logprob", round6(e.logprob)}});
    j["top"] = std::move(alts);
  }
  return j;
}

Expected<AnalysisSummary> summarize_analysis(std::span<const AnalyzedPosition> toks, const TokenAnalysis& a,
                                             const TokenizedText& d) {
  analysis::DocumentInputs din;
  din.text_bytes = d.text_bytes;
  din.entropy_window = a.window;
  auto ds = analysis::score_document(a.signals, din);
  if (!ds) return ds.error();
  AnalysisSummary s;
  s.scores = std::move(*ds);
  s.text_bytes = d.text_bytes;
  const size_t n = a.signals.size();
  double max_h = n == 0 ? std::numeric_limits<double>::quiet_NaN() : 0.0, var_sum = 0;
  for (size_t i = 0; i < n; ++i) {
    max_h = std::max(max_h, a.signals[i].entropy);
    var_sum += a.signals[i].varentropy;
    s.forking_tokens += a.forking[i];
  }
  s.max_entropy = max_h;
  s.mean_varentropy = n == 0 ? std::numeric_limits<double>::quiet_NaN() : var_sum / static_cast<double>(n);
  if (!toks.empty()) {
    const analysis::EntropySpan& h = s.scores.highest_entropy_span;
    s.has_span = true;
    s.span_begin = toks[static_cast<size_t>(h.begin)].pos;
    s.span_end = toks[static_cast<size_t>(h.end - 1)].pos + 1;
    s.span_text = span_text(d, s.span_begin, s.span_end);
  }
  return s;
}

Json analysis_summary_record(const AnalysisSummary& s, Json fields) {
  const analysis::Perplexity& p = s.scores.perplexity;
  Json j = std::move(fields);
  j["tokens"] = p.tokens;
  j["nll"] = round6(p.nll_mean);
  j["nll_sum"] = round6(p.nll_sum);
  j["ppl"] = round6(p.ppl);
  j["bytes"] = s.text_bytes;
  j["bits_per_byte"] = round6(p.bits_per_byte);
  j["mean_entropy"] = round6(s.scores.mean_entropy);
  j["max_entropy"] = round6(s.max_entropy);
  j["mean_varentropy"] = round6(s.mean_varentropy);
  j["forking_tokens"] = s.forking_tokens;
  Json q = Json::array();
  for (double x : s.scores.chow_quantiles) q.push_back(round6(x));
  j["chow_quantiles"] = std::move(q);
  if (s.has_span)
    j["highest_entropy_span"] = {{"pos", {s.span_begin, s.span_end}},
                                 {"mean_entropy", round6(s.scores.highest_entropy_span.mean_entropy)},
                                 {"text", s.span_text}};
  return j;
}

std::string span_text(const TokenizedText& d, int64_t b, int64_t e) {
  if (b >= std::ssize(d.offsets)) return "";
  const size_t from = std::min<size_t>(d.offsets[static_cast<size_t>(b)], d.text.size());
  const size_t to = e < std::ssize(d.offsets) ? std::min<size_t>(d.offsets[static_cast<size_t>(e)], d.text.size())
                                              : d.text.size();
  return to > from ? std::string(d.text.substr(from, to - from)) : std::string();
}

}  // namespace ts
