// Every per-document score of docs/detection.md from one document's PositionSignals, for the runtime to print.
// Each field is computed by the function named beside it (the formulas and sign conventions live there); this
// file only gathers them. Fields that need something the run did not provide are absent (std::optional).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "analysis/binoculars.h"
#include "analysis/dc_pdd.h"
#include "analysis/fast_detectgpt.h"
#include "analysis/log_likelihood.h"
#include "analysis/position_signals.h"
#include "analysis/window_entropy.h"

namespace ts::analysis {

struct DocumentInputs {
  int64_t text_bytes = 0;                     // UTF-8 bytes of the scored text (bits per byte)
  std::optional<int64_t> zlib_bytes;          // len(zlib.compress(text)); absent: no zlib ratio
  const TokenFrequency* frequency = nullptr;  // reference-corpus token counts; null: no DC-PDD
  double min_k = 0.2;                         // Min-K% and Min-K%++ fraction
  double dc_pdd_bound = 0.01;                 // DC-PDD's a
  int64_t entropy_window = 8;                 // ARES window w
};

struct DocumentScores {
  Perplexity perplexity;                  // log_likelihood.h (tokens, NLL, PPL, bits per byte)
  double log_likelihood = 0;              // log_likelihood.h      higher ⇒ machine / member
  double log_rank = 0;                    // log_rank.h            higher ⇒ machine
  double lrr = 0;                         // lrr.h                 higher ⇒ machine
  double mean_entropy = 0;                // mean_entropy.h        (−mean_entropy: higher ⇒ machine)
  FastDetectGptTerms fast_detectgpt_white_box;                 // fast_detectgpt.h, q = p; higher ⇒ machine
  std::optional<FastDetectGptTerms> fast_detectgpt_reference;  // q = the reference model; two-model runs
  std::optional<BinocularsTerms> binoculars;                   // binoculars.h; lower ⇒ machine; two-model runs
  double min_k = 0;                       // min_k.h               higher ⇒ member
  double min_k_plus_plus = 0;             // min_k_plus_plus.h     higher ⇒ member
  std::optional<double> zlib_ratio;       // zlib_ratio.h          lower ⇒ member
  std::optional<double> dc_pdd;           // dc_pdd.h              higher ⇒ member
  EntropySpan highest_entropy_span;       // window_entropy.h
  std::vector<double> chow_quantiles;     // chow_quantiles.h, α = 0, 0.1, …, 1
};

// Error (input) only from DC-PDD (a token id outside the frequency table).
Expected<DocumentScores> score_document(std::span<const PositionSignals> pos, const DocumentInputs& in);

}  // namespace ts::analysis
