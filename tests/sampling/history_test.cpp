// Samplers that read the token history (penalties, DRY) and logit bias, on hand-made histories.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "sampling/samplers.h"
#include "test_util.h"

namespace ts::sampling {
namespace {

std::map<int32_t, float> logits_after(Sampler& s, const std::vector<float>& z, const Context& ctx) {
  Candidates c = from_logits(z.data(), static_cast<int64_t>(z.size()));
  s.apply(c, ctx);
  std::map<int32_t, float> out;
  for (const Candidate& x : c.data) out[x.id] = x.logit;
  return out;
}

// ---- penalties ----
// logits for ids 0..4: 2.0, −1.0, 0.5, 1.0, 0.0
// history 3 1 3 0 3 7 4: counts 3→3, 1→1, 0→1, 4→1 (7 is outside the vocabulary)
const std::vector<float> kZ = {2.0f, -1.0f, 0.5f, 1.0f, 0.0f};
const std::vector<int32_t> kHistory = {3, 1, 3, 0, 3, 7, 4};

TEST(Penalties, RepeatFrequencyAndPresenceOnAHandMadeHistory) {
  // θ = 2, α_freq = 0.5, α_present = 0.25
  //   id 0: 2.0 > 0 → 1.0;  − 1·0.5 − 0.25 → 0.25
  //   id 1: −1.0 ≤ 0 → −2.0; − 0.5 − 0.25 → −2.75
  //   id 2: not in the history → 0.5
  //   id 3: 1.0 → 0.5;      − 3·0.5 − 0.25 → −1.25
  //   id 4: 0.0 ≤ 0 → 0.0;   − 0.5 − 0.25 → −0.75
  Penalties s(2.0f, 0.5f, 0.25f, 64);
  Context ctx;
  ctx.history = kHistory;
  auto z = logits_after(s, kZ, ctx);
  EXPECT_FLOAT_EQ(z[0], 0.25f);
  EXPECT_FLOAT_EQ(z[1], -2.75f);
  EXPECT_FLOAT_EQ(z[2], 0.5f);
  EXPECT_FLOAT_EQ(z[3], -1.25f);
  EXPECT_FLOAT_EQ(z[4], -0.75f);
}

TEST(Penalties, OnlyTheLastNTokensCount) {
  // last_n = 3: window 3 7 4 → id 3: 1.0/2 − 0.5 − 0.25 = −0.25; id 4: −0.75; the rest untouched
  Penalties s(2.0f, 0.5f, 0.25f, 3);
  Context ctx;
  ctx.history = kHistory;
  auto z = logits_after(s, kZ, ctx);
  EXPECT_FLOAT_EQ(z[0], 2.0f);
  EXPECT_FLOAT_EQ(z[1], -1.0f);
  EXPECT_FLOAT_EQ(z[3], -0.25f);
  EXPECT_FLOAT_EQ(z[4], -0.75f);
}

TEST(Penalties, NeutralValuesAndLastNZeroAreNoOps) {
  Context ctx;
  ctx.history = kHistory;
  Penalties neutral, zero_window(2.0f, 0.5f, 0.25f, 0);
  EXPECT_FLOAT_EQ(logits_after(neutral, kZ, ctx)[3], 1.0f);
  EXPECT_FLOAT_EQ(logits_after(zero_window, kZ, ctx)[3], 1.0f);
}

// ---- DRY ----
// Token texts: a b c d x y are plain letters, 4 = "\n" and 6 = "e:" (contains the breaker ':').
std::string piece(int32_t id) {
  static const char* const kText[] = {"a", "b", "c", "d", "\n", "x", "e:", "y"};
  return id >= 0 && id < 8 ? kText[id] : "";
}
const std::vector<float> kFlat(8, 0.0f);

TEST(Dry, PenalisesTokensThatWouldExtendARepeat) {
  // history a b c d x b c y a b c (0 1 2 3 5 1 2 7 0 1 2); the suffix "a b c" also ends at index 2 (length 3,
  // followed by d) and "b c" ends at index 6 (length 2: x ≠ a; followed by y).
  //   d: 0.8 · 1.75^(3−2) = 1.4     y: 0.8 · 1.75^(2−2) = 0.8
  const std::vector<int32_t> h = {0, 1, 2, 3, 5, 1, 2, 7, 0, 1, 2};
  Context ctx;
  ctx.history = h;
  ctx.token_text = piece;
  Dry s(0.8f, 1.75f, 2, 64);
  auto z = logits_after(s, kFlat, ctx);
  EXPECT_NEAR(z[3], -1.4f, 1e-6);
  EXPECT_NEAR(z[7], -0.8f, 1e-6);
  for (int32_t id : {0, 1, 2, 4, 5, 6}) EXPECT_EQ(z[id], 0.0f) << id;
  // allowed_length 3: only d, at 0.8 · 1.75^0
  Dry strict(0.8f, 1.75f, 3, 64);
  auto z3 = logits_after(strict, kFlat, ctx);
  EXPECT_NEAR(z3[3], -0.8f, 1e-6);
  EXPECT_EQ(z3[7], 0.0f);
}

TEST(Dry, ABreakerCapsTheRepeatLength) {
  // history "e:" b c d x "e:" b c (6 1 2 3 5 6 1 2): the suffix "e: b c" repeats with length 3 before d, but the
  // last breaker (':' in token 6 at index 5) leaves rep_limit = 8 − 1 − 5 = 2 tokens after it.
  //   with breakers: d gets 0.8 · 1.75^(2−2) = 0.8;   without token text (no breakers): 0.8 · 1.75 = 1.4
  const std::vector<int32_t> h = {6, 1, 2, 3, 5, 6, 1, 2};
  Context ctx;
  ctx.history = h;
  Dry s(0.8f, 1.75f, 2, 64);
  EXPECT_NEAR(logits_after(s, kFlat, ctx)[3], -1.4f, 1e-6);
  ctx.token_text = piece;
  EXPECT_NEAR(logits_after(s, kFlat, ctx)[3], -0.8f, 1e-6);
}

TEST(Dry, BreakerTokensAreNeverPenalised) {
  // history a b \n a b (0 1 4 0 1): "a b" repeats (length 2) before "\n"; rep_limit = 5 − 1 − 2 = 2.
  // "\n" would get 0.8, but a token containing a breaker is exempt.
  const std::vector<int32_t> h = {0, 1, 4, 0, 1};
  Context ctx;
  ctx.history = h;
  Dry s(0.8f, 1.75f, 2, 64);
  EXPECT_NEAR(logits_after(s, kFlat, ctx)[4], -0.8f, 1e-6) << "without text, no breakers";
  ctx.token_text = piece;
  EXPECT_EQ(logits_after(s, kFlat, ctx)[4], 0.0f);
}

TEST(Dry, BreakerSpanningTwoTokensIsFoundInTheText) {
  // breaker "xy" is split over tokens x (5) and y (7). History x y a b x y a b (5 7 0 1 5 7 0 1): the suffix
  // "x y a b" repeats with length 4 before x; the last "xy" ends in token index 5 → rep_limit = 8 − 1 − 5 = 2.
  //   with the breaker: x gets 0.8 · 1.75^0 = 0.8;   without: 0.8 · 1.75^2 = 2.45
  const std::vector<int32_t> h = {5, 7, 0, 1, 5, 7, 0, 1};
  Context ctx;
  ctx.history = h;
  ctx.token_text = piece;
  Dry with_breaker(0.8f, 1.75f, 2, 64, {"xy"});
  Dry no_breaker(0.8f, 1.75f, 2, 64, {});
  EXPECT_NEAR(logits_after(with_breaker, kFlat, ctx)[5], -0.8f, 1e-6);
  EXPECT_NEAR(logits_after(no_breaker, kFlat, ctx)[5], -2.45f, 1e-5);
}

TEST(Dry, WindowShorterThanAllowedLengthOrZeroMultiplierIsANoOp) {
  const std::vector<int32_t> h = {0, 1, 2, 3, 5, 1, 2, 7, 0, 1, 2};
  Context ctx;
  ctx.history = h;
  Dry tiny_window(0.8f, 1.75f, 2, 2), off(0.0f);
  EXPECT_EQ(logits_after(tiny_window, kFlat, ctx)[3], 0.0f);
  EXPECT_EQ(logits_after(off, kFlat, ctx)[3], 0.0f);
}

// ---- logit bias ----

TEST(LogitBias, AddsBiasesBansWithMinusInfinityAndSumsRepeats) {
  LogitBias s({{1, 1.5f}, {3, -INFINITY}, {2, -0.5f}, {2, -0.5f}, {99, 5.0f}});
  Context ctx;
  auto z = logits_after(s, kZ, ctx);
  EXPECT_FLOAT_EQ(z[1], 0.5f);   // −1.0 + 1.5
  EXPECT_FLOAT_EQ(z[2], -0.5f);  // 0.5 − 0.5 − 0.5
  EXPECT_EQ(z[3], -INFINITY);
  EXPECT_FLOAT_EQ(z[0], 2.0f);
  // the same on a set no longer in id order (the slow path)
  Candidates c = from_logits(kZ.data(), 5);
  sort_desc(c);
  s.apply(c, ctx);
  for (const Candidate& x : c.data) EXPECT_EQ(x.logit, z[x.id]) << x.id;
}

}  // namespace
}  // namespace ts::sampling
