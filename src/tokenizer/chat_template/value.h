// The values a chat template computes with, and their Python behaviour: none, bool, int, float, str, list (and
// tuple), dict (insertion-ordered, string keys), Jinja2 namespace, callables (builtins, bound methods, macros), and
// Jinja2's default Undefined (prints as "", is falsy, iterates as empty; arithmetic, attribute access, indexing and
// calls on it raise, as jinja2.Undefined does).
//
// Values are cheap to copy: strings, lists and dicts are shared and immutable (HF renders in an
// ImmutableSandboxedEnvironment, where templates cannot modify them); only a namespace is shared and mutable.
// Every container records its nesting depth, and creating one deeper than kMaxDepth raises, so printing,
// comparing, serializing and destroying values never recurses without bound. A namespace cannot be stored inside a
// namespace (jinja2 allows it; no template needs it), which rules out cycles.
//
// Errors inside the interpreter are thrown as jinja::Error and become an Expected error at the API boundary
// (chat_template.cpp); nothing escapes it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ts::jinja {

inline constexpr int kMaxDepth = 256;  // nesting of lists / dicts / namespaces

// Raised by anything in the interpreter; `line` 0 means "where the evaluator currently is".
struct Error : std::runtime_error {
  explicit Error(const std::string& msg, int line_ = 0, bool raised_ = false)
      : std::runtime_error(msg), line(line_), raised(raised_) {}
  int line;
  bool raised;  // from raise_exception(): the template's own message
};

class Value;
class Interp;
struct Stmt;
struct Scope;
using Items = std::vector<std::pair<std::string, Value>>;

struct Args {
  std::vector<Value> pos;
  Items kw;
};
using Builtin = std::function<Value(Interp&, Args&)>;

struct ListData;
struct DictData;
struct NamespaceData;
struct CallableData;
struct IterData;

class Value {
 public:
  enum class Type : uint8_t {
    kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kNamespace, kCallable, kIterator
  };

  Value() = default;  // undefined
  static Value undefined(std::string hint);  // hint: the message an operation on it raises
  static Value none();
  Value(bool b) : v_(b) {}              // NOLINT: implicit, as literals read naturally
  Value(int64_t i) : v_(i) {}           // NOLINT
  Value(int i) : v_(int64_t{i}) {}      // NOLINT
  Value(double f) : v_(f) {}            // NOLINT
  Value(std::string s);                 // NOLINT
  Value(std::string_view s) : Value(std::string(s)) {}  // NOLINT
  Value(const char* s) : Value(std::string(s)) {}       // NOLINT
  static Value list(std::vector<Value> items, bool tuple = false);
  static Value dict(Items items);  // a later duplicate key replaces the earlier value, in its place
  static Value dict_unique(Items items);  // the caller guarantees unique keys (JSON objects, loop objects)
  static Value new_namespace(Items attrs);
  static Value callable(std::string name, Builtin fn);
  static Value macro(std::string name, const Stmt* def, std::shared_ptr<Scope> closure);
  // What jinja2's map/select/selectattr/unique/items filters return (a generator, used up by one pass), or a dict
  // view (dict.items() / keys() / values(): sized, reusable). Neither can be indexed or serialized to JSON.
  static Value iterator(std::string kind, std::vector<Value> items, bool single_pass);

  Type type() const { return static_cast<Type>(v_.index()); }
  bool is_undefined() const { return type() == Type::kUndefined; }
  bool is_none() const { return type() == Type::kNone; }
  bool is_bool() const { return type() == Type::kBool; }
  bool is_int() const { return type() == Type::kInt; }
  bool is_float() const { return type() == Type::kFloat; }
  bool is_number() const { return is_int() || is_float() || is_bool(); }  // Python: bool is an int
  bool is_string() const { return type() == Type::kString; }
  bool is_list() const { return type() == Type::kList; }
  bool is_tuple() const;
  bool is_dict() const { return type() == Type::kDict; }
  bool is_namespace() const { return type() == Type::kNamespace; }
  bool is_callable() const { return type() == Type::kCallable; }
  bool is_iterator() const { return type() == Type::kIterator; }

  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const;    // int or bool
  double as_float() const;   // int, float or bool
  const std::string& str() const { return std::get<std::shared_ptr<const StrData>>(v_)->text; }
  // markupsafe.Markup, made by |safe and |escape: with autoescaping off it prints as plain text, but `+` escapes
  // the plain-string operand (Markup("<b>") + "&" == "<b>&amp;"), which a few templates run into.
  static Value markup(std::string s);
  bool is_markup() const { return is_string() && std::get<std::shared_ptr<const StrData>>(v_)->markup; }
  const std::vector<Value>& items() const;  // list / tuple
  const Items& entries() const;             // dict
  const Value* find(std::string_view key) const;  // dict key lookup
  NamespaceData& ns() const { return *std::get<std::shared_ptr<NamespaceData>>(v_); }
  const CallableData& fn() const { return *std::get<std::shared_ptr<const CallableData>>(v_); }
  IterData& iter() const { return *std::get<std::shared_ptr<IterData>>(v_); }
  const std::string& undefined_hint() const;

  int depth() const;            // 0 for scalars
  bool holds_namespace() const;
  bool truthy() const;          // Python bool()
  bool same_object(const Value& o) const;  // Python `is`

 private:
  struct Undef {
    std::shared_ptr<const std::string> hint;
  };
  struct StrData {
    std::string text;
    bool markup = false;
  };
  std::variant<Undef, std::monostate, bool, int64_t, double, std::shared_ptr<const StrData>,
               std::shared_ptr<const ListData>, std::shared_ptr<const DictData>, std::shared_ptr<NamespaceData>,
               std::shared_ptr<const CallableData>, std::shared_ptr<IterData>>
      v_;
};

struct ListData {
  std::vector<Value> items;
  bool tuple = false;
  int depth = 1;
  bool holds_namespace = false;
};
struct DictData {
  Items items;
  int depth = 1;
  bool holds_namespace = false;
};
struct NamespaceData {
  Items attrs;
  int depth = 1;
  const Value* find(std::string_view key) const;
  void set(const std::string& key, Value v);  // raises when v holds a namespace or is too deep
};
struct IterData {
  std::string kind;  // Python type name: generator, dict_items, dict_keys, dict_values, list_reverseiterator
  std::vector<Value> items;
  bool single_pass = true;  // a generator is used up by iterating it; a dict view is not
  size_t pos = 0;           // items before pos have been consumed
  int depth = 1;
  bool holds_namespace = false;
  std::vector<Value> take_rest();  // the items not consumed yet, consuming them when single_pass
};
struct CallableData {
  std::string name;
  Builtin fn;                      // a builtin or bound method
  const Stmt* macro = nullptr;     // or a macro defined by the template
  // The scope the macro was defined in. Weak, because that scope holds the macro (a cycle that would leak); the
  // interpreter keeps such scopes alive until the render ends.
  std::weak_ptr<Scope> closure;
};

// Python type name as error messages show it: "str", "int", "dict", "NoneType", "Undefined", ...
std::string type_name(const Value& v);
// Python str(v) (Undefined prints as ""), and repr(v).
std::string to_str(const Value& v);
std::string repr(const Value& v);
// Python ==, and <-style ordering (-1, 0, 1); ordering unlike types raises as Python's TypeError does.
bool equals(const Value& a, const Value& b);
int compare(const Value& a, const Value& b);

// json.dumps(v, ensure_ascii=False, indent, separators, sort_keys) as HF's tojson filter calls it. `indent`
// nullopt: one line; otherwise the string each level is indented with.
struct JsonStyle {
  std::optional<std::string> indent;
  std::string item_sep = ", ", key_sep = ": ";
  bool sort_keys = false;
  bool ensure_ascii = false;  // escape non-ASCII as \uXXXX (surrogate pairs above U+FFFF)
};
std::string to_json(const Value& v, const JsonStyle& style);

// Dict keys are strings. Other hashable keys (int, float, bool, None: `{0: 0, 512: 128}` in real templates) are
// stored under an encoded string that no UTF-8 text equals (it starts with byte 0xFF); as in Python, 1, 1.0 and
// True are one key. dict_key raises for unhashable keys (list, dict, namespace); key_value decodes.
std::string dict_key(const Value& k);
Value key_value(const std::string& k);

// JSON (parsed with key order kept) to values: objects become dicts in document order.
Value from_json(const nlohmann::ordered_json& j);

}  // namespace ts::jinja
