// Greedy decoding; see generate.h for the contract.
#include "runtime/generate.h"

#include <algorithm>
#include <string>

#include "model/kv_cache.h"

namespace ts {

Expected<std::vector<int32_t>> generate_greedy(const Model& model, const std::vector<int32_t>& ids, int64_t n_new,
                                               ThreadPool& pool) {
  const ModelConfig& c = model.config();
  const int64_t n = static_cast<int64_t>(ids.size());
  if (n == 0) return Error::input("generate: empty prompt");
  if (n > c.n_ctx_train)
    return Error::input("generate: prompt of " + std::to_string(n) + " tokens is longer than the context " +
                        std::to_string(c.n_ctx_train));
  if (n_new < 0) return Error::input("generate: negative token count " + std::to_string(n_new));
  const int64_t total = std::min(n + n_new, c.n_ctx_train);
  KVCache cache(c, total);
  std::vector<float> logits(static_cast<size_t>(c.n_vocab));
  std::vector<int32_t> out = ids;
  // the prompt in one pass, logits only for its last position
  if (auto s = model.forward(ids.data(), n, cache, logits.data(), pool, {n - 1}); !s) return s.error();
  while (static_cast<int64_t>(out.size()) < total) {
    const int32_t next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    out.push_back(next);
    if (static_cast<int64_t>(out.size()) == total) break;
    if (auto s = model.forward(&next, 1, cache, logits.data(), pool); !s) return s.error();
  }
  return out;
}

}  // namespace ts
