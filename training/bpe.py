"""Byte-level BPE of our own: training a vocabulary and encoding with it, the way tokenscope's `gpt2` tokenizer
(src/tokenizer/bpe.cpp, tokenizer.ggml.pre = "gpt-2") encodes.

Encoding, as GPT-2 defines it:
  1. Split the text into words with the GPT-2 pre-tokenizer regex (GPT2_PATTERN; the same string as kGpt2 in
     src/tokenizer/pretokenizer.cpp).
  2. Each byte of a word is a symbol; its token is the byte's character in GPT-2's byte-to-unicode table.
  3. Repeatedly merge the adjacent pair with the lowest merge rank (leftmost first on a tie).
Training: count words over the training documents, then repeatedly take the most frequent adjacent pair (ties:
smallest left id, then smallest right id) and add it as a merge, until the vocabulary has `vocab_size` tokens.

Vocabulary layout: ids 0..255 are the 256 byte tokens (id b = byte b), then one token per merge in merge order
(a merge whose result already exists adds no token), and last the special tokens (here "<|endoftext|>", BOS/EOS).
Saved as JSON: {"tokens": [...], "token_types": [...], "merges": ["Ġ t", ...]} (token_types as GGUF's
tokenizer.ggml.token_type: 1 normal, 3 control).
"""
import collections
import heapq
import json

import regex

GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
_SPLIT = regex.compile(GPT2_PATTERN)
SPECIAL = "<|endoftext|>"


def bytes_to_unicode():
    """GPT-2's table: printable Latin-1 bytes map to themselves, the others to U+0100 onward in byte order."""
    printable = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, extra = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


BYTE_CHAR = bytes_to_unicode()


def pretokenize(text):
    return _SPLIT.findall(text)


def train(texts, vocab_size, log=print):
    """texts: iterable of str. Returns (tokens, token_types, merges)."""
    counts = collections.Counter()
    for t in texts:
        counts.update(pretokenize(t))
    tokens = [BYTE_CHAR[b] for b in range(256)]
    index = {s: i for i, s in enumerate(tokens)}
    words = [list(w.encode("utf-8")) for w in counts]
    freq = list(counts.values())
    log(f"bpe: {sum(freq)} words, {len(words)} distinct")

    pair_count = collections.defaultdict(int)
    pair_words = collections.defaultdict(set)
    for wi, syms in enumerate(words):
        for p in zip(syms, syms[1:]):
            pair_count[p] += freq[wi]
            pair_words[p].add(wi)
    heap = [(-c, a, b) for (a, b), c in pair_count.items()]
    heapq.heapify(heap)
    merges = []
    target = vocab_size - 1  # room for the special token
    while len(tokens) < target and heap:
        negc, a, b = heapq.heappop(heap)
        if pair_count.get((a, b), 0) != -negc or -negc < 2:
            if -negc < 2 and pair_count.get((a, b), 0) == -negc:
                break
            continue
        joined = tokens[a] + tokens[b]
        new = index.get(joined)
        if new is None:
            new = len(tokens)
            tokens.append(joined)
            index[joined] = new
        merges.append(f"{tokens[a]} {tokens[b]}")
        touched = set()
        for wi in sorted(pair_words.pop((a, b))):
            syms = words[wi]
            f = freq[wi]
            out, i, changed = [], 0, False
            while i < len(syms):
                if i + 1 < len(syms) and syms[i] == a and syms[i + 1] == b:
                    out.append(new)
                    i += 2
                    changed = True
                else:
                    out.append(syms[i])
                    i += 1
            if not changed:
                continue
            for p in zip(syms, syms[1:]):
                pair_count[p] -= f
                touched.add(p)
            for p in zip(out, out[1:]):
                pair_count[p] += f
                pair_words[p].add(wi)
                touched.add(p)
            words[wi] = out
        pair_count.pop((a, b), None)
        for p in sorted(touched):
            c = pair_count.get(p, 0)
            if c > 0:
                heapq.heappush(heap, (-c, p[0], p[1]))
            else:
                pair_count.pop(p, None)
        if len(merges) % 1000 == 0:
            log(f"bpe: {len(merges)} merges, vocab {len(tokens)}, last {joined!r} x{-negc}")
    token_types = [1] * len(tokens)
    tokens.append(SPECIAL)
    token_types.append(3)
    return tokens, token_types, merges


class Encoder:
    def __init__(self, tokens, merges):
        self.tokens = tokens
        self.index = {s: i for i, s in enumerate(tokens)}
        self.ranks = {}
        for r, m in enumerate(merges):
            sp = m.index(" ", 1)
            left, right = self.index[m[:sp]], self.index[m[sp + 1:]]
            self.ranks.setdefault((left, right), (r, self.index[m[:sp] + m[sp + 1:]]))
        self.byte_id = [self.index[BYTE_CHAR[b]] for b in range(256)]
        self.cache = {}
        self.special = self.index.get(SPECIAL, -1)

    def _word(self, w):
        syms = [self.byte_id[b] for b in w.encode("utf-8")]
        while len(syms) > 1:
            best, at = None, -1
            for i in range(len(syms) - 1):
                r = self.ranks.get((syms[i], syms[i + 1]))
                if r is not None and (best is None or r[0] < best[0]):
                    best, at = r, i
            if best is None:
                break
            syms[at:at + 2] = [best[1]]
        return syms

    def encode(self, text):
        ids = []
        for w in pretokenize(text):
            e = self.cache.get(w)
            if e is None:
                e = self._word(w)
                self.cache[w] = e
            ids.extend(e)
        return ids

    def token_bytes(self, i):
        if i == self.special:
            return b""
        back = {c: b for b, c in BYTE_CHAR.items()}
        return bytes(back[c] for c in self.tokens[i])


def save(path, tokens, token_types, merges):
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"tokens": tokens, "token_types": token_types, "merges": merges}, f, ensure_ascii=False)


def load(path):
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    return d["tokens"], d["token_types"], d["merges"]
