// tokenscope freq: token counts over a corpus, the reference distribution of DC-PDD (`mia --ref-freq`).
//
// Every document is tokenized with the model's tokenizer (no BOS/EOS unless --add-special; `ids` lines counted as
// given), its first --max-tokens tokens counted (0: all; the DC-PDD repo counts the first 1024 of each C4
// document). The table is written in the format of runtime/frequency_table.h; a one-line summary goes to stderr.
// Documents are tokenized in parallel on all cores.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>

#include "commands.h"
#include "common.h"
#include "documents.h"
#include "runtime/frequency_table.h"
#include "tensor/thread_pool.h"

namespace ts::cli {
namespace {

struct Opts {
  std::string model, output;
  InputOptions in;
  int64_t max_tokens = 0;
  bool add_special = false;
  int threads = 0;
};

// Counts one document's tokens into counts.
void count(const std::vector<int32_t>& ids, int64_t max_tokens, std::vector<uint64_t>& counts) {
  const size_t n = max_tokens > 0 ? std::min<size_t>(ids.size(), static_cast<size_t>(max_tokens)) : ids.size();
  for (size_t i = 0; i < n; ++i)
    if (ids[i] >= 0 && static_cast<size_t>(ids[i]) < counts.size()) ++counts[static_cast<size_t>(ids[i])];
}

int run_freq(const Opts& o) {
  const int sources = !o.in.file.empty() + !o.in.jsonl.empty() + o.in.has_prompt();
  if (sources != 1) return report(Error::input("freq: give exactly one of --jsonl CORPUS, -f FILE, -p TEXT"));
  auto file = gguf::File::open(o.model);
  if (!file) return report(file.error());
  auto tok = Tokenizer::from_gguf(*file);
  if (!tok) return report(tok.error());
  const int64_t V = tok->vocab_size();
  ThreadPool pool(thread_count(o.threads));
  FrequencyTable table;
  table.counts.assign(static_cast<size_t>(V), 0);
  table.vocab_hash = vocabulary_hash(*tok);
  EncodeOptions eo;
  eo.add_special = o.add_special;
  eo.parse_special = o.in.parse_special;

  if (o.in.jsonl.empty()) {
    std::string text = o.in.prompt;
    if (!o.in.file.empty()) {
      auto t = read_text_file(o.in.file);
      if (!t) return report(t.error());
      text = std::move(*t);
    }
    count(tok->encode(text, eo).ids, o.max_tokens, table.counts);
    table.documents = 1;
  } else {
    std::ifstream f;
    std::istream* is = &std::cin;
    if (o.in.jsonl != "-") {
      f.open(o.in.jsonl, std::ios::binary);
      if (!f) return report(Error::input(o.in.jsonl + ": cannot open"));
      is = &f;
    }
    // Batches of lines tokenized in parallel, each thread into its own counts.
    std::vector<std::vector<uint64_t>> per_thread(static_cast<size_t>(pool.size()),
                                                  std::vector<uint64_t>(static_cast<size_t>(V), 0));
    std::vector<std::pair<int64_t, std::string>> batch;
    std::vector<std::optional<Error>> errors;
    Progress progress("freq");
    int64_t line_no = 0;
    auto flush = [&]() -> int {
      errors.assign(batch.size(), std::nullopt);
      pool.parallel_for(static_cast<int64_t>(batch.size()), 8, [&](int64_t a, int64_t b, int thread) {
        for (int64_t i = a; i < b; ++i) {
          const auto& [no, line] = batch[static_cast<size_t>(i)];
          const std::string where = o.in.jsonl + ":" + std::to_string(no);
          Json j = Json::parse(line, nullptr, false);
          std::vector<int32_t> ids;
          if (j.is_object() && j.contains("ids") && j["ids"].is_array()) {
            for (const Json& x : j["ids"]) {
              if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() >= V) {
                errors[static_cast<size_t>(i)] = Error::input(where + ": field 'ids': value " + x.dump() +
                                                              " is not a token id in 0.." + std::to_string(V - 1));
                break;
              }
              ids.push_back(static_cast<int32_t>(x.get<int64_t>()));
            }
          } else if (j.is_object() && j.contains("text") && j["text"].is_string()) {
            ids = tok->encode(j["text"].get<std::string>(), eo).ids;
          } else {
            errors[static_cast<size_t>(i)] =
                Error::input(where + (j.is_discarded() ? ": invalid JSON" : ": expected a field \"text\" or \"ids\""));
          }
          count(ids, o.max_tokens, per_thread[static_cast<size_t>(thread)]);
        }
      });
      for (const auto& e : errors)
        if (e) return report(*e);
      for (size_t i = 0; i < batch.size(); ++i) progress.document_done();
      table.documents += batch.size();
      batch.clear();
      return 0;
    };
    std::string line;
    while (std::getline(*is, line)) {
      ++line_no;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      batch.emplace_back(line_no, std::move(line));
      if (batch.size() >= 1024)
        if (int rc = flush()) return rc;
    }
    if (int rc = flush()) return rc;
    for (const auto& c : per_thread)
      for (size_t v = 0; v < c.size(); ++v) table.counts[v] += c[v];
  }
  if (auto s = write_frequency_table(o.output, table); !s) return report(s.error());
  int64_t distinct = 0;
  for (uint64_t c : table.counts) distinct += c > 0;
  std::fprintf(stderr, "freq: %llu documents, %llu tokens, %lld of %lld token ids seen; wrote %s\n",
               static_cast<unsigned long long>(table.documents), static_cast<unsigned long long>(table.total()),
               static_cast<long long>(distinct), static_cast<long long>(V), o.output.c_str());
  return 0;
}

}  // namespace

void register_freq(CLI::App& app, Run& run) {
  auto* cmd = app.add_subcommand("freq", "Token frequencies of a corpus (the reference distribution of DC-PDD, for "
                                         "`mia --ref-freq`)");
  auto o = std::make_shared<Opts>();
  cmd->add_option("-m,--model", o->model, "GGUF model whose tokenizer counts (default: as `score`)");
  add_input_options(cmd, o->in);
  cmd->add_option("-o,--output", o->output, "Frequency table to write (binary; format in README)")->required();
  cmd->add_option("--max-tokens", o->max_tokens, "Count only the first N tokens of each document (0: all)")
      ->check(CLI::Range(int64_t(0), int64_t(1) << 40));
  cmd->add_flag("--add-special", o->add_special, "Count the BOS/EOS the tokenizer adds");
  cmd->add_option("-t,--threads", o->threads, "Threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->callback([&run, o] {
    run = [o] {
      auto mp = resolve_model(o->model);
      if (!mp) return report(mp.error());
      o->model = *mp;
      return run_freq(*o);
    };
  });
}

}  // namespace ts::cli
