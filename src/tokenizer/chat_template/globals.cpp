// Argument binding, the global functions (jinja2's range/dict/namespace/joiner, HF's raise_exception and
// strftime_now), and jinja2's tests (`x is defined`, `x is string`, ...), as jinja2/tests.py defines them.
#include <ctime>
#include <unordered_map>

#include "tokenizer/chat_template/builtins.h"
#include "tokenizer/chat_template/evaluator.h"
#include "tokenizer/chat_template/text.h"

namespace ts::jinja {

Params::Params(std::string_view fn, const Args& args, const std::vector<const char*>& ns) : fn_(fn) {
  vals_.assign(ns.size(), nullptr);
  if (args.pos.size() > ns.size()) {
    fail("takes at most " + std::to_string(ns.size()) + " argument(s), got " + std::to_string(args.pos.size()));
  }
  for (size_t i = 0; i < args.pos.size(); ++i) vals_[i] = &args.pos[i];
  for (const auto& [k, v] : args.kw) {
    size_t j = 0;
    while (j < ns.size() && k != ns[j]) ++j;
    if (j == ns.size()) fail("got an unexpected keyword argument '" + k + "'");
    if (vals_[j]) fail("got multiple values for argument '" + k + "'");
    vals_[j] = &v;
  }
}

const Value& Params::get(size_t i) const {
  static const Value undefined;
  return has(i) ? *vals_[i] : undefined;
}

int64_t Params::int_or(size_t i, int64_t fallback) const {
  if (!has(i) || get(i).is_none()) return fallback;
  const Value& v = get(i);
  if (v.is_int() || v.is_bool()) return v.as_int();
  if (v.is_float()) return static_cast<int64_t>(v.as_float());
  fail("expected an integer argument, got " + type_name(v));
}

std::optional<std::string> Params::str_opt(size_t i) const {
  if (!has(i) || get(i).is_none()) return std::nullopt;
  if (!get(i).is_string()) fail("expected a string argument, got " + type_name(get(i)));
  return get(i).str();
}

std::string Params::str_or(size_t i, std::string fallback) const {
  auto s = str_opt(i);
  return s ? *s : std::move(fallback);
}

void Params::fail(const std::string& msg) const { throw Error(fn_ + "() " + msg); }

namespace {

Value range_fn(Interp& in, Args& a) {
  Params p("range", a, {"start", "stop", "step"});
  int64_t start = 0, stop = 0, step = 1;
  if (!p.has(0)) p.fail("expected at least 1 argument");
  for (size_t i = 0; i < 3; ++i) {
    if (p.has(i) && !(p.get(i).is_int() || p.get(i).is_bool())) {
      p.fail("'" + type_name(p.get(i)) + "' object cannot be interpreted as an integer");
    }
  }
  if (p.has(1)) {
    start = p.get(0).as_int();
    stop = p.get(1).as_int();
    step = p.int_or(2, 1);
  } else {
    stop = p.get(0).as_int();
  }
  if (step == 0) p.fail("arg 3 must not be zero");
  const __int128 span = step > 0 ? (__int128(stop) - start + step - 1) / step : (__int128(start) - stop - step - 1) / -step;
  constexpr int64_t kMaxRange = 100000;  // jinja2.sandbox.MAX_RANGE
  if (span > kMaxRange) {
    throw Error("range too big: the sandbox blocks ranges larger than 100000 items");
  }
  std::vector<Value> xs;
  for (int64_t i = 0; i < span; ++i) xs.emplace_back(start + i * step);
  in.charge(xs.size());
  return Value::list(std::move(xs));
}

// dict(mapping or pairs, **kwargs), namespace(...) likewise.
Items mapping_args(const char* fn, Args& a) {
  Items out;
  if (a.pos.size() > 1) throw Error(std::string(fn) + "() takes at most 1 positional argument");
  if (a.pos.size() == 1) {
    const Value& src = a.pos[0];
    if (src.is_dict()) {
      out = src.entries();
    } else if (src.is_namespace()) {
      out = src.ns().attrs;
    } else {
      for (const Value& pair : iterate(src)) {
        if (!pair.is_list() || pair.items().size() != 2) {
          throw Error(std::string(fn) + "() needs a mapping or a sequence of (key, value) pairs");
        }
        out.emplace_back(dict_key(pair.items()[0]), pair.items()[1]);
      }
    }
  }
  for (auto& kv : a.kw) out.push_back(kv);
  return out;
}

Value strftime_now(Interp& in, Args& a) {
  Params p("strftime_now", a, {"format"});
  if (!p.has(0) || !p.get(0).is_string()) p.fail("needs a format string");
  const std::string& fmt = p.get(0).str();
  if (fmt.empty()) return Value("");
  std::tm t = in.now();
  for (size_t cap = 256; cap <= (size_t{1} << 20); cap *= 4) {
    std::string buf(cap, '\0');
    const size_t n = std::strftime(buf.data(), buf.size(), fmt.c_str(), &t);
    if (n > 0) {
      buf.resize(n);
      return Value(std::move(buf));
    }
  }
  return Value("");  // strftime gives 0 both for "too long" and for an empty result
}

}  // namespace

Items make_globals() {
  Items g;
  g.emplace_back("range", Value::callable("range", range_fn));
  g.emplace_back("dict", Value::callable("dict", [](Interp&, Args& a) { return Value::dict(mapping_args("dict", a)); }));
  g.emplace_back("namespace", Value::callable("namespace", [](Interp&, Args& a) {
                   return Value::new_namespace(mapping_args("namespace", a));
                 }));
  g.emplace_back("joiner", Value::callable("joiner", [](Interp&, Args& a) {
                   Params p("joiner", a, {"sep"});
                   auto used = std::make_shared<bool>(false);
                   std::string sep = p.has(0) ? to_str(p.get(0)) : ", ";
                   return Value::callable("joiner", [used, sep](Interp&, Args&) {
                     if (!*used) {
                       *used = true;
                       return Value("");
                     }
                     return Value(sep);
                   });
                 }));
  g.emplace_back("raise_exception", Value::callable("raise_exception", [](Interp&, Args& a) -> Value {
                   throw Error(a.pos.empty() ? std::string("raise_exception() called") : to_str(a.pos[0]), 0, true);
                 }));
  g.emplace_back("strftime_now", Value::callable("strftime_now", strftime_now));
  return g;
}

namespace {

using TestFn = bool (*)(Interp&, const Params&);

bool compare_test(const Params& p, bool (*pred)(int)) { return pred(compare(p.get(0), p.get(1))); }

bool mod2(Interp& in, const Params& p, int64_t want) {
  return equals(binary_op(in, "%", p.get(0), Value(2)), Value(want));
}

bool is_iterable(const Params& p) {
  // jinja2.Undefined defines __iter__ and __len__, so it counts as iterable and as a sequence.
  const Value& v = p.get(0);
  return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined();
}

bool is_sequence(const Params& p) { return is_iterable(p); }

std::unordered_map<std::string_view, Builtin> make_tests() {
  std::unordered_map<std::string_view, Builtin> m;
  auto add = [&m](const char* name, std::vector<const char*> params, TestFn fn) {
    m.emplace(name, [name, params, fn](Interp& in, Args& a) { return Value(fn(in, Params(name, a, params))); });
  };
  const std::vector<const char*> one = {"value"}, two = {"value", "other"};
  add("defined", one, [](Interp&, const Params& p) { return !p.get(0).is_undefined(); });
  add("undefined", one, [](Interp&, const Params& p) { return p.get(0).is_undefined(); });
  add("none", one, [](Interp&, const Params& p) { return p.get(0).is_none(); });
  add("boolean", one, [](Interp&, const Params& p) { return p.get(0).is_bool(); });
  add("true", one, [](Interp&, const Params& p) { return p.get(0).is_bool() && p.get(0).as_bool(); });
  add("false", one, [](Interp&, const Params& p) { return p.get(0).is_bool() && !p.get(0).as_bool(); });
  add("string", one, [](Interp&, const Params& p) { return p.get(0).is_string(); });
  add("number", one, [](Interp&, const Params& p) { return p.get(0).is_number(); });
  add("integer", one, [](Interp&, const Params& p) { return p.get(0).is_int(); });
  add("float", one, [](Interp&, const Params& p) { return p.get(0).is_float(); });
  add("mapping", one, [](Interp&, const Params& p) { return p.get(0).is_dict(); });
  add("iterable", one, [](Interp&, const Params& p) { return is_iterable(p) || p.get(0).is_iterator(); });
  add("sequence", one, [](Interp&, const Params& p) { return is_sequence(p); });
  add("callable", one, [](Interp&, const Params& p) { return p.get(0).is_callable(); });
  add("escaped", one, [](Interp&, const Params&) { return false; });  // no autoescaping, so never Markup
  add("sameas", two, [](Interp&, const Params& p) { return p.get(0).same_object(p.get(1)); });
  add("lower", one, [](Interp&, const Params& p) {
    const std::string s = to_str(p.get(0));
    return text::lower(s) == s && text::upper(s) != s;
  });
  add("upper", one, [](Interp&, const Params& p) {
    const std::string s = to_str(p.get(0));
    return text::upper(s) == s && text::lower(s) != s;
  });
  add("odd", one, [](Interp& in, const Params& p) { return mod2(in, p, 1); });
  add("even", one, [](Interp& in, const Params& p) { return mod2(in, p, 0); });
  add("divisibleby", {"value", "num"}, [](Interp& in, const Params& p) {
    return equals(binary_op(in, "%", p.get(0), p.get(1)), Value(0));
  });
  add("in", {"value", "seq"}, [](Interp&, const Params& p) { return contains(p.get(1), p.get(0)); });
  for (const char* n : {"eq", "equalto", "=="}) {
    add(n, two, [](Interp&, const Params& p) { return equals(p.get(0), p.get(1)); });
  }
  for (const char* n : {"ne", "!="}) add(n, two, [](Interp&, const Params& p) { return !equals(p.get(0), p.get(1)); });
  for (const char* n : {"lt", "lessthan", "<"}) {
    add(n, two, [](Interp&, const Params& p) { return compare_test(p, [](int c) { return c < 0; }); });
  }
  for (const char* n : {"le", "<="}) {
    add(n, two, [](Interp&, const Params& p) { return compare_test(p, [](int c) { return c <= 0; }); });
  }
  for (const char* n : {"gt", "greaterthan", ">"}) {
    add(n, two, [](Interp&, const Params& p) { return compare_test(p, [](int c) { return c > 0; }); });
  }
  for (const char* n : {"ge", ">="}) {
    add(n, two, [](Interp&, const Params& p) { return compare_test(p, [](int c) { return c >= 0; }); });
  }
  add("filter", one, [](Interp&, const Params& p) { return p.get(0).is_string() && find_filter(p.get(0).str()); });
  add("test", one, [](Interp&, const Params& p) { return p.get(0).is_string() && find_test(p.get(0).str()); });
  return m;
}

}  // namespace

const Builtin* find_test(std::string_view name) {
  static const std::unordered_map<std::string_view, Builtin> tests = make_tests();
  auto it = tests.find(name);
  return it == tests.end() ? nullptr : &it->second;
}

}  // namespace ts::jinja
