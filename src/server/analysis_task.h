// The analysis runs of /v1/analyze and /v1/detect as a Scheduler task: one or more models over the same documents
// in lockstep, each position reduced to analysis::PositionSignals — runtime/analyzer.h's analyze_sequence(), cut
// into steps so that a long document shares the worker with running streams and a cancelled request stops at its
// next turn.
//
// Same arithmetic as analyze_sequence (and so as `tokenscope analyze` / `detect`): documents one after the other;
// position i (1 ≤ i < n) predicts ids[i] from ids[0..i); windows of C tokens with stride C/2, each from fresh
// caches, scoring only positions not scored before; C = ctx, else the smallest training context of the models
// capped at 4096. A step is one chunk of `batch` positions (256, the CLI's default, so the logits are bit-identical
// to the CLI's) evaluated on every model; distinct models run once per chunk whatever their roles.
//
// Results are handed over through the AnalysisResult the caller passes in: the task writes it on the worker thread
// only, and only before it emits kDone; the Job's mutex orders those writes before the handler's reads after kDone.
// So the handler must not read it before kDone (or at all after kError / a cancellation).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/analyzer.h"
#include "server/scheduler.h"

namespace ts::server {

struct AnalysisRequest {
  std::vector<SignalPair> pairs;              // as analyze_sequence(): pairs[0].scoring gives AnalyzedPosition::stats
  std::vector<std::vector<int32_t>> docs;     // token ids, validated against the models' vocabulary
  int64_t ctx = 0;
  int64_t batch = 256;
  int top_k = 0;                              // alternatives kept in AnalyzedPosition::stats
};

struct AnalysisResult {
  std::vector<std::vector<AnalyzedPosition>> docs;  // per document, positions 1..n−1 in order
};

std::unique_ptr<Task> make_analysis_task(AnalysisRequest req, std::shared_ptr<AnalysisResult> out);

}  // namespace ts::server
