// Token frequency tables on disk: the reference-corpus token counts of DC-PDD (analysis/dc_pdd.h), written by
// `tokenscope freq` and read by `tokenscope mia --ref-freq`.
//
// File format (all integers unsigned 64-bit little-endian):
//   offset 0    8 bytes  magic "TSFREQ01"
//   offset 8    vocab_size V
//   offset 16   vocab_hash   FNV-1a 64 over every token text in id order, each followed by one 0 byte — ties the
//                            table to a vocabulary, so a table made with another tokenizer is refused
//   offset 24   documents    documents counted
//   offset 32   total        Σ counts
//   offset 40   counts[V]    occurrences of each token id
// File size is exactly 40 + 8·V; the reader checks it, the magic, and that total = Σ counts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "tokenscope/expected.h"

namespace ts {

struct FrequencyTable {
  std::vector<uint64_t> counts;  // one per token id
  uint64_t vocab_hash = 0;
  uint64_t documents = 0;
  uint64_t total() const;
};

uint64_t vocabulary_hash(const Tokenizer& tok);

Status write_frequency_table(const std::string& path, const FrequencyTable& t);
Expected<FrequencyTable> read_frequency_table(const std::string& path);

}  // namespace ts
