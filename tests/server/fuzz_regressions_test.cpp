// Inputs that the fuzz targets of tests/fuzz found to break the server's request handling, kept as tests (their bytes
// are also in tests/fuzz/corpus/, so every fuzz run starts from them).
#include <gtest/gtest.h>

#include "server/api.h"
#include "server_test_util.h"

namespace ts::server::test {
namespace {

// fuzz_request_json: a number beyond double's range made nlohmann::json throw out_of_range (not parse_error), which
// parse_body did not catch, so the route answered 500 "internal error" instead of a 400.
TEST(FuzzRegressions, NumberBeyondDoubleRangeIsA400NotAnException) {
  auto r = parse_body(R"({"a": 1e400})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().status, 400);
  EXPECT_NE(r.error().message.find("1e400"), std::string::npos) << r.error().message;
  auto reply = shared_server().post_raw("/v1/completions", R"({"prompt": "x", "temperature": -1e400})");
  EXPECT_EQ(reply.status, 400) << reply.body;
  EXPECT_EQ(reply.json["error"]["type"], "invalid_request_error") << reply.body;
}

}  // namespace
}  // namespace ts::server::test
