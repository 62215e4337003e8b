// Where the golden tests find ../shared/fixtures, and what they do when it is missing.
//
// A user's fresh clone has no ../shared: the tests that need it skip with a visible message. Under CI=true a missing
// fixture is a failure.
#pragma once

#include <gtest/gtest.h>

#include <string>

namespace ts::test {

// Absolute path of ../shared/fixtures relative to the source tree, or TOKENSCOPE_FIXTURES if set.
std::string fixtures_dir();
// fixtures_dir() + "/" + rel if it exists, else "".
std::string fixture_path(const std::string& rel);
bool running_in_ci();

}  // namespace ts::test

// Use at the top of a test: binds `var` to the fixture's absolute path, or skips (fails under CI=true).
#define TS_REQUIRE_FIXTURE(var, rel)                                                              \
  const std::string var = ::ts::test::fixture_path(rel);                                          \
  if (var.empty()) {                                                                               \
    if (::ts::test::running_in_ci()) FAIL() << "fixture missing under CI=true: " << (rel);         \
    GTEST_SKIP() << "fixture not found: ../shared/fixtures/" << (rel) << " (skipping golden test)"; \
  }
