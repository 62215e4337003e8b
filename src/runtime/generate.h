// Greedy decoding: the simplest continuation a model gives, used to check that a model prefers its own text to
// human text (the demo model's test) and to show what a model "expects".
//
// generate_greedy(model, ids, n_new) evaluates ids once, then appends n_new tokens, each the argmax of the
// next-token logits (the lowest id on a tie), feeding every new token through Model::forward with one KVCache.
// Generation stops early at the model's training context (the cache is never slid), so the result holds
// min(ids.size() + n_new, n_ctx_train) tokens when ids is shorter than the context.
#pragma once

#include <cstdint>
#include <vector>

#include "model/model.h"
#include "tensor/thread_pool.h"
#include "tokenscope/expected.h"

namespace ts {

// ids followed by the greedy continuation. Errors: empty ids, ids longer than the context, bad token ids.
Expected<std::vector<int32_t>> generate_greedy(const Model& model, const std::vector<int32_t>& ids, int64_t n_new,
                                               ThreadPool& pool);

}  // namespace ts
