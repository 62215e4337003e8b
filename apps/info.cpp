// tokenscope info: what a GGUF file holds — architecture, sizes, tensor types, tokenizer, special tokens.
#include <cstdio>
#include <map>

#include "commands.h"
#include "common.h"
#include "gguf/gguf.h"
#include "model/config.h"
#include "tokenizer/tokenizer.h"

namespace ts::cli {

void register_info(CLI::App& app, Run& run) {
  auto* cmd = app.add_subcommand("info", "Show a GGUF file's architecture, sizes, tensor types and tokenizer");
  struct Opts {
    std::string model;
    bool metadata = false, tensors = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("-m,--model", o->model, "GGUF file (default: the bundled demo model)");
  cmd->add_flag("--metadata", o->metadata, "Also list every metadata key and value");
  cmd->add_flag("--tensors", o->tensors, "Also list every tensor with its type and shape");
  cmd->callback([&run, o] {
    run = [o]() -> int {
      if (auto mp = resolve_model(o->model); !mp) return report(mp.error()); else o->model = *mp;
      auto f = gguf::File::open(o->model);
      if (!f) return report(f.error());
      std::printf("file         %s\n", o->model.c_str());
      std::printf("gguf         version %u, alignment %llu, %zu tensors, %zu metadata keys, %.1f MiB\n", f->version(),
                  static_cast<unsigned long long>(f->alignment()), f->tensors().size(), f->metadata().size(),
                  static_cast<double>(f->file_size()) / (1024.0 * 1024.0));
      std::printf("name         %s\n", f->get_string_or("general.name", "-").c_str());
      const std::string arch = f->get_string_or("general.architecture", "-");
      auto cfg = read_config(*f);
      if (cfg) {
        const auto& c = *cfg;
        std::printf("architecture %s\n", c.arch.c_str());
        std::printf("sizes        vocab %lld, embd %lld, layers %lld, heads %lld (kv %lld, dim %lld), ffn %lld, "
                    "context %lld\n",
                    (long long)c.n_vocab, (long long)c.n_embd, (long long)c.n_layer, (long long)c.n_head,
                    (long long)c.n_head_kv, (long long)c.head_dim, (long long)c.n_ff, (long long)c.n_ctx_train);
        std::printf("rope         %s, base %g, dims %lld, freq scale %g\n",
                    c.rope == RopeKind::kNorm ? "norm" : "neox", c.rope_base, (long long)c.rope_dim,
                    c.rope_freq_scale);
        std::printf("output       %s\n", c.tied_output ? "tied to token_embd" : "output.weight");
      } else {
        std::printf("architecture %s (%s)\n", arch.c_str(), cfg.error().message.c_str());
      }
      std::map<std::string, std::pair<size_t, uint64_t>> by_type;
      uint64_t n_params = 0;
      for (const auto& t : f->tensors()) {
        auto& e = by_type[std::string(dtype_name(t.type))];
        e.first++;
        e.second += t.n_bytes;
        n_params += t.n_elements;
      }
      std::printf("parameters   %.2f M\n", static_cast<double>(n_params) / 1e6);
      std::printf("tensor types");
      for (const auto& [name, e] : by_type)
        std::printf(" %s×%zu (%.1f MiB)", name.c_str(), e.first, static_cast<double>(e.second) / (1024.0 * 1024.0));
      std::printf("\n");
      if (f->find("tokenizer.ggml.model")) {
        auto tok = Tokenizer::from_gguf(*f);
        if (tok) {
          std::printf("tokenizer    %s (pre %s), %d tokens, bos %d, eos %d, add_bos %s, add_eos %s\n",
                      tok->model().c_str(), tok->pre().c_str(), tok->vocab_size(), tok->bos_id(), tok->eos_id(),
                      tok->add_bos() ? "yes" : "no", tok->add_eos() ? "yes" : "no");
          std::string specials;
          int shown = 0, total = 0;
          for (int32_t id = 0; id < tok->vocab_size(); ++id) {
            const TokenKind k = tok->token_kind(id);
            if (k != TokenKind::kControl && k != TokenKind::kUserDefined) continue;
            ++total;
            if (shown < 16) {
              specials += (shown ? " " : "") + std::to_string(id) + "=" + tok->token_text(id);
              ++shown;
            }
          }
          std::printf("special      %d tokens%s%s%s\n", total, total ? ": " : "", specials.c_str(),
                      total > shown ? " …" : "");
        } else {
          std::printf("tokenizer    error: %s\n", tok.error().message.c_str());
        }
      } else {
        std::printf("tokenizer    none\n");
      }
      if (o->metadata)
        for (const auto& [k, v] : f->metadata()) std::printf("  %-40s %s\n", k.c_str(), v.to_string().c_str());
      if (o->tensors)
        for (const auto& t : f->tensors()) {
          std::string shape;
          for (size_t i = 0; i < t.dims.size(); ++i) shape += (i ? " x " : "") + std::to_string(t.dims[i]);
          std::printf("  %-32s %-5s %s\n", t.name.c_str(), std::string(dtype_name(t.type)).c_str(), shape.c_str());
        }
      return 0;
    };
  });
}

}  // namespace ts::cli
