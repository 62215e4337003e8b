// Python methods of str, list and dict values that chat templates call (`content.split('</think>')`,
// `message.get('x')`, `tool.items()`), as bound callables. List and dict methods that modify their object are
// refused, as in HF's ImmutableSandboxedEnvironment.
#include <unordered_map>

#include "tokenizer/chat_template/builtins.h"
#include "tokenizer/chat_template/evaluator.h"
#include "tokenizer/chat_template/text.h"

namespace ts::jinja {

namespace {

using Method = Value (*)(Interp&, const Value& self, const Params& p);
struct MethodDef {
  std::vector<const char*> params;
  Method fn;
};

// startswith/endswith accept a string or a tuple of strings.
bool affix_match(const Value& self, const Value& arg, bool prefix, const Params& p) {
  auto one = [&](const Value& a) {
    if (!a.is_string()) p.fail("argument must be str or a tuple of str, not " + type_name(a));
    const std::string& s = self.str();
    const std::string& x = a.str();
    if (x.size() > s.size()) return false;
    return prefix ? s.compare(0, x.size(), x) == 0 : s.compare(s.size() - x.size(), x.size(), x) == 0;
  };
  if (arg.is_list()) {
    for (const auto& a : arg.items()) {
      if (one(a)) return true;
    }
    return false;
  }
  return one(arg);
}

Value str_list(std::vector<std::string> parts) {
  std::vector<Value> xs;
  xs.reserve(parts.size());
  for (auto& s : parts) xs.emplace_back(std::move(s));
  return Value::list(std::move(xs));
}

template <class Pred>
bool all_chars(const std::string& s, Pred pred) {
  if (s.empty()) return false;
  for (char32_t c : text::decode(s)) {
    if (!pred(c)) return false;
  }
  return true;
}

// str.format with "{}", "{0}" and "{name}" fields ("{{" and "}}" escape braces); format specs are refused.
Value str_format(Interp& in, const Value& self, Args& a) {
  const std::string& f = self.str();
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    const char c = f[i];
    if (c == '}') {
      if (i + 1 < f.size() && f[i + 1] == '}') ++i;
      else throw Error("Single '}' encountered in format string");
      out += '}';
      continue;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < f.size() && f[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    const size_t close = f.find('}', i);
    if (close == std::string::npos) throw Error("Single '{' encountered in format string");
    const std::string field = f.substr(i + 1, close - i - 1);
    if (field.find_first_of(":!.[") != std::string::npos) {
      throw Error("str.format: only plain {}, {N} and {name} fields are supported");
    }
    const Value* v = nullptr;
    if (field.empty() || (field.find_first_not_of("0123456789") == std::string::npos)) {
      const size_t k = field.empty() ? auto_index++ : std::stoul(field.substr(0, 9));
      if (k >= a.pos.size()) throw Error("Replacement index " + std::to_string(k) + " out of range");
      v = &a.pos[k];
    } else {
      for (const auto& [key, x] : a.kw) {
        if (key == field) v = &x;
      }
      if (!v) throw Error("str.format: no argument named '" + field + "'");
    }
    out += to_str(*v);
    in.check_size(out.size());
    i = close;
  }
  return Value(std::move(out));
}

const std::unordered_map<std::string_view, MethodDef>& str_methods() {
  static const std::unordered_map<std::string_view, MethodDef> m = {
      {"strip", {{"chars"}, [](Interp&, const Value& s, const Params& p) { return Value(text::strip(s.str(), p.str_opt(0), true, true)); }}},
      {"lstrip", {{"chars"}, [](Interp&, const Value& s, const Params& p) { return Value(text::strip(s.str(), p.str_opt(0), true, false)); }}},
      {"rstrip", {{"chars"}, [](Interp&, const Value& s, const Params& p) { return Value(text::strip(s.str(), p.str_opt(0), false, true)); }}},
      {"split", {{"sep", "maxsplit"}, [](Interp& in, const Value& s, const Params& p) {
         auto sep = p.str_opt(0);
         if (sep && sep->empty()) p.fail("empty separator");
         Value r = str_list(text::split(s.str(), sep, p.int_or(1, -1)));
         in.charge(r.items().size());
         return r;
       }}},
      {"rsplit", {{"sep", "maxsplit"}, [](Interp& in, const Value& s, const Params& p) {
         auto sep = p.str_opt(0);
         if (sep && sep->empty()) p.fail("empty separator");
         Value r = str_list(text::rsplit(s.str(), sep, p.int_or(1, -1)));
         in.charge(r.items().size());
         return r;
       }}},
      {"splitlines", {{"keepends"}, [](Interp&, const Value& s, const Params& p) { return str_list(text::splitlines(s.str(), p.bool_or(0, false))); }}},
      {"startswith", {{"prefix"}, [](Interp&, const Value& s, const Params& p) { return Value(affix_match(s, p.get(0), true, p)); }}},
      {"endswith", {{"suffix"}, [](Interp&, const Value& s, const Params& p) { return Value(affix_match(s, p.get(0), false, p)); }}},
      {"upper", {{}, [](Interp&, const Value& s, const Params&) { return Value(text::upper(s.str())); }}},
      {"lower", {{}, [](Interp&, const Value& s, const Params&) { return Value(text::lower(s.str())); }}},
      {"title", {{}, [](Interp&, const Value& s, const Params&) { return Value(text::title(s.str())); }}},
      {"capitalize", {{}, [](Interp&, const Value& s, const Params&) { return Value(text::capitalize(s.str())); }}},
      {"replace", {{"old", "new", "count"}, [](Interp& in, const Value& s, const Params& p) {
         if (!p.get(0).is_string() || !p.get(1).is_string()) p.fail("arguments must be strings");
         std::string r = text::replace(s.str(), p.get(0).str(), p.get(1).str(), p.int_or(2, -1));
         in.check_size(r.size());
         return Value(std::move(r));
       }}},
      {"find", {{"sub"}, [](Interp&, const Value& s, const Params& p) { return Value(text::find(s.str(), p.str_or(0, ""), false)); }}},
      {"rfind", {{"sub"}, [](Interp&, const Value& s, const Params& p) { return Value(text::find(s.str(), p.str_or(0, ""), true)); }}},
      {"count", {{"sub"}, [](Interp&, const Value& s, const Params& p) { return Value(text::count(s.str(), p.str_or(0, ""))); }}},
      {"removeprefix", {{"prefix"}, [](Interp&, const Value& s, const Params& p) {
         const std::string x = p.str_or(0, "");
         return Value(s.str().compare(0, x.size(), x) == 0 ? s.str().substr(x.size()) : s.str());
       }}},
      {"removesuffix", {{"suffix"}, [](Interp&, const Value& s, const Params& p) {
         const std::string x = p.str_or(0, "");
         const std::string& t = s.str();
         if (!x.empty() && t.size() >= x.size() && t.compare(t.size() - x.size(), x.size(), x) == 0) {
           return Value(t.substr(0, t.size() - x.size()));
         }
         return Value(t);
       }}},
      {"join", {{"iterable"}, [](Interp& in, const Value& s, const Params& p) {
         std::string out;
         bool first = true;
         for (const Value& x : iterate(p.get(0))) {
           if (!x.is_string()) p.fail("sequence item: expected str instance, " + type_name(x) + " found");
           if (!first) out += s.str();
           out += x.str();
           first = false;
           in.check_size(out.size());
         }
         return Value(std::move(out));
       }}},
      {"isdigit", {{}, [](Interp&, const Value& s, const Params&) { return Value(all_chars(s.str(), [](char32_t c) { return c >= '0' && c <= '9'; })); }}},
      {"isspace", {{}, [](Interp&, const Value& s, const Params&) { return Value(all_chars(s.str(), text::is_space)); }}},
      {"isalpha", {{}, [](Interp&, const Value& s, const Params&) {
         return Value(all_chars(s.str(), [](char32_t c) { return text::is_word_char(c) && c != '_' && !(c >= '0' && c <= '9'); }));
       }}},
      {"isalnum", {{}, [](Interp&, const Value& s, const Params&) {
         return Value(all_chars(s.str(), [](char32_t c) { return text::is_word_char(c) && c != '_'; }));
       }}},
      {"islower", {{}, [](Interp&, const Value& s, const Params&) {
         return Value(text::lower(s.str()) == s.str() && text::upper(s.str()) != s.str());
       }}},
      {"isupper", {{}, [](Interp&, const Value& s, const Params&) {
         return Value(text::upper(s.str()) == s.str() && text::lower(s.str()) != s.str());
       }}},
  };
  return m;
}

const std::unordered_map<std::string_view, MethodDef>& dict_methods() {
  static const std::unordered_map<std::string_view, MethodDef> m = {
      {"get", {{"key", "default"}, [](Interp&, const Value& d, const Params& p) {
         const Value* v = d.find(dict_key(p.get(0)));
         return v ? *v : p.get_or(1, Value::none());
       }}},
      {"items", {{}, [](Interp& in, const Value& d, const Params&) {
         std::vector<Value> xs;
         for (const auto& [k, v] : d.entries()) xs.push_back(Value::list({key_value(k), v}, true));
         in.charge(xs.size());
         return Value::iterator("dict_items", std::move(xs), false);
       }}},
      {"keys", {{}, [](Interp&, const Value& d, const Params&) { return Value::iterator("dict_keys", iterate(d), false); }}},
      {"values", {{}, [](Interp&, const Value& d, const Params&) {
         std::vector<Value> xs;
         for (const auto& e : d.entries()) xs.push_back(e.second);
         return Value::iterator("dict_values", std::move(xs), false);
       }}},
      {"copy", {{}, [](Interp&, const Value& d, const Params&) { return d; }}},
  };
  return m;
}

const std::unordered_map<std::string_view, MethodDef>& list_methods() {
  static const std::unordered_map<std::string_view, MethodDef> m = {
      {"count", {{"value"}, [](Interp&, const Value& l, const Params& p) {
         int64_t n = 0;
         for (const auto& x : l.items()) n += equals(x, p.get(0));
         return Value(n);
       }}},
      {"index", {{"value"}, [](Interp&, const Value& l, const Params& p) {
         for (size_t i = 0; i < l.items().size(); ++i) {
           if (equals(l.items()[i], p.get(0))) return Value(static_cast<int64_t>(i));
         }
         p.fail(repr(p.get(0)) + " is not in list");
       }}},
      {"copy", {{}, [](Interp&, const Value& l, const Params&) { return l; }}},
  };
  return m;
}

bool is_mutating(const Value& obj, std::string_view name) {
  static const char* const kList[] = {"append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort"};
  static const char* const kDict[] = {"clear", "pop", "popitem", "setdefault", "update"};
  if (obj.is_list() && !obj.is_tuple()) {
    for (const char* n : kList) {
      if (name == n) return true;
    }
  }
  if (obj.is_dict()) {
    for (const char* n : kDict) {
      if (name == n) return true;
    }
  }
  return false;
}

}  // namespace

std::optional<Value> method(const Value& obj, const std::string& name) {
  const std::unordered_map<std::string_view, MethodDef>* table = nullptr;
  if (obj.is_string()) table = &str_methods();
  else if (obj.is_dict()) table = &dict_methods();
  else if (obj.is_list()) table = &list_methods();
  if (!table) return std::nullopt;
  if (is_mutating(obj, name)) {
    return Value::undefined("access to attribute '" + name + "' of '" + type_name(obj) + "' object is unsafe.");
  }
  const std::string full = type_name(obj) + "." + name;
  if (obj.is_string() && name == "format") {
    return Value::callable(full, [obj](Interp& in, Args& a) { return str_format(in, obj, a); });
  }
  auto it = table->find(name);
  if (it == table->end()) return std::nullopt;
  const MethodDef* def = &it->second;
  return Value::callable(full, [obj, def, full](Interp& in, Args& a) { return def->fn(in, obj, Params(full, a, def->params)); });
}

}  // namespace ts::jinja
