// See api.h for the contract.
#include "server/api.h"

#include <cmath>

namespace ts::server {

Json error_json(const ApiError& e) {
  Json err = Json::object();
  err["message"] = e.message;
  err["type"] = e.type;
  err["param"] = e.param.empty() ? Json(nullptr) : Json(e.param);
  err["code"] = e.code.empty() ? Json(nullptr) : Json(e.code);
  return Json{{"error", err}};
}

std::string json_text(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

namespace {

// Deepest nesting of [ and { outside strings; stops counting once past `limit`.
int nesting_depth(const std::string& s, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : s) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > deepest && (deepest = depth) > limit) return deepest;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

Parsed<Json> parse_body(const std::string& body) {
  constexpr int kMaxDepth = 64;
  if (nesting_depth(body, kMaxDepth) > kMaxDepth)
    return ApiError::bad("request body nested deeper than " + std::to_string(kMaxDepth) + " levels");
  Json j;
  try {
    j = Json::parse(body);
  } catch (const Json::exception& e) {
    // e.what() reads "[json.exception.parse_error.101] parse error at line 1, column 3: syntax error ...", or for a
    // number beyond double's range (1e400) "[json.exception.out_of_range.406] number overflow parsing '1e400'"
    std::string what = e.what();
    const size_t p = what.find("] ");
    return ApiError::bad("request body is not valid JSON: " + (p == std::string::npos ? what : what.substr(p + 2)));
  }
  if (!j.is_object()) return ApiError::bad("request body must be a JSON object");
  return j;
}

Json bytes_array(const std::string& bytes) {
  Json a = Json::array();
  for (unsigned char c : bytes) a.push_back(static_cast<int>(c));
  return a;
}

double api_logprob(double lp) {
  if (std::isnan(lp) || lp < -9999.0) return -9999.0;
  return lp;
}

int64_t char_offset(const std::string& s, size_t n_bytes) {
  int64_t n = 0;
  for (size_t i = 0; i < n_bytes && i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) ++n;
  return n;
}

size_t complete_utf8_prefix(const std::string& s) {
  const size_t n = s.size();
  // Look back over at most 3 continuation bytes for the lead byte of the last sequence.
  for (size_t back = 1; back <= 4 && back <= n; ++back) {
    const unsigned char c = static_cast<unsigned char>(s[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte
    size_t need = 1;
    if ((c & 0xE0) == 0xC0) need = 2;
    else if ((c & 0xF0) == 0xE0) need = 3;
    else if ((c & 0xF8) == 0xF0) need = 4;
    return need > back ? n - back : n;
  }
  return n;  // only continuation bytes at the end: invalid, nothing to wait for
}

}  // namespace ts::server
