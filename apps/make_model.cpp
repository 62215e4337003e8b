// tokenscope make-model: a llama-architecture GGUF with random weights, of a chosen shape and weight type, written
// with our own writer (gguf::Writer) and quantizers (quantize_row). For benchmarks and tests that need a model of a
// real size without downloading one; the same file loads in tokenscope and in llama.cpp.
//
// Contents:
//   metadata  general.architecture = llama, general.file_type (llama.cpp's llama_ftype for the chosen type),
//             llama.{context_length, embedding_length, block_count, feed_forward_length, attention.head_count,
//             attention.head_count_kv, rope.dimension_count, rope.freq_base, attention.layer_norm_rms_epsilon,
//             vocab_size}; the keys llama.cpp's llama loader reads (src/llama-model.cpp, LLM_ARCH_LLAMA).
//   vocab     a synthetic SentencePiece vocabulary (tokenizer.ggml.model = llama): 0 "<unk>" (type 2 unknown),
//             1 "<s>", 2 "</s>" (type 3 control), 3..258 the byte tokens "<0x00>".."<0xFF>" (type 6 byte), then
//             unique filler pieces ("▁", printable ASCII characters, then "▁"+w and w for letter strings w = a, b,
//             .., z, aa, ab, ..), type 1 normal, score −(index). llama.cpp requires unique pieces and a "<0x0A>"
//             piece (llama-vocab.cpp), so the vocabulary holds at least the 259 fixed tokens.
//   weights   matrices N(0, 0.02²), norm vectors 1.0 (F32). Every matrix — token_embd and output included, also
//             for K-quants, like llama-quantize --pure — is stored in the chosen type, quantized row by row with
//             quantize_row. Row r of tensor `name` is drawn from a generator seeded by (seed, name, r) only, so the
//             values do not depend on the thread count, and files of different types share the same weights.
//
// Memory: each tensor's bytes are produced once and held by the writer until it writes the file.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <numbers>
#include <set>

#include "commands.h"
#include "common.h"
#include "gguf/gguf.h"
#include "tensor/quant.h"
#include "tensor/thread_pool.h"

namespace ts::cli {

namespace {

struct Shape {
  int64_t embd = 0, layers = 0, heads = 0, kv_heads = 0, ffn = 0, vocab = 0, ctx = 0;
};

// `tiny` is small enough for tests and large enough for every block size (256); 1.1b is TinyLlama-1.1B's shape.
const std::map<std::string, Shape>& shapes() {
  static const std::map<std::string, Shape> k = {
      {"tiny", {256, 2, 4, 2, 512, 512, 256}},
      {"1.1b", {2048, 22, 32, 4, 5632, 32000, 2048}},
  };
  return k;
}


struct Opts {
  std::string out, shape = "tiny", type = "F16";
  Shape over;  // 0 = from the shape
  uint64_t seed = 42;
  int threads = 0;
};

constexpr double kWeightStd = 0.02;

// splitmix64 (Steele, Lea, Flood 2014): a fast, well-mixed generator, also used to derive the per-row seeds.
struct SplitMix {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform_open() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }  // in (0, 1)
};

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// Row `row` of tensor `name`: n values N(0, std²) by Box–Muller.
void random_row(uint64_t seed, uint64_t name_hash, int64_t row, float* dst, int64_t n, double std_dev) {
  SplitMix seeder{seed ^ name_hash};
  SplitMix g{seeder.next() + static_cast<uint64_t>(row) * 0xD1B54A32D192ED03ull};
  for (int64_t i = 0; i < n; i += 2) {
    const double r = std::sqrt(-2.0 * std::log(g.uniform_open())) * std_dev;
    const double a = 2.0 * std::numbers::pi * g.uniform_open();
    dst[i] = static_cast<float>(r * std::cos(a));
    if (i + 1 < n) dst[i + 1] = static_cast<float>(r * std::sin(a));
  }
}

// The synthetic SentencePiece vocabulary described in the header comment.
void add_vocab(gguf::Writer& w, int64_t n_vocab) {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<int64_t> kinds = {2, 3, 3};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    tokens.emplace_back(buf);
    kinds.push_back(6);
  }
  std::set<std::string> seen(tokens.begin(), tokens.end());
  auto add = [&](std::string s) {
    if (static_cast<int64_t>(tokens.size()) >= n_vocab || !seen.insert(s).second) return;
    tokens.push_back(std::move(s));
    kinds.push_back(1);
  };
  const std::string space = "\xE2\x96\x81";  // U+2581, SentencePiece's escaped space
  add(space);
  for (int c = 33; c < 127; ++c) add(std::string(1, static_cast<char>(c)));
  // letter strings in length-then-lexicographic order: a..z, aa..zz, aaa..
  for (size_t len = 1; static_cast<int64_t>(tokens.size()) < n_vocab; ++len) {
    std::string w(len, 'a');
    while (static_cast<int64_t>(tokens.size()) < n_vocab) {
      add(space + w);
      add(w);
      size_t i = len;  // increment w as a base-26 number
      while (i > 0 && w[i - 1] == 'z') w[--i] = 'a';
      if (i == 0) break;
      ++w[i - 1];
    }
  }
  std::vector<double> scores(tokens.size(), 0.0);
  for (size_t i = 259; i < tokens.size(); ++i) scores[i] = -static_cast<double>(i - 259);
  w.add_string("tokenizer.ggml.model", "llama");
  w.add_string("tokenizer.ggml.pre", "default");
  w.add_string_array("tokenizer.ggml.tokens", std::move(tokens));
  w.add_f32_array("tokenizer.ggml.scores", std::move(scores));
  w.add_i32_array("tokenizer.ggml.token_type", std::move(kinds));
  w.add_u32("tokenizer.ggml.unknown_token_id", 0);
  w.add_u32("tokenizer.ggml.bos_token_id", 1);
  w.add_u32("tokenizer.ggml.eos_token_id", 2);
  w.add_bool("tokenizer.ggml.add_bos_token", true);
  w.add_bool("tokenizer.ggml.add_eos_token", false);
}

Status check_shape(const Shape& s, const std::string& type_name, DType type) {
  auto bad = [](const std::string& opt, int64_t v, const std::string& why) {
    return Error::input("make-model: " + opt + ": value " + std::to_string(v) + " " + why);
  };
  const int64_t kMax = int64_t(1) << 20;
  for (auto [name, v] : {std::pair{"--embd", s.embd}, {"--layers", s.layers}, {"--heads", s.heads},
                         {"--kv-heads", s.kv_heads}, {"--ffn", s.ffn}, {"--vocab", s.vocab}, {"--ctx", s.ctx}})
    if (v <= 0 || v > kMax) return bad(name, v, "out of range 1.." + std::to_string(kMax));
  if (s.embd % s.heads != 0) return bad("--heads", s.heads, "does not divide --embd " + std::to_string(s.embd));
  if ((s.embd / s.heads) % 2 != 0)
    return bad("--heads", s.heads, "gives an odd head size " + std::to_string(s.embd / s.heads) + " (RoPE needs even)");
  if (s.heads % s.kv_heads != 0)
    return bad("--kv-heads", s.kv_heads, "does not divide --heads " + std::to_string(s.heads));
  if (s.vocab < 259)
    return bad("--vocab", s.vocab, "is below 259 (3 special tokens and 256 byte tokens)");
  const int64_t blk = traits(type).block_elems;
  if (s.embd % blk != 0)
    return bad("--embd", s.embd, "is not a multiple of " + std::to_string(blk) + ", the block size of " + type_name);
  if (s.ffn % blk != 0)
    return bad("--ffn", s.ffn, "is not a multiple of " + std::to_string(blk) + ", the block size of " + type_name);
  return ok_status();
}

double gib(uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0); }

int run_make_model(const Opts& o) {
  const auto shape_it = shapes().find(o.shape == "custom" ? "tiny" : o.shape);
  const auto type_it = weight_types().find(o.type);
  if (shape_it == shapes().end() || type_it == weight_types().end())
    return report(Error::input("make-model: unknown --shape '" + o.shape + "' or --type '" + o.type + "'"));
  Shape s = shape_it->second;
  for (auto [dst, v] : {std::pair{&s.embd, o.over.embd}, {&s.layers, o.over.layers}, {&s.heads, o.over.heads},
                        {&s.kv_heads, o.over.kv_heads}, {&s.ffn, o.over.ffn}, {&s.vocab, o.over.vocab},
                        {&s.ctx, o.over.ctx}})
    if (v != 0) *dst = v;
  const DType type = type_it->second.type;
  if (auto st = check_shape(s, o.type, type); !st) return report(st.error());
  // Probe the quantizer once, so a type it cannot produce is refused before any work.
  {
    std::vector<float> probe(static_cast<size_t>(traits(type).block_elems), 0.0f);
    std::string row(row_bytes(type, static_cast<int64_t>(probe.size())), '\0');
    if (!quantize_row(type, probe.data(), row.data(), static_cast<int64_t>(probe.size())))
      return report(Error::input("make-model: --type " + o.type + ": this build cannot quantize to it"));
  }
  const int64_t head_dim = s.embd / s.heads, kv_dim = s.kv_heads * head_dim;

  gguf::Writer w;
  w.add_string("general.architecture", "llama");
  w.add_string("general.name", "tokenscope random llama " + o.shape + " " + o.type);
  w.add_u32("general.file_type", type_it->second.file_type);
  if (traits(type).block_elems > 1) w.add_u32("general.quantization_version", 2);
  w.add_u32("llama.vocab_size", static_cast<uint32_t>(s.vocab));
  w.add_u32("llama.context_length", static_cast<uint32_t>(s.ctx));
  w.add_u32("llama.embedding_length", static_cast<uint32_t>(s.embd));
  w.add_u32("llama.block_count", static_cast<uint32_t>(s.layers));
  w.add_u32("llama.feed_forward_length", static_cast<uint32_t>(s.ffn));
  w.add_u32("llama.attention.head_count", static_cast<uint32_t>(s.heads));
  w.add_u32("llama.attention.head_count_kv", static_cast<uint32_t>(s.kv_heads));
  w.add_u32("llama.rope.dimension_count", static_cast<uint32_t>(head_dim));
  w.add_f32("llama.rope.freq_base", 10000.0f);
  w.add_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  add_vocab(w, s.vocab);

  // The tensor list in llama.cpp's file order: token_embd, blocks, output_norm, output. dims in ggml order.
  struct Spec {
    std::string name;
    int64_t cols, rows;  // rows = 1 for a vector
    bool norm;
  };
  std::vector<Spec> specs = {{"token_embd.weight", s.embd, s.vocab, false}};
  for (int64_t l = 0; l < s.layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    specs.push_back({p + "attn_norm.weight", s.embd, 1, true});
    specs.push_back({p + "attn_q.weight", s.embd, s.embd, false});
    specs.push_back({p + "attn_k.weight", s.embd, kv_dim, false});
    specs.push_back({p + "attn_v.weight", s.embd, kv_dim, false});
    specs.push_back({p + "attn_output.weight", s.embd, s.embd, false});
    specs.push_back({p + "ffn_norm.weight", s.embd, 1, true});
    specs.push_back({p + "ffn_gate.weight", s.embd, s.ffn, false});
    specs.push_back({p + "ffn_down.weight", s.ffn, s.embd, false});
    specs.push_back({p + "ffn_up.weight", s.embd, s.ffn, false});
  }
  specs.push_back({"output_norm.weight", s.embd, 1, true});
  specs.push_back({"output.weight", s.embd, s.vocab, false});

  ThreadPool pool(thread_count(o.threads));
  const bool tty = isatty(STDERR_FILENO);
  const auto t0 = std::chrono::steady_clock::now();
  uint64_t total = 0;
  for (size_t ti = 0; ti < specs.size(); ++ti) {
    const Spec& sp = specs[ti];
    const DType t = sp.norm ? DType::F32 : type;
    const size_t rb = row_bytes(t, sp.cols);
    std::string data(rb * static_cast<size_t>(sp.rows), '\0');
    if (sp.norm) {
      std::vector<float> ones(static_cast<size_t>(sp.cols), 1.0f);
      std::memcpy(data.data(), ones.data(), data.size());
    } else {
      const uint64_t h = fnv1a(sp.name);
      std::vector<std::vector<float>> scratch(static_cast<size_t>(pool.size()),
                                              std::vector<float>(static_cast<size_t>(sp.cols)));
      pool.parallel_for(sp.rows, 16, [&](int64_t begin, int64_t end, int thread) {
        float* buf = scratch[static_cast<size_t>(thread)].data();
        for (int64_t r = begin; r < end; ++r) {
          random_row(o.seed, h, r, buf, sp.cols, kWeightStd);
          quantize_row(t, buf, data.data() + static_cast<size_t>(r) * rb, sp.cols);
        }
      });
    }
    total += data.size();
    std::vector<uint64_t> dims = {static_cast<uint64_t>(sp.cols)};
    if (!sp.norm) dims.push_back(static_cast<uint64_t>(sp.rows));
    w.add_tensor(sp.name, t, std::move(dims), std::move(data));
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (tty)
      std::fprintf(stderr, "\rmake-model: %zu/%zu tensors, %.2f GiB, %.1f s   ", ti + 1, specs.size(), gib(total), sec);
    else if (sp.name.ends_with("ffn_up.weight") || ti + 1 == specs.size())
      std::fprintf(stderr, "make-model: %zu/%zu tensors, %.2f GiB, %.1f s\n", ti + 1, specs.size(), gib(total), sec);
  }
  if (tty) std::fprintf(stderr, "\n");
  std::fprintf(stderr, "make-model: writing %s\n", o.out.c_str());
  if (auto st = w.write(o.out); !st) return report(st.error());
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr,
               "make-model: wrote %s: llama %s, %s, embd %lld, layers %lld, heads %lld/%lld, ffn %lld, vocab %lld, "
               "ctx %lld; %.2f GiB of tensors in %.1f s, peak RSS %.0f MiB\n",
               o.out.c_str(), o.shape.c_str(), o.type.c_str(), (long long)s.embd, (long long)s.layers,
               (long long)s.heads, (long long)s.kv_heads, (long long)s.ffn, (long long)s.vocab, (long long)s.ctx,
               gib(total), sec, static_cast<double>(ru.ru_maxrss) / 1024.0);
  return 0;
}

}  // namespace

void register_make_model(CLI::App& app, Run& run) {
  auto* cmd = app.add_subcommand("make-model", "Write a llama GGUF with random weights of a given shape and type");
  auto o = std::make_shared<Opts>();
  std::vector<std::string> shape_names = {"custom"}, type_names;
  for (const auto& [k, v] : shapes()) shape_names.push_back(k);
  for (const auto& [k, v] : weight_types()) type_names.push_back(k);
  cmd->add_option("-o,--output", o->out, "GGUF file to write")->required();
  cmd->add_option("--shape", o->shape, "tiny (d 256, 2 layers), 1.1b (TinyLlama), or custom (tiny + the options below)")
      ->check(CLI::IsMember(shape_names));
  cmd->add_option("--type", o->type, "Weight type of every matrix (norms stay F32)")->check(CLI::IsMember(type_names));
  const auto range = CLI::Range(int64_t(1), int64_t(1) << 20);
  cmd->add_option("--embd", o->over.embd, "Embedding length (overrides the shape)")->check(range);
  cmd->add_option("--layers", o->over.layers, "Blocks")->check(range);
  cmd->add_option("--heads", o->over.heads, "Attention heads")->check(range);
  cmd->add_option("--kv-heads", o->over.kv_heads, "Key/value heads")->check(range);
  cmd->add_option("--ffn", o->over.ffn, "Feed-forward length")->check(range);
  cmd->add_option("--vocab", o->over.vocab, "Vocabulary size (>= 259)")->check(range);
  cmd->add_option("--ctx", o->over.ctx, "Training context length written to the metadata")->check(range);
  cmd->add_option("--seed", o->seed, "Random seed (same seed and shape: same weights, whatever the type)");
  cmd->add_option("-t,--threads", o->threads, "Threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->callback([&run, o] { run = [o] { return run_make_model(*o); }; });
}

}  // namespace ts::cli
