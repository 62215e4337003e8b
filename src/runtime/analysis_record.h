// The records of `tokenscope analyze` as JSON, one definition for the CLI (apps/analyze.cpp) and POST /v1/analyze
// (server/analysis_routes.cpp), so both print the same fields, in the same order, with the same rounding.
//
// Per predicted token (analysis_token_record), in this order:
//   doc, pos (index in ids of the predicted token), id, token (vocabulary text, "" outside it), offset (byte offset of
//   the token in the text), logprob, rank, entropy, varentropy, max_prob, margin, typicality, window_entropy,
//   hwe (bool), forking (bool), and with alternatives asked for: top = [{id, token, logprob}, ...].
// Per document (analysis_summary_record), after the caller's fields (the CLI carries the input line's):
//   tokens, nll, nll_sum, ppl, bytes, bits_per_byte, mean_entropy, max_entropy, mean_varentropy, forking_tokens,
//   chow_quantiles (11 values, α = 0, 0.1, …, 1), and when there is a token:
//   highest_entropy_span = {pos: [first, last + 1) in ids, mean_entropy, text}.
// Rounding: every real number to 6 decimals (round(x·1e6)/1e6); NaN and ±inf pass through unchanged (JSON null).
// Integers, ids, booleans and texts as they are. With no predicted token, max_entropy and mean_varentropy are NaN.
//
// typicality = |−log p(x) − H| (how far the token's surprisal is from the expected one); window_entropy = the mean
// entropy over the trailing `window` tokens (ARES); hwe = window entropy in the document's top `top_fraction`;
// forking = entropy in the top `top_fraction` (the 80/20 paper); formulas in src/analysis/window_entropy.h and
// forking_tokens.h.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "analysis/document_scores.h"
#include "runtime/analyzer.h"
#include "tokenizer/tokenizer.h"
#include "tokenscope/expected.h"

namespace ts {

// Rounds to 6 decimals (non-finite values unchanged): the precision of the real fields of `score`, `analyze` and the
// server's per-token records.
double round6(double x);

// A document as tokenized: what the records' offsets and span text point into.
struct TokenizedText {
  std::string_view text;              // the text; for ids input the tokens' bytes concatenated
  std::span<const uint32_t> offsets;  // byte offset in `text` of each id
  int64_t text_bytes = 0;             // bytes covered by the predicted tokens (ids[1..]): bits per byte
};

// The per-token signals of one document and what `analyze` derives from them, index i = toks[i].
struct TokenAnalysis {
  int64_t window = 8;                              // the window of window_entropy and of the highest-entropy span
  std::vector<analysis::PositionSignals> signals;  // toks[i].signals.front()
  std::vector<double> typicality;                  // |logprob + entropy|
  std::vector<double> window_entropy;
  std::vector<uint8_t> hwe, forking;               // 0 or 1
};

TokenAnalysis analyze_tokens(std::span<const AnalyzedPosition> toks, int64_t window, double top_fraction);

// Record of toks[i]; `top` adds the alternatives kept in toks[i].stats.top.
nlohmann::ordered_json analysis_token_record(int64_t doc, std::span<const AnalyzedPosition> toks,
                                             const TokenAnalysis& a, size_t i, const TokenizedText& d,
                                             const Tokenizer& tok, bool top);

// The per-document reductions, unrounded (the CLI's tsv summary line prints them with its own precision).
struct AnalysisSummary {
  analysis::DocumentScores scores;  // perplexity, mean_entropy, chow_quantiles, highest_entropy_span (indices in toks)
  int64_t text_bytes = 0;
  double max_entropy = 0;           // NaN with no tokens
  double mean_varentropy = 0;       // NaN with no tokens
  int64_t forking_tokens = 0;
  bool has_span = false;            // false with no tokens
  int64_t span_begin = 0, span_end = 0;  // the highest-entropy span as positions [begin, end) in ids
  std::string span_text;
};

// Error only where analysis::score_document fails, which it does not without DC-PDD's frequency table.
Expected<AnalysisSummary> summarize_analysis(std::span<const AnalyzedPosition> toks, const TokenAnalysis& a,
                                             const TokenizedText& d);

// The summary object: `fields` first (unchanged, unless they share a name with a summary field, which overwrites
// the value in place), then the fields above.
nlohmann::ordered_json analysis_summary_record(const AnalysisSummary& s,
                                               nlohmann::ordered_json fields = nlohmann::ordered_json::object());

// The text of token positions [b, e) of d: from offsets[b] to offsets[e] (to the end when e is past the last token),
// clamped to the text; "" when b is past the last token.
std::string span_text(const TokenizedText& d, int64_t b, int64_t e);

}  // namespace ts
