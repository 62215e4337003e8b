// The chat-template interpreter's builtins: jinja2's filters and tests, the globals HF adds (raise_exception,
// strftime_now) next to jinja2's (range, dict, namespace), and the Python methods of str, list and dict values
// that templates call (split, strip, startswith, items, get, ...).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/chat_template/value.h"

namespace ts::jinja {

const Builtin* find_filter(std::string_view name);
const Builtin* find_test(std::string_view name);
Items make_globals();
// obj.name when it names a method of obj's Python type: a bound callable, an Undefined that raises when used (the
// list and dict methods that modify, refused by HF's immutable sandbox), or nullopt when there is no such method.
std::optional<Value> method(const Value& obj, const std::string& name);

// Binds call arguments to parameter names as Python does (positional first, then by keyword); surplus positional
// arguments and unknown keywords raise, naming the function.
class Params {
 public:
  Params(std::string_view fn, const Args& args, const std::vector<const char*>& names);
  bool has(size_t i) const { return i < vals_.size() && vals_[i] != nullptr; }
  const Value& get(size_t i) const;  // Undefined when not given
  Value get_or(size_t i, Value fallback) const { return has(i) ? get(i) : std::move(fallback); }
  int64_t int_or(size_t i, int64_t fallback) const;
  bool bool_or(size_t i, bool fallback) const { return has(i) ? get(i).truthy() : fallback; }
  std::optional<std::string> str_opt(size_t i) const;  // none/absent: nullopt; a non-string raises
  std::string str_or(size_t i, std::string fallback) const;
  [[noreturn]] void fail(const std::string& msg) const;

 private:
  std::string fn_;
  std::vector<const Value*> vals_;
};

}  // namespace ts::jinja
