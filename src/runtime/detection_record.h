// The per-document detector scores as JSON, one definition for `tokenscope detect` and POST /v1/detect, so the CLI
// and the server print the same fields with the same rounding.
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "analysis/document_scores.h"
#include "tokenscope/expected.h"

namespace ts {

// Rounds to 10 significant digits: document scores stay distinct (6 decimals would tie small ratios) but short.
double round_sig(double x);

// Adds to `j` the scores `want` asks for — log_likelihood, log_rank, lrr, neg_entropy ("entropy"), fast_detectgpt
// (and fast_detectgpt_white_box when a separate sampling model gave a reference), binoculars — and their terms to
// `terms`. `binoculars_signals`: the observer/performer pair's signals; with same_model_binoculars (observer =
// performer) its cross-entropy is the entropy, H(M1_t, M2_t) = H(M2_t), which this sets. Error from binoculars().
Status add_detection_scores(const analysis::DocumentScores& ds,
                            std::vector<analysis::PositionSignals>& binoculars_signals, bool same_model_binoculars,
                            const std::function<bool(const char*)>& want, nlohmann::ordered_json& j,
                            nlohmann::ordered_json& terms);

}  // namespace ts
