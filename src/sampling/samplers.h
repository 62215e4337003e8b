// Every sampler of the layer, one class per algorithm; the formula, source and defaults of each are in the header
// comment of its .cpp (named after it). Each class's parse() reads one spec item (see spec.h) and checks ranges;
// a bare name takes the defaults below.
//
//   name          primary        keyed parameters (default)                        file
//   temp          T (0.8)        range δ (0), exponent κ (1)                        temperature.cpp
//   top_k         k (40)                                                            top_k.cpp
//   top_p         P (0.95)       min_keep (1)                                       top_p.cpp
//   min_p         p_base (0.05)  min_keep (1)                                       min_p.cpp
//   typical       τ (0.9)        min_keep (1)                                       typical.cpp
//   top_n_sigma   n (1)                                                             top_n_sigma.cpp
//   epsilon       ε (3e-4)       min_keep (1)                                       epsilon.cpp
//   eta           ε (3e-4)       min_keep (1)                                       eta.cpp
//   top_h         α (0.4)        top_n (100)                                        top_h.cpp
//   xtc           probability (0.5)  threshold (0.1), min_keep (1)                  xtc.cpp
//   dry           multiplier (0.8)   base (1.75), allowed_length (2), last_n (64), breakers (\n|:|"|*)   dry.cpp
//   penalties     —              repeat (1), freq (0), present (0), last_n (64)     penalties.cpp
//   logit_bias    —              <token id>=<bias> ... (bias may be -inf)           logit_bias.cpp
//   greedy, dist  —  (selectors)                                                    greedy.cpp, dist.cpp
//   mirostat      τ (5)          eta (0.1), m (100)      (selector)                 mirostat.cpp
//   mirostat_v2   τ (5)          eta (0.1)               (selector)                 mirostat.cpp
//
// Where llama.cpp ships a sampler switched off (typical 1.0, top_n_sigma −1, xtc 0, dry 0, penalties 1/0/0), a bare
// name here switches it on at the value its authors recommend, except penalties, which stays neutral until given
// values. Writing the off value (typical=1, top_n_sigma=-1, xtc=0, dry=0) makes the sampler a no-op.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sampling/sampler.h"
#include "sampling/spec.h"
#include "tokenscope/expected.h"

namespace ts::sampling {

using SamplerPtr = std::unique_ptr<Sampler>;

// ---- shapers ----

class Temperature : public Sampler {
 public:
  explicit Temperature(float temp = 0.8f, float range = 0.0f, float exponent = 1.0f)
      : temp_(temp), range_(range), exponent_(exponent) {}
  static Expected<SamplerPtr> parse(SpecArgs& args);
  std::string name() const override { return "temp"; }
  std::string spec() const override;
  void apply(Candidates& c, const Context& ctx) override;
  SamplerPtr clone() const override { return std::make_unique<Temperature>(*this); }

 private:
  float temp_, range_, exponent_;
};

class TopK : public Sampler {
 public:
  explicit TopK(int32_t k = 40) : k_(k) {}
  static Expected<SamplerPtr> parse(SpecArgs& args);
  std::string name() const override { return "top_k"; }
  std::string spec() const override;
  void apply(Candidates& c, const Context& ctx) override;
  SamplerPtr clone() const override { return std::make_unique<TopK>(*this); }

 private:
  int32_t k_;
};

class TopP : public Sampler {
 public:
  explicit TopP(float p = 0.95f, int32_t min_keep = 1) : p_(p), min_keep_(min_keep) {}
  static Expected<SamplerPtr> parse(SpecArgs& args);
  std::string name() const override { return "top_p"; }
  std::string spec() const override;
  void apply(Candidates& c, const Context& ctx) override;
  SamplerPtr clone() const override { return std::make_unique<TopP>(*this); }

 private:
  float p_;
  int32_t min_keep_;
};

class MinP : public Sampler {
 public:
  explicit MinP(float p = 0.05f, int32_t min_keep = 1) : p_(p), min_keep_(min_keep) {}
  static Expected<SamplerPtr> parse(SpecArgs& args);
  std::string name() const override { return "min_p"; }
  std::string spec() const override;
  void apply(Candidates& c, const Context& ctx) override;
  SamplerPtr clone() const override { return std::make_unique<MinP>(*this); }

 private:
  float p_;
  int32_t min_keep_;
};

class Typical : public Sampler {
 public:
  explicit Typical(float p = 0.9f, int32_t min_keep = 1) : p_(p), min_keep_(min_keep) {}
  static Expected<SamplerPtr> parse(SpecArgs& args);
  std::string name() const override { return "typical"; }
  std::string spec() const override;
  void apply(Candidates& c, const Context& ctx) override;
  SamplerPtr clone() const override { return std::make_unique<Typical>(*this); }

 private:
  float p_;
  int32_t min_keep_;
};

class TopNSigma : public Sampler {
 public:
  explicit TopNSigma(float n = 1.0f) : n_(n) {}
  static Expected<SamplerPtr> parse(SpecArgs& args);
  std::string name() const override { return "top_n_sigma"; }
  std::string spec() const override;
  void apply(Candidates& c, const Context& ctx) override;
  SamplerPtr clone() const override { return std::make_unique<TopNSigma>(*this); }

 private:
  float n_;
};

class Epsilon : public Sampler {
 public:
  explicit Epsilon(float epsilon = 3e-4f, int32_t min_keep = 1) : epsilon_(epsilon), min_keep_(min_keep) {}
  static Expected<SamplerPtr> parse(SpecArgs& args);
  std::string name() const override { return "epsilon"; }
  std::string spec() const override;
  void apply(Candidates& c, const Context& ctx) override;
  SamplerPtr clone() const override { return std::make_unique<Epsilon>(*this); }

 private:
  float epsilon_;
  int32_t min_keep_;
};

class Eta : public Sampler {
 public:
  explicit Eta(float epsilon = 3e-4f, int32_t min_keep = 1) : epsilon_(epsilon), min_keep_(min_keep) {}
  static Expected<SamplerPtr> parse(SpecArgs& args);
  std::string name() const override { return "eta"; }
  std::string spec() const override;
  void apply(Candidates& c, const Context& ctx) override;
  SamplerPtr clone() const override { return std::make_unique<Eta>(*this); }

 private:
  float epsilon_;
  int32_t min_keep_;
};

class TopH : public Sampler {
 public:
  explicit TopH(float alpha = 0.4f, int32_t top_n = 100) : alpha_(alpha), top_n_(top_n) {}
  static Expected<SamplerPtr> parse(SpecArgs& args);
  std::string name() const override { return "top_h"; }
  std::string spec() const override;
  void apply(Candidates& c, const Context& ctx) override;
  SamplerPtr clone() const override { return std::make_unique<TopH>(*this); }

 private:
  float alpha_;
  int32_t top_n_;
};

class Xtc : public Sampler {
 public:
  explicit Xtc(float probability = 0.5f, float threshold = 0.1f, int32_t min_keep = 1)
      : probability_(probability), threshold_(threshold), min_keep_(min_keep) {}
  static Expected<SamplerPtr> parse(SpecArgs& args);
  std::string name() const override { return "xtc"; }
  std::string spec() const override;
  void apply(Candidates& c, const Context& ctx) override;
  SamplerPtr clone() const override { return std::make_unique<Xtc>(*this); }

 private:
  float probability_, threshold_;
  int32_t min_keep_;
};

class Dry : public Sampler {
 public:
  static std::vector<std::string> default_breakers() { return {"\n", ":", "\"", "*"}; }
  explicit Dry(float multiplier = 0.8f, float base = 1.75f, int32_t allowed_length = 2, int32_t last_n = 64,
               std::vector<std::string> breakers = default_breakers())
      : multiplier_(multiplier), base_(base), allowed_length_(allowed_length), last_n_(last_n),
        breakers_(std::move(breakers)) {}
  static Expected<SamplerPtr> parse(SpecArgs& args);
  std::string name() const override { return "dry"; }
  std::string spec() const override;
  void apply(Candidates& c, const Context& ctx) override;
  SamplerPtr clone() const override { return std::make_unique<Dry>(*this); }

 private:
  float multiplier_, base_;
  int32_t allowed_length_, last_n_;
  std::vector<std::string> breakers_;
};

class Penalties : public Sampler {
 public:
  explicit Penalties(float repeat = 1.0f, float freq = 0.0f, float present = 0.0f, int32_t last_n = 64)
      : repeat_(repeat), freq_(freq), present_(present), last_n_(last_n) {}
  static Expected<SamplerPtr> parse(SpecArgs& args);
  std::string name() const override { return "penalties"; }
  std::string spec() const override;
  void apply(Candidates& c, const Context& ctx) override;
  SamplerPtr clone() const override { return std::make_unique<Penalties>(*this); }

 private:
  float repeat_, freq_, present_;
  int32_t last_n_;
};

class LogitBias : public Sampler {
 public:
  // Biases per token id; a repeated id adds up.
  explicit LogitBias(std::vector<std::pair<int32_t, float>> biases = {});
  static Expected<SamplerPtr> parse(SpecArgs& args);
  std::string name() const override { return "logit_bias"; }
  std::string spec() const override;
  void apply(Candidates& c, const Context& ctx) override;
  SamplerPtr clone() const override { return std::make_unique<LogitBias>(*this); }

 private:
  std::vector<int32_t> ids_;  // ascending, unique
  std::vector<float> bias_;   // bias_[k] for ids_[k]
};

// ---- selectors ----

class Greedy : public Selector {
 public:
  static Expected<SamplerPtr> parse(SpecArgs& args);
  std::string name() const override { return "greedy"; }
  std::string spec() const override { return "greedy"; }
  void apply(Candidates& c, const Context& ctx) override;
  int32_t select(const Candidates& c, Rng& rng) const override;
  SamplerPtr clone() const override { return std::make_unique<Greedy>(*this); }
};

class Dist : public Selector {
 public:
  static Expected<SamplerPtr> parse(SpecArgs& args);
  std::string name() const override { return "dist"; }
  std::string spec() const override { return "dist"; }
  void apply(Candidates& c, const Context& ctx) override {}
  SamplerPtr clone() const override { return std::make_unique<Dist>(*this); }
};

// Mirostat v1 and v2 share the feedback loop μ ← μ − η(−log2 p(x) − τ); see mirostat.cpp for why it runs in
// accept() rather than in apply() as in llama.cpp.
class MirostatBase : public Selector {
 public:
  MirostatBase(float tau, float eta) : tau_(tau), eta_(eta), mu_(2.0f * tau) {}
  void accept(int32_t token) override;
  void reset() override;
  float mu() const { return mu_; }
  void set_mu(float mu) { mu_ = mu; }
  float tau() const { return tau_; }
  float eta() const { return eta_; }

 protected:
  // Remembers the distribution apply() left, for the next accept().
  void remember(const Candidates& c);

  float tau_, eta_;
  float mu_;
  std::vector<std::pair<int32_t, float>> last_;  // (id, p) of the last apply(), until the next accept()
};

class Mirostat : public MirostatBase {
 public:
  explicit Mirostat(float tau = 5.0f, float eta = 0.1f, int32_t m = 100) : MirostatBase(tau, eta), m_(m) {}
  static Expected<SamplerPtr> parse(SpecArgs& args);
  std::string name() const override { return "mirostat"; }
  std::string spec() const override;
  void apply(Candidates& c, const Context& ctx) override;
  SamplerPtr clone() const override { return std::make_unique<Mirostat>(*this); }

 private:
  int32_t m_;
};

class MirostatV2 : public MirostatBase {
 public:
  explicit MirostatV2(float tau = 5.0f, float eta = 0.1f) : MirostatBase(tau, eta) {}
  static Expected<SamplerPtr> parse(SpecArgs& args);
  std::string name() const override { return "mirostat_v2"; }
  std::string spec() const override;
  void apply(Candidates& c, const Context& ctx) override;
  SamplerPtr clone() const override { return std::make_unique<MirostatV2>(*this); }
};

}  // namespace ts::sampling
