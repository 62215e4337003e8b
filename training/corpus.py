"""Corpus for the demo model: public-domain and free English text from four Debian packages, split into documents.

Sources (each package's /usr/share/doc/<pkg>/copyright gives the licence; see models/MODEL_CARD.md):
  kjv      bible-kjv    the King James Bible, printed by `bible -f`; one document per chapter
  jargon   jargon-text  the Jargon File 4.4.7 (/usr/share/doc/jargon-text/jargon.txt.gz); one document per entry
  fortunes fortunes     /usr/share/games/fortunes/* (not ascii-art); one document per fortune
  gcide    dict-gcide   /usr/share/dictd/gcide.dict.dz (gzip-readable); one document per entry, a seeded
                        subset (--gcide-keep, default 12%) so that the dictionary does not drown the other three

Split: a document is held out when sha256("<seed>:<source>:<index>") mod 10000 < heldout * 10000, so the split
depends only on the seed and the package contents, not on the order of processing. Held-out documents are never
seen by the tokenizer trainer or the model.

Output (in --out): train.jsonl and heldout.jsonl, one {"source": s, "text": t} per document, and stats.json.
"""
import argparse
import collections
import gzip
import hashlib
import json
import os
import re
import subprocess
import sys

FORTUNE_DIR = "/usr/share/games/fortunes"
GCIDE = "/usr/share/dictd/gcide.dict.dz"
JARGON = "/usr/share/doc/jargon-text/jargon.txt.gz"

# Control characters other than tab and newline (fortunes use backspace overstriking).
_CTRL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean(text):
    text = text.replace("\r\n", "\n")
    # overstriking "x\bx" or "_\bx" prints x: drop the character and the backspace before it
    text = re.sub(r".\x08", "", text)
    text = _CTRL.sub("", text)
    lines = [ln.rstrip() for ln in text.split("\n")]
    return "\n".join(lines).strip("\n")


def kjv_docs():
    """One document per chapter: 'Genesis 1' then one verse per line, '1 In the beginning ...'."""
    out = subprocess.run(["bible", "-f", "Gen1:1-Rev22:21"], capture_output=True, text=True, check=True).stdout
    # bible -f prints "Ge1:1 text" per verse; the pretty form gives the full book names
    names = {}
    chapters = collections.OrderedDict()
    for line in out.splitlines():
        m = re.match(r"^(\S+?)(\d+):(\d+) (.*)$", line)
        if not m:
            continue
        book, ch, verse, text = m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)
        chapters.setdefault((book, ch), []).append(f"{verse} {text}")
    for book, _ in chapters:
        if book not in names:
            pretty = subprocess.run(["bible", f"{book}1:1"], capture_output=True, text=True, check=True).stdout
            title = next(ln for ln in pretty.splitlines() if ln.strip())
            names[book] = re.sub(r"\s+\d+\s*$", "", title.strip())
    for (book, ch), verses in chapters.items():
        yield f"{names[book]} {ch}\n\n" + "\n".join(verses)


def split_long(text, limit=4000):
    """Paragraph groups of at most about `limit` characters (the Jargon File's introduction and appendices)."""
    paras = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    cur = []
    for p in paras:
        if cur and sum(len(x) for x in cur) + len(p) > limit:
            yield "\n\n".join(cur)
            cur = []
        cur.append(p)
    if cur:
        yield "\n\n".join(cur)


def dedent(text):
    lines = text.split("\n")
    return "\n".join(ln[3:] if ln.startswith("   ") else ln.lstrip() for ln in lines)


def jargon_docs():
    with gzip.open(JARGON, "rt", encoding="utf-8") as f:
        text = f.read()
    lines = text.split("\n")
    head = re.compile(r"^   :[^ ].*?:")
    starts = [i for i, ln in enumerate(lines) if head.match(ln)]
    intro = "\n".join(lines[: starts[0]])
    for chunk in split_long(intro):
        yield dedent(chunk)
    for a, b in zip(starts, starts[1:] + [len(lines)]):
        entry = "\n".join(lines[a:b])
        for chunk in split_long(entry):
            yield dedent(chunk)


def fortune_docs():
    for name in sorted(os.listdir(FORTUNE_DIR)):
        path = os.path.join(FORTUNE_DIR, name)
        if "." in name or os.path.islink(path) or name == "ascii-art":
            continue
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", errors="replace")
        for fortune in re.split(r"(?m)^%\n", text):
            if fortune.strip():
                yield fortune


def gcide_docs():
    with gzip.open(GCIDE, "rt", encoding="utf-8", errors="replace") as f:
        text = f.read()
    # an entry starts at a line with no indentation after a blank line
    for entry in re.split(r"\n\n(?=\S)", text):
        if entry.startswith("00-database") or entry.startswith("00database"):
            continue
        # the source tags ("[1913 Webster]", "[PJC]") on lines of their own carry no language
        entry = re.sub(r"(?m)^\s*\[[^\]\n]{1,40}\]\s*$\n?", "", entry)
        yield entry


def bucket(seed, source, index):
    h = hashlib.sha256(f"{seed}:{source}:{index}".encode()).digest()
    return int.from_bytes(h[:8], "little") % 10000


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="training/out/corpus")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--heldout", type=float, default=0.02)
    ap.add_argument("--gcide-keep", type=float, default=0.12)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    stats = collections.defaultdict(lambda: collections.Counter())
    sources = [("kjv", kjv_docs), ("jargon", jargon_docs), ("fortunes", fortune_docs), ("gcide", gcide_docs)]
    with open(os.path.join(args.out, "train.jsonl"), "w", encoding="utf-8") as tr, \
         open(os.path.join(args.out, "heldout.jsonl"), "w", encoding="utf-8") as ho:
        for source, gen in sources:
            for i, doc in enumerate(gen()):
                doc = clean(doc)
                if len(doc) < 20:
                    continue
                if source == "gcide" and bucket(args.seed + 1000, source, i) >= args.gcide_keep * 10000:
                    continue
                held = bucket(args.seed, source, i) < args.heldout * 10000
                line = json.dumps({"source": source, "text": doc}, ensure_ascii=False) + "\n"
                (ho if held else tr).write(line)
                split = "heldout" if held else "train"
                stats[source][split + "_docs"] += 1
                stats[source][split + "_bytes"] += len(doc.encode("utf-8"))
    with open(os.path.join(args.out, "stats.json"), "w") as f:
        json.dump(stats, f, indent=1, sort_keys=True)
    json.dump(stats, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
