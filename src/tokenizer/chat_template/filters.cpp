// jinja2's builtin filters (jinja2/filters.py semantics) and HF's tojson override:
//   tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False) = json.dumps(x, ...)
// |safe and |escape give Markup strings (see Value::markup). Not provided (no chat template uses them): groupby, slice, pprint, random, striptags, urlize, urlencode,
// wordwrap, xmlattr, filesizeformat.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>

#include "tokenizer/chat_template/builtins.h"
#include "tokenizer/chat_template/evaluator.h"
#include "tokenizer/chat_template/text.h"

namespace ts::jinja {

namespace {

using F = Value (*)(Interp&, Args&);

// jinja2's make_attrgetter: "a.b.0" looks up a, then b, then index 0, each with getitem.
Value attr_path(Interp& in, const Value& item, const Value& attribute) {
  if (!attribute.is_string()) return in.get_item(item, attribute);
  Value v = item;
  for (const std::string& part : text::split(attribute.str(), std::string("."), -1)) {
    const bool digits = !part.empty() && part.find_first_not_of("0123456789") == std::string::npos;
    v = in.get_item(v, digits ? Value(static_cast<int64_t>(std::strtoll(part.c_str(), nullptr, 10))) : Value(part));
  }
  return v;
}

// Sort / unique / min / max key: case-folded strings unless case_sensitive.
Value sort_key(Interp& in, const Value& item, const Value& attribute, bool case_sensitive) {
  Value k = attribute.is_undefined() || attribute.is_none() ? item : attr_path(in, item, attribute);
  if (!case_sensitive && k.is_string()) return Value(text::lower(k.str()));
  return k;
}

int64_t length_of(const Value& v) {
  switch (v.type()) {
    case Value::Type::kUndefined: return 0;
    case Value::Type::kString: return static_cast<int64_t>(text::length(v.str()));
    case Value::Type::kList: return static_cast<int64_t>(v.items().size());
    case Value::Type::kDict: return static_cast<int64_t>(v.entries().size());
    case Value::Type::kIterator:
      if (!v.iter().single_pass) return static_cast<int64_t>(v.iter().items.size());
      [[fallthrough]];
    default: throw Error("object of type '" + type_name(v) + "' has no len()");
  }
}

// Python float(str): surrounding whitespace, underscores between digits, inf / nan.
std::optional<double> parse_float(const std::string& s) {
  std::string t = text::strip(s, std::nullopt, true, true);
  std::string clean;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '_' && i > 0 && i + 1 < t.size() && std::isdigit(static_cast<unsigned char>(t[i - 1])) &&
        std::isdigit(static_cast<unsigned char>(t[i + 1]))) {
      continue;
    }
    clean += t[i];
  }
  if (clean.empty() || clean.find_first_of("xXpP") != std::string::npos) return std::nullopt;
  char* end = nullptr;
  const double d = std::strtod(clean.c_str(), &end);
  if (end != clean.c_str() + clean.size()) return std::nullopt;
  return d;
}

std::optional<int64_t> parse_int(const std::string& s, int base) {
  std::string t = text::strip(s, std::nullopt, true, true);
  std::string clean;
  for (char c : t) {
    if (c != '_') clean += c;
  }
  if (clean.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(clean.c_str(), &end, base);
  if (end != clean.c_str() + clean.size() || errno == ERANGE) return std::nullopt;
  return v;
}

Value to_int(const Value& v, const Value& fallback, int base) {
  if (v.is_int() || v.is_bool()) return Value(v.as_int());
  if (v.is_float()) {
    const double d = v.as_float();
    if (!std::isfinite(d) || std::fabs(d) >= 9.2e18) return fallback;
    return Value(static_cast<int64_t>(d));
  }
  if (v.is_string()) {
    if (auto i = parse_int(v.str(), base)) return Value(*i);
    if (auto d = parse_float(v.str()); d && std::isfinite(*d) && std::fabs(*d) < 9.2e18) {
      return Value(static_cast<int64_t>(*d));
    }
  }
  return fallback;
}

Value f_default(Interp&, Args& a) {
  Params p("default", a, {"value", "default_value", "boolean"});
  const Value& v = p.get(0);
  if (v.is_undefined() || (p.bool_or(2, false) && !v.truthy())) return p.get_or(1, Value(""));
  return v;
}

Value f_length(Interp&, Args& a) { return Value(length_of(Params("length", a, {"value"}).get(0))); }

Value f_first(Interp&, Args& a) {
  const Value& v = Params("first", a, {"seq"}).get(0);
  if (v.is_list()) return v.items().empty() ? Value::undefined("No first item, sequence was empty.") : v.items()[0];
  if (v.is_iterator()) {  // next(iter(x)): a generator gives up one item
    IterData& it = v.iter();
    if (it.pos >= it.items.size()) return Value::undefined("No first item, sequence was empty.");
    return it.single_pass ? it.items[it.pos++] : it.items[it.pos];
  }
  std::vector<Value> xs = iterate(v);
  return xs.empty() ? Value::undefined("No first item, sequence was empty.") : xs.front();
}

Value f_last(Interp&, Args& a) {
  const Value& v = Params("last", a, {"seq"}).get(0);
  if (v.is_list()) return v.items().empty() ? Value::undefined("No last item, sequence was empty.") : v.items().back();
  if (v.is_iterator() && v.iter().single_pass) throw Error("'" + type_name(v) + "' object is not reversible");
  std::vector<Value> xs = iterate(v);
  return xs.empty() ? Value::undefined("No last item, sequence was empty.") : xs.back();
}

Value f_join(Interp& in, Args& a) {
  Params p("join", a, {"value", "d", "attribute"});
  const std::string sep = p.has(1) ? to_str(p.get(1)) : "";
  std::string out;
  bool first = true;
  for (const Value& x : iterate(p.get(0))) {
    if (!first) out += sep;
    out += to_str(p.has(2) && !p.get(2).is_none() ? attr_path(in, x, p.get(2)) : x);
    first = false;
    in.check_size(out.size());
  }
  in.charge(out.size() / kBytesPerStep);
  return Value(std::move(out));
}

Value f_tojson(Interp& in, Args& a) {
  Params p("tojson", a, {"value", "ensure_ascii", "indent", "separators", "sort_keys"});
  JsonStyle st;
  st.ensure_ascii = p.bool_or(1, false);
  if (p.has(2) && !p.get(2).is_none()) {
    const Value& ind = p.get(2);
    if (ind.is_string()) st.indent = ind.str();
    else if (ind.is_int() || ind.is_bool()) st.indent = std::string(static_cast<size_t>(std::clamp<int64_t>(ind.as_int(), 0, 64)), ' ');
    else p.fail("indent must be an integer or a string");
    st.item_sep = ",";
  }
  if (p.has(3) && !p.get(3).is_none()) {
    const Value& sep = p.get(3);
    if (!sep.is_list() || sep.items().size() != 2 || !sep.items()[0].is_string() || !sep.items()[1].is_string()) {
      p.fail("separators must be a pair of strings");
    }
    st.item_sep = sep.items()[0].str();
    st.key_sep = sep.items()[1].str();
  }
  st.sort_keys = p.bool_or(4, false);
  std::string out = to_json(p.get(0), st);
  in.check_size(out.size());
  in.charge(1 + out.size() / 2);  // serializing costs more per byte than copying text
  return Value(std::move(out));
}

Value f_trim(Interp&, Args& a) {
  Params p("trim", a, {"value", "chars"});
  return Value(text::strip(to_str(p.get(0)), p.str_opt(1), true, true));
}

Value f_replace(Interp& in, Args& a) {
  Params p("replace", a, {"s", "old", "new", "count"});
  std::string r = text::replace(to_str(p.get(0)), to_str(p.get(1)), to_str(p.get(2)), p.int_or(3, -1));
  in.check_size(r.size());
  return Value(std::move(r));
}

Value f_items(Interp& in, Args& a) {
  const Value& v = Params("items", a, {"value"}).get(0);
  if (v.is_undefined()) return Value::iterator("generator", {}, true);
  if (!v.is_dict()) throw Error("Can only get item pairs from a mapping.");
  std::vector<Value> xs;
  for (const auto& [k, x] : v.entries()) xs.push_back(Value::list({key_value(k), x}, true));
  in.charge(xs.size());
  return Value::iterator("generator", std::move(xs), true);
}

Value f_list(Interp& in, Args& a) {
  std::vector<Value> xs = iterate(Params("list", a, {"value"}).get(0));
  in.charge(xs.size());
  return Value::list(std::move(xs));
}

// select / reject / selectattr / rejectattr: keep items whose (attribute's) test result equals `keep`.
Value select_impl(Interp& in, Args& a, bool with_attr, bool keep, const char* fn) {
  if (a.pos.empty()) throw Error(std::string(fn) + "() needs a sequence");
  size_t k = 1;
  Value attribute;
  if (with_attr) {
    if (a.pos.size() < 2) throw Error(std::string(fn) + "() needs an attribute name");
    attribute = a.pos[k++];
  }
  std::string test;
  if (a.pos.size() > k) {
    if (!a.pos[k].is_string()) throw Error(std::string(fn) + "(): the test name must be a string");
    test = a.pos[k++].str();
    if (!find_test(test)) throw Error("no test named '" + test + "'");
  }
  std::vector<Value> out;
  if (!a.pos[0].truthy()) return Value::iterator("generator", {}, true);  // jinja2 guards the loop: `if value:`
  for (const Value& item : iterate(a.pos[0])) {
    in.charge(1);
    Value subject = with_attr ? attr_path(in, item, attribute) : item;
    bool r;
    if (test.empty()) {
      r = subject.truthy();
    } else {
      Args ta;
      ta.pos.push_back(std::move(subject));
      ta.pos.insert(ta.pos.end(), a.pos.begin() + static_cast<std::ptrdiff_t>(k), a.pos.end());
      ta.kw = a.kw;
      r = in.apply_test(test, ta);
    }
    if (r == keep) out.push_back(item);
  }
  return Value::iterator("generator", std::move(out), true);
}

Value f_map(Interp& in, Args& a) {
  if (a.pos.empty()) throw Error("map() needs a sequence");
  const Value* attribute = nullptr;
  const Value* dflt = nullptr;
  for (const auto& [k, v] : a.kw) {
    if (k == "attribute") attribute = &v;
    else if (k == "default") dflt = &v;
  }
  std::vector<Value> out;
  if (!a.pos[0].truthy()) return Value::iterator("generator", {}, true);  // jinja2 guards the loop: `if value:`
  if (attribute) {
    for (const Value& item : iterate(a.pos[0])) {
      in.charge(1);
      Value v = attr_path(in, item, *attribute);
      out.push_back(v.is_undefined() && dflt ? *dflt : v);
    }
    return Value::iterator("generator", std::move(out), true);
  }
  if (a.pos.size() < 2 || !a.pos[1].is_string()) throw Error("map() needs a filter name or attribute=");
  const std::string name = a.pos[1].str();
  for (const Value& item : iterate(a.pos[0])) {
    in.charge(1);
    Args fa;
    fa.pos.push_back(item);
    fa.pos.insert(fa.pos.end(), a.pos.begin() + 2, a.pos.end());
    fa.kw = a.kw;
    out.push_back(in.apply_filter(name, fa));
  }
  return Value::iterator("generator", std::move(out), true);
}

std::vector<Value> sorted(Interp& in, std::vector<Value> xs, const Value& attribute, bool case_sensitive, bool reverse) {
  std::vector<std::pair<Value, Value>> keyed;
  for (auto& x : xs) keyed.emplace_back(sort_key(in, x, attribute, case_sensitive), std::move(x));
  in.charge(keyed.size() * 8);
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& l, const auto& r) {
    return reverse ? compare(r.first, l.first) < 0 : compare(l.first, r.first) < 0;
  });
  std::vector<Value> out;
  for (auto& kv : keyed) out.push_back(std::move(kv.second));
  return out;
}

Value f_sort(Interp& in, Args& a) {
  Params p("sort", a, {"value", "reverse", "case_sensitive", "attribute"});
  return Value::list(sorted(in, iterate(p.get(0)), p.get(3), p.bool_or(2, false), p.bool_or(1, false)));
}

Value f_dictsort(Interp& in, Args& a) {
  Params p("dictsort", a, {"value", "case_sensitive", "by", "reverse"});
  if (!p.get(0).is_dict()) p.fail("can only sort a mapping");
  const std::string by = p.str_or(2, "key");
  if (by != "key" && by != "value") p.fail("'by' must be 'key' or 'value'");
  std::vector<Value> pairs;
  for (const auto& [k, v] : p.get(0).entries()) pairs.push_back(Value::list({key_value(k), v}, true));
  return Value::list(sorted(in, std::move(pairs), Value(int64_t{by == "key" ? 0 : 1}), p.bool_or(1, false), p.bool_or(3, false)));
}

Value f_unique(Interp& in, Args& a) {
  Params p("unique", a, {"value", "case_sensitive", "attribute"});
  std::vector<Value> out, seen;
  for (const Value& x : iterate(p.get(0))) {
    Value k = sort_key(in, x, p.get(2), p.bool_or(1, false));
    in.charge(seen.size() + 1);
    if (std::none_of(seen.begin(), seen.end(), [&](const Value& s) { return equals(s, k); })) {
      seen.push_back(std::move(k));
      out.push_back(x);
    }
  }
  return Value::iterator("generator", std::move(out), true);
}

Value min_max(Interp& in, Args& a, bool want_max) {
  Params p(want_max ? "max" : "min", a, {"value", "case_sensitive", "attribute"});
  std::vector<Value> xs = iterate(p.get(0));
  if (xs.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  size_t best = 0;
  Value best_key = sort_key(in, xs[0], p.get(2), p.bool_or(1, false));
  for (size_t i = 1; i < xs.size(); ++i) {
    Value k = sort_key(in, xs[i], p.get(2), p.bool_or(1, false));
    if (want_max ? compare(k, best_key) > 0 : compare(k, best_key) < 0) {
      best = i;
      best_key = std::move(k);
    }
  }
  return xs[best];
}

Value f_sum(Interp& in, Args& a) {
  Params p("sum", a, {"iterable", "attribute", "start"});
  Value total = p.get_or(2, Value(int64_t{0}));
  for (const Value& x : iterate(p.get(0))) {
    total = binary_op(in, "+", total, p.has(1) && !p.get(1).is_none() ? attr_path(in, x, p.get(1)) : x);
  }
  return total;
}

Value f_round(Interp&, Args& a) {
  Params p("round", a, {"value", "precision", "method"});
  const Value& v = p.get(0);
  if (!v.is_number()) p.fail("needs a number, got " + type_name(v));
  const int64_t prec = std::clamp<int64_t>(p.int_or(1, 0), -308, 308);
  const std::string method = p.str_or(2, "common");
  if (method != "common" && method != "ceil" && method != "floor") p.fail("method must be common, ceil or floor");
  const double scale = std::pow(10.0, static_cast<double>(prec));
  if (method != "common") {
    const double x = v.as_float() * scale;
    return Value((method == "ceil" ? std::ceil(x) : std::floor(x)) / scale);
  }
  if (!v.is_float() && prec >= 0) return Value(v.as_int());  // Python: round(int, n) stays int
  if (prec >= 0) {
    // Python's round(x, n) rounds the exact binary value half-to-even in decimal, as glibc's printf does.
    char buf[512];
    std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(std::min<int64_t>(prec, 300)), v.as_float());
    return Value(std::strtod(buf, nullptr));
  }
  const double r = std::nearbyint(v.as_float() / (1.0 / scale)) * (1.0 / scale);
  return v.is_float() ? Value(r) : Value(static_cast<int64_t>(r));
}

Value f_indent(Interp& in, Args& a) {
  Params p("indent", a, {"s", "width", "first", "blank"});
  const std::string ind = p.has(1) && p.get(1).is_string() ? p.get(1).str()
                                                           : std::string(static_cast<size_t>(std::clamp<int64_t>(p.int_or(1, 4), 0, 256)), ' ');
  std::vector<std::string> lines = text::splitlines(to_str(p.get(0)) + "\n", false);
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += "\n";
    if (i > 0 && (p.bool_or(3, false) || !lines[i].empty())) out += ind;
    out += lines[i];
    in.check_size(out.size());
  }
  if (p.bool_or(2, false)) out = ind + out;
  return Value(std::move(out));
}

Value f_wordcount(Interp&, Args& a) {
  int64_t n = 0;
  bool in_word = false;
  for (char32_t c : text::decode(to_str(Params("wordcount", a, {"s"}).get(0)))) {
    const bool w = text::is_word_char(c);
    n += w && !in_word;
    in_word = w;
  }
  return Value(n);
}

Value f_truncate(Interp&, Args& a) {
  Params p("truncate", a, {"s", "length", "killwords", "end", "leeway"});
  const std::u32string s = text::decode(to_str(p.get(0)));
  const int64_t length = p.int_or(1, 255), leeway = p.int_or(4, 5);
  const std::u32string end = text::decode(p.str_or(3, "..."));
  if (length < static_cast<int64_t>(end.size())) p.fail("expected length >= " + std::to_string(end.size()));
  if (leeway < 0) p.fail("expected leeway >= 0");
  if (static_cast<int64_t>(s.size()) <= length + leeway) return Value(text::encode(s));
  std::u32string head = s.substr(0, static_cast<size_t>(length) - end.size());
  if (!p.bool_or(2, false)) {
    const size_t sp = head.rfind(U' ');
    if (sp != std::u32string::npos) head = head.substr(0, sp);
  }
  return Value(text::encode(head + end));
}

Value f_center(Interp&, Args& a) {
  Params p("center", a, {"value", "width"});
  const std::string s = to_str(p.get(0));
  const int64_t width = std::min<int64_t>(p.int_or(1, 80), 1 << 20), len = static_cast<int64_t>(text::length(s));
  if (width <= len) return Value(s);
  const int64_t marg = width - len, left = marg / 2 + (marg & width & 1);  // CPython's pad()
  return Value(std::string(static_cast<size_t>(left), ' ') + s + std::string(static_cast<size_t>(marg - left), ' '));
}

Value f_batch(Interp&, Args& a) {
  Params p("batch", a, {"value", "linecount", "fill_with"});
  const int64_t n = p.int_or(1, 0);
  if (n <= 0) p.fail("linecount must be positive");
  std::vector<Value> out, cur;
  for (const Value& x : iterate(p.get(0))) {
    cur.push_back(x);
    if (static_cast<int64_t>(cur.size()) == n) out.push_back(Value::list(std::exchange(cur, {})));
  }
  if (!cur.empty()) {
    if (p.has(2) && !p.get(2).is_none()) {
      while (static_cast<int64_t>(cur.size()) < n) cur.push_back(p.get(2));
    }
    out.push_back(Value::list(std::move(cur)));
  }
  return Value::iterator("generator", std::move(out), true);
}

Value f_reverse(Interp&, Args& a) {
  const Value& v = Params("reverse", a, {"value"}).get(0);
  if (v.is_string()) {
    std::u32string u = text::decode(v.str());
    std::reverse(u.begin(), u.end());
    return Value(text::encode(u));
  }
  const bool reversible = v.is_list() || v.is_dict() || (v.is_iterator() && !v.iter().single_pass);
  std::vector<Value> xs = iterate(v);
  std::reverse(xs.begin(), xs.end());
  // reversed(x) where Python can (an iterator), else list(x) reversed.
  if (reversible) return Value::iterator(v.is_list() ? "list_reverseiterator" : "reversed", std::move(xs), true);
  return Value::list(std::move(xs));
}

Value f_abs(Interp&, Args& a) {
  const Value& v = Params("abs", a, {"x"}).get(0);
  if (v.is_float()) return Value(std::fabs(v.as_float()));
  if (v.is_int() || v.is_bool()) {
    if (v.as_int() == INT64_MIN) throw Error("integer overflow");
    return Value(v.as_int() < 0 ? -v.as_int() : v.as_int());
  }
  throw Error("bad operand type for abs(): '" + type_name(v) + "'");
}

Value f_attr(Interp&, Args& a) {
  Params p("attr", a, {"obj", "name"});
  const std::string name = p.str_or(1, "");
  if (auto m = method(p.get(0), name)) return *m;
  if (p.get(0).is_namespace()) {
    if (const Value* v = p.get(0).ns().find(name)) return *v;
  }
  return Value::undefined("'" + type_name(p.get(0)) + " object' has no attribute '" + name + "'");
}

Value f_format(Interp& in, Args& a) {
  if (a.pos.empty()) throw Error("format() needs a format string");
  if (!a.kw.empty()) throw Error("format() with keyword arguments is not supported");
  std::vector<Value> rest(a.pos.begin() + 1, a.pos.end());
  return binary_op(in, "%", Value(to_str(a.pos[0])), Value::list(std::move(rest), true));
}

Value str_filter(Args& a, const char* name, std::string (*fn)(std::string_view)) {
  return Value(fn(to_str(Params(name, a, {"s"}).get(0))));
}

const std::unordered_map<std::string_view, Builtin>& filters() {
  static const std::unordered_map<std::string_view, Builtin> m = [] {
    std::unordered_map<std::string_view, Builtin> t = {
        {"default", f_default}, {"d", f_default}, {"length", f_length}, {"count", f_length},
        {"first", f_first}, {"last", f_last}, {"join", f_join}, {"tojson", f_tojson}, {"trim", f_trim},
        {"replace", f_replace}, {"items", f_items}, {"list", f_list}, {"map", f_map}, {"sort", f_sort},
        {"dictsort", f_dictsort}, {"unique", f_unique}, {"sum", f_sum}, {"round", f_round}, {"indent", f_indent},
        {"wordcount", f_wordcount}, {"truncate", f_truncate}, {"center", f_center}, {"batch", f_batch},
        {"reverse", f_reverse}, {"abs", f_abs}, {"attr", f_attr}, {"format", f_format},
        {"max", [](Interp& in, Args& a) { return min_max(in, a, true); }},
        {"min", [](Interp& in, Args& a) { return min_max(in, a, false); }},
        {"select", [](Interp& in, Args& a) { return select_impl(in, a, false, true, "select"); }},
        {"reject", [](Interp& in, Args& a) { return select_impl(in, a, false, false, "reject"); }},
        {"selectattr", [](Interp& in, Args& a) { return select_impl(in, a, true, true, "selectattr"); }},
        {"rejectattr", [](Interp& in, Args& a) { return select_impl(in, a, true, false, "rejectattr"); }},
        {"upper", [](Interp&, Args& a) { return str_filter(a, "upper", text::upper); }},
        {"lower", [](Interp&, Args& a) { return str_filter(a, "lower", text::lower); }},
        {"capitalize", [](Interp&, Args& a) { return str_filter(a, "capitalize", text::capitalize); }},
        {"title", [](Interp&, Args& a) { return str_filter(a, "title", text::jinja_title); }},
        {"string", [](Interp&, Args& a) {
           const Value& v = Params("string", a, {"value"}).get(0);
           return v.is_string() ? v : Value(to_str(v));  // a Markup stays Markup
         }},
        {"safe", [](Interp&, Args& a) { return Value::markup(to_str(Params("safe", a, {"value"}).get(0))); }},
        {"escape", [](Interp&, Args& a) {
           const Value& v = Params("escape", a, {"s"}).get(0);
           return v.is_markup() ? v : Value::markup(text::html_escape(to_str(v)));
         }},
        {"forceescape", [](Interp&, Args& a) {
           return Value::markup(text::html_escape(to_str(Params("forceescape", a, {"value"}).get(0))));
         }},
        {"int", [](Interp&, Args& a) {
           Params p("int", a, {"value", "default", "base"});
           return to_int(p.get(0), p.get_or(1, Value(int64_t{0})), static_cast<int>(std::clamp<int64_t>(p.int_or(2, 10), 0, 36)));
         }},
        {"float", [](Interp&, Args& a) {
           Params p("float", a, {"value", "default"});
           const Value& v = p.get(0);
           if (v.is_number()) return Value(v.as_float());
           if (v.is_string()) {
             if (auto d = parse_float(v.str())) return Value(*d);
           }
           return p.get_or(1, Value(0.0));
         }},
    };
    t.emplace("e", t.at("escape"));
    return t;
  }();
  return m;
}

}  // namespace

const Builtin* find_filter(std::string_view name) {
  auto it = filters().find(name);
  return it == filters().end() ? nullptr : &it->second;
}

}  // namespace ts::jinja
