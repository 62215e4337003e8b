// Shared pieces of the coloured views (score --view, generate --view): surprisal colour bins, ANSI painting that
// never splits a UTF-8 character or runs a background past a newline, and token quoting for one-line lists.
#pragma once

#include <cstddef>
#include <string>

namespace ts::cli {

// Surprisal bins (upper bounds in bits) and their background colours in the xterm 256-colour cube: tokens the model
// expected (under 1 bit: function words, the rest of a word) stay unpainted, then pale yellow through orange to red
// (rare words, surprises), so the eye goes to what surprised the model. Black text on every painted background reads
// on dark and light terminals. bg < 0: not painted.
struct Bin {
  double below;
  int bg;
  const char* label;
};
inline constexpr Bin kBins[] = {{1, -1, "<1"},    {2, 230, "1-2"},  {4, 229, "2-4"},           {6, 222, "4-6"},
                                {8, 216, "6-8"}, {11, 210, "8-11"}, {1e300, 196, "11+ bits"}};

int bin_color(double bits);
// s on background bg (black text); plain s when color is false.
std::string paint(const std::string& s, int bg, bool color);
// Paints s, closing the colour before each newline so that no background runs on to the end of the line.
std::string paint_lines(const std::string& s, int bg, bool color);
// True when s does not end inside a UTF-8 sequence.
bool utf8_complete(const std::string& s);
// Length of the valid UTF-8 character at s[i], or 0 when the bytes there are not one.
size_t utf8_char_len(const std::string& s, size_t i);
// A token for a one-line list: quoted, newlines and tabs made visible, partial UTF-8 as \xNN.
std::string quoted(const std::string& bytes);
// A probability for people: 23%, 4.2%, <0.1%.
std::string percent(double p);
// The colour legend line ("surprisal (bits): ...").
std::string legend();

}  // namespace ts::cli
