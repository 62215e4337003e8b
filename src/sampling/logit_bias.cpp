// Logit bias: z_t ← z_t + b_t for the listed token ids (OpenAI `logit_bias`, llama.cpp llama_sampler_logit_bias).
//
// b_t = −inf bans a token (its p becomes 0 and the chain's output drops it); ids outside the vocabulary are ignored.
// Repeated ids add up. Applied first in every preset, so later samplers see the biased distribution. The lookup uses
// the "data[id].id == id" shortcut while the set is still in vocabulary order, as llama.cpp does. Default: no biases.
#include <cfloat>
#include <cmath>
#include <map>

#include "sampling/samplers.h"

namespace ts::sampling {

LogitBias::LogitBias(std::vector<std::pair<int32_t, float>> biases) {
  std::map<int32_t, float> merged;
  for (const auto& [id, b] : biases) merged[id] += b;
  for (const auto& [id, b] : merged) {
    ids_.push_back(id);
    bias_.push_back(b);
  }
}

void LogitBias::apply(Candidates& c, const Context& /*ctx*/) {
  if (ids_.empty()) return;
  for_each_listed(c, ids_, [&](Candidate& x, size_t k) { x.logit += bias_[k]; });
  c.sorted = false;
}

std::string LogitBias::spec() const {
  SpecWriter w("logit_bias");
  for (size_t k = 0; k < ids_.size(); ++k) w.key(std::to_string(ids_[k]), bias_[k]);
  return w.str();
}

Expected<SamplerPtr> LogitBias::parse(SpecArgs& args) {
  std::vector<std::pair<int32_t, float>> biases;
  for (const auto& [key, value] : args.take_rest()) {
    auto id = parse_int(key);
    if (!id.ok() || *id < 0 || *id > INT32_MAX)
      return args.error("'" + key + "' is not a token id (logit_bias takes <id>=<bias>)");
    auto b = parse_float(value);
    if (!b.ok()) return args.error("bias of token " + key + ": " + b.error().message);
    if (*b == INFINITY) return args.error("bias of token " + key + " is +inf (only -inf, a ban, is allowed)");
    biases.emplace_back(static_cast<int32_t>(*id), *b);
  }
  if (auto s = args.finish(); !s.ok()) return s.error();
  return SamplerPtr(std::make_unique<LogitBias>(std::move(biases)));
}

}  // namespace ts::sampling
