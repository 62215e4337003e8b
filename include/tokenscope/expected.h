// A value or the reason it is missing (C++20 has no std::expected).
//
// Errors carry one line of context, "file: field 'x': value 7 out of range 0..4", all the way up to the CLI, which
// prints it and exits 2 for bad input (Error::Kind::kInput) or 1 for an internal failure (Error::Kind::kInternal).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace ts {

struct Error {
  enum class Kind { kInput, kInternal };
  std::string message;
  Kind kind = Kind::kInput;

  static Error input(std::string msg) { return Error{std::move(msg), Kind::kInput}; }
  static Error internal(std::string msg) { return Error{std::move(msg), Kind::kInternal}; }
};

template <class T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}          // NOLINT: implicit on purpose
  Expected(Error error) : v_(std::move(error)) {}      // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { check(); return std::get<0>(v_); }
  const T& value() const& { check(); return std::get<0>(v_); }
  T&& value() && { check(); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  void check() const {
    if (!ok()) {  // our own invariant: callers test ok() first
      std::fprintf(stderr, "tokenscope: internal error: value() on error: %s\n", std::get<1>(v_).message.c_str());
      std::abort();
    }
  }
  std::variant<T, Error> v_;
};

// Expected<void>
struct Ok {};
using Status = Expected<Ok>;
inline Status ok_status() { return Ok{}; }

}  // namespace ts
