// See documents.h for the contract.
#include "documents.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "shard.h"

namespace ts::cli {

void add_input_options(CLI::App* cmd, InputOptions& in, bool allow_single) {
  if (allow_single) {
    cmd->add_option("-f,--file", in.file, "Text file, one document ('-' for stdin)");
    in.prompt_opt = cmd->add_option("-p,--prompt", in.prompt, "Text, one document");
  }
  cmd->add_option("--jsonl", in.jsonl,
                  "JSONL documents, one {\"text\": ...} or {\"ids\": [...]} per line ('-' for stdin; ids as given, "
                  "no BOS added); the line's other fields are carried into the output");
  cmd->add_flag("--parse-special", in.parse_special, "Turn special-token text such as <s> into special tokens");
}

Document document_from_text(const Tokenizer& tok, std::string text, bool parse_special) {
  Document d;
  EncodeOptions eo;
  eo.add_special = true;
  eo.parse_special = parse_special;
  Encoding enc = tok.encode(text, eo);
  d.ids = std::move(enc.ids);
  d.offsets = std::move(enc.offsets);
  // the predicted tokens (all but the first) cover the text from the second token's offset on, as in `score`
  d.text_bytes = d.ids.size() > 1
                     ? static_cast<int64_t>(text.size() - std::min<uint64_t>(text.size(), d.offsets[1]))
                     : 0;
  d.text = std::move(text);
  return d;
}

Document document_from_ids(const Tokenizer& tok, std::vector<int32_t> ids) {
  Document d;
  d.from_ids = true;
  d.ids = std::move(ids);
  for (size_t i = 0; i < d.ids.size(); ++i) {
    d.offsets.push_back(static_cast<uint32_t>(d.text.size()));
    const int32_t id = d.ids[i];
    const std::string b = id >= 0 && id < tok.vocab_size() ? tok.token_bytes(id) : std::string();
    d.text += b;
    if (i > 0) d.text_bytes += static_cast<int64_t>(b.size());
  }
  return d;
}

Expected<Document> document_from_line(const Tokenizer& tok, int64_t n_vocab, const std::string& line,
                                      const std::string& where, bool parse_special, Json* raw) {
  Json j = Json::parse(line, nullptr, false);
  if (j.is_discarded()) return Error::input(where + ": invalid JSON");
  if (!j.is_object()) return Error::input(where + ": expected a JSON object with \"text\" or \"ids\"");
  if (raw) *raw = j;
  Document d;
  if (j.contains("ids")) {
    const Json& a = j["ids"];
    if (!a.is_array()) return Error::input(where + ": field 'ids': expected an array of token ids");
    std::vector<int32_t> ids;
    ids.reserve(a.size());
    for (const Json& x : a) {
      if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() >= n_vocab)
        return Error::input(where + ": field 'ids': value " + x.dump() + " is not a token id in 0.." +
                            std::to_string(n_vocab - 1));
      ids.push_back(static_cast<int32_t>(x.get<int64_t>()));
    }
    d = document_from_ids(tok, std::move(ids));
    j.erase("ids");
  } else if (j.contains("text")) {
    if (!j["text"].is_string()) return Error::input(where + ": field 'text': expected a string");
    d = document_from_text(tok, j["text"].get<std::string>(), parse_special);
    j.erase("text");
  } else {
    return Error::input(where + ": expected a field \"text\" or \"ids\"");
  }
  d.fields = std::move(j);
  return d;
}

int for_each_document(const std::string& cmd, const Tokenizer& tok, int64_t n_vocab, const InputOptions& in,
                      const std::function<int(int64_t, Document&, const Json&)>& fn, CorpusOutput* corpus) {
  const int sources = !in.file.empty() + !in.jsonl.empty() + in.has_prompt();
  if (sources != 1) {
    const bool single = in.prompt_opt != nullptr;
    return report(Error::input(cmd + (single ? ": give exactly one of -f FILE, -p TEXT, --jsonl DOCS"
                                             : ": give the documents with --jsonl DOCS")));
  }
  auto end_document = [&]() -> int {
    if (!corpus) return 0;
    auto st = corpus->end_document();
    return st ? 0 : report(st.error());
  };
  if (in.jsonl.empty()) {
    if (corpus && !corpus->selects(0)) return 0;  // resumed after its one document
    std::string text = in.prompt;
    if (!in.file.empty()) {
      auto t = read_text_file(in.file);
      if (!t) return report(t.error());
      text = std::move(*t);
    }
    Document d = document_from_text(tok, std::move(text), in.parse_special);
    Progress progress(cmd);  // ends a token-progress line
    if (int rc = fn(0, d, Json::object())) return rc;
    return end_document();
  }
  std::ifstream file;
  std::istream* is = &std::cin;
  if (in.jsonl != "-") {
    file.open(in.jsonl, std::ios::binary);
    if (!file) return report(Error::input(in.jsonl + ": cannot open"));
    is = &file;
  }
  Progress progress(cmd, corpus && corpus->force_progress());
  if (progress.enabled() && corpus) {
    int64_t total = -1;  // unknown for stdin
    if (in.jsonl != "-")
      if (auto n = count_documents(in.jsonl)) total = corpus->shard().size_of(*n);
    progress.set_total(total, corpus->resumed_docs());
  }
  std::string line;
  int64_t line_no = 0, doc = 0;
  while (std::getline(*is, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const int64_t index = doc++;
    if (corpus && !corpus->selects(index)) continue;  // another shard's, or done before a resume
    Json raw;
    auto d = document_from_line(tok, n_vocab, line, in.jsonl + ":" + std::to_string(line_no), in.parse_special, &raw);
    if (!d) return report(d.error());
    if (int rc = fn(index, *d, raw)) return rc;
    if (int rc = end_document()) return rc;
    progress.document_done(std::ssize(d->ids));
  }
  if (is->bad()) return report(Error::input(in.jsonl + ": read error"));
  return 0;
}

Expected<std::set<std::string>> parse_method_list(const std::string& cmd, const std::string& list,
                                                  const std::vector<std::string>& known) {
  std::set<std::string> out;
  std::stringstream ss(list);
  for (std::string m; std::getline(ss, m, ',');) {
    if (m.empty()) continue;
    if (m == "all") {
      out.insert(known.begin(), known.end());
      continue;
    }
    if (std::find(known.begin(), known.end(), m) == known.end()) {
      std::string all = "all";
      for (const auto& k : known) all += ", " + k;
      return Error::input(cmd + ": --method: unknown method '" + m + "' (one of " + all + ")");
    }
    out.insert(m);
  }
  if (out.empty()) return Error::input(cmd + ": --method: no method given");
  return out;
}

int64_t zlib_compressed_bytes(const std::string& bytes) {
  uLongf len = compressBound(static_cast<uLong>(bytes.size()));
  std::vector<Bytef> buf(len);
  if (compress2(buf.data(), &len, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uLong>(bytes.size()),
                Z_DEFAULT_COMPRESSION) != Z_OK)
    return 0;
  return static_cast<int64_t>(len);
}

std::string token_text_or_empty(const Tokenizer& tok, int32_t id) {
  return id >= 0 && id < tok.vocab_size() ? tok.token_text(id) : std::string();
}

namespace {
bool g_progress_printed = false;  // a progress line is open on stderr
}  // namespace

void token_progress(const std::string& cmd, int64_t doc, int64_t pos, int64_t n) {
  static const bool enabled = isatty(STDERR_FILENO) != 0;
  static auto last = std::chrono::steady_clock::now();
  if (!enabled || (pos & 63) != 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last < std::chrono::seconds(1)) return;
  last = now;
  g_progress_printed = true;
  std::fprintf(stderr, "\r%s: document %lld, token %lld / %lld   ", cmd.c_str(), static_cast<long long>(doc),
               static_cast<long long>(pos), static_cast<long long>(n));
}

Progress::Progress(std::string cmd, bool force) : cmd_(std::move(cmd)), tty_(isatty(STDERR_FILENO) != 0) {
  enabled_ = tty_ || force;
  start_ = last_ = std::chrono::steady_clock::now();
}

Progress::~Progress() {
  if (enabled_ && docs_ > 0) print(true);
  if (printed_ || g_progress_printed) {
    if (tty_) std::fprintf(stderr, "\n");
  }
  g_progress_printed = false;
}

void Progress::set_total(int64_t total, int64_t done_before) {
  total_ = total;
  done_before_ = done_before;
}

void Progress::document_done(int64_t tokens) {
  ++docs_;
  tokens_ += tokens;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  // a terminal: a few times a second, in place; a log: the first document, then every few seconds
  const auto every = tty_ ? std::chrono::milliseconds(250) : std::chrono::milliseconds(5000);
  if (now - last_ < every && !(docs_ == 1 && !tty_)) return;
  last_ = now;
  print(false);
}

namespace {
std::string duration_text(double sec) {
  const auto s = static_cast<long long>(sec + 0.5);
  char buf[48];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, s / 60 % 60);
  else if (s >= 60) std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%.1fs", sec);
  return buf;
}
}  // namespace

void Progress::print(bool final) {
  const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const int64_t done = done_before_ + docs_;
  std::string line = cmd_ + ": " + std::to_string(done);
  if (total_ >= 0) {
    char pct[32];
    std::snprintf(pct, sizeof pct, " (%.0f%%)", total_ ? 100.0 * static_cast<double>(done) / total_ : 100.0);
    line += " / " + std::to_string(total_) + " documents" + pct;
  } else {
    line += " documents";
  }
  char rate[64];
  if (tokens_ > 0) std::snprintf(rate, sizeof rate, ", %.0f tokens/s", sec > 0 ? tokens_ / sec : 0.0);
  else std::snprintf(rate, sizeof rate, ", %.1f docs/s", sec > 0 ? docs_ / sec : 0.0);
  line += rate;
  if (final) {
    line += ", done in " + duration_text(sec);
  } else if (total_ >= 0 && docs_ > 0) {
    const double left = static_cast<double>(std::max<int64_t>(0, total_ - done));
    line += ", ETA " + duration_text(left * sec / static_cast<double>(docs_));
  } else {
    line += ", " + duration_text(sec);
  }
  printed_ = g_progress_printed = true;
  if (tty_) std::fprintf(stderr, "\r%s   ", line.c_str());
  else std::fprintf(stderr, "%s\n", line.c_str());
}

}  // namespace ts::cli
