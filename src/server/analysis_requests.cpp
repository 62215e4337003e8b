// See analysis_requests.h for the fields, their ranges and defaults.
#include "server/analysis_requests.h"

#include <algorithm>
#include <limits>
#include <sstream>

#include "server/requests.h"

namespace ts::server {

const std::vector<std::string>& detect_methods() {
  static const std::vector<std::string> m = {"log_likelihood", "log_rank", "lrr", "entropy", "fast_detectgpt",
                                             "binoculars"};
  return m;
}

namespace {

ApiError wrong_type(const std::string& key, const std::string& expected) {
  return ApiError::bad("field '" + key + "': expected " + expected, key);
}

const Json* field(const Json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

std::optional<ApiError> read_bool(const Json& j, const char* key, bool& out) {
  if (const Json* v = field(j, key)) {
    if (!v->is_boolean()) return wrong_type(key, "a boolean");
    out = v->get<bool>();
  }
  return {};
}

std::optional<ApiError> read_string(const Json& j, const char* key, std::string& out) {
  if (const Json* v = field(j, key)) {
    if (!v->is_string()) return wrong_type(key, "a string");
    out = v->get<std::string>();
  }
  return {};
}

std::optional<ApiError> read_int(const Json& j, const char* key, int64_t lo, int64_t hi, int64_t& out) {
  const Json* v = field(j, key);
  if (!v) return {};
  if (!v->is_number_integer()) return wrong_type(key, "an integer");
  const bool too_big = v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(hi);
  const int64_t x = too_big ? hi : v->get<int64_t>();
  if (too_big || x < lo || x > hi)
    return ApiError::bad("field '" + std::string(key) + "': value " + v->dump() + " out of range " +
                             std::to_string(lo) + ".." + std::to_string(hi),
                         key);
  out = x;
  return {};
}

std::optional<ApiError> read_ids(const Json& v, const char* key, std::vector<int32_t>& out) {
  if (!v.is_array()) return wrong_type(key, "an array of token ids");
  for (const Json& x : v) {
    const bool ok = x.is_number_unsigned()
                        ? x.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int32_t>::max())
                        : x.is_number_integer() && x.get<int64_t>() >= 0 &&
                              x.get<int64_t>() <= std::numeric_limits<int32_t>::max();
    if (!ok) return ApiError::bad("field '" + std::string(key) + "': " + x.dump() + " is not a token id", key);
    out.push_back(static_cast<int32_t>(x.get<int64_t>()));
  }
  return {};
}

// One document from "text" or "ids" (exactly one of them; `texts` also counts when allowed).
std::optional<ApiError> read_single(const Json& j, DocumentInput& d) {
  const Json* text = field(j, "text");
  const Json* ids = field(j, "ids");
  if (!!text == !!ids) return ApiError::bad("give exactly one of 'text' and 'ids'", ids ? "ids" : "text");
  if (text) {
    if (!text->is_string()) return wrong_type("text", "a string");
    d.text = text->get<std::string>();
    return {};
  }
  d.is_ids = true;
  return read_ids(*ids, "ids", d.ids);
}

std::optional<ApiError> read_methods(const Json& j, std::vector<std::string>& out) {
  const Json* v = field(j, "method");
  std::vector<std::string> names;
  if (!v) {
    names.push_back("all");
  } else if (v->is_string()) {
    std::stringstream ss(v->get<std::string>());
    for (std::string m; std::getline(ss, m, ',');)
      if (!m.empty()) names.push_back(m);
  } else if (v->is_array()) {
    for (const Json& x : *v) {
      if (!x.is_string()) return wrong_type("method", "\"all\", a comma-separated string or an array of method names");
      names.push_back(x.get<std::string>());
    }
  } else {
    return wrong_type("method", "\"all\", a comma-separated string or an array of method names");
  }
  std::vector<char> want(detect_methods().size(), 0);
  for (const std::string& m : names) {
    if (m == "all") {
      std::fill(want.begin(), want.end(), 1);
      continue;
    }
    auto it = std::find(detect_methods().begin(), detect_methods().end(), m);
    if (it == detect_methods().end()) {
      std::string all = "all";
      for (const auto& k : detect_methods()) all += ", " + k;
      return ApiError::bad("field 'method': unknown method '" + m.substr(0, 100) + "' (one of " + all + ")", "method");
    }
    want[static_cast<size_t>(it - detect_methods().begin())] = 1;
  }
  for (size_t i = 0; i < want.size(); ++i)
    if (want[i]) out.push_back(detect_methods()[i]);
  if (out.empty()) return ApiError::bad("field 'method': no method given", "method");
  return {};
}

}  // namespace

Parsed<AnalyzeBody> parse_analyze(const Json& j) {
  AnalyzeBody b;
  if (auto e = read_string(j, "model", b.model)) return *e;
  if (auto e = read_single(j, b.doc)) return *e;
  if (auto e = read_int(j, "window", 1, int64_t(1) << 20, b.window)) return *e;
  if (const Json* v = field(j, "top_fraction")) {
    if (!v->is_number()) return wrong_type("top_fraction", "a number");
    const double f = v->get<double>();
    if (!(f >= 0 && f <= 1))
      return ApiError::bad("field 'top_fraction': value " + v->dump() + " out of range 0..1", "top_fraction");
    b.top_fraction = f;
  }
  int64_t top = b.top;
  if (auto e = read_int(j, "top", 0, kMaxLogprobs, top)) return *e;
  b.top = static_cast<int>(top);
  if (auto e = read_bool(j, "per_token", b.per_token)) return *e;
  if (auto e = read_bool(j, "parse_special", b.parse_special)) return *e;
  return b;
}

Parsed<DetectBody> parse_detect(const Json& j) {
  DetectBody b;
  if (auto e = read_string(j, "model", b.model)) return *e;
  if (const Json* texts = field(j, "texts")) {
    if (field(j, "text") || field(j, "ids"))
      return ApiError::bad("give exactly one of 'text', 'ids' and 'texts'", "texts");
    if (!texts->is_array()) return wrong_type("texts", "an array of strings");
    if (texts->empty()) return ApiError::bad("field 'texts': empty array", "texts");
    for (const Json& t : *texts) {
      if (!t.is_string()) return wrong_type("texts", "an array of strings");
      b.docs.push_back({false, t.get<std::string>(), {}});
    }
  } else {
    DocumentInput d;
    if (auto e = read_single(j, d)) return *e;
    b.docs.push_back(std::move(d));
  }
  if (auto e = read_methods(j, b.methods)) return *e;
  if (auto e = read_bool(j, "terms", b.terms)) return *e;
  for (auto [key, out] : {std::pair{"sampler", &b.sampler}, {"observer", &b.observer}, {"performer", &b.performer}}) {
    std::string s;
    if (auto e = read_string(j, key, s)) return *e;
    if (field(j, key)) *out = std::move(s);
  }
  if (auto e = read_bool(j, "parse_special", b.parse_special)) return *e;
  return b;
}

}  // namespace ts::server
