// GGUF metadata values: type names, numeric access and the one-line display used by `tokenscope info`.
//
// Display format: scalars as numbers / true / false; strings in double quotes with C-style escapes, cut after
// kMaxShownStringBytes with the full length appended; arrays as "[a, b, c]" when short, otherwise the first
// max_array_items items, "...", and "(N items)".
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include "gguf/gguf.h"

namespace ts::gguf {
namespace {

constexpr size_t kMaxShownStringBytes = 120;  // chat templates run to kilobytes; `info` shows one line per key

void append_escaped(std::string& out, std::string_view s) {
  out += '"';
  const size_t shown = s.size() > kMaxShownStringBytes ? kMaxShownStringBytes : s.size();
  for (size_t i = 0; i < shown; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);  // UTF-8 passes through unchanged
        }
    }
  }
  out += '"';
  if (shown < s.size()) out += "... (" + std::to_string(s.size()) + " bytes)";
}

// Shortest text that reads back to the same value; FLOAT32 values are printed as floats so 0.1f shows as "0.1".
void append_float(std::string& out, double v, ValueType t) {
  char buf[64];
  std::to_chars_result r = (t == ValueType::FLOAT32) ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(v))
                                                     : std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

bool is_integer_type(ValueType t) {
  switch (t) {
    case ValueType::UINT8: case ValueType::INT8: case ValueType::UINT16: case ValueType::INT16:
    case ValueType::UINT32: case ValueType::INT32: case ValueType::UINT64: case ValueType::INT64:
      return true;
    default:
      return false;
  }
}
bool is_unsigned_type(ValueType t) {
  return t == ValueType::UINT8 || t == ValueType::UINT16 || t == ValueType::UINT32 || t == ValueType::UINT64;
}

void append_array_item(std::string& out, const Value& v, size_t idx, size_t max_items) {
  switch (v.elem_type) {
    case ValueType::BOOL: out += v.ints[idx] ? "true" : "false"; break;
    case ValueType::FLOAT32: case ValueType::FLOAT64: append_float(out, v.floats[idx], v.elem_type); break;
    case ValueType::STRING: append_escaped(out, v.strings[idx]); break;
    case ValueType::ARRAY: out += v.nested[idx].to_string(max_items); break;
    case ValueType::UINT64: out += std::to_string(static_cast<uint64_t>(v.ints[idx])); break;
    default: out += std::to_string(v.ints[idx]); break;
  }
}

}  // namespace

std::string_view value_type_name(ValueType t) {
  switch (t) {
    case ValueType::UINT8: return "UINT8";
    case ValueType::INT8: return "INT8";
    case ValueType::UINT16: return "UINT16";
    case ValueType::INT16: return "INT16";
    case ValueType::UINT32: return "UINT32";
    case ValueType::INT32: return "INT32";
    case ValueType::FLOAT32: return "FLOAT32";
    case ValueType::BOOL: return "BOOL";
    case ValueType::STRING: return "STRING";
    case ValueType::ARRAY: return "ARRAY";
    case ValueType::UINT64: return "UINT64";
    case ValueType::INT64: return "INT64";
    case ValueType::FLOAT64: return "FLOAT64";
  }
  return "UNKNOWN";
}

size_t Value::array_size() const {
  if (!is_array()) return 0;
  switch (elem_type) {
    case ValueType::FLOAT32: case ValueType::FLOAT64: return floats.size();
    case ValueType::STRING: return strings.size();
    case ValueType::ARRAY: return nested.size();
    default: return ints.size();
  }
}

bool Value::is_integer() const { return is_integer_type(type); }
bool Value::is_float() const { return type == ValueType::FLOAT32 || type == ValueType::FLOAT64; }

int64_t Value::as_int() const {
  if (is_unsigned_type(type)) return static_cast<int64_t>(u);  // UINT64 above INT64_MAX wraps; get_int checks
  if (is_integer_type(type)) return i;
  if (type == ValueType::BOOL) return b ? 1 : 0;
  if (is_float()) {
    // Truncate toward zero; values outside int64 (and NaN) would be undefined behaviour to convert.
    if (std::isfinite(f) && f >= -9.2233720368547758e18 && f < 9.2233720368547758e18) return static_cast<int64_t>(f);
  }
  return 0;
}

double Value::as_double() const {
  if (is_unsigned_type(type)) return static_cast<double>(u);
  if (is_integer_type(type)) return static_cast<double>(i);
  if (type == ValueType::BOOL) return b ? 1.0 : 0.0;
  if (is_float()) return f;
  return 0.0;
}

std::string Value::to_string(size_t max_array_items) const {
  std::string out;
  if (is_unsigned_type(type)) return std::to_string(u);
  if (is_integer_type(type)) return std::to_string(i);
  switch (type) {
    case ValueType::BOOL: return b ? "true" : "false";
    case ValueType::FLOAT32: case ValueType::FLOAT64: append_float(out, f, type); return out;
    case ValueType::STRING: append_escaped(out, s); return out;
    case ValueType::ARRAY: break;
    default: return "?";
  }
  const size_t n = array_size();
  const size_t shown = n > max_array_items ? max_array_items : n;
  out += '[';
  for (size_t k = 0; k < shown; ++k) {
    if (k) out += ", ";
    append_array_item(out, *this, k, max_array_items);
  }
  if (shown < n) out += shown ? ", ...] (" + std::to_string(n) + " items)" : "...] (" + std::to_string(n) + " items)";
  else out += ']';
  return out;
}

}  // namespace ts::gguf
