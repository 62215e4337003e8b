// SentencePiece BPE (tokenizer.ggml.model = "llama"), the algorithm of llama.cpp's llm_tokenizer_spm:
//
//   1. Split the (space-escaped) text into UTF-8 characters; an invalid byte is a character of its own.
//   2. For every pair of neighbouring symbols whose concatenation is a vocabulary token, queue the pair with that
//      token's score. Pop the best pair (highest score; on a tie the leftmost), skip it if either side has changed
//      since it was queued, else merge it and queue the new pairs with its left and right neighbours.
//   3. Each remaining symbol is its token if it is one, else one byte-fallback token "<0xXX>" per byte (the unknown
//      token where the vocabulary has no byte tokens).
//
// Symbols live in a doubly linked list over a vector and pairs in a binary heap: O(n log n) for n characters.
//
// Words: when no token of the vocabulary has "▁" (U+2581) right after another character (true of SentencePiece
// vocabularies trained with split_by_whitespace, e.g. Llama's: only whitespace runs like "▁▁▁" have "▁" inside),
// no pair across a point where a non-"▁" character is followed by "▁" can ever be a token, so merges on either
// side never interact: the text is encoded one word at a time, with the same result as the whole text at once
// (each word's merges happen in the same relative order) and a heap the size of a word instead of the text's —
// the difference between cache-resident and cache-missing heap operations on a long text.
#include <algorithm>
#include <vector>

#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/utf8.h"

namespace ts {
namespace {

struct Symbol {
  uint32_t begin;  // byte range in the escaped text
  uint32_t len;    // 0 once merged into its left neighbour
  int32_t prev, next;
  int32_t id;  // token whose text this symbol is, -1 if none
};

struct Pair {
  float score;
  int32_t left, right;
  uint32_t len;  // left.len + right.len when queued: a pair whose sides changed no longer matches it
  int32_t id;
};

struct PairOrder {  // max-heap on score, then on the smaller left index
  bool operator()(const Pair& a, const Pair& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

}  // namespace

bool spm_words_independent(const TokenMap& tokens) {
  static constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581
  for (const auto& [t, id] : tokens) {
    for (size_t p = t.find(kSpace, 1); p != std::string::npos; p = t.find(kSpace, p + 1)) {
      if (p < kSpace.size() || t.compare(p - kSpace.size(), kSpace.size(), kSpace) != 0) return false;
    }
  }
  return true;
}

namespace {

// Start of the next word after byte `from`: the next "▁" that follows a character other than "▁".
size_t next_word(std::string_view text, size_t from) {
  static constexpr std::string_view kSpace = "\xE2\x96\x81";
  for (size_t p = text.find(kSpace, from); p != std::string_view::npos; p = text.find(kSpace, p + 1)) {
    if (p > 0 && !(p >= 3 && text.compare(p - 3, 3, kSpace) == 0)) return p;
  }
  return text.size();
}

}  // namespace

void Tokenizer::Impl::encode_spm(std::string_view text, const std::vector<uint32_t>& orig,
                                 const TokenSink& out) const {
  std::vector<Symbol> sym;
  std::vector<Pair> heap;  // a max-heap under PairOrder (std::push_heap / pop_heap), reused across words
  const size_t step = spm_words_independent ? 0 : text.size();
  for (size_t begin = 0; begin < text.size();) {
    const size_t end = step ? text.size() : next_word(text, begin + 1);
    sym.clear();
    for (size_t i = begin; i < end;) {
      size_t n = utf8::decode(text, i);
      if (n == 0) n = 1;
      n = std::min(n, end - i);
      const int32_t k = static_cast<int32_t>(sym.size());
      sym.push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(n), k - 1, -1, find(text.substr(i, n))});
      if (k > 0) sym[k - 1].next = k;
      i += n;
    }
    heap.clear();
    auto try_pair = [&](int32_t l, int32_t r) {
      if (l < 0 || r < 0) return;
      const uint32_t len = sym[l].len + sym[r].len;
      const int32_t id = find(text.substr(sym[l].begin, len));
      if (id < 0) return;
      heap.push_back({score[id], l, r, len, id});
      std::push_heap(heap.begin(), heap.end(), PairOrder{});
    };
    for (int32_t i = 1; i < static_cast<int32_t>(sym.size()); ++i) try_pair(i - 1, i);

    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), PairOrder{});
      const Pair p = heap.back();
      heap.pop_back();
      Symbol& l = sym[p.left];
      Symbol& r = sym[p.right];
      if (l.len == 0 || r.len == 0 || l.len + r.len != p.len) continue;  // stale
      l.len = p.len;
      l.id = p.id;
      r.len = 0;
      l.next = r.next;
      if (r.next >= 0) sym[r.next].prev = p.left;
      try_pair(l.prev, p.left);
      try_pair(p.left, l.next);
    }

    for (int32_t i = sym.empty() ? -1 : 0; i >= 0; i = sym[i].next) {
      const Symbol& s = sym[i];
      if (s.id >= 0) {
        out.push(s.id, orig[s.begin]);
        continue;
      }
      for (uint32_t j = 0; j < s.len; ++j) {
        const auto b = static_cast<uint8_t>(text[s.begin + j]);
        const int32_t id = byte_fallback[b] >= 0 ? byte_fallback[b] : unk;
        if (id < 0) continue;  // no byte tokens and no unknown token: nothing can stand for this byte
        if (id == unk && j > 0 && byte_fallback[b] < 0) continue;  // one unknown token per character
        out.push(id, orig[s.begin + j]);
      }
    }
    begin = end;
  }
}

}  // namespace ts
