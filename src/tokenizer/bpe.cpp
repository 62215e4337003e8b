// Byte-level BPE (tokenizer.ggml.model = "gpt2"), as GPT-2 defines it and llama.cpp's llm_tokenizer_bpe runs it:
//
//   1. Pre-tokenize: the regexes of tokenizer.ggml.pre split the text into words (pretokenizer.h).
//   2. Each byte of a word is a symbol: the token of its GPT-2 byte-to-unicode character.
//   3. Repeatedly merge the neighbouring pair with the lowest merge rank (index in tokenizer.ggml.merges; on a tie
//      the leftmost), using a heap of candidate pairs and a linked list of symbols: O(n log n) per word.
//   4. Emit each remaining symbol's token.
//
// Invalid UTF-8: the regexes only see valid UTF-8, so each invalid byte is shown to them as U+FFFD (as llama.cpp
// does); the words are then cut from the original bytes, so every input byte is encoded and decode() restores it.
#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/utf8.h"

namespace ts {
namespace {

struct ByteTable {
  std::array<std::string, 256> chars;
  std::array<int, 0x200> back;  // every mapped code point is below U+0200
  ByteTable() {
    back.fill(-1);
    int extra = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const uint32_t cp = printable ? uint32_t(b) : uint32_t(256 + extra++);
      utf8::append(chars[b], cp);
      back[cp] = b;
    }
  }
};

const ByteTable& byte_table() {
  static const ByteTable t;
  return t;
}

struct Symbol {
  uint32_t begin;  // offset in the word
  uint32_t len;    // bytes; 0 once merged into its left neighbour
  int32_t prev, next;
  int32_t id;
};

struct Pair {
  int32_t rank;
  int32_t left, right;
  uint32_t len;  // left.len + right.len when queued, to recognise pairs made stale by other merges
  int32_t id;
};

struct PairOrder {  // min-heap on rank, then on the smaller left index
  bool operator()(const Pair& a, const Pair& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

struct Scratch {
  std::vector<Symbol> sym;
  std::vector<Pair> heap;
  std::string word;
  std::vector<Piece> pieces;
};

void bpe_word(const Tokenizer::Impl& v, std::string_view input, uint32_t begin, uint32_t end, Scratch& s,
              const TokenSink& out) {
  const std::string_view w = input.substr(begin, end - begin);
  if (v.ignore_merges) {  // llama3: a word that is a token is taken whole
    s.word.clear();
    for (char c : w) s.word += byte_table().chars[static_cast<uint8_t>(c)];
    if (const int32_t id = v.find(s.word); id >= 0) {
      out.push(id, begin);
      return;
    }
  }
  auto& sym = s.sym;
  sym.clear();
  for (uint32_t i = 0; i < w.size(); ++i) {
    const int32_t k = static_cast<int32_t>(i);
    sym.push_back({i, 1, k - 1, k + 1 < static_cast<int32_t>(w.size()) ? k + 1 : -1,
                   v.byte_token[static_cast<uint8_t>(w[i])]});
  }

  auto& heap = s.heap;
  heap.clear();
  const PairOrder order;
  auto try_pair = [&](int32_t l, int32_t r) {
    if (l < 0 || r < 0 || sym[l].id < 0 || sym[r].id < 0) return;
    auto it = v.merges.find(Tokenizer::Impl::merge_key(sym[l].id, sym[r].id));
    if (it == v.merges.end()) return;
    heap.push_back({it->second.rank, l, r, sym[l].len + sym[r].len, it->second.result});
    std::push_heap(heap.begin(), heap.end(), order);
  };
  for (int32_t i = 1; i < static_cast<int32_t>(sym.size()); ++i) try_pair(i - 1, i);

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), order);
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
    const int32_t id = sym[i].id >= 0 ? sym[i].id : v.unk;  // -1 only for a vocabulary missing a byte
    if (id >= 0) out.push(id, begin + sym[i].begin);
  }
}

}  // namespace

const std::string& gpt2_byte_char(uint8_t b) { return byte_table().chars[b]; }

int gpt2_char_byte(uint32_t cp) { return cp < 0x200 ? byte_table().back[cp] : -1; }

void Tokenizer::Impl::encode_bpe(std::string_view input, uint32_t begin, uint32_t end, const TokenSink& out) const {
  Scratch s;
  const std::string_view run = input.substr(begin, end - begin);
  if (utf8::valid(run)) {
    splitter.split(run, s.pieces);
    for (const Piece& p : s.pieces) bpe_word(*this, input, begin + p.begin, begin + p.end, s, out);
    return;
  }
  // Show the regexes a valid copy (invalid byte -> U+FFFD) and map the pieces back to input offsets.
  std::string clean;
  std::vector<uint32_t> to_input;  // clean byte -> input offset (relative to begin); one past the end too
  clean.reserve(run.size() + 16);
  to_input.reserve(run.size() + 17);
  for (size_t i = 0; i < run.size();) {
    const size_t n = utf8::decode(run, i);
    if (n == 0) {
      clean += "\xEF\xBF\xBD";
      to_input.insert(to_input.end(), 3, static_cast<uint32_t>(i));
      i += 1;
    } else {
      clean.append(run.substr(i, n));
      for (size_t k = 0; k < n; ++k) to_input.push_back(static_cast<uint32_t>(i));
      i += n;
    }
  }
  to_input.push_back(static_cast<uint32_t>(run.size()));
  splitter.split(clean, s.pieces);
  for (const Piece& p : s.pieces) bpe_word(*this, input, begin + to_input[p.begin], begin + to_input[p.end], s, out);
}

}  // namespace ts
