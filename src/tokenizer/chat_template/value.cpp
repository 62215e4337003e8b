// Values with Python behaviour for the chat-template interpreter (see value.h).
#include "tokenizer/chat_template/value.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "tokenizer/chat_template/text.h"

namespace ts::jinja {

namespace {

const std::vector<Value>& empty_list() {
  static const std::vector<Value> e;
  return e;
}

void check_depth(int depth) {
  if (depth > kMaxDepth) throw Error("values nested deeper than " + std::to_string(kMaxDepth) + " levels");
}

}  // namespace

Value Value::undefined(std::string hint) {
  Value v;
  v.v_ = Undef{std::make_shared<const std::string>(std::move(hint))};
  return v;
}

Value Value::none() {
  Value v;
  v.v_ = std::monostate{};
  return v;
}

Value::Value(std::string s) : v_(std::make_shared<const StrData>(StrData{std::move(s), false})) {}

Value Value::markup(std::string s) {
  Value v;
  v.v_ = std::make_shared<const StrData>(StrData{std::move(s), true});
  return v;
}

Value Value::list(std::vector<Value> items, bool tuple) {
  auto d = std::make_shared<ListData>();
  int depth = 0;
  bool ns = false;
  for (const auto& x : items) {
    depth = std::max(depth, x.depth());
    ns = ns || x.holds_namespace();
  }
  check_depth(depth + 1);
  d->items = std::move(items);
  d->tuple = tuple;
  d->depth = depth + 1;
  d->holds_namespace = ns;
  Value v;
  v.v_ = std::shared_ptr<const ListData>(std::move(d));
  return v;
}

Value Value::dict(Items items) {
  Items unique;
  unique.reserve(items.size());
  std::unordered_map<std::string, size_t> index;  // key -> position, so a large literal stays linear
  for (auto& [k, x] : items) {
    auto [it, fresh] = index.emplace(k, unique.size());
    if (fresh) {
      unique.emplace_back(std::move(k), std::move(x));
    } else {
      unique[it->second].second = std::move(x);
    }
  }
  return dict_unique(std::move(unique));
}

Value Value::dict_unique(Items items) {
  auto d = std::make_shared<DictData>();
  int depth = 0;
  bool ns = false;
  for (const auto& [k, x] : items) {
    depth = std::max(depth, x.depth());
    ns = ns || x.holds_namespace();
  }
  d->items = std::move(items);
  check_depth(depth + 1);
  d->depth = depth + 1;
  d->holds_namespace = ns;
  Value v;
  v.v_ = std::shared_ptr<const DictData>(std::move(d));
  return v;
}

Value Value::new_namespace(Items attrs) {
  auto d = std::make_shared<NamespaceData>();
  for (auto& [k, x] : attrs) d->set(k, std::move(x));
  Value v;
  v.v_ = std::move(d);
  return v;
}

Value Value::callable(std::string name, Builtin fn) {
  auto d = std::make_shared<CallableData>();
  d->name = std::move(name);
  d->fn = std::move(fn);
  Value v;
  v.v_ = std::shared_ptr<const CallableData>(std::move(d));
  return v;
}

Value Value::macro(std::string name, const Stmt* def, std::shared_ptr<Scope> closure) {
  auto d = std::make_shared<CallableData>();
  d->name = std::move(name);
  d->macro = def;
  d->closure = std::move(closure);
  Value v;
  v.v_ = std::shared_ptr<const CallableData>(std::move(d));
  return v;
}

Value Value::iterator(std::string kind, std::vector<Value> items, bool single_pass) {
  auto d = std::make_shared<IterData>();
  int depth = 0;
  bool ns = false;
  for (const auto& x : items) {
    depth = std::max(depth, x.depth());
    ns = ns || x.holds_namespace();
  }
  check_depth(depth + 1);
  d->kind = std::move(kind);
  d->items = std::move(items);
  d->single_pass = single_pass;
  d->depth = depth + 1;
  d->holds_namespace = ns;
  Value v;
  v.v_ = std::move(d);
  return v;
}

std::vector<Value> IterData::take_rest() {
  std::vector<Value> rest(items.begin() + static_cast<std::ptrdiff_t>(std::min(pos, items.size())), items.end());
  if (single_pass) pos = items.size();
  return rest;
}

bool Value::is_tuple() const { return is_list() && std::get<std::shared_ptr<const ListData>>(v_)->tuple; }

int64_t Value::as_int() const { return is_bool() ? (as_bool() ? 1 : 0) : std::get<int64_t>(v_); }

double Value::as_float() const {
  if (is_float()) return std::get<double>(v_);
  return static_cast<double>(as_int());
}

const std::vector<Value>& Value::items() const {
  return is_list() ? std::get<std::shared_ptr<const ListData>>(v_)->items : empty_list();
}

const Items& Value::entries() const {
  static const Items empty;
  return is_dict() ? std::get<std::shared_ptr<const DictData>>(v_)->items : empty;
}

const Value* Value::find(std::string_view key) const {
  for (const auto& [k, v] : entries()) {
    if (k == key) return &v;
  }
  return nullptr;
}

const std::string& Value::undefined_hint() const {
  static const std::string none;
  const auto* u = std::get_if<Undef>(&v_);
  return u && u->hint ? *u->hint : none;
}

int Value::depth() const {
  switch (type()) {
    case Type::kList: return std::get<std::shared_ptr<const ListData>>(v_)->depth;
    case Type::kDict: return std::get<std::shared_ptr<const DictData>>(v_)->depth;
    case Type::kNamespace: return ns().depth;
    case Type::kIterator: return iter().depth;
    default: return 0;
  }
}

bool Value::holds_namespace() const {
  switch (type()) {
    case Type::kList: return std::get<std::shared_ptr<const ListData>>(v_)->holds_namespace;
    case Type::kDict: return std::get<std::shared_ptr<const DictData>>(v_)->holds_namespace;
    case Type::kNamespace: return true;
    case Type::kIterator: return iter().holds_namespace;
    default: return false;
  }
}

bool Value::truthy() const {
  switch (type()) {
    case Type::kUndefined:
    case Type::kNone: return false;
    case Type::kBool: return as_bool();
    case Type::kInt: return as_int() != 0;
    case Type::kFloat: return as_float() != 0.0;
    case Type::kString: return !str().empty();
    case Type::kList: return !items().empty();
    case Type::kDict: return !entries().empty();
    case Type::kIterator: return iter().single_pass || !iter().items.empty();  // a generator is always true
    default: return true;
  }
}

bool Value::same_object(const Value& o) const {
  if (type() != o.type()) return false;
  switch (type()) {
    case Type::kUndefined:
    case Type::kNone: return true;
    case Type::kBool:
    case Type::kInt:
    case Type::kFloat: return equals(*this, o);  // CPython caches small ints; close enough for `sameas`
    case Type::kString: return str() == o.str();
    case Type::kList: return &items() == &o.items();
    case Type::kDict: return &entries() == &o.entries();
    case Type::kNamespace: return &ns() == &o.ns();
    case Type::kCallable: return &fn() == &o.fn();
    case Type::kIterator: return &iter() == &o.iter();
  }
  return false;
}

const Value* NamespaceData::find(std::string_view key) const {
  for (const auto& [k, v] : attrs) {
    if (k == key) return &v;
  }
  return nullptr;
}

void NamespaceData::set(const std::string& key, Value v) {
  if (v.holds_namespace()) throw Error("a namespace cannot hold another namespace");
  check_depth(v.depth() + 1);
  depth = std::max(depth, v.depth() + 1);
  for (auto& [k, x] : attrs) {
    if (k == key) {
      x = std::move(v);
      return;
    }
  }
  attrs.emplace_back(key, std::move(v));
}

std::string dict_key(const Value& k) {
  switch (k.type()) {
    case Value::Type::kString: return k.str();
    case Value::Type::kNone: return "\xFFn";
    case Value::Type::kBool:
    case Value::Type::kInt: return "\xFFi" + std::to_string(k.as_int());
    case Value::Type::kFloat: {
      const double f = k.as_float();
      if (std::floor(f) == f && std::fabs(f) < 9.2e18) return "\xFFi" + std::to_string(static_cast<int64_t>(f));
      return "\xFF" "f" + text::float_repr(f);
    }
    case Value::Type::kList:
      if (k.is_tuple()) {
        std::string s = "\xFFt";
        for (const auto& x : k.items()) {
          const std::string e = dict_key(x);
          s += std::to_string(e.size()) + ":" + e;
        }
        return s;
      }
      [[fallthrough]];
    default: throw Error("unhashable type: '" + type_name(k) + "'");
  }
}

Value key_value(const std::string& k) {
  if (k.empty() || static_cast<unsigned char>(k[0]) != 0xFF) return Value(k);
  if (k.size() >= 2 && k[1] == 'i') return Value(static_cast<int64_t>(std::strtoll(k.c_str() + 2, nullptr, 10)));
  if (k.size() >= 2 && k[1] == 'f') return Value(std::strtod(k.c_str() + 2, nullptr));
  if (k.size() >= 2 && k[1] == 't') {
    std::vector<Value> xs;
    for (size_t i = 2; i < k.size();) {
      const size_t colon = k.find(':', i);
      const size_t n = std::strtoull(k.c_str() + i, nullptr, 10);
      xs.push_back(key_value(k.substr(colon + 1, n)));
      i = colon + 1 + n;
    }
    return Value::list(std::move(xs), true);
  }
  return Value::none();
}

std::string type_name(const Value& v) {
  switch (v.type()) {
    case Value::Type::kUndefined: return "Undefined";
    case Value::Type::kNone: return "NoneType";
    case Value::Type::kBool: return "bool";
    case Value::Type::kInt: return "int";
    case Value::Type::kFloat: return "float";
    case Value::Type::kString: return "str";
    case Value::Type::kList: return v.is_tuple() ? "tuple" : "list";
    case Value::Type::kDict: return "dict";
    case Value::Type::kNamespace: return "Namespace";
    case Value::Type::kCallable: return v.fn().macro ? "Macro" : "function";
    case Value::Type::kIterator: return v.iter().kind;
  }
  return "object";
}

std::string to_str(const Value& v) {
  switch (v.type()) {
    case Value::Type::kUndefined: return "";
    case Value::Type::kString: return v.str();
    default: return repr(v);
  }
}

std::string repr(const Value& v) {
  switch (v.type()) {
    case Value::Type::kUndefined: return "Undefined";
    case Value::Type::kNone: return "None";
    case Value::Type::kBool: return v.as_bool() ? "True" : "False";
    case Value::Type::kInt: return std::to_string(v.as_int());
    case Value::Type::kFloat: return text::float_repr(v.as_float());
    case Value::Type::kString: return text::repr(v.str());
    case Value::Type::kList: {
      const bool t = v.is_tuple();
      std::string out = t ? "(" : "[";
      const auto& xs = v.items();
      for (size_t i = 0; i < xs.size(); ++i) out += (i ? ", " : "") + repr(xs[i]);
      if (t && xs.size() == 1) out += ",";
      return out + (t ? ")" : "]");
    }
    case Value::Type::kDict:
    case Value::Type::kNamespace: {
      const Items& es = v.is_dict() ? v.entries() : v.ns().attrs;
      std::string out = "{";
      for (size_t i = 0; i < es.size(); ++i) out += (i ? ", " : "") + repr(key_value(es[i].first)) + ": " + repr(es[i].second);
      out += "}";
      return v.is_dict() ? out : "<Namespace " + out + ">";
    }
    case Value::Type::kIterator: {
      const IterData& it = v.iter();
      if (it.single_pass) return "<" + it.kind + " object>";
      std::string out = it.kind + "([";
      for (size_t i = 0; i < it.items.size(); ++i) out += (i ? ", " : "") + repr(it.items[i]);
      return out + "])";
    }
    case Value::Type::kCallable:
      return v.fn().macro ? "<Macro " + text::repr(v.fn().name) + ">" : "<built-in function " + v.fn().name + ">";
  }
  return "";
}

bool equals(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_float() == b.as_float();
    return a.as_int() == b.as_int();
  }
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Value::Type::kUndefined:
    case Value::Type::kNone: return true;
    case Value::Type::kString: return a.str() == b.str();
    case Value::Type::kList: {
      if (a.is_tuple() != b.is_tuple() || a.items().size() != b.items().size()) return false;
      for (size_t i = 0; i < a.items().size(); ++i) {
        if (!equals(a.items()[i], b.items()[i])) return false;
      }
      return true;
    }
    case Value::Type::kDict: {
      if (a.entries().size() != b.entries().size()) return false;
      for (const auto& [k, x] : a.entries()) {
        const Value* y = b.find(k);
        if (!y || !equals(x, *y)) return false;
      }
      return true;
    }
    default: return a.same_object(b);
  }
}

int compare(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) {
      const double x = a.as_float(), y = b.as_float();
      return x < y ? -1 : (y < x ? 1 : 0);
    }
    const int64_t x = a.as_int(), y = b.as_int();
    return x < y ? -1 : (y < x ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    const int c = a.str().compare(b.str());  // UTF-8 byte order is code-point order
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
    const auto& x = a.items();
    const auto& y = b.items();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (!equals(x[i], y[i])) return compare(x[i], y[i]);
    }
    return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
  }
  if (a.is_undefined() || b.is_undefined()) {
    throw Error(a.is_undefined() && !a.undefined_hint().empty() ? a.undefined_hint() : b.undefined_hint());
  }
  throw Error("'<' not supported between instances of '" + type_name(a) + "' and '" + type_name(b) + "'");
}

namespace {

std::string quote(std::string_view s, const JsonStyle& st) {
  std::string q = text::json_quote(s);
  if (!st.ensure_ascii || text::is_ascii(q)) return q;
  std::string out;
  char buf[16];
  for (char32_t c : text::decode(q)) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x10000) {
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      const uint32_t v = static_cast<uint32_t>(c) - 0x10000;
      std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
      out += buf;
    }
  }
  return out;
}

// json.dumps turns non-string keys into strings: 1 -> "1", 1.5 -> "1.5", True -> "true", None -> "null".
std::string json_key(const std::string& k, const JsonStyle& st) {
  const Value v = key_value(k);
  if (v.is_string()) return quote(v.str(), st);
  if (v.is_none()) return "\"null\"";
  if (v.is_float()) return "\"" + text::float_repr(v.as_float()) + "\"";
  if (v.is_int()) return "\"" + std::to_string(v.as_int()) + "\"";
  throw Error("keys must be str, int, float, bool or None, not tuple");
}

void json_into(std::string& out, const Value& v, const JsonStyle& st, int level) {
  auto newline = [&](int lv) {
    if (!st.indent) return;
    out += '\n';
    for (int i = 0; i < lv; ++i) out += *st.indent;
  };
  switch (v.type()) {
    case Value::Type::kNone: out += "null"; return;
    case Value::Type::kBool: out += v.as_bool() ? "true" : "false"; return;
    case Value::Type::kInt: out += std::to_string(v.as_int()); return;
    case Value::Type::kFloat: {
      const double f = v.as_float();
      if (std::isnan(f)) out += "NaN";
      else if (std::isinf(f)) out += f < 0 ? "-Infinity" : "Infinity";
      else out += text::float_repr(f);
      return;
    }
    case Value::Type::kString: out += quote(v.str(), st); return;
    case Value::Type::kList: {
      const auto& xs = v.items();
      if (xs.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t i = 0; i < xs.size(); ++i) {
        if (i) out += st.item_sep;
        newline(level + 1);
        json_into(out, xs[i], st, level + 1);
      }
      newline(level);
      out += ']';
      return;
    }
    case Value::Type::kDict: {
      std::vector<const std::pair<std::string, Value>*> es;
      for (const auto& e : v.entries()) es.push_back(&e);
      if (es.empty()) {
        out += "{}";
        return;
      }
      if (st.sort_keys) std::stable_sort(es.begin(), es.end(), [](auto* a, auto* b) { return a->first < b->first; });
      out += '{';
      for (size_t i = 0; i < es.size(); ++i) {
        if (i) out += st.item_sep;
        newline(level + 1);
        out += json_key(es[i]->first, st);
        out += st.key_sep;
        json_into(out, es[i]->second, st, level + 1);
      }
      newline(level);
      out += '}';
      return;
    }
    default: throw Error("Object of type " + type_name(v) + " is not JSON serializable");
  }
}

Value from_json_at(const nlohmann::ordered_json& j, int depth) {
  if (depth > kMaxDepth) throw Error("JSON input nested deeper than " + std::to_string(kMaxDepth) + " levels");
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null: return Value::none();
    case nlohmann::ordered_json::value_t::boolean: return Value(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return Value(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const uint64_t u = j.get<uint64_t>();
      if (u <= static_cast<uint64_t>(INT64_MAX)) return Value(static_cast<int64_t>(u));
      return Value(static_cast<double>(u));
    }
    case nlohmann::ordered_json::value_t::number_float: return Value(j.get<double>());
    case nlohmann::ordered_json::value_t::string: return Value(j.get_ref<const std::string&>());
    case nlohmann::ordered_json::value_t::array: {
      std::vector<Value> xs;
      xs.reserve(j.size());
      for (const auto& e : j) xs.push_back(from_json_at(e, depth + 1));
      return Value::list(std::move(xs));
    }
    case nlohmann::ordered_json::value_t::object: {
      Items es;
      es.reserve(j.size());
      for (auto it = j.begin(); it != j.end(); ++it) es.emplace_back(it.key(), from_json_at(it.value(), depth + 1));
      return Value::dict_unique(std::move(es));  // a parsed JSON object has unique keys
    }
    default: return Value::none();  // binary / discarded: not produced by the JSON parser
  }
}

}  // namespace

std::string to_json(const Value& v, const JsonStyle& style) {
  std::string out;
  json_into(out, v, style, 0);
  return out;
}

Value from_json(const nlohmann::ordered_json& j) { return from_json_at(j, 0); }

}  // namespace ts::jinja
