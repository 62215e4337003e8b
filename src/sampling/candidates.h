// Candidates: the working set of a next-token distribution as the samplers shape it.
//
// A sampler edits logits (penalties, bias, temperature), removes candidates (truncation) or reorders them; the set
// that survives the chain is the processed distribution. `p` is valid only right after softmax(), which sets
//   p_i = exp(z_i − z_max) / Σ_j exp(z_j − z_max)      over the candidates currently in the set,
// with the exponentials in float (std::exp, so that a seed replays the same tokens on every machine) and the sum in
// double. A sampler that needs probabilities calls softmax() itself; one that changes the logit order clears
// `sorted`. The canonical order is logit descending, lower id first on ties, so every sort is deterministic.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

namespace ts::sampling {

struct Candidate {
  int32_t id;
  float logit;
  float p;
};

struct Candidates {
  std::vector<Candidate> data;
  bool sorted = false;  // data is in canonical order: logit descending, lower id first on ties

  size_t size() const { return data.size(); }
  bool empty() const { return data.empty(); }
};

// True if a comes before b in the canonical order.
inline bool better(const Candidate& a, const Candidate& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

// One candidate per token id, in id order, p = 0. NaN logits become −inf: a NaN is a bug upstream, and sampling it
// would be worse than never choosing it.
Candidates from_logits(const float* logits, int64_t n_vocab);

// Fills p, normalised over the current set. If every logit is −inf the set carries no information and p is uniform
// (callers never see NaN).
void softmax(Candidates& c);

// Full sort into canonical order; sets sorted.
void sort_desc(Candidates& c);
// Puts the min(k, size) best candidates first, in canonical order; the rest follow in unspecified order. Sets sorted
// only when the whole set got sorted.
void sort_top(Candidates& c, size_t k);
// Keeps the first n candidates (n ≥ size: no-op). Removing a suffix keeps a sorted set sorted.
void truncate(Candidates& c, size_t n);

// Keeps the candidates satisfying keep(cand), in their current order, if there are at least min_keep of them;
// otherwise keeps the min_keep best. For a predicate that is monotone in the logit (p ≥ threshold, z ≥ threshold)
// this is the union of the predicate's set and the top min_keep, as in HF's min_tokens_to_keep.
template <class Pred>
void filter_keep_top(Candidates& c, Pred keep, size_t min_keep) {
  const size_t n = static_cast<size_t>(std::count_if(c.data.begin(), c.data.end(), keep));
  if (n >= min_keep) {
    std::erase_if(c.data, [&](const Candidate& x) { return !keep(x); });
  } else {
    sort_top(c, min_keep);
    truncate(c, min_keep);
  }
}

// Index of the best candidate (highest logit, lowest id on ties); -1 if empty.
int64_t argmax_index(const Candidates& c);
// Shannon entropy of p in nats (0·log 0 = 0). Requires softmax() first.
double entropy_nats(const Candidates& c);
// p of token id in the set, 0 if absent (linear unless the set is still in id order).
float prob_of(const Candidates& c, int32_t id);
// Scatters p by id into out (zeroed first); ids outside out are ignored.
void to_dense(const Candidates& c, std::span<float> out);

// Calls f(candidate, k) for every candidate whose id is ids[k]; ids sorted ascending, no duplicates. Uses the
// "data[id].id == id" shortcut while the set is still in id order (as llama.cpp's logit bias does), otherwise one
// pass with a binary search per candidate.
template <class F>
void for_each_listed(Candidates& c, std::span<const int32_t> ids, F f) {
  bool all_direct = true;
  for (int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= c.data.size() || c.data[id].id != id) {
      all_direct = false;
      break;
    }
  }
  if (all_direct) {
    for (size_t k = 0; k < ids.size(); ++k) f(c.data[ids[k]], k);
    return;
  }
  for (Candidate& x : c.data) {
    auto it = std::lower_bound(ids.begin(), ids.end(), x.id);
    if (it != ids.end() && *it == x.id) f(x, static_cast<size_t>(it - ids.begin()));
  }
}

}  // namespace ts::sampling
