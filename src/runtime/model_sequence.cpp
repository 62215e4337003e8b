// See model_sequence.h for the contract.
#include "runtime/model_sequence.h"

#include <algorithm>
#include <string>

namespace ts {

ModelSequence::ModelSequence(const Model& model, int64_t capacity)
    : model_(&model), cache_(model.config(), std::max<int64_t>(1, std::min(capacity, model.config().n_ctx_train))) {}

Status ModelSequence::logits_after(std::span<const int32_t> tokens, int64_t from, std::vector<float>& out,
                                   ThreadPool& pool) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (from < 0 || from >= n)
    return Error::input("logits_after: row start " + std::to_string(from) + " outside 0.." + std::to_string(n - 1));
  if (n > cache_.capacity())
    return Error::input("sequence of " + std::to_string(n) + " tokens exceeds the context of " +
                        std::to_string(cache_.capacity()));
  int64_t common = 0;
  const int64_t fed = static_cast<int64_t>(fed_.size());
  while (common < std::min(fed, n) && fed_[common] == tokens[common]) ++common;
  const int64_t keep = std::min(common, from);
  cache_.truncate(keep);
  fed_.resize(static_cast<size_t>(keep));
  const int64_t m = n - keep;
  std::vector<int64_t> rows;
  rows.reserve(static_cast<size_t>(n - from));
  for (int64_t j = from; j < n; ++j) rows.push_back(j - keep);
  out.resize(static_cast<size_t>((n - from) * n_vocab()));
  if (auto s = model_->forward(tokens.data() + keep, m, cache_, out.data(), pool, rows); !s) {
    cache_.truncate(keep);  // a failed forward leaves nothing half-fed
    return s;
  }
  fed_.insert(fed_.end(), tokens.begin() + keep, tokens.end());
  evaluated_ += m;
  ++calls_;
  return ok_status();
}

}  // namespace ts
