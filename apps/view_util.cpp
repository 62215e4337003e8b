// See view_util.h.
#include "view_util.h"

#include <cstdio>
#include <iterator>

namespace ts::cli {

int bin_color(double bits) {
  for (const Bin& b : kBins)
    if (bits < b.below) return b.bg;
  return kBins[std::size(kBins) - 1].bg;
}

std::string paint(const std::string& s, int bg, bool color) {
  if (!color || s.empty() || bg < 0) return s;
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


std::string legend() {
  std::string out = "surprisal (bits):";
  for (const Bin& b : kBins) out += " " + paint(std::string(" ") + b.label + " ", b.bg, true);
  return out;
}

}  // namespace ts::cli
