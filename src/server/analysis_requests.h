// Request bodies of POST /v1/analyze and POST /v1/detect (`tokenscope analyze` and `tokenscope detect` over HTTP),
// parsed without a model so that tests and the request fuzzer can drive them. Errors are 400s naming the field.
//
// /v1/analyze: {"text": S | "ids": [int], "model"?, "window"?: 1..2^20 (8), "top_fraction"?: 0..1 (0.2),
//   "top"?: 0..100 (0), "per_token"?: bool (true), "parse_special"?: bool (false)}
//   → {"object": "analysis", "model", "tokens": [CLI analyze's per-token records] (when per_token),
//      "summary": {CLI analyze's summary fields}}
// /v1/detect: {"text": S | "ids": [int] | "texts": [S, ...], "model"?, "method"?: "all" | "a,b" | ["a", "b"],
//   "terms"?: bool, "sampler"?, "observer"?, "performer"?: a model id or "main" / "compare", "parse_special"?}
//   → {"object": "detection", "model", "roles": {"scoring", "sampling", "observer", "performer"},
//      "documents": [CLI detect's per-document objects]}
// Roles as `tokenscope detect`'s options: the scoring model p (= Binoculars' performer M2 by default) is "model"
// (default the main model); Fast-DetectGPT's sampling model q is "sampler" (default the scoring model: white-box);
// Binoculars' observer M1 is "observer" (default the server's --compare-model when it has one — so `serve -m A
// --compare-model B` answers as `detect -m A --observer B` — else the sampling model, as the CLI's default, which
// with one model gives the single-model Binoculars NLL / mean entropy). A role naming "compare" on a server
// without --compare-model is refused (400 naming the method and the missing --compare-model).
// Text gets the model's BOS as in the CLI; ids are taken as given.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/api.h"

namespace ts::server {

struct DocumentInput {
  bool is_ids = false;
  std::string text;
  std::vector<int32_t> ids;
};

struct AnalyzeBody {
  std::string model;
  DocumentInput doc;
  int64_t window = 8;
  double top_fraction = 0.2;
  int top = 0;
  bool per_token = true;
  bool parse_special = false;
};

struct DetectBody {
  std::string model;
  std::vector<DocumentInput> docs;
  std::vector<std::string> methods;  // in detect_methods() order, no repeats
  bool terms = false;
  std::optional<std::string> sampler, observer, performer;
  bool parse_special = false;
};

// log_likelihood, log_rank, lrr, entropy, fast_detectgpt, binoculars (the CLI's --method names).
const std::vector<std::string>& detect_methods();

Parsed<AnalyzeBody> parse_analyze(const Json& j);
Parsed<DetectBody> parse_detect(const Json& j);

}  // namespace ts::server
