// DRY, "Don't Repeat Yourself" (p-e-w, text-generation-webui PR #5677; llama.cpp PR #9702, llama_sampler_dry_apply,
// itself from koboldcpp PR #982 by pi6am).
//
// Penalises the tokens that would extend a verbatim repeat of earlier text. Over the window w_0 … w_{N−1}, the last
// N = last_n tokens of ctx.history (last_n = −1: all of it; 0: off):
//  1. Sequence breakers cap the repeat length. Join the decoded text of the window's tokens, find the last
//     occurrence of any breaker string, and let the token holding its final byte be w_t; rep_limit = N − 1 − t
//     (the number of tokens after it), or N if there is none. A breaker split over several tokens is found as well
//     as one inside a single token. (llama.cpp matches the breaker's head token plus a pre-tokenised tail and takes
//     the most recent head; matching the text instead needs no tokenizer and always finds the tightest limit.)
//  2. For every end position j < N − 1, L_j = the length of the longest common suffix of w_0…w_j and w_0…w_{N−1},
//     capped at rep_limit. These come from the Z-function of the reversed window, O(N).
//  3. If L_j ≥ allowed_length, emitting w_{j+1} next would extend that repeat: maxL[w_{j+1}] = max(maxL, L_j).
//  4. z_tok −= multiplier · base^(maxL[tok] − allowed_length), the exponent clamped to ⌊88.7228 / ln base⌋ so the
//     penalty stays finite (as llama.cpp). Tokens whose own text contains a breaker are never penalised.
// Nothing happens when N ≤ allowed_length or rep_limit < allowed_length, or when multiplier = 0 or base < 1.
// Without ctx.token_text there are no breakers. Defaults: multiplier 0.8 (the recommended on-value; llama.cpp ships
// 0 = off), base 1.75, allowed_length 2, last_n 64, breakers "\n", ":", "\"", "*".
#include <cmath>
#include <map>

#include "sampling/samplers.h"

namespace ts::sampling {
namespace {

// z[k] = length of the longest common prefix of s and s[k..] (z[0] = s.size()).
std::vector<int32_t> z_function(const std::vector<int32_t>& s) {
  const int32_t n = static_cast<int32_t>(s.size());
  std::vector<int32_t> z(n, 0);
  if (n == 0) return z;
  z[0] = n;
  int32_t l = 0, r = 0;  // [l, r) is the rightmost segment known to match a prefix
  for (int32_t k = 1; k < n; ++k) {
    if (k < r) z[k] = std::min(r - k, z[k - l]);
    while (k + z[k] < n && s[z[k]] == s[k + z[k]]) ++z[k];
    if (k + z[k] > r) {
      l = k;
      r = k + z[k];
    }
  }
  return z;
}

}  // namespace

void Dry::apply(Candidates& c, const Context& ctx) {
  if (multiplier_ == 0.0f || base_ < 1.0f || last_n_ == 0 || c.empty()) return;
  const size_t hist = ctx.history.size();
  const size_t n = last_n_ < 0 ? hist : std::min(hist, static_cast<size_t>(last_n_));
  if (n <= static_cast<size_t>(std::max(allowed_length_, 0))) return;
  const std::span<const int32_t> w = ctx.history.subspan(hist - n);

  // 1. rep_limit from the most recent breaker.
  size_t rep_limit = n;
  const bool have_text = static_cast<bool>(ctx.token_text) && !breakers_.empty();
  if (have_text) {
    std::string text;
    std::vector<size_t> end;  // end[t] = byte offset just past token t's text
    end.reserve(n);
    for (int32_t id : w) {
      text += ctx.token_text(id);
      end.push_back(text.size());
    }
    size_t last_byte_end = 0;  // one past the last byte of the latest breaker occurrence; 0 = none
    for (const std::string& b : breakers_) {
      if (b.empty()) continue;
      const size_t pos = text.rfind(b);
      if (pos != std::string::npos) last_byte_end = std::max(last_byte_end, pos + b.size());
    }
    if (last_byte_end > 0) {
      const size_t t = static_cast<size_t>(std::lower_bound(end.begin(), end.end(), last_byte_end) - end.begin());
      rep_limit = n - 1 - t;
    }
  }
  if (rep_limit < static_cast<size_t>(std::max(allowed_length_, 0))) return;

  // 2–3. Suffix matches from the Z-function of the reversed window: L_j = z[N − 1 − j].
  std::vector<int32_t> rev(w.rbegin(), w.rend());
  const std::vector<int32_t> z = z_function(rev);
  std::map<int32_t, int32_t> max_len;  // token → longest repeat it would extend
  for (size_t j = 0; j + 1 < n; ++j) {
    const int32_t len = std::min<int32_t>(z[n - 1 - j], static_cast<int32_t>(rep_limit));
    if (len < allowed_length_) continue;
    int32_t& m = max_len[w[j + 1]];
    m = std::max(m, len);
  }
  if (max_len.empty()) return;

  // 4. Penalise.
  std::vector<int32_t> ids;
  std::vector<float> penalty;
  const int max_exponent = base_ > 1.000001f ? static_cast<int>(88.7228391f / std::log(base_)) : 0;
  for (const auto& [tok, len] : max_len) {
    if (have_text) {
      const std::string piece = ctx.token_text(tok);
      bool is_breaker = false;
      for (const std::string& b : breakers_) is_breaker |= !b.empty() && piece.find(b) != std::string::npos;
      if (is_breaker) continue;
    }
    int exponent = len - allowed_length_;
    if (max_exponent > 0) exponent = std::min(exponent, max_exponent);
    ids.push_back(tok);
    penalty.push_back(multiplier_ * std::pow(base_, float(exponent)));
  }
  for_each_listed(c, ids, [&](Candidate& x, size_t k) { x.logit -= penalty[k]; });
  c.sorted = false;
}

std::string Dry::spec() const {
  SpecWriter w("dry");
  w.primary(multiplier_);
  if (base_ != 1.75f) w.key("base", base_);
  if (allowed_length_ != 2) w.key("allowed_length", int64_t(allowed_length_));
  if (last_n_ != 64) w.key("last_n", int64_t(last_n_));
  if (breakers_ != default_breakers()) {
    std::string list;
    for (size_t i = 0; i < breakers_.size(); ++i) list += (i ? "|" : "") + escape_value(breakers_[i]);
    w.raw("breakers", list);
  }
  return w.str();
}

Expected<SamplerPtr> Dry::parse(SpecArgs& args) {
  float multiplier = 0.8f, base = 1.75f;
  int32_t allowed_length = 2, last_n = 64;
  if (auto s = args.get_float("", multiplier, 0, 1e30); !s.ok()) return s.error();
  if (auto s = args.get_float("base", base, 1, 1e30); !s.ok()) return s.error();
  if (auto s = args.get_int("allowed_length", allowed_length, 0, INT32_MAX); !s.ok()) return s.error();
  if (auto s = args.get_int("last_n", last_n, -1, INT32_MAX); !s.ok()) return s.error();
  std::vector<std::string> breakers = default_breakers();
  if (auto s = args.get_list("breakers", breakers); !s.ok()) return s.error();
  if (auto s = args.finish(); !s.ok()) return s.error();
  return SamplerPtr(std::make_unique<Dry>(multiplier, base, allowed_length, last_n, std::move(breakers)));
}

}  // namespace ts::sampling
