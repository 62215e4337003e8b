#include "analysis/document_scores.h"

#include <algorithm>

#include "analysis/chow_quantiles.h"
#include "analysis/log_rank.h"
#include "analysis/lrr.h"
#include "analysis/mean_entropy.h"
#include "analysis/min_k.h"
#include "analysis/min_k_plus_plus.h"
#include "analysis/zlib_ratio.h"

namespace ts::analysis {

Expected<DocumentScores> score_document(std::span<const PositionSignals> pos, const DocumentInputs& in) {
  DocumentScores d;
  d.perplexity = perplexity(pos, in.text_bytes);
  d.log_likelihood = log_likelihood(pos);
  d.log_rank = log_rank_score(pos);
  d.lrr = lrr(pos);
  d.mean_entropy = mean_entropy(pos);
  d.fast_detectgpt_white_box = *fast_detectgpt(pos, SamplingModel::kScoring);  // cannot fail with q = p
  const bool two_models =
      !pos.empty() && std::all_of(pos.begin(), pos.end(), [](const PositionSignals& p) { return p.has_reference; });
  if (two_models) {
    d.fast_detectgpt_reference = *fast_detectgpt(pos, SamplingModel::kReference);
    d.binoculars = *binoculars(pos);
  }
  d.min_k = min_k_prob(pos, in.min_k);
  d.min_k_plus_plus = min_k_plus_plus(pos, in.min_k);
  if (in.zlib_bytes) d.zlib_ratio = zlib_ratio(pos, *in.zlib_bytes);
  if (in.frequency) {
    Expected<double> s = dc_pdd(pos, *in.frequency, in.dc_pdd_bound);
    if (!s) return s.error();
    d.dc_pdd = *s;
  }
  d.highest_entropy_span = highest_entropy_span(pos, in.entropy_window);
  d.chow_quantiles = chow_quantiles(pos);
  return d;
}

}  // namespace ts::analysis
