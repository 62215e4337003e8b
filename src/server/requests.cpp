// See requests.h for the fields and their ranges.
#include "server/requests.h"

#include <cmath>
#include <limits>

#include "sampling/spec.h"

namespace ts::server {
namespace {

std::string type_name(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return "boolean";
    case Json::value_t::string: return "string";
    case Json::value_t::array: return "array";
    case Json::value_t::object: return "object";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "integer";
    case Json::value_t::number_float: return "number";
    default: return "value";
  }
}

ApiError wrong_type(const std::string& key, const std::string& expected, const Json& v) {
  return ApiError::bad("field '" + key + "': expected " + expected + ", got " + type_name(v), key);
}

std::string fmt(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", x);
  return buf;
}

using MaybeError = std::optional<ApiError>;

bool is_token_id(const Json& x) {
  if (!x.is_number_integer()) return false;
  if (x.is_number_unsigned()) return x.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int32_t>::max());
  const int64_t v = x.get<int64_t>();
  return v >= 0 && v <= std::numeric_limits<int32_t>::max();
}

// Typed reads of one request object; an absent or null field leaves the output alone.
class Reader {
 public:
  explicit Reader(const Json& j) : j_(j) {}

  const Json* get(const char* key) const {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return nullptr;
    return &*it;
  }

  MaybeError integer(const char* key, int64_t lo, int64_t hi, std::optional<int64_t>& out) const {
    const Json* v = get(key);
    if (!v) return {};
    if (!v->is_number_integer()) return wrong_type(key, "an integer", *v);
    const bool too_big = v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(hi);
    const int64_t x = too_big ? hi : v->get<int64_t>();
    if (too_big || x < lo || x > hi)
      return ApiError::bad("field '" + std::string(key) + "': value " + v->dump() + " out of range " +
                               std::to_string(lo) + ".." + std::to_string(hi),
                           key);
    out = x;
    return {};
  }

  MaybeError integer(const char* key, int64_t lo, int64_t hi, int& out) const {
    std::optional<int64_t> x;
    if (auto e = integer(key, lo, hi, x)) return e;
    if (x) out = static_cast<int>(*x);
    return {};
  }

  MaybeError number(const char* key, double lo, double hi, std::optional<double>& out) const {
    const Json* v = get(key);
    if (!v) return {};
    if (!v->is_number()) return wrong_type(key, "a number", *v);
    const double x = v->get<double>();
    if (!(x >= lo && x <= hi))
      return ApiError::bad("field '" + std::string(key) + "': value " + v->dump() + " out of range " + fmt(lo) +
                               ".." + fmt(hi),
                           key);
    out = x;
    return {};
  }

  MaybeError boolean(const char* key, bool& out) const {
    const Json* v = get(key);
    if (!v) return {};
    if (!v->is_boolean()) return wrong_type(key, "a boolean", *v);
    out = v->get<bool>();
    return {};
  }

  MaybeError string(const char* key, std::string& out) const {
    const Json* v = get(key);
    if (!v) return {};
    if (!v->is_string()) return wrong_type(key, "a string", *v);
    out = v->get<std::string>();
    return {};
  }

 private:
  const Json& j_;
};

MaybeError read_extension(const Reader& r, Extension& ext) {
  const Json* v = r.get("tokenscope");
  if (!v) return {};
  if (!v->is_object()) return wrong_type("tokenscope", "an object", *v);
  Reader x(*v);
  if (auto e = x.boolean("entropy", ext.entropy)) return e;
  if (auto e = x.boolean("rank", ext.rank)) return e;
  if (auto e = x.boolean("processed", ext.processed)) return e;
  if (auto e = x.boolean("ignore_eos", ext.ignore_eos)) return e;
  if (auto e = x.string("samplers", ext.samplers)) return e;
  return {};
}

MaybeError read_sampling(const Reader& r, SamplingFields& s, const char* max_tokens_key) {
  if (auto e = r.string("model", s.model)) return e;
  if (auto e = r.number("temperature", 0, 2, s.temperature)) return e;
  if (auto e = r.number("top_p", 0, 1, s.top_p)) return e;
  if (auto e = r.number("frequency_penalty", -2, 2, s.frequency_penalty)) return e;
  if (auto e = r.number("presence_penalty", -2, 2, s.presence_penalty)) return e;
  if (const Json* v = r.get("seed")) {
    if (!v->is_number_integer()) return wrong_type("seed", "an integer", *v);
    s.seed = v->is_number_unsigned() ? v->get<uint64_t>() : static_cast<uint64_t>(v->get<int64_t>());
  }
  if (const Json* v = r.get("stop")) {
    if (v->is_string()) {
      s.stop.push_back(v->get<std::string>());
    } else if (v->is_array()) {
      if (v->size() > 4) return ApiError::bad("field 'stop': at most 4 stop sequences, got " + std::to_string(v->size()), "stop");
      for (const Json& x : *v) {
        if (!x.is_string()) return wrong_type("stop", "a string or an array of strings", x);
        s.stop.push_back(x.get<std::string>());
      }
    } else {
      return wrong_type("stop", "a string or an array of strings", *v);
    }
  }
  // A bound well above any context, so that a huge value is an error rather than a long wait.
  constexpr int64_t kMaxTokens = int64_t(1) << 20;
  if (auto e = r.integer(max_tokens_key, 0, kMaxTokens, s.max_tokens)) return e;
  if (auto e = r.integer("n", 1, kMaxChoices, s.n)) return e;
  if (auto e = r.boolean("stream", s.stream)) return e;
  if (const Json* v = r.get("stream_options")) {
    if (!v->is_object()) return wrong_type("stream_options", "an object", *v);
    if (auto e = Reader(*v).boolean("include_usage", s.include_usage)) return e;
  }
  if (const Json* v = r.get("logit_bias")) {
    if (!v->is_object()) return wrong_type("logit_bias", "an object of token id → bias", *v);
    for (const auto& [key, val] : v->items()) {
      auto id = sampling::parse_int(key);
      if (!id.ok() || *id < 0 || *id > std::numeric_limits<int32_t>::max())
        return ApiError::bad("field 'logit_bias': key '" + key + "' is not a token id", "logit_bias");
      if (!val.is_number()) return wrong_type("logit_bias", "a number for each token id", val);
      const double b = val.get<double>();
      if (!(b >= -100 && b <= 100))
        return ApiError::bad("field 'logit_bias': bias " + val.dump() + " of token " + key + " out of range -100..100",
                             "logit_bias");
      s.logit_bias.emplace_back(static_cast<int32_t>(*id), b);
    }
  }
  if (const Json* v = r.get("best_of"); v && !(v->is_number_integer() && v->get<int64_t>() == s.n))
    return ApiError::bad("field 'best_of': not supported (only best_of = n)", "best_of");
  if (const Json* v = r.get("suffix"); v && !(v->is_string() && v->get<std::string>().empty()))
    return ApiError::bad("field 'suffix': not supported", "suffix");
  return read_extension(r, s.ext);
}

Parsed<PromptInput> token_list(const Json& a) {
  PromptInput p;
  p.is_ids = true;
  for (const Json& x : a) {
    if (!x.is_number_integer()) return wrong_type("prompt", "token ids (integers)", x);
    if (!is_token_id(x))
      return ApiError::bad("field 'prompt': " + x.dump() + " is not a token id", "prompt");
    p.ids.push_back(static_cast<int32_t>(x.get<int64_t>()));
  }
  if (p.ids.empty()) return ApiError::bad("field 'prompt': empty list of token ids", "prompt");
  return p;
}

MaybeError read_prompts(const Reader& r, std::vector<PromptInput>& out) {
  const Json* v = r.get("prompt");
  if (!v) return ApiError::bad("field 'prompt' is required", "prompt");
  if (v->is_string()) {
    out.push_back({false, v->get<std::string>(), {}});
    return {};
  }
  if (!v->is_array()) return wrong_type("prompt", "a string, an array of strings or token ids", *v);
  if (v->empty()) return ApiError::bad("field 'prompt': empty array", "prompt");
  const Json& first = v->front();
  if (first.is_number()) {
    auto p = token_list(*v);
    if (!p) return p.error();
    out.push_back(std::move(*p));
    return {};
  }
  for (const Json& x : *v) {
    if (x.is_string()) {
      out.push_back({false, x.get<std::string>(), {}});
    } else if (x.is_array()) {
      auto p = token_list(x);
      if (!p) return p.error();
      out.push_back(std::move(*p));
    } else {
      return wrong_type("prompt", "strings or arrays of token ids", x);
    }
  }
  return {};
}

}  // namespace

Parsed<CompletionBody> parse_completion(const Json& j) {
  CompletionBody b;
  Reader r(j);
  if (auto e = read_sampling(r, b.s, "max_tokens")) return *e;
  if (auto e = read_prompts(r, b.prompts)) return *e;
  if (b.prompts.size() * static_cast<size_t>(b.s.n) > static_cast<size_t>(kMaxChoices) * 4)
    return ApiError::bad("prompts × n = " + std::to_string(b.prompts.size() * b.s.n) + " choices; at most " +
                             std::to_string(kMaxChoices * 4),
                         "prompt");
  if (const Json* v = r.get("logprobs")) {
    if (v->is_boolean()) {  // some clients send the chat form; true means the sampled token only
      b.logprobs = v->get<bool>() ? 0 : -1;
    } else if (auto e = r.integer("logprobs", 0, kMaxLogprobs, b.logprobs)) {
      return *e;
    }
  }
  if (auto e = r.boolean("echo", b.echo)) return *e;
  return b;
}

Parsed<ChatBody> parse_chat(const Json& j) {
  ChatBody b;
  Reader r(j);
  if (auto e = read_sampling(r, b.s, r.get("max_completion_tokens") ? "max_completion_tokens" : "max_tokens")) return *e;
  const Json* m = r.get("messages");
  if (!m) return ApiError::bad("field 'messages' is required", "messages");
  if (!m->is_array()) return wrong_type("messages", "an array of messages", *m);
  if (m->empty()) return ApiError::bad("field 'messages': empty array", "messages");
  b.messages = Json::array();
  for (const Json& msg : *m) {
    if (!msg.is_object()) return wrong_type("messages", "message objects", msg);
    auto role = msg.find("role");
    if (role == msg.end() || !role->is_string())
      return ApiError::bad("field 'messages': every message needs a string 'role'", "messages");
    Json copy = msg;
    // Content parts ([{"type":"text","text":...}]) become one string: chat templates expect a string.
    if (auto c = msg.find("content"); c != msg.end() && c->is_array()) {
      std::string text;
      for (const Json& part : *c) {
        if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string())
          return ApiError::bad("field 'messages': only text content parts are supported", "messages");
        text += part["text"].get<std::string>();
      }
      copy["content"] = text;
    } else if (c != msg.end() && !c->is_string() && !c->is_null()) {
      return wrong_type("messages", "string content", *c);
    }
    b.messages.push_back(std::move(copy));
  }
  if (auto e = r.boolean("logprobs", b.logprobs)) return *e;
  if (auto e = r.integer("top_logprobs", 0, kMaxLogprobs, b.top_logprobs)) return *e;
  if (r.get("top_logprobs") && !b.logprobs)
    return ApiError::bad("field 'top_logprobs' requires 'logprobs' to be true", "top_logprobs");
  if (auto e = r.boolean("add_generation_prompt", b.add_generation_prompt)) return *e;
  if (const Json* v = r.get("tools"); v && !(v->is_array() && v->empty()))
    return ApiError::bad("field 'tools': tool calls are not supported", "tools");
  if (const Json* v = r.get("response_format"); v && !(v->is_object() && v->value("type", "") == "text"))
    return ApiError::bad("field 'response_format': only {\"type\": \"text\"} is supported", "response_format");
  return b;
}

Parsed<ScoreBody> parse_score(const Json& j) {
  ScoreBody b;
  Reader r(j);
  if (auto e = r.string("model", b.model)) return *e;
  const Json* ids = r.get("ids");
  const Json* text = r.get("text");
  if (!!ids == !!text) return ApiError::bad("give exactly one of 'text' and 'ids'", ids ? "ids" : "text");
  if (text) {
    if (auto e = r.string("text", b.text)) return *e;
  } else {
    if (!ids->is_array()) return wrong_type("ids", "an array of token ids", *ids);
    for (const Json& x : *ids) {
      if (!is_token_id(x))
        return ApiError::bad("field 'ids': " + x.dump() + " is not a token id", "ids");
      b.ids.push_back(static_cast<int32_t>(x.get<int64_t>()));
    }
    b.is_ids = true;
  }
  if (auto e = r.integer("top", 0, kMaxLogprobs, b.top)) return *e;
  if (auto e = r.boolean("parse_special", b.parse_special)) return *e;
  if (auto e = r.boolean("pieces", b.pieces)) return *e;
  return b;
}

Parsed<TokenizeBody> parse_tokenize(const Json& j) {
  TokenizeBody b;
  Reader r(j);
  const char* key = r.get("content") ? "content" : r.get("text") ? "text" : r.get("prompt") ? "prompt" : nullptr;
  if (!key) return ApiError::bad("field 'content' is required", "content");
  if (auto e = r.string(key, b.content)) return *e;
  if (auto e = r.boolean("add_special", b.add_special)) return *e;
  if (auto e = r.boolean("parse_special", b.parse_special)) return *e;
  if (auto e = r.boolean("with_pieces", b.with_pieces)) return *e;
  return b;
}

Parsed<DetokenizeBody> parse_detokenize(const Json& j) {
  DetokenizeBody b;
  Reader r(j);
  const Json* v = r.get("tokens");
  if (!v) return ApiError::bad("field 'tokens' is required", "tokens");
  if (!v->is_array()) return wrong_type("tokens", "an array of token ids", *v);
  for (const Json& x : *v) {
    if (!is_token_id(x))
      return ApiError::bad("field 'tokens': " + x.dump() + " is not a token id", "tokens");
    b.tokens.push_back(static_cast<int32_t>(x.get<int64_t>()));
  }
  return b;
}

Parsed<sampling::Chain> build_chain(const SamplingFields& s) {
  std::string spec;
  const bool openai_fields = s.temperature || s.top_p || s.frequency_penalty || s.presence_penalty;
  if (!s.ext.samplers.empty()) {
    if (openai_fields)
      return ApiError::bad("give either tokenscope.samplers or temperature/top_p/penalties, not both",
                           "tokenscope.samplers");
    spec = s.ext.samplers;
    if (!s.logit_bias.empty()) {
      sampling::SpecWriter w("logit_bias");
      for (const auto& [id, b] : s.logit_bias) w.key(std::to_string(id), static_cast<float>(b));
      spec = w.str() + ";" + spec;
    }
  } else {
    std::vector<std::string> items;
    if (!s.logit_bias.empty()) {
      sampling::SpecWriter w("logit_bias");
      for (const auto& [id, b] : s.logit_bias) w.key(std::to_string(id), static_cast<float>(b));
      items.push_back(w.str());
    }
    if (s.frequency_penalty.value_or(0) != 0 || s.presence_penalty.value_or(0) != 0)
      items.push_back(sampling::SpecWriter("penalties")
                          .key("freq", static_cast<float>(s.frequency_penalty.value_or(0)))
                          .key("present", static_cast<float>(s.presence_penalty.value_or(0)))
                          .key("last_n", int64_t(-1))
                          .str());
    const double t = s.temperature.value_or(1.0);
    if (t <= 0) {
      items.push_back("greedy");
    } else {
      if (t != 1.0) items.push_back(sampling::SpecWriter("temp").primary(static_cast<float>(t)).str());
      if (s.top_p && *s.top_p < 1.0) items.push_back(sampling::SpecWriter("top_p").primary(static_cast<float>(*s.top_p)).str());
      items.push_back("dist");
    }
    for (size_t i = 0; i < items.size(); ++i) spec += (i ? ";" : "") + items[i];
  }
  auto chain = sampling::Chain::parse(spec);
  if (!chain) return ApiError::bad(chain.error().message, s.ext.samplers.empty() ? "" : "tokenscope.samplers");
  return std::move(*chain);
}

}  // namespace ts::server
