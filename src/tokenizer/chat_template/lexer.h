// Jinja2 lexer for chat templates: text, {{ }}, {% %}, {# #}, {% raw %}, and the tokens inside tags.
//
// Whitespace rules, as jinja2.lexer applies them with HF's settings (trim_blocks=True, lstrip_blocks=True,
// keep_trailing_newline=False):
//   - "\r\n" and "\r" become "\n", and one newline at the very end of the template is dropped;
//   - "{%-", "{{-", "{#-" remove all whitespace before the tag; "-%}", "-}}", "-#}" all whitespace after it;
//   - trim_blocks: after "%}" or "#}" (not "}}"), one "\n" is dropped; "+%}" keeps it;
//   - lstrip_blocks: spaces and tabs between the start of a line and "{%" or "{#" (not "{{") are dropped; "{%+"
//     keeps them. "Start of a line" includes the text right after a tag that ended with a newline.
// Inside a tag, "}}" / "%}" only end it when no bracket is open (so "{{ {'a': {'b': 1}} }}" works).
// String literals take Python escapes (\n, \t, \\, \', \", \xhh, \uhhhh, \Uhhhhhhhh, octal); numbers are
// decimal with optional "_" separators, floats with a fraction or exponent, and 0x / 0o / 0b integers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ts::jinja {

struct Token {
  enum class Kind { kText, kVarBegin, kVarEnd, kBlockBegin, kBlockEnd, kName, kString, kInt, kFloat, kOp, kEof };
  Kind kind = Kind::kEof;
  std::string text;  // text, name, operator, or the decoded string literal
  int64_t i = 0;
  double f = 0.0;
  int line = 1;
};

// Throws jinja::Error naming the line on an unterminated tag, comment or string, or an unknown character.
std::vector<Token> tokenize(std::string_view source);

}  // namespace ts::jinja
