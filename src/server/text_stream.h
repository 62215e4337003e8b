// One choice's generated text as its tokens arrive: stop strings, and how much may be sent to a client yet.
//
// add(piece) appends a token's bytes. When the text first contains one of the stop strings, the text is cut where
// that stop string begins (the earliest occurrence), generation should end, and tokens that start at or after the
// cut are dropped (OpenAI returns the text without the stop sequence).
//
// release(final) hands out what is settled, text and tokens aligned: a token is released once all its bytes are,
// and the text released ends where the last released token ends. While streaming (final = false) the text held back
// is (a) a tail that could still be the start of a stop string and (b) an incomplete UTF-8 sequence, so a client
// never receives a stop string's prefix that turns out to be one, nor half a character. final = true releases the
// rest.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace ts::server {

class TextAssembler {
 public:
  explicit TextAssembler(std::vector<std::string> stops = {});

  // Returns true when this piece completed a stop string (stopped() from now on).
  bool add(const std::string& piece);
  bool stopped() const { return stopped_; }

  struct Release {
    std::string text;
    size_t first_token = 0, end_token = 0;  // tokens [first, end) are released with this text
  };
  Release release(bool final);

  const std::string& text() const { return text_; }
  // Tokens kept (all of them, or those starting before the stop string) and their start offsets in text().
  size_t token_count() const { return kept_tokens(); }
  size_t token_start(size_t i) const { return starts_[i]; }

 private:
  size_t kept_tokens() const;
  size_t held_back() const;  // bytes at the end of text_ that might begin a stop string

  std::vector<std::string> stops_;
  std::string text_;
  std::vector<size_t> starts_;
  bool stopped_ = false;
  size_t sent_text_ = 0, sent_tokens_ = 0;
};

}  // namespace ts::server
