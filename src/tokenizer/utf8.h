// UTF-8 helpers for the tokenizers: strict decoding of one code point, validity of a whole string, encoding.
//
// "Valid" is RFC 3629: shortest form only, no surrogates (U+D800..U+DFFF), nothing above U+10FFFF. This is the
// same rule PCRE2 applies in UTF mode, so a string that utf8_valid() accepts can be matched with
// PCRE2_NO_UTF_CHECK.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ts::utf8 {

// Length in bytes of the valid code point starting at s[i], or 0 when the bytes there are not valid UTF-8
// (a stray continuation byte, a truncated or overlong sequence, a surrogate, a value past U+10FFFF).
// On success *cp (if given) receives the code point.
inline size_t decode(std::string_view s, size_t i, uint32_t* cp = nullptr) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const size_t n = s.size() - i;
  const uint8_t c0 = b(i);
  if (c0 < 0x80) {
    if (cp) *cp = c0;
    return 1;
  }
  auto cont = [&](size_t k) { return (b(k) & 0xC0) == 0x80; };
  if (c0 >= 0xC2 && c0 <= 0xDF) {
    if (n < 2 || !cont(i + 1)) return 0;
    if (cp) *cp = (uint32_t(c0 & 0x1F) << 6) | (b(i + 1) & 0x3F);
    return 2;
  }
  if (c0 >= 0xE0 && c0 <= 0xEF) {
    if (n < 3 || !cont(i + 1) || !cont(i + 2)) return 0;
    const uint32_t v = (uint32_t(c0 & 0x0F) << 12) | (uint32_t(b(i + 1) & 0x3F) << 6) | (b(i + 2) & 0x3F);
    if (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    if (cp) *cp = v;
    return 3;
  }
  if (c0 >= 0xF0 && c0 <= 0xF4) {
    if (n < 4 || !cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    const uint32_t v = (uint32_t(c0 & 0x07) << 18) | (uint32_t(b(i + 1) & 0x3F) << 12) |
                       (uint32_t(b(i + 2) & 0x3F) << 6) | (b(i + 3) & 0x3F);
    if (v < 0x10000 || v > 0x10FFFF) return 0;
    if (cp) *cp = v;
    return 4;
  }
  return 0;
}

inline bool valid(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = decode(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

inline void append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace ts::utf8
