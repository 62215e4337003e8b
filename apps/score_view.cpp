// tokenscope score --view: a scored text for people. The text as written, each token coloured by its surprisal
// (ANSI 256-colour backgrounds), a legend, and a summary: tokens, perplexity, bits per byte, and the five most
// surprising tokens with the model's top alternatives.
//
//   surprisal(token) = −log₂ p(token | preceding tokens)   bits; 0 = certain, log₂(n_vocab) = a uniform guess
//   perplexity       = exp(mean −ln p)                       over the predicted tokens (all but the first)
//   bits per byte    = Σ −ln p / ln 2 / (bytes of text the predicted tokens cover)
//
// Colour: `color` true writes escape sequences, false plain text (the caller decides from --color and isatty).
// Byte-level tokens can end inside a UTF-8 character; such a token is shown together with the tokens that complete
// the character, in the colour of the most surprising of them, so an escape sequence never splits a character.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "runtime/engine.h"
#include "runtime/scorer.h"
#include "view_util.h"

namespace ts::cli {

void print_view(const Engine& e, const std::string& text, const std::vector<uint32_t>& offsets,
                const std::vector<ScoredToken>& scored, uint64_t text_bytes, bool color) {
  const double ln2 = std::log(2.0);
  std::string out;
  const ModelConfig& c = e.model->config();
  out += "tokenscope score --view: " + (c.name.empty() ? std::string("model") : c.name) + ", " +
         std::to_string(scored.size()) + " tokens scored\n\n";

  // The text: every predicted token's span [offset, next offset) coloured; text before the first predicted token
  // (none for BPE; a BOS has no text) is shown plain.
  const auto span_end = [&](size_t k) {
    const int64_t pos = scored[k].pos;
    return static_cast<size_t>(pos + 1) < offsets.size() ? offsets[static_cast<size_t>(pos + 1)] : text.size();
  };
  size_t shown = scored.empty() ? text.size() : std::min<size_t>(offsets[static_cast<size_t>(scored[0].pos)], text.size());
  out += text.substr(0, shown);
  std::string pending;
  double pending_bits = 0;
  for (size_t k = 0; k < scored.size(); ++k) {
    const size_t end = std::clamp<size_t>(span_end(k), shown, text.size());
    pending += text.substr(shown, end - shown);
    shown = end;
    pending_bits = std::max(pending_bits, -scored[k].stats.logprob / ln2);
    if (utf8_complete(pending) || k + 1 == scored.size()) {
      out += paint_lines(pending, bin_color(pending_bits), color);
      pending.clear();
      pending_bits = 0;
    }
  }
  out += text.substr(std::min(shown, text.size()));
  if (!out.empty() && out.back() != '\n') out += '\n';

  if (color) {
    out += "\n" + legend();
    out += "   (unpainted: the model expected it; red: it did not)\n";
  }

  double nll = 0;
  for (const ScoredToken& t : scored) nll -= t.stats.logprob;
  const double n = static_cast<double>(scored.size());
  char line[256];
  std::snprintf(line, sizeof line, "\ntokens %zu   perplexity %.3f   bits per byte %.4f   mean surprisal %.2f bits\n",
                scored.size(), n > 0 ? std::exp(nll / n) : 0.0,
                text_bytes ? nll / ln2 / static_cast<double>(text_bytes) : 0.0, n > 0 ? nll / n / ln2 : 0.0);
  out += line;

  std::vector<size_t> order(scored.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  const size_t top_n = std::min<size_t>(5, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(top_n), order.end(),
                    [&](size_t a, size_t b) { return scored[a].stats.logprob < scored[b].stats.logprob; });
  if (top_n > 0) out += "\nmost surprising tokens:\n";
  for (size_t r = 0; r < top_n; ++r) {
    const ScoredToken& t = scored[order[r]];
    const double bits = -t.stats.logprob / ln2;
    const std::string tok = quoted(e.tokenizer.token_bytes(t.stats.id));
    std::snprintf(line, sizeof line, "  %zu. ", r + 1);
    out += line + paint(tok, bin_color(bits), color);
    std::snprintf(line, sizeof line, "  at byte %u: %.1f bits, rank %lld", offsets[static_cast<size_t>(t.pos)], bits,
                  static_cast<long long>(t.stats.rank));
    out += line;
    if (!t.stats.top.empty()) {
      out += "; expected";
      for (size_t a = 0; a < std::min<size_t>(3, t.stats.top.size()); ++a) {
        const TopEntry& alt = t.stats.top[a];
        out += (a ? ", " : " ") + quoted(e.tokenizer.token_bytes(alt.id)) + " " + percent(std::exp(alt.logprob));
      }
    }
    out += '\n';
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
}

}  // namespace ts::cli
