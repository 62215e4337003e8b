// Python operator semantics for chat templates: arithmetic, concatenation and repetition, `in`, iteration,
// slicing, and printf-style `str % args`. Integers are 64-bit: where Python would grow a big integer we raise.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "tokenizer/chat_template/evaluator.h"
#include "tokenizer/chat_template/text.h"

namespace ts::jinja {

namespace {

[[noreturn]] void unsupported(const std::string& op, const Value& a, const Value& b) {
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  if (op == "+" && (a.is_string() || a.is_list())) {  // CPython's wording for str + x and list + x
    throw Error("can only concatenate " + type_name(a) + " (not \"" + type_name(b) + "\") to " + type_name(a));
  }
  throw Error("unsupported operand type(s) for " + op + ": '" + type_name(a) + "' and '" + type_name(b) + "'");
}

// Copying list elements is charged more than one step, so that the work limit also bounds the memory a template
// can fill with list doubling (20M steps / 4 = 5M elements of 24 bytes).
constexpr uint64_t kStepsPerElement = 4;

[[noreturn]] void overflow() { throw Error("integer overflow (integers in chat templates are 64-bit)"); }

int64_t add_checked(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) overflow();
  return r;
}
int64_t sub_checked(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_sub_overflow(a, b, &r)) overflow();
  return r;
}
int64_t mul_checked(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) overflow();
  return r;
}

Value repeat(Interp& in, const Value& seq, int64_t n) {
  if (n <= 0) return seq.is_string() ? Value("") : Value::list({}, seq.is_tuple());
  if (seq.is_string()) {
    const std::string& s = seq.str();
    if (!s.empty() && static_cast<uint64_t>(n) > (uint64_t{1} << 40) / s.size()) in.check_size(SIZE_MAX);
    in.check_size(s.size() * static_cast<size_t>(n));
    in.charge(s.size() * static_cast<uint64_t>(n) / kBytesPerStep);
    std::string out;
    out.reserve(s.size() * static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) out += s;
    return Value(std::move(out));
  }
  const auto& xs = seq.items();
  if (!xs.empty() && static_cast<uint64_t>(n) > (uint64_t{1} << 40) / xs.size()) in.charge(UINT64_MAX / 2);
  in.charge(kStepsPerElement * xs.size() * static_cast<uint64_t>(n));
  std::vector<Value> out;
  out.reserve(xs.size() * static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), xs.begin(), xs.end());
  return Value::list(std::move(out), seq.is_tuple());
}

// printf-style formatting, as Python's str % args: %s %r %d %i %f %F %e %E %g %G %x %X %o %c %%, with flags,
// width and precision.
std::string percent_format(const std::string& fmt, const Value& args) {
  std::vector<Value> vals = args.is_tuple() ? args.items() : std::vector<Value>{args};
  size_t next = 0;
  std::string out;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    size_t j = i + 1;
    std::string flags;
    while (j < fmt.size() && std::string_view("-+ #0").find(fmt[j]) != std::string_view::npos) flags += fmt[j++];
    int width = 0, precision = -1;
    while (j < fmt.size() && fmt[j] >= '0' && fmt[j] <= '9') width = std::min(width * 10 + (fmt[j++] - '0'), 4096);
    if (j < fmt.size() && fmt[j] == '.') {
      ++j;
      precision = 0;
      while (j < fmt.size() && fmt[j] >= '0' && fmt[j] <= '9') {
        precision = std::min(precision * 10 + (fmt[j++] - '0'), 400);
      }
    }
    if (j >= fmt.size()) throw Error("incomplete format");
    const char conv = fmt[j];
    i = j;
    if (conv == '%') {
      out += '%';
      continue;
    }
    if (next >= vals.size()) throw Error("not enough arguments for format string");
    const Value& v = vals[next++];
    const std::string spec = "%" + flags + (width ? std::to_string(width) : "") +
                             (precision >= 0 ? "." + std::to_string(precision) : "");
    char buf[1024];
    if (conv == 's' || conv == 'r') {
      std::string s = conv == 's' ? to_str(v) : repr(v);
      if (precision >= 0) {
        std::u32string u = text::decode(s);
        if (u.size() > static_cast<size_t>(precision)) s = text::encode(u.substr(0, static_cast<size_t>(precision)));
      }
      const size_t len = text::length(s);
      const std::string pad = static_cast<size_t>(width) > len ? std::string(width - len, ' ') : "";
      out += flags.find('-') != std::string::npos ? s + pad : pad + s;
    } else if (conv == 'd' || conv == 'i' || conv == 'x' || conv == 'X' || conv == 'o' || conv == 'c') {
      if (!v.is_number()) throw Error("%" + std::string(1, conv) + " format: a number is required, not " + type_name(v));
      const long long n = v.is_float() ? static_cast<long long>(v.as_float()) : static_cast<long long>(v.as_int());
      if (conv == 'c') {
        if (n < 0 || n > 0x10FFFF) throw Error("%c arg not in range(0x110000)");
        text::append(out, static_cast<char32_t>(n));
        continue;
      }
      std::snprintf(buf, sizeof buf, (spec + "ll" + (conv == 'i' ? 'd' : conv)).c_str(), n);
      out += buf;
    } else if (std::string_view("fFeEgG").find(conv) != std::string_view::npos) {
      if (!v.is_number()) throw Error("%" + std::string(1, conv) + " format: a number is required, not " + type_name(v));
      std::snprintf(buf, sizeof buf, (spec + conv).c_str(), v.as_float());
      out += buf;
    } else {
      throw Error(std::string("unsupported format character '") + conv + "'");
    }
  }
  if (next < vals.size() && args.is_tuple()) throw Error("not all arguments converted during string formatting");
  return out;
}

}  // namespace

Value binary_op(Interp& in, const std::string& op, const Value& a, const Value& b) {
  if (op == "~") {
    std::string s = to_str(a) + to_str(b);
    in.check_size(s.size());
    in.charge(s.size() / kBytesPerStep);
    return Value(std::move(s));
  }
  const bool nums = a.is_number() && b.is_number();
  const bool ints = nums && !a.is_float() && !b.is_float();
  if (op == "+") {
    if (ints) return Value(add_checked(a.as_int(), b.as_int()));
    if (nums) return Value(a.as_float() + b.as_float());
    if (a.is_string() && b.is_string() && (a.is_markup() || b.is_markup())) {  // Markup.__add__ / __radd__
      std::string s = (a.is_markup() ? a.str() : text::html_escape(a.str())) +
                      (b.is_markup() ? b.str() : text::html_escape(b.str()));
      in.check_size(s.size());
      return Value::markup(std::move(s));
    }
    if (a.is_string() && b.is_string()) {
      in.check_size(a.str().size() + b.str().size());
      in.charge((a.str().size() + b.str().size()) / kBytesPerStep);
      return Value(a.str() + b.str());
    }
    if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
      in.charge(kStepsPerElement * (a.items().size() + b.items().size()));
      std::vector<Value> xs = a.items();
      xs.insert(xs.end(), b.items().begin(), b.items().end());
      return Value::list(std::move(xs), a.is_tuple());
    }
    unsupported(op, a, b);
  }
  if (op == "-") {
    if (ints) return Value(sub_checked(a.as_int(), b.as_int()));
    if (nums) return Value(a.as_float() - b.as_float());
    unsupported(op, a, b);
  }
  if (op == "*") {
    if (ints) return Value(mul_checked(a.as_int(), b.as_int()));
    if (nums) return Value(a.as_float() * b.as_float());
    if ((a.is_string() || a.is_list()) && (b.is_int() || b.is_bool())) return repeat(in, a, b.as_int());
    if ((b.is_string() || b.is_list()) && (a.is_int() || a.is_bool())) return repeat(in, b, a.as_int());
    unsupported(op, a, b);
  }
  if (op == "/") {
    if (!nums) unsupported(op, a, b);
    if (b.as_float() == 0.0) throw Error("division by zero");
    return Value(a.as_float() / b.as_float());
  }
  if (op == "//" || op == "%") {
    if (op == "%" && a.is_string()) {
      std::string s = percent_format(a.str(), b);
      in.check_size(s.size());
      return Value(std::move(s));
    }
    if (!nums) unsupported(op, a, b);
    if (ints) {
      const int64_t x = a.as_int(), y = b.as_int();
      if (y == 0) throw Error(op == "%" ? "integer modulo by zero" : "integer division or modulo by zero");
      if (x == INT64_MIN && y == -1) {
        if (op == "%") return Value(int64_t{0});
        overflow();
      }
      int64_t q = x / y, r = x % y;
      if (r != 0 && ((r < 0) != (y < 0))) {
        q -= 1;
        r += y;
      }
      return op == "//" ? Value(q) : Value(r);
    }
    const double x = a.as_float(), y = b.as_float();
    if (y == 0.0) throw Error("float modulo");
    double r = std::fmod(x, y);
    if (r != 0.0 && ((r < 0) != (y < 0))) r += y;
    if (op == "%") return Value(r);
    return Value(std::round((x - r) / y));
  }
  if (op == "**") {
    if (!nums) unsupported(op, a, b);
    if (ints && b.as_int() >= 0) {
      int64_t base = a.as_int(), e = b.as_int(), r = 1;
      while (e > 0) {
        if (e & 1) r = mul_checked(r, base);
        e >>= 1;
        if (e > 0) base = mul_checked(base, base);
      }
      return Value(r);
    }
    if (a.as_float() == 0.0 && b.as_float() < 0) throw Error("0.0 cannot be raised to a negative power");
    return Value(std::pow(a.as_float(), b.as_float()));
  }
  throw Error("unknown operator '" + op + "'");
}

bool contains(const Value& container, const Value& item) {
  switch (container.type()) {
    case Value::Type::kUndefined: return false;  // jinja2.Undefined iterates as empty
    case Value::Type::kString:
      if (!item.is_string()) {
        if (item.is_undefined()) fail_undefined(item);
        throw Error("'in <string>' requires string as left operand, not " + type_name(item));
      }
      return container.str().find(item.str()) != std::string::npos;
    case Value::Type::kList:
      for (const auto& x : container.items()) {
        if (equals(x, item)) return true;
      }
      return false;
    case Value::Type::kDict: return container.find(dict_key(item)) != nullptr;
    case Value::Type::kIterator: {  // a generator is consumed up to the match, as in Python
      IterData& it = container.iter();
      for (size_t i = it.pos; i < it.items.size(); ++i) {
        if (equals(it.items[i], item)) {
          if (it.single_pass) it.pos = i + 1;
          return true;
        }
      }
      if (it.single_pass) it.pos = it.items.size();
      return false;
    }
    default: throw Error("argument of type '" + type_name(container) + "' is not iterable");
  }
}

std::vector<Value> iterate(const Value& v) {
  switch (v.type()) {
    case Value::Type::kUndefined: return {};
    case Value::Type::kList: return v.items();
    case Value::Type::kIterator: return v.iter().take_rest();
    case Value::Type::kDict: {
      std::vector<Value> keys;
      keys.reserve(v.entries().size());
      for (const auto& [k, x] : v.entries()) keys.push_back(key_value(k));
      return keys;
    }
    case Value::Type::kString: {
      std::vector<Value> chars;
      for (char32_t c : text::decode(v.str())) {
        std::string s;
        text::append(s, c);
        chars.emplace_back(std::move(s));
      }
      return chars;
    }
    default: throw Error("'" + type_name(v) + "' object is not iterable");
  }
}

Value slice(const Value& obj, const Value& start, const Value& stop, const Value& step) {
  auto index = [](const Value& v, const char* what) -> std::optional<int64_t> {
    if (v.is_none()) return std::nullopt;
    if (v.is_int() || v.is_bool()) return v.as_int();
    if (v.is_undefined()) fail_undefined(v);
    throw Error(std::string("slice ") + what + " must be an integer or None, not " + type_name(v));
  };
  const int64_t st = index(step, "step").value_or(1);
  if (st == 0) throw Error("slice step cannot be zero");
  // jinja2's getitem turns the TypeError of slicing an int, dict or generator into an undefined value.
  if (!obj.is_list() && !obj.is_string()) return Value::undefined("'" + type_name(obj) + "' object is not subscriptable");
  const bool ascii = obj.is_string() && text::is_ascii(obj.str());
  const std::u32string cps = obj.is_string() && !ascii ? text::decode(obj.str()) : U"";
  const int64_t n = obj.is_list() ? static_cast<int64_t>(obj.items().size())
                                  : static_cast<int64_t>(ascii ? obj.str().size() : cps.size());
  // CPython's PySlice_AdjustIndices.
  auto adjust = [&](std::optional<int64_t> v, int64_t dflt) {
    if (!v) return dflt;
    int64_t x = *v;
    if (x < 0) {
      x += n;
      if (x < 0) x = st < 0 ? -1 : 0;
    } else if (x >= n) {
      x = st < 0 ? n - 1 : n;
    }
    return x;
  };
  const int64_t b = adjust(index(start, "indices"), st < 0 ? n - 1 : 0);
  const int64_t e = adjust(index(stop, "indices"), st < 0 ? -1 : n);
  std::vector<Value> xs;
  std::string s;
  std::u32string u;
  for (int64_t i = b; st > 0 ? i < e : i > e; i += st) {
    if (obj.is_list()) xs.push_back(obj.items()[static_cast<size_t>(i)]);
    else if (ascii) s += obj.str()[static_cast<size_t>(i)];
    else u += cps[static_cast<size_t>(i)];
  }
  if (obj.is_list()) return Value::list(std::move(xs), obj.is_tuple());
  return Value(ascii ? std::move(s) : text::encode(u));
}

}  // namespace ts::jinja
