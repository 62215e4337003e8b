// Zlib ratio (Carlini et al., USENIX Security 2021, "Extracting Training Data from Large Language Models"):
//
//   score = NLL / zlib_bytes,   NLL = −(1/n) Σ_t log p_t(x_t) (nats per token, i.e. log perplexity),
//                               zlib_bytes = len(zlib.compress(text_bytes))            lower ⇒ member
//
// The model's surprise relative to a generic compressor's: memorised text is unsurprising to the model but not
// especially compressible. Carlini et al. rank by log-perplexity / zlib entropy (lower ⇒ memorised), the DC-PDD
// code uses the same ratio ("larger for non-member"), the Min-K% and Min-K%++ code use the negation (mean
// log-likelihood / zlib length, "larger for member"). All take the compressed length in bytes, as we do.
//
// The analysis layer links no compressor: the caller passes zlib_bytes (zlib's default level 6, as Python's
// zlib.compress). zlib_bytes ≤ 0 or an empty document gives NaN.
#pragma once

#include <cstdint>
#include <span>

#include "analysis/position_signals.h"

namespace ts::analysis {

double zlib_ratio(std::span<const PositionSignals> pos, int64_t zlib_bytes);

}  // namespace ts::analysis
