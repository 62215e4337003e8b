#include "runtime/detection_record.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "analysis/binoculars.h"

namespace ts {

double round_sig(double x) {
  if (!std::isfinite(x) || x == 0) return x;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", x);
  return std::strtod(buf, nullptr);
}

Status add_detection_scores(const analysis::DocumentScores& ds,
                            std::vector<analysis::PositionSignals>& binoculars_signals, bool same_model_binoculars,
                            const std::function<bool(const char*)>& want, nlohmann::ordered_json& j,
                            nlohmann::ordered_json& terms) {
  using Json = nlohmann::ordered_json;
  if (want("log_likelihood")) j["log_likelihood"] = round_sig(ds.log_likelihood);
  if (want("log_rank")) j["log_rank"] = round_sig(ds.log_rank);
  if (want("lrr")) j["lrr"] = round_sig(ds.lrr);
  if (want("entropy")) j["neg_entropy"] = round_sig(-ds.mean_entropy);
  if (want("fast_detectgpt")) {
    auto fd_terms = [](const analysis::FastDetectGptTerms& t) {
      return Json{{"log_likelihood_sum", round_sig(t.log_likelihood_sum)},
                  {"mean_sum", round_sig(t.mean_sum)},
                  {"variance_sum", round_sig(t.variance_sum)}};
    };
    const analysis::FastDetectGptTerms& main =
        ds.fast_detectgpt_reference ? *ds.fast_detectgpt_reference : ds.fast_detectgpt_white_box;
    j["fast_detectgpt"] = round_sig(main.score);
    terms["fast_detectgpt"] = fd_terms(main);
    if (ds.fast_detectgpt_reference) {
      j["fast_detectgpt_white_box"] = round_sig(ds.fast_detectgpt_white_box.score);
      terms["fast_detectgpt_white_box"] = fd_terms(ds.fast_detectgpt_white_box);
    }
  }
  if (want("binoculars")) {
    if (same_model_binoculars) {  // observer = performer: H(M1_t, M2_t) = H(M2_t)
      for (analysis::PositionSignals& p : binoculars_signals) {
        p.has_reference = true;
        p.contrast.cross_ab = p.entropy;
      }
    }
    auto bt = analysis::binoculars(binoculars_signals);
    if (!bt) return bt.error();
    j["binoculars"] = round_sig(bt->score);
    terms["binoculars"] = {{"log_ppl", round_sig(bt->log_ppl)}, {"x_ppl", round_sig(bt->x_ppl)}};
  }
  return ok_status();
}

}  // namespace ts
