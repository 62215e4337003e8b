// Jinja2 parser for chat templates: tokens to a syntax tree, with jinja2.parser's grammar and precedence
// (lowest first): `a if c else b`; or; and; not; comparisons (==, !=, <, <=, >, >=, in, not in, chained);
// + -; ~; * / // %; **; unary - +; then primary with postfix .attr, [index], [a:b:c], (call), and | filter /
// `is` test, which bind tighter than any binary operator ("'\n' + x | trim" trims x only).
//
// Statements: if/elif/else, for (tuple targets, `if` filter, else), set (name, tuple, namespace.attr, block set
// with filters), macro, filter, with, break/continue (HF enables jinja2.ext.loopcontrols), generation (HF's
// AssistantTracker), raw (in the lexer). Others (include, import, extends, block, call, do) are refused by name.
// Nesting is limited (kMaxNesting) so hostile input cannot exhaust the stack.
#pragma once

#include <memory>
#include <string_view>

#include "tokenizer/chat_template/ast.h"

namespace ts::jinja {

inline constexpr int kMaxNesting = 100;  // nested blocks, and nested expression levels

// Throws jinja::Error with the line of the offending token.
std::unique_ptr<Program> parse(std::string_view source);

}  // namespace ts::jinja
