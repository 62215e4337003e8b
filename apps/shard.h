// Sharding, output files and resume for the corpus commands (score, analyze, detect, mia); docs/scaling.md.
//
// --shard i/n   takes the documents whose index d has d mod n = i. d is the document index the commands print as
//               "doc": 0-based, counting the non-blank lines of --jsonl. Round-robin rather than contiguous ranges:
//               corpora are often sorted or clustered (by length, source, date), and round-robin gives every shard
//               a like share of them, so the shards finish together. Every shard reads the whole input, which is
//               cheap next to the forward passes, but parses only its own lines.
// --out DIR     writes DIR/<cmd>.shard-<i>-of-<n>.jsonl (DIR/<cmd>.jsonl without --shard) instead of stdout,
//               creating DIR, and flushes after every document, so a killed run leaves at most a partial last
//               document (some of its lines, or part of a line) after the complete ones.
// --resume      keeps that file up to the end of its last complete document, drops the rest, and continues with
//               the shard's next document. Run with the same input and options, the final file equals an
//               uninterrupted run's file byte for byte (the output depends on neither threads nor timing).
//               Without --resume an existing non-empty file is an error; a file locked by a running process is
//               an error either way (flock, so two runs never write one shard).
// --progress    progress on stderr even when it is not a terminal (documents done / in the shard, tokens/s, ETA).
//
// The layout the resume scan relies on (the commands' jsonl output): every line is a JSON object that begins
// {"doc":<index>, ; every document of the shard has lines, contiguous and in document order; a document is
// complete when its last line is there with its newline: its only line (DocLayout::kOneLine: detect, mia) or its
// summary line {"doc":<index>,"summary":... after its per-token lines (kLinesThenSummary: score, analyze).
#pragma once

#include <cstdint>
#include <cstdio>
#include <istream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "tokenscope/expected.h"

namespace ts::cli {

struct ShardSpec {
  int64_t index = 0, count = 1;
  bool contains(int64_t doc) const { return doc % count == index; }
  // How many of documents 0..n_docs-1 fall in this shard.
  int64_t size_of(int64_t n_docs) const { return n_docs > index ? (n_docs - index + count - 1) / count : 0; }
};

// "i/n", two whole numbers with 0 <= i < n; errors name the value ("--shard '3/2': ...").
Expected<ShardSpec> parse_shard_spec(const std::string& spec);

// <cmd>.shard-<i>-of-<n>.jsonl, or <cmd>.jsonl when not sharded.
std::string shard_file_name(const std::string& cmd, const ShardSpec& shard, bool sharded);

enum class DocLayout { kOneLine, kLinesThenSummary };

struct ResumePoint {
  uint64_t keep_bytes = 0;  // the output up to the end of its last complete document
  int64_t last_doc = -1;    // that document's index; -1 when there is none
  int64_t docs = 0;         // complete documents in the output
};

// Scans an output written in `layout` by a run of `shard`. Lines past the last complete document (a partial line,
// or the lines of a document without its summary) are not counted. Errors (exit 2) name `where` and the line: a
// line that is no tokenscope output, a document of another shard, a document other than the shard's next.
Expected<ResumePoint> scan_output(std::istream& in, DocLayout layout, const ShardSpec& shard, const std::string& where);

// Non-blank lines of a file (the documents of a --jsonl input), for the progress total.
Expected<int64_t> count_documents(const std::string& path);

struct ShardOptions {
  std::string shard, out_dir;
  bool resume = false, progress = false;
};

// Adds --shard, --out, --resume and --progress to cmd.
void add_shard_options(CLI::App* cmd, ShardOptions& o);

// Where a corpus command's output goes and which documents it still has to do.
class CorpusOutput {
 public:
  // Checks the options (errors name cmd and the value); with --out creates the directory, opens and locks the
  // file, and when resuming truncates it after its last complete document. jsonl_input: the documents come from
  // --jsonl (--shard needs it).
  static Expected<std::unique_ptr<CorpusOutput>> open(const std::string& cmd, const ShardOptions& o,
                                                      DocLayout layout, bool jsonl_input);
  ~CorpusOutput();
  CorpusOutput(const CorpusOutput&) = delete;
  CorpusOutput& operator=(const CorpusOutput&) = delete;

  FILE* stream() const { return file_ ? file_ : stdout; }
  bool to_file() const { return file_ != nullptr; }
  // In this shard and not already in the resumed file.
  bool selects(int64_t doc) const { return shard_.contains(doc) && doc > resume_.last_doc; }
  // Flushes the document just written, so that it survives a kill of the process.
  Status end_document();
  const ShardSpec& shard() const { return shard_; }
  int64_t resumed_docs() const { return resume_.docs; }
  bool force_progress() const { return force_progress_; }

 private:
  CorpusOutput() = default;
  ShardSpec shard_;
  ResumePoint resume_;
  std::string path_;
  FILE* file_ = nullptr;
  bool force_progress_ = false;
};

}  // namespace ts::cli
