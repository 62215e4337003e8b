// Small helpers the subcommands share: reading inputs, JSON output that never throws on odd bytes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gguf/gguf.h"
#include "runtime/analysis_record.h"
#include "tensor/matmul.h"
#include "tokenscope/dtype.h"
#include "tokenscope/expected.h"

namespace ts::cli {

// JSON objects keep their keys in insertion order, so output reads like the documentation.
using Json = nlohmann::ordered_json;

// Whole file ('-' = stdin); errors name the path.
Expected<std::string> read_text_file(const std::string& path);
// JSON text of j with invalid UTF-8 replaced by U+FFFD (token pieces can be partial UTF-8).
std::string dump_json(const Json& j);
// A token's raw bytes as a JSON array of integers (OpenAI's `bytes`).
Json bytes_array(const std::string& bytes);
// A TSV field: tab, newline, carriage return and backslash escaped as \t \n \r \\.
std::string tsv_escape(const std::string& s);
// 6 decimals (runtime/analysis_record.h).
using ts::round6;
// The model to use. `given` may be a path, `demo` (the bundled model) or a known model's name (smollm2-135m, looked
// up in models_dir()). Empty: TOKENSCOPE_DEMO_MODEL, else smollm2-135m when scripts/fetch-models.sh installed it,
// else the bundled demo model (models/tokenscope-demo.gguf beside the build directory or the source tree); the
// choice is announced in one line on stderr.
Expected<std::string> resolve_model(const std::string& given);
// Where fetched models live: $TOKENSCOPE_MODELS, else $XDG_CACHE_HOME/tokenscope, else ~/.cache/tokenscope.
std::string models_dir();
struct KnownModel {
  std::string name, file, description;
};
const std::vector<KnownModel>& known_models();
// The weight types `make-model` and `convert` write, by name, with the general.file_type value llama.cpp gives a
// file whose matrices are all of that type (llama_ftype in llama.cpp's include/llama.h; K-quants: the _M variant).
struct WeightType {
  DType type;
  uint32_t file_type;
};
const std::map<std::string, WeightType>& weight_types();
// Threads to use: n > 0 as given, else all hardware threads.
int thread_count(int n);

// --precision: "exact", "int16" or "fast" (score, bench, serve; --fast is an alias of --precision fast).
Precision precision_named(const std::string& name);
inline constexpr const char* kPrecisionHelp =
    "Matrix products: int16 (the default: 16-bit activations per block of 32 against the weights' integer codes, "
    "~5e-5 of exact, 250x closer than llama.cpp; F16/BF16/F32 weights and CPUs without AVX-512 VNNI compute exactly), "
    "exact (fp32 activations, exact to fp32 rounding: the reference) or fast (int8 activations as llama.cpp for "
    "prompts; F16/BF16/F32 weights and their activations both rounded to 13 bits per block of 32, ~2e-4 of exact, "
    "half llama.cpp's deviation; calls of 1-4 positions, i.e. generation, run int16's GEMV or, for float weights, "
    "exactly: memory-bound, as fast and more exact)";

// --load: where the weights live while the model runs (gguf::Residency): "auto", "copy" or "mmap" (score, generate,
// bench, serve).
gguf::Residency residency_named(const std::string& name);
inline constexpr const char* kLoadHelp =
    "Weights: copy (read into memory on 2 MiB huge pages at start, ~0.3 s per GB, and Q8_0/Q4_K/Q6_K matrices "
    "rearranged 16 rows at a time for the int16 GEMV; generation streams them up to ~1.5x faster), mmap (map the file: starts at once, pages shared with other processes) or auto (the default: "
    "copy when huge pages are on and the file takes at most half the available memory, else mmap)";

}  // namespace ts::cli
