// Typed metadata lookups on a parsed GGUF File.
//
// Contract: a missing key is "<file>: key '<k>': missing (<wanted type>)"; a value of the wrong type is
// "<file>: key '<k>': expected <wanted>, found <actual> (<value>)". Integer getters take any integer type whose value
// fits int64 (BOOL is not an integer); float getters take FLOAT32/FLOAT64 and integers. The *_or forms return the
// fallback for a missing key and also for a wrong type (they cannot report; use the Expected forms to diagnose).
#include "gguf/gguf.h"

namespace ts::gguf {
namespace {

bool integer_type(ValueType t) {
  switch (t) {
    case ValueType::UINT8: case ValueType::INT8: case ValueType::UINT16: case ValueType::INT16:
    case ValueType::UINT32: case ValueType::INT32: case ValueType::UINT64: case ValueType::INT64:
      return true;
    default:
      return false;
  }
}

std::string describe(const Value& v) {
  if (!v.is_array()) return std::string(value_type_name(v.type));
  return "ARRAY of " + std::string(value_type_name(v.elem_type));
}

Error missing(const std::string& file, std::string_view key, std::string_view wanted) {
  return Error::input(file + ": key '" + std::string(key) + "': missing (" + std::string(wanted) + ")");
}

Error wrong_type(const std::string& file, std::string_view key, std::string_view wanted, const Value& v) {
  return Error::input(file + ": key '" + std::string(key) + "': expected " + std::string(wanted) + ", found " +
                      describe(v) + " (" + v.to_string(4) + ")");
}

}  // namespace

Expected<std::string> File::get_string(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return missing(path_, key, "STRING");
  if (v->type != ValueType::STRING) return wrong_type(path_, key, "STRING", *v);
  return v->s;
}

Expected<int64_t> File::get_int(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return missing(path_, key, "integer");
  if (!integer_type(v->type)) return wrong_type(path_, key, "integer", *v);
  if (v->type == ValueType::UINT64 && v->u > static_cast<uint64_t>(INT64_MAX))
    return Error::input(path_ + ": key '" + std::string(key) + "': value does not fit int64 (" +
                        std::to_string(v->u) + ")");
  return v->as_int();
}

Expected<double> File::get_float(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return missing(path_, key, "float");
  if (!v->is_float() && !integer_type(v->type)) return wrong_type(path_, key, "float", *v);
  return v->as_double();
}

Expected<bool> File::get_bool(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return missing(path_, key, "BOOL");
  if (v->type != ValueType::BOOL) return wrong_type(path_, key, "BOOL", *v);
  return v->b;
}

std::string File::get_string_or(std::string_view key, std::string fallback) const {
  auto r = get_string(key);
  return r ? std::move(r).value() : std::move(fallback);
}

int64_t File::get_int_or(std::string_view key, int64_t fallback) const {
  auto r = get_int(key);
  return r ? *r : fallback;
}

double File::get_float_or(std::string_view key, double fallback) const {
  auto r = get_float(key);
  return r ? *r : fallback;
}

bool File::get_bool_or(std::string_view key, bool fallback) const {
  auto r = get_bool(key);
  return r ? *r : fallback;
}

Expected<const std::vector<std::string>*> File::get_string_array(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return missing(path_, key, "ARRAY of STRING");
  if (!v->is_array() || v->elem_type != ValueType::STRING) return wrong_type(path_, key, "ARRAY of STRING", *v);
  return &v->strings;
}

Expected<const std::vector<int64_t>*> File::get_int_array(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return missing(path_, key, "ARRAY of integer");
  if (!v->is_array() || !integer_type(v->elem_type)) return wrong_type(path_, key, "ARRAY of integer", *v);
  return &v->ints;
}

Expected<const std::vector<double>*> File::get_float_array(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return missing(path_, key, "ARRAY of float");
  if (!v->is_array() || (v->elem_type != ValueType::FLOAT32 && v->elem_type != ValueType::FLOAT64))
    return wrong_type(path_, key, "ARRAY of float", *v);
  return &v->floats;
}

}  // namespace ts::gguf
