"""Writes items.jsonl: 20 four-way multiple-choice items from the demo model's held-out text (models/eval.txt).

Each item: `context` = the first words of a paragraph of eval.txt, `choices` = the paragraph's next 6 words (the
true continuation) and the continuations of 3 other items, `label` = the index of the true one. lm-eval scores each
choice as loglikelihood(choice | context + " "). Deterministic (seeded); the committed items.jsonl is its output:
    python3 tests/integration/lm_eval/make_items.py > tests/integration/lm_eval/items.jsonl
"""

from __future__ import annotations

import json
import random
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
N_ITEMS, CONTEXT_WORDS, CONTINUATION_WORDS, N_CHOICES = 20, 24, 6, 4


def main() -> None:
    text = (REPO / "models" / "eval.txt").read_text(encoding="utf-8")
    paragraphs = [p for p in text.split("\n\n") if len(p.split()) >= CONTEXT_WORDS + CONTINUATION_WORDS]
    rng = random.Random(20260115)
    picked = rng.sample(paragraphs, N_ITEMS)
    items = []
    for p in picked:
        words = p.split()  # newlines inside a paragraph become spaces: one line of text per item
        items.append({"context": " ".join(words[:CONTEXT_WORDS]),
                      "continuation": " ".join(words[CONTEXT_WORDS:CONTEXT_WORDS + CONTINUATION_WORDS])})
    for i, it in enumerate(items):
        others = rng.sample([j for j in range(N_ITEMS) if j != i], N_CHOICES - 1)
        label = rng.randrange(N_CHOICES)
        choices = [items[j]["continuation"] for j in others]
        choices.insert(label, it["continuation"])
        print(json.dumps({"id": i, "context": it["context"], "choices": choices, "label": label},
                         ensure_ascii=False))


if __name__ == "__main__":
    main()
