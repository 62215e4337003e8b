// See text_stream.h for the contract.
#include "server/text_stream.h"

#include <algorithm>

#include "server/api.h"

namespace ts::server {

TextAssembler::TextAssembler(std::vector<std::string> stops) {
  for (auto& s : stops)
    if (!s.empty()) stops_.push_back(std::move(s));
}

bool TextAssembler::add(const std::string& piece) {
  if (stopped_) return false;
  const size_t old = text_.size();
  starts_.push_back(old);
  text_ += piece;
  size_t cut = std::string::npos;
  for (const std::string& s : stops_) {
    // only occurrences that end inside the new piece are new
    const size_t from = old >= s.size() ? old - s.size() + 1 : 0;
    const size_t p = text_.find(s, from);
    if (p != std::string::npos) cut = std::min(cut, p);
  }
  if (cut == std::string::npos) return false;
  text_.resize(cut);
  stopped_ = true;
  return true;
}

size_t TextAssembler::kept_tokens() const {
  if (!stopped_) return starts_.size();
  // tokens that start before the cut; a token that starts exactly at the cut lies wholly in the stop string
  size_t k = 0;
  while (k < starts_.size() && starts_[k] < text_.size()) ++k;
  if (text_.empty()) return 0;
  return k;
}

size_t TextAssembler::held_back() const {
  size_t hold = 0;
  for (const std::string& s : stops_) {
    // longest proper prefix of s that is a suffix of text_
    for (size_t len = std::min(s.size() - 1, text_.size()); len > hold; --len) {
      if (text_.compare(text_.size() - len, len, s, 0, len) == 0) {
        hold = len;
        break;
      }
    }
  }
  return hold;
}

TextAssembler::Release TextAssembler::release(bool final) {
  Release r;
  size_t end_tok = 0, end_text = 0;
  if (final || stopped_) {
    end_tok = kept_tokens();
    end_text = text_.size();
  } else {
    size_t safe = text_.size() - held_back();
    safe = complete_utf8_prefix(text_.substr(0, safe));
    // tokens whose bytes all lie below `safe`
    end_tok = sent_tokens_;
    while (end_tok < starts_.size()) {
      const size_t end = end_tok + 1 < starts_.size() ? starts_[end_tok + 1] : text_.size();
      if (end > safe) break;
      ++end_tok;
    }
    end_text = end_tok == 0 ? 0 : (end_tok < starts_.size() ? starts_[end_tok] : text_.size());
    end_text = std::max(end_text, sent_text_);
  }
  end_tok = std::max(end_tok, sent_tokens_);
  r.first_token = sent_tokens_;
  r.end_token = end_tok;
  r.text = text_.substr(sent_text_, end_text - std::min(end_text, sent_text_));
  sent_tokens_ = end_tok;
  sent_text_ = std::max(sent_text_, end_text);
  return r;
}

}  // namespace ts::server
