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

namespace ts::cli {

namespace {

// Surprisal bins (upper bounds in bits) and their background colours in the xterm 256-colour cube, from green
// (expected) through yellow to red (surprising). Black text on all of them reads on dark and light terminals.
struct Bin {
  double below;
  int bg;
  const char* label;
};
constexpr Bin kBins[] = {{1, 120, "<1"},   {2, 157, "1-2"},  {4, 229, "2-4"},           {6, 222, "4-6"},
                         {8, 216, "6-8"}, {11, 210, "8-11"}, {1e300, 196, "11+ bits"}};

int bin_color(double bits) {
  for (const Bin& b : kBins)
    if (bits < b.below) return b.bg;
  return kBins[std::size(kBins) - 1].bg;
}

std::string paint(const std::string& s, int bg, bool color) {
  if (!color || s.empty()) return s;
  return "\x1b[30;48;5;" + std::to_string(bg) + "m" + s + "\x1b[0m";
}

// Paints s, closing the colour before each newline so that no background runs on to the end of the line.
std::string paint_lines(const std::string& s, int bg, bool color) {
  std::string out;
  size_t i = 0;
  while (i <= s.size()) {
    const size_t nl = s.find('\n', i);
    const std::string part = s.substr(i, nl == std::string::npos ? std::string::npos : nl - i);
    out += paint(part, bg, color);
    if (nl == std::string::npos) break;
    out += '\n';
    i = nl + 1;
  }
  return out;
}

// True when s does not end inside a UTF-8 sequence.
bool utf8_complete(const std::string& s) {
  size_t i = s.size(), cont = 0;
  while (i > 0 && (static_cast<unsigned char>(s[i - 1]) & 0xC0) == 0x80 && cont < 3) --i, ++cont;
  if (i == 0) return cont == 0;
  const unsigned char lead = static_cast<unsigned char>(s[i - 1]);
  const size_t need = lead < 0x80 ? 0 : (lead & 0xE0) == 0xC0 ? 1 : (lead & 0xF0) == 0xE0 ? 2 : (lead & 0xF8) == 0xF0 ? 3 : 0;
  return cont >= need;
}

// Length of the valid UTF-8 character at s[i], or 0 when the bytes there are not one.
size_t utf8_char_len(const std::string& s, size_t i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  const size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  return n;
}

// A token for a one-line list: quoted, newlines and tabs made visible, bytes that are not whole UTF-8 characters
// (a byte-level token can hold part of one) as \xNN.
std::string quoted(const std::string& bytes) {
  std::string r = "\"";
  for (size_t i = 0; i < bytes.size();) {
    const char c = bytes[i];
    const size_t n = utf8_char_len(bytes, i);
    if (c == '\n') r += "\\n";
    else if (c == '\t') r += "\\t";
    else if (c == '"') r += "\\\"";
    else if (c == '\\') r += "\\\\";
    else if (n == 1 && static_cast<unsigned char>(c) >= 0x20 && c != 0x7F) r += c;
    else if (n > 1) r.append(bytes, i, n);
    else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned char>(c));
      r += buf;
    }
    i += n > 1 ? n : 1;
  }
  return r + "\"";
}

// A probability for people: 23%, 4.2%, <0.1%.
std::string percent(double p) {
  char buf[16];
  if (p >= 0.095) std::snprintf(buf, sizeof buf, "%.0f%%", 100.0 * p);
  else if (p >= 0.001) std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * p);
  else return "<0.1%";
  return buf;
}

}  // namespace

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
    out += "\nsurprisal (bits):";
    for (const Bin& b : kBins) out += " " + paint(std::string(" ") + b.label + " ", b.bg, true);
    out += "   (green: the model expected it; red: it did not)\n";
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
