// tokenscope convert: a model dump written by training/train.py -> a llama-architecture GGUF with a byte-level BPE
// (gpt2) tokenizer, written with our own writer (gguf::Writer) and quantizers (quantize_row). It is the only
// converter the demo model's recipe uses.
//
// Dump directory (training/README.md describes it for writers):
//   config.json    {"arch": "llama", "name", "n_vocab", "n_embd", "n_layer", "n_head", "n_head_kv", "head_dim",
//                   "n_ff", "n_ctx", "rms_eps", "rope_base", "tied", "bos_token_id", "eos_token_id", "add_bos_token"}
//   tokenizer.json {"tokens": [...], "token_types": [...], "merges": ["Ġ t", ...]}  (GPT-2 byte-to-unicode strings)
//   tensors.json   [{"name": "blk.0.attn_q.weight", "rows": R, "cols": C, "offset": bytes}, ...]
//   weights.bin    fp32 little-endian, each tensor row-major [rows][cols] at its offset (PyTorch's [out, in])
//
// GGUF written:
//   metadata  general.{architecture = llama, name, file_type, quantization_version}, llama.{vocab_size,
//             context_length, embedding_length, block_count, feed_forward_length, attention.head_count,
//             attention.head_count_kv, attention.key_length/value_length (when head_dim != n_embd/n_head),
//             rope.dimension_count, rope.freq_base, attention.layer_norm_rms_epsilon}, tokenizer.ggml.{model = gpt2,
//             pre = gpt-2, tokens, token_type, merges, bos_token_id, eos_token_id, add_bos_token, add_eos_token}.
//   tensors   in the dump's order; dims in ggml order [cols, rows]. Vectors (norms) F32; matrices in --type, except
//             one whose row length is not a multiple of the type's block: it falls back to Q8_0 (block 32) when
//             that fits, else F16 — so a small model with d = 192 still converts to a K-quant.
// The dump's weights use the GGUF llama layout already (RoPE on adjacent pairs), so nothing is permuted.
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "common.h"
#include "gguf/gguf.h"
#include "runtime/engine.h"
#include "tensor/quant.h"
#include "tensor/thread_pool.h"

namespace ts::cli {

namespace {

using nlohmann::json;


struct Opts {
  std::string dir, out, type = "Q8_0";
  int threads = 0;
};

Expected<json> read_json(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return text.error();
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) return Error::input(path + ": invalid JSON");
  return j;
}

// A non-negative integer field of a JSON object, at most `max`.
Expected<int64_t> int_field(const json& j, const std::string& path, const char* key, int64_t max = int64_t(1) << 30) {
  if (!j.contains(key) || !j[key].is_number_integer())
    return Error::input(path + ": field '" + key + "': missing or not an integer");
  const int64_t v = j[key].get<int64_t>();
  if (v < 0 || v > max)
    return Error::input(path + ": field '" + key + "': value " + std::to_string(v) + " out of range 0.." +
                        std::to_string(max));
  return v;
}

Expected<double> num_field(const json& j, const std::string& path, const char* key) {
  if (!j.contains(key) || !j[key].is_number()) return Error::input(path + ": field '" + key + "': missing or not a number");
  return j[key].get<double>();
}

struct Dims {
  int64_t vocab, embd, layers, heads, kv_heads, head_dim, ff, ctx, bos, eos;
  double eps, rope_base;
  bool tied, add_bos;
  std::string name;
};

Expected<Dims> read_config(const std::string& path) {
  auto j = read_json(path);
  if (!j) return j.error();
  if (!j->is_object()) return Error::input(path + ": expected a JSON object");
  const json& arch = (*j)["arch"];
  if (!arch.is_string() || arch.get<std::string>() != "llama")
    return Error::input(path + ": field 'arch': value " + arch.dump() + " (supported: \"llama\")");
  Dims d{};
  for (auto [dst, key] : {std::pair{&d.vocab, "n_vocab"}, {&d.embd, "n_embd"}, {&d.layers, "n_layer"},
                          {&d.heads, "n_head"}, {&d.kv_heads, "n_head_kv"}, {&d.head_dim, "head_dim"},
                          {&d.ff, "n_ff"}, {&d.ctx, "n_ctx"}, {&d.bos, "bos_token_id"}, {&d.eos, "eos_token_id"}}) {
    auto v = int_field(*j, path, key);
    if (!v) return v.error();
    *dst = *v;
  }
  auto eps = num_field(*j, path, "rms_eps");
  if (!eps) return eps.error();
  auto base = num_field(*j, path, "rope_base");
  if (!base) return base.error();
  d.eps = *eps;
  d.rope_base = *base;
  // optional fields: a wrong type is an error, not an exception
  auto opt_bool = [&](const char* key, bool def, bool* dst) -> Status {
    if (!j->contains(key)) return *dst = def, ok_status();
    if (!(*j)[key].is_boolean()) return Error::input(path + ": field '" + key + "': expected true or false");
    *dst = (*j)[key].get<bool>();
    return ok_status();
  };
  if (auto s = opt_bool("tied", false, &d.tied); !s) return s.error();
  if (auto s = opt_bool("add_bos_token", true, &d.add_bos); !s) return s.error();
  d.name = j->contains("name") && (*j)["name"].is_string() ? (*j)["name"].get<std::string>() : "tokenscope model";
  auto bad = [&](const char* key, int64_t v, const std::string& why) {
    return Error::input(path + ": field '" + key + "': value " + std::to_string(v) + " " + why);
  };
  for (auto [key, v] : {std::pair{"n_vocab", d.vocab}, {"n_embd", d.embd}, {"n_layer", d.layers}, {"n_head", d.heads},
                        {"n_head_kv", d.kv_heads}, {"head_dim", d.head_dim}, {"n_ff", d.ff}, {"n_ctx", d.ctx}})
    if (v == 0) return bad(key, v, "must be positive");
  if (d.heads % d.kv_heads != 0) return bad("n_head_kv", d.kv_heads, "does not divide n_head");
  if (d.head_dim % 2 != 0) return bad("head_dim", d.head_dim, "is odd (RoPE rotates pairs)");
  if (d.bos >= d.vocab) return bad("bos_token_id", d.bos, "is not below n_vocab " + std::to_string(d.vocab));
  if (d.eos >= d.vocab) return bad("eos_token_id", d.eos, "is not below n_vocab " + std::to_string(d.vocab));
  return d;
}

Status add_tokenizer(gguf::Writer& w, const std::string& path, const Dims& d) {
  auto j = read_json(path);
  if (!j) return j.error();
  if (!j->is_object() || !(*j)["tokens"].is_array() || !(*j)["token_types"].is_array() || !(*j)["merges"].is_array())
    return Error::input(path + ": expected {\"tokens\": [...], \"token_types\": [...], \"merges\": [...]}");
  std::vector<std::string> tokens, merges;
  std::vector<int64_t> types;
  for (const auto& t : (*j)["tokens"]) {
    if (!t.is_string()) return Error::input(path + ": field 'tokens': entry " + t.dump() + " is not a string");
    tokens.push_back(t.get<std::string>());
  }
  for (const auto& t : (*j)["token_types"]) {
    if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() > 6)
      return Error::input(path + ": field 'token_types': entry " + t.dump() + " is not a type 0..6");
    types.push_back(t.get<int64_t>());
  }
  for (const auto& m : (*j)["merges"]) {
    if (!m.is_string()) return Error::input(path + ": field 'merges': entry " + m.dump() + " is not a string");
    merges.push_back(m.get<std::string>());
  }
  if (static_cast<int64_t>(tokens.size()) != d.vocab || types.size() != tokens.size())
    return Error::input(path + ": field 'tokens': " + std::to_string(tokens.size()) + " tokens and " +
                        std::to_string(types.size()) + " types for n_vocab " + std::to_string(d.vocab));
  if (std::set<std::string>(tokens.begin(), tokens.end()).size() != tokens.size())
    return Error::input(path + ": field 'tokens': duplicate token text");
  w.add_string("tokenizer.ggml.model", "gpt2");
  w.add_string("tokenizer.ggml.pre", "gpt-2");
  w.add_string_array("tokenizer.ggml.tokens", std::move(tokens));
  w.add_i32_array("tokenizer.ggml.token_type", std::move(types));
  w.add_string_array("tokenizer.ggml.merges", std::move(merges));
  w.add_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(d.bos));
  w.add_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(d.eos));
  w.add_bool("tokenizer.ggml.add_bos_token", d.add_bos);
  w.add_bool("tokenizer.ggml.add_eos_token", false);
  return ok_status();
}

// The shape [rows, cols] each llama tensor must have (PyTorch's [out, in]; rows 1 for a vector).
std::map<std::string, std::pair<int64_t, int64_t>> expected_shapes(const Dims& d) {
  const int64_t q = d.heads * d.head_dim, kv = d.kv_heads * d.head_dim;
  std::map<std::string, std::pair<int64_t, int64_t>> s = {{"token_embd.weight", {d.vocab, d.embd}},
                                                          {"output_norm.weight", {1, d.embd}}};
  if (!d.tied) s["output.weight"] = {d.vocab, d.embd};
  for (int64_t l = 0; l < d.layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    s[p + "attn_norm.weight"] = {1, d.embd};
    s[p + "attn_q.weight"] = {q, d.embd};
    s[p + "attn_k.weight"] = {kv, d.embd};
    s[p + "attn_v.weight"] = {kv, d.embd};
    s[p + "attn_output.weight"] = {d.embd, q};
    s[p + "ffn_norm.weight"] = {1, d.embd};
    s[p + "ffn_gate.weight"] = {d.ff, d.embd};
    s[p + "ffn_up.weight"] = {d.ff, d.embd};
    s[p + "ffn_down.weight"] = {d.embd, d.ff};
  }
  return s;
}

// The type a matrix with rows of `cols` elements is stored in: the requested one when its block divides the row.
DType storage_type(DType want, int64_t cols) {
  if (cols % traits(want).block_elems == 0) return want;
  if (cols % traits(DType::Q8_0).block_elems == 0) return DType::Q8_0;
  return DType::F16;
}

Expected<std::vector<float>> read_weights(const std::string& path) {
  static_assert(std::endian::native == std::endian::little, "weights.bin is little-endian fp32");
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return Error::input(path + ": cannot open: " + std::strerror(errno));
  const std::streamoff size = in.tellg();
  if (size % 4 != 0) return Error::input(path + ": size " + std::to_string(size) + " is not a multiple of 4");
  std::vector<float> w(static_cast<size_t>(size / 4));
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(w.data()), size)) return Error::input(path + ": read error");
  return w;
}

int run_convert(const Opts& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto type_it = weight_types().find(o.type);
  if (type_it == weight_types().end()) return report(Error::input("convert: unknown --type '" + o.type + "'"));
  const DType want = type_it->second.type;
  {  // refuse a type the quantizer cannot produce before any work
    std::vector<float> probe(static_cast<size_t>(traits(want).block_elems), 0.0f);
    std::string row(row_bytes(want, static_cast<int64_t>(probe.size())), '\0');
    if (!quantize_row(want, probe.data(), row.data(), static_cast<int64_t>(probe.size())))
      return report(Error::input("convert: --type " + o.type + ": this build cannot quantize to it"));
  }
  auto dims = read_config(o.dir + "/config.json");
  if (!dims) return report(dims.error());
  const Dims& d = *dims;

  gguf::Writer w;
  w.add_string("general.architecture", "llama");
  w.add_string("general.name", d.name);
  w.add_u32("general.file_type", type_it->second.file_type);
  if (traits(want).block_elems > 1) w.add_u32("general.quantization_version", 2);
  w.add_u32("llama.vocab_size", static_cast<uint32_t>(d.vocab));
  w.add_u32("llama.context_length", static_cast<uint32_t>(d.ctx));
  w.add_u32("llama.embedding_length", static_cast<uint32_t>(d.embd));
  w.add_u32("llama.block_count", static_cast<uint32_t>(d.layers));
  w.add_u32("llama.feed_forward_length", static_cast<uint32_t>(d.ff));
  w.add_u32("llama.attention.head_count", static_cast<uint32_t>(d.heads));
  w.add_u32("llama.attention.head_count_kv", static_cast<uint32_t>(d.kv_heads));
  if (d.head_dim * d.heads != d.embd) {
    w.add_u32("llama.attention.key_length", static_cast<uint32_t>(d.head_dim));
    w.add_u32("llama.attention.value_length", static_cast<uint32_t>(d.head_dim));
  }
  w.add_u32("llama.rope.dimension_count", static_cast<uint32_t>(d.head_dim));
  w.add_f32("llama.rope.freq_base", static_cast<float>(d.rope_base));
  w.add_f32("llama.attention.layer_norm_rms_epsilon", static_cast<float>(d.eps));
  if (auto s = add_tokenizer(w, o.dir + "/tokenizer.json", d); !s) return report(s.error());

  const std::string index_path = o.dir + "/tensors.json", bin_path = o.dir + "/weights.bin";
  auto index = read_json(index_path);
  if (!index) return report(index.error());
  if (!index->is_array()) return report(Error::input(index_path + ": expected an array of tensors"));
  auto weights = read_weights(bin_path);
  if (!weights) return report(weights.error());
  auto shapes = expected_shapes(d);

  ThreadPool pool(thread_count(o.threads));
  std::map<std::string, int> type_counts;
  uint64_t total = 0;
  for (const auto& t : *index) {
    if (!t.is_object() || !t.contains("name") || !t["name"].is_string())
      return report(Error::input(index_path + ": entry " + t.dump() + " has no string 'name'"));
    const std::string name = t["name"].get<std::string>();
    const std::string where = index_path + ": tensor '" + name + "'";
    const auto it = shapes.find(name);
    if (it == shapes.end()) return report(Error::input(where + ": not a tensor of this llama model (or listed twice)"));
    auto rows = int_field(t, where, "rows"), cols = int_field(t, where, "cols");
    auto off = int_field(t, where, "offset", int64_t(1) << 50);
    if (!rows || !cols || !off) return report((!rows ? rows : !cols ? cols : off).error());
    if (std::pair{*rows, *cols} != it->second)
      return report(Error::input(where + ": shape [" + std::to_string(*rows) + ", " + std::to_string(*cols) +
                                 "], expected [" + std::to_string(it->second.first) + ", " +
                                 std::to_string(it->second.second) + "]"));
    const uint64_t n = static_cast<uint64_t>(*rows) * static_cast<uint64_t>(*cols);
    if (*off % 4 != 0 || static_cast<uint64_t>(*off) / 4 + n > weights->size())
      return report(Error::input(where + ": offset " + std::to_string(*off) + " + " + std::to_string(n * 4) +
                                 " bytes is past the end of " + bin_path));
    shapes.erase(it);
    const float* src = weights->data() + *off / 4;
    const bool vec = *rows == 1 && name.ends_with("norm.weight");
    const DType type = vec ? DType::F32 : storage_type(want, *cols);
    const size_t rb = row_bytes(type, *cols);
    std::string data(rb * static_cast<size_t>(*rows), '\0');
    pool.parallel_for(*rows, 16, [&](int64_t begin, int64_t end, int) {
      for (int64_t r = begin; r < end; ++r)
        quantize_row(type, src + r * *cols, data.data() + static_cast<size_t>(r) * rb, *cols);
    });
    total += data.size();
    ++type_counts[std::string(dtype_name(type))];
    std::vector<uint64_t> gdims = {static_cast<uint64_t>(*cols)};
    if (!vec) gdims.push_back(static_cast<uint64_t>(*rows));
    w.add_tensor(name, type, std::move(gdims), std::move(data));
  }
  if (!shapes.empty())
    return report(Error::input(index_path + ": tensor '" + shapes.begin()->first + "' missing"));
  if (auto s = w.write(o.out); !s) return report(s.error());
  // Load what was written, so a file this build cannot run is reported here and not at the first `score`.
  auto eng = Engine::load(o.out, gguf::Residency::kMap);  // a check of what was written: no copy
  if (!eng) return report(Error::internal("convert: wrote " + o.out + " but it does not load: " + eng.error().message));
  std::string types;
  for (const auto& [k, v] : type_counts) types += (types.empty() ? "" : ", ") + std::to_string(v) + " " + k;
  const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "convert: wrote %s: llama, vocab %lld, embd %lld, layers %lld, heads %lld/%lld, ffn %lld, "
               "ctx %lld; tensors %s; %.2f MiB in %.1f s\n",
               o.out.c_str(), (long long)d.vocab, (long long)d.embd, (long long)d.layers, (long long)d.heads,
               (long long)d.kv_heads, (long long)d.ff, (long long)d.ctx, types.c_str(),
               static_cast<double>(total) / (1024.0 * 1024.0), sec);
  return 0;
}

}  // namespace

void register_convert(CLI::App& app, Run& run) {
  auto* cmd = app.add_subcommand("convert", "Write a GGUF from a model dump of training/train.py");
  auto o = std::make_shared<Opts>();
  std::vector<std::string> type_names;
  for (const auto& [k, v] : weight_types()) type_names.push_back(k);
  cmd->add_option("dump", o->dir, "Dump directory (config.json, tokenizer.json, tensors.json, weights.bin)")
      ->required();
  cmd->add_option("-o,--output", o->out, "GGUF file to write")->required();
  cmd->add_option("--type", o->type,
                  "Weight type of the matrices (norms stay F32; a matrix whose rows do not fill the type's blocks "
                  "falls back to Q8_0 or F16)")
      ->check(CLI::IsMember(type_names));
  cmd->add_option("-t,--threads", o->threads, "Threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->callback([&run, o] { run = [o] { return run_convert(*o); }; });
}

}  // namespace ts::cli
