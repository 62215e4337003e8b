#include "sampling/spec.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace ts::sampling {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  // A trailing escaped space ("\s") is kept because its backslash is not a space.
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Splits at `sep` where it is not escaped by a backslash.
std::vector<std::string_view> split_unescaped(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;  // the escaped character is never a separator (\xHH's digits are not separators either)
    } else if (s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(s.substr(start));
  return out;
}

size_t find_unescaped(std::string_view s, char ch) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == ch) {
      return i;
    }
  }
  return std::string_view::npos;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Expected<std::string> unescape_value(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (i + 1 >= s.size()) return Error::input("dangling '\\' at the end");
    const char e = s[++i];
    switch (e) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 's': out += ' '; break;
      case '\\': case ';': case ',': case '=': case '|': out += e; break;
      case 'x': {
        const int hi = i + 1 < s.size() ? hex_digit(s[i + 1]) : -1;
        const int lo = i + 2 < s.size() ? hex_digit(s[i + 2]) : -1;
        if (hi < 0 || lo < 0) return Error::input("'\\x' needs two hex digits");
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        break;
      }
      default: return Error::input(std::string("unknown escape '\\") + e + "'");
    }
  }
  return out;
}

namespace {

bool is_word(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

Error item_error(std::string_view item, const std::string& what) {
  return Error::input("sampler spec: '" + std::string(item) + "': " + what);
}

}  // namespace

Expected<std::vector<SpecItem>> split_spec(std::string_view spec) {
  std::vector<SpecItem> items;
  for (std::string_view raw : split_unescaped(spec, ';')) {
    const std::string_view text = trim(raw);
    if (text.empty()) continue;
    SpecItem item;
    item.text = std::string(text);
    bool first = true;
    for (std::string_view part : split_unescaped(text, ',')) {
      part = trim(part);
      const size_t eq = find_unescaped(part, '=');
      const std::string_view key = trim(part.substr(0, eq));
      if (first) {
        if (!is_word(key)) return item_error(text, "sampler name '" + std::string(key) + "' is not a word");
        item.name = std::string(key);
        first = false;
        if (eq == std::string_view::npos) continue;
        const std::string_view raw = trim(part.substr(eq + 1));
        if (auto v = unescape_value(raw); !v.ok()) return item_error(text, v.error().message);
        item.args.emplace_back("", std::string(raw));
        continue;
      }
      if (eq == std::string_view::npos) return item_error(text, "'" + std::string(part) + "' is not key=value");
      if (!is_word(key)) return item_error(text, "parameter name '" + std::string(key) + "' is not a word");
      const std::string_view raw = trim(part.substr(eq + 1));
      if (auto v = unescape_value(raw); !v.ok()) return item_error(text, v.error().message);
      for (const auto& [k, unused] : item.args)
        if (k == key) return item_error(text, "parameter '" + std::string(key) + "' given twice");
      item.args.emplace_back(std::string(key), std::string(raw));
    }
    items.push_back(std::move(item));
  }
  return items;
}

Expected<float> parse_float(std::string_view s) {
  s = trim(s);
  float v = 0;
  // from_chars does not take a leading '+'; accept it for "+2.5" biases.
  std::string_view body = s;
  if (!body.empty() && body.front() == '+') body.remove_prefix(1);
  const auto r = std::from_chars(body.data(), body.data() + body.size(), v);
  if (body.empty() || r.ec != std::errc() || r.ptr != body.data() + body.size() || std::isnan(v))
    return Error::input("'" + std::string(s) + "' is not a number");
  return v;
}

Expected<int64_t> parse_int(std::string_view s) {
  s = trim(s);
  int64_t v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size())
    return Error::input("'" + std::string(s) + "' is not an integer");
  return v;
}

std::string format_float(float v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general);  // shortest, %g style
  return std::string(buf, r.ptr);
}

std::string escape_value(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case ' ': out += "\\s"; break;
      case '\\': case ';': case ',': case '=': case '|': out += '\\'; out += static_cast<char>(c); break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

SpecWriter& SpecWriter::raw(std::string_view k, std::string_view escaped_value) {
  s_ += ",";
  s_ += k;
  s_ += "=";
  s_ += escaped_value;
  return *this;
}

Error SpecArgs::error(const std::string& what) const { return item_error(item_.text, what); }

const std::string* SpecArgs::find(std::string_view key) {
  known_.emplace_back(key.empty() ? item_.name : std::string(key));
  for (size_t i = 0; i < item_.args.size(); ++i) {
    if (item_.args[i].first == key) {
      used_[i] = true;
      return &item_.args[i].second;
    }
  }
  return nullptr;
}

Status SpecArgs::get_float(std::string_view key, float& v, double lo, double hi) {
  const std::string* s = find(key);
  if (!s) return ok_status();
  const std::string label = key.empty() ? item_.name : std::string(key);
  auto f = parse_float(*unescape_value(*s));
  if (!f.ok()) return error(label + ": " + f.error().message);
  if (std::isinf(*f)) return error(label + " must be finite, not " + format_float(*f));
  if (!(*f >= lo && *f <= hi))
    return error(label + " " + format_float(*f) + " out of range " + format_float(float(lo)) + ".." +
                 format_float(float(hi)));
  v = *f;
  return ok_status();
}

Status SpecArgs::get_int(std::string_view key, int32_t& v, int64_t lo, int64_t hi) {
  const std::string* s = find(key);
  if (!s) return ok_status();
  const std::string label = key.empty() ? item_.name : std::string(key);
  auto n = parse_int(*unescape_value(*s));
  if (!n.ok()) return error(label + ": " + n.error().message);
  if (*n < lo || *n > hi)
    return error(label + " " + std::to_string(*n) + " out of range " + std::to_string(lo) + ".." + std::to_string(hi));
  v = static_cast<int32_t>(*n);
  return ok_status();
}

Status SpecArgs::get_string(std::string_view key, std::string& v) {
  if (const std::string* s = find(key)) v = *unescape_value(*s);  // escapes were checked by split_spec
  return ok_status();
}

Status SpecArgs::get_list(std::string_view key, std::vector<std::string>& v) {
  const std::string* s = find(key);
  if (!s) return ok_status();
  v.clear();
  if (s->empty()) return ok_status();
  for (std::string_view part : split_unescaped(*s, '|')) v.push_back(*unescape_value(part));
  return ok_status();
}

std::vector<std::pair<std::string, std::string>> SpecArgs::take_rest() {
  std::vector<std::pair<std::string, std::string>> rest;
  for (size_t i = 0; i < item_.args.size(); ++i) {
    if (used_[i] || item_.args[i].first.empty()) continue;  // an unread primary is finish()'s error
    bool asked = false;
    for (const std::string& k : known_) asked |= (k == item_.args[i].first);
    if (asked) continue;
    used_[i] = true;
    rest.push_back(item_.args[i]);
  }
  return rest;
}

Status SpecArgs::finish() {
  for (size_t i = 0; i < item_.args.size(); ++i) {
    if (used_[i]) continue;
    if (item_.args[i].first.empty()) return error(item_.name + " takes no value; write " + item_.name + ",key=value");
    std::string known;
    for (const std::string& k : known_) {
      if (k == item_.name) continue;
      known += known.empty() ? k : ", " + k;
    }
    return error("unknown parameter '" + item_.args[i].first + "'" +
                 (known.empty() ? " (" + item_.name + " has no keyed parameters)" : " (known: " + known + ")"));
  }
  return ok_status();
}

}  // namespace ts::sampling
