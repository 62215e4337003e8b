// What every route of the HTTP API shares: the JSON type, errors in OpenAI's shape, and number/byte formatting.
//
// Error body (OpenAI's): {"error": {"message": "...", "type": "invalid_request_error", "param": "max_tokens" | null,
// "code": "..." | null}}, sent with the HTTP status of the ApiError. Token pieces may be partial UTF-8, so JSON is
// always written with invalid bytes replaced by U+FFFD (json_text), never thrown on.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "runtime/analysis_record.h"

namespace ts::server {

// Objects keep their keys in insertion order, so responses read like OpenAI's and the documentation.
using Json = nlohmann::ordered_json;

struct ApiError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";  // OpenAI's types: invalid_request_error, authentication_error,
                                               // not_found_error, server_error
  std::string param;                           // the request field at fault ("" → null)
  std::string code;                            // "" → null

  static ApiError bad(std::string message, std::string param = {}) {
    return {400, std::move(message), "invalid_request_error", std::move(param), {}};
  }
  static ApiError internal(std::string message) { return {500, std::move(message), "server_error", {}, {}}; }
};

Json error_json(const ApiError& e);

// A parsed value or the ApiError that explains why there is none.
template <class T>
class Parsed {
 public:
  Parsed(T v) : v_(std::move(v)) {}             // NOLINT: implicit on purpose
  Parsed(ApiError e) : v_(std::move(e)) {}      // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& operator*() { return std::get<0>(v_); }
  const T& operator*() const { return std::get<0>(v_); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  const ApiError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, ApiError> v_;
};

// JSON text with invalid UTF-8 replaced by U+FFFD.
std::string json_text(const Json& j);
// Parses a request body. Errors (400): not JSON (with the parser's position), nested deeper than 64 levels (checked
// before parsing, so a hostile body cannot exhaust the stack), not an object.
Parsed<Json> parse_body(const std::string& body);

// A token's raw bytes as a JSON array of integers (OpenAI's `bytes`).
Json bytes_array(const std::string& bytes);
// 6 decimals (runtime/analysis_record.h).
using ts::round6;
// A logprob for OpenAI's fields: JSON has no −inf, so an impossible token reads −9999 (OpenAI's own convention).
double api_logprob(double lp);
// Number of Unicode code points in the first `n_bytes` bytes of s (UTF-8 continuation bytes are not counted), so
// offsets read as Python string indices, as OpenAI's `text_offset` does.
int64_t char_offset(const std::string& s, size_t n_bytes);
// Length of the longest prefix of s that ends on a complete UTF-8 sequence (an incomplete tail is held back while
// streaming; invalid bytes do not hold anything back).
size_t complete_utf8_prefix(const std::string& s);

}  // namespace ts::server
