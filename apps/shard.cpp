// See shard.h for the contract. This file uses nothing from the other CLI sources (tests compile it on its own).
#include "shard.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include <nlohmann/json.hpp>

namespace ts::cli {

namespace {

// A whole number of at most 18 digits (no sign, no spaces), so it fits int64 with room for arithmetic.
bool parse_count(std::string_view s, int64_t& v) {
  if (s.empty() || s.size() > 18) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return std::from_chars(s.data(), s.data() + s.size(), v).ec == std::errc();
}

// The index of a line that begins {"doc":<digits>, and the rest of the line after the digits.
bool leading_doc(std::string_view line, int64_t& doc, std::string_view& rest) {
  constexpr std::string_view kPrefix = "{\"doc\":";
  if (line.substr(0, kPrefix.size()) != kPrefix) return false;
  const size_t b = kPrefix.size();
  size_t e = b;
  while (e < line.size() && line[e] >= '0' && line[e] <= '9') ++e;
  if (!parse_count(line.substr(b, e - b), doc)) return false;
  rest = line.substr(e);
  return !rest.empty() && (rest[0] == ',' || rest[0] == '}');
}

std::string shard_text(const ShardSpec& s) { return std::to_string(s.index) + "/" + std::to_string(s.count); }

}  // namespace

Expected<ShardSpec> parse_shard_spec(const std::string& spec) {
  const std::string what = "--shard '" + spec + "'";
  const size_t slash = spec.find('/');
  ShardSpec s;
  if (slash == std::string::npos || !parse_count(std::string_view(spec).substr(0, slash), s.index) ||
      !parse_count(std::string_view(spec).substr(slash + 1), s.count))
    return Error::input(what + ": expected i/n, two whole numbers with 0 <= i < n (e.g. 3/16)");
  if (s.count < 1) return Error::input(what + ": the shard count n must be at least 1");
  if (s.index >= s.count)
    return Error::input(what + ": shard index " + std::to_string(s.index) + " out of range 0.." +
                        std::to_string(s.count - 1));
  return s;
}

std::string shard_file_name(const std::string& cmd, const ShardSpec& shard, bool sharded) {
  if (!sharded) return cmd + ".jsonl";
  return cmd + ".shard-" + std::to_string(shard.index) + "-of-" + std::to_string(shard.count) + ".jsonl";
}

Expected<ResumePoint> scan_output(std::istream& in, DocLayout layout, const ShardSpec& shard,
                                  const std::string& where) {
  ResumePoint rp;
  uint64_t pos = 0;
  int64_t line_no = 0, open_doc = -1;  // open_doc: the document whose lines follow the last complete one
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // no newline after it: a partial last line
    ++line_no;
    pos += line.size() + 1;
    auto at = [&] { return where + ": line " + std::to_string(line_no) + ": "; };  // built only for an error
    int64_t doc = 0;
    std::string_view rest;
    if (!leading_doc(line, doc, rest))
      return Error::input(at() + "not a line of tokenscope jsonl output (no leading \"doc\" index)");
    if (!shard.contains(doc))
      return Error::input(at() + "document " + std::to_string(doc) + " is not in shard " + shard_text(shard) +
                          " (was the file written with another --shard?)");
    // A run writes every document of its shard, in order: the next line belongs to the open document or the next.
    const int64_t expected = open_doc >= 0 ? open_doc : rp.last_doc < 0 ? shard.index : rp.last_doc + shard.count;
    if (doc != expected)
      return Error::input(at() + "document " + std::to_string(doc) + " where document " + std::to_string(expected) +
                          " was expected (was the file written from another input?)");
    open_doc = doc;
    const bool last_line = layout == DocLayout::kOneLine || rest.substr(0, 11) == ",\"summary\":";
    if (!last_line) continue;
    if (!nlohmann::json::accept(line))
      return Error::input(at() + "document " + std::to_string(doc) + ": invalid JSON");
    rp.keep_bytes = pos;
    rp.last_doc = doc;
    ++rp.docs;
    open_doc = -1;
  }
  if (in.bad()) return Error::input(where + ": read error");
  return rp;
}

Expected<int64_t> count_documents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::input(path + ": cannot open");
  std::vector<char> buf(1 << 20);
  int64_t n = 0;
  bool blank = true;  // the current line has only spaces, tabs and CRs so far (as for_each_document skips)
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const std::streamsize got = in.gcount();
    for (std::streamsize i = 0; i < got; ++i) {
      const char c = buf[static_cast<size_t>(i)];
      if (c == '\n') {
        n += !blank;
        blank = true;
      } else if (c != ' ' && c != '\t' && c != '\r') {
        blank = false;
      }
    }
  }
  if (in.bad()) return Error::input(path + ": read error");
  return n + !blank;
}

void add_shard_options(CLI::App* cmd, ShardOptions& o) {
  const std::string name = cmd->get_name();
  const char* group = "Sharding and resume (docs/scaling.md)";
  cmd->add_option("--shard", o.shard,
                  "Only the documents whose index (the output's \"doc\": 0-based, counting non-blank --jsonl lines) "
                  "mod n is i. Round-robin, not contiguous, so sorted or clustered corpora split evenly; every shard "
                  "reads the whole input but scores only its own documents")
      ->type_name("i/n")
      ->group(group);
  cmd->add_option("--out", o.out_dir,
                  "Write DIR/" + name + ".shard-<i>-of-<n>.jsonl (DIR/" + name +
                      ".jsonl without --shard) instead of stdout, flushed after each document; DIR is created")
      ->type_name("DIR")
      ->group(group);
  cmd->add_flag("--resume", o.resume,
                "With --out: keep the file up to its last complete document, drop a partial one, and continue "
                "after it; the result equals an uninterrupted run's file byte for byte")
      ->group(group);
  cmd->add_flag("--progress", o.progress,
                "Progress on stderr (documents done / in the shard, tokens/s, ETA) even when stderr is not a "
                "terminal, one line every few seconds")
      ->group(group);
}

Expected<std::unique_ptr<CorpusOutput>> CorpusOutput::open(const std::string& cmd, const ShardOptions& o,
                                                           DocLayout layout, bool jsonl_input) {
  std::unique_ptr<CorpusOutput> out(new CorpusOutput);
  out->force_progress_ = o.progress;
  const bool sharded = !o.shard.empty();
  if (sharded) {
    auto s = parse_shard_spec(o.shard);
    if (!s) return Error::input(cmd + ": " + s.error().message);
    if (!jsonl_input)
      return Error::input(cmd + ": --shard '" + o.shard + "' needs the documents from --jsonl DOCS");
    out->shard_ = *s;
  }
  if (o.resume && o.out_dir.empty())
    return Error::input(cmd + ": --resume needs --out DIR (it continues the output file there)");
  if (o.out_dir.empty()) return out;

  std::error_code ec;
  std::filesystem::create_directories(o.out_dir, ec);
  if (ec) return Error::input(cmd + ": --out '" + o.out_dir + "': cannot create the directory: " + ec.message());
  out->path_ = (std::filesystem::path(o.out_dir) / shard_file_name(cmd, out->shard_, sharded)).string();
  const std::string& path = out->path_;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Error::input(path + ": cannot open for writing: " + std::strerror(errno));
  auto fail = [fd](Error e) -> Expected<std::unique_ptr<CorpusOutput>> {
    ::close(fd);
    return e;
  };
  // Held until the process ends (a kill included): a second run of the same shard must not interleave its lines.
  // Other flock failures (a file system without locks) are no reason to refuse the run.
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK)
    return fail(Error::input(path + ": another tokenscope run is writing this file"));
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail(Error::input(path + ": cannot stat: " + std::strerror(errno)));
  if (st.st_size > 0) {
    if (!o.resume) return fail(Error::input(path + " exists; pass --resume to continue or remove it"));
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(Error::input(path + ": cannot open for reading"));
    auto rp = scan_output(in, layout, out->shard_, path);
    if (!rp) return fail(rp.error());
    out->resume_ = *rp;
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    if (rp->keep_bytes < size && ::ftruncate(fd, static_cast<off_t>(rp->keep_bytes)) != 0)
      return fail(Error::input(path + ": cannot truncate: " + std::strerror(errno)));
    std::fprintf(stderr, "%s: resuming %s after %lld complete documents", cmd.c_str(), path.c_str(),
                 static_cast<long long>(rp->docs));
    if (rp->keep_bytes < size)
      std::fprintf(stderr, " (dropped %llu bytes of a partial document)",
                   static_cast<unsigned long long>(size - rp->keep_bytes));
    std::fprintf(stderr, "\n");
  }
  out->file_ = ::fdopen(fd, "a");
  if (!out->file_) return fail(Error::internal(path + ": fdopen: " + std::strerror(errno)));
  // A document usually fits the buffer and reaches the file in one write at end_document().
  std::setvbuf(out->file_, nullptr, _IOFBF, 1 << 20);
  return out;
}

CorpusOutput::~CorpusOutput() {
  if (file_) std::fclose(file_);
}

Status CorpusOutput::end_document() {
  FILE* f = stream();
  if (std::fflush(f) != 0 || std::ferror(f))
    return Error::internal((path_.empty() ? std::string("stdout") : path_) + ": write error: " +
                           std::strerror(errno));
  return ok_status();
}

}  // namespace ts::cli
