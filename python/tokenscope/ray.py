"""Corpus scoring on a Ray cluster: Ray Data `map_batches` over an actor pool, one Model per actor.

    import ray, tokenscope.ray
    ds = ray.data.read_json("corpus.jsonl")                     # rows {"text": ...} or {"ids": [...]}, other fields
    out = tokenscope.ray.score(ds, "model.gguf", top=5, actors=8)
    out.write_parquet("scores/")                                 # one row per document

Each row of the result carries the document's other columns (as `tokenscope score --jsonl` copies other fields into
the summary) and the summary columns tokens, nll, nll_sum, ppl, bytes, bits_per_byte; with per_token=True also the
per-token arrays token_ids, logprob, entropy, rank, offsets (and top_ids, top_logprobs, [n, top], when top > 0).

Determinism: a document's numbers depend only on the model file, the document and (ctx, batch, parse_special) —
not on which actor scores it, the batch it arrives in or the engine's thread count — so the result equals a
single-process `Model.score` value for value, and a retried task (Ray restarts a dead actor and re-runs its batch)
gives the same rows. Ray Data does not keep row order unless DataContext.execution_options.preserve_order is set;
carry an id column to join on.

The model: each actor opens the file with mmap, so the actors of one node share one copy of the weights in the page
cache. On a multi-node cluster the file must be at the same path on every node (a shared file system, or copied
there first). Requires `pip install .[ray]` (Ray Data).
"""

from __future__ import annotations

import os
from typing import Any, Optional

import ray
import ray.data

from . import Model, resolve_model

SUMMARY_COLUMNS = ("tokens", "nll", "nll_sum", "ppl", "bytes", "bits_per_byte")


class _Scorer:
    """One actor: the model opened once, then called on batches (pandas DataFrames)."""

    def __init__(self, path: str, threads: int, top: int, ctx: int, batch: int, parse_special: bool,
                 per_token: bool, text_column: str, ids_column: str) -> None:
        self.model = Model(path, threads=threads, load="mmap")  # mapped: the actors of a node share one copy
        self.opts = dict(top=top, ctx=ctx, batch=batch, parse_special=parse_special)
        self.per_token = per_token
        self.text_column, self.ids_column = text_column, ids_column

    def _documents(self, df) -> list:
        texts = df[self.text_column] if self.text_column in df else None
        ids = df[self.ids_column] if self.ids_column in df else None
        docs = []
        for i in range(len(df)):
            t = texts.iloc[i] if texts is not None else None
            if isinstance(t, (str, bytes)):
                docs.append(t)
            elif ids is not None and ids.iloc[i] is not None:
                docs.append(list(ids.iloc[i]))
            else:
                raise ValueError(f"row {i} of a batch: expected a column '{self.text_column}' (str) or "
                                 f"'{self.ids_column}' (token ids)")
        return docs

    def __call__(self, df):
        results = self.model.score(self._documents(df), **self.opts)
        out = df.drop(columns=[c for c in (self.text_column, self.ids_column) if c in df]).reset_index(drop=True)
        for k in SUMMARY_COLUMNS:
            out[k] = [r.summary[k] for r in results]
        if self.per_token:
            for k in ("token_ids", "logprob", "entropy", "rank", "offsets"):
                out[k] = [getattr(r, k) for r in results]
            if self.opts["top"] > 0:
                out["top_ids"] = [r.top_ids.tolist() for r in results]
                out["top_logprobs"] = [r.top_logprobs.tolist() for r in results]
        return out


def score(ds: "ray.data.Dataset", model: Optional[str] = None, *, top: int = 0, actors: int = 2, threads: int = 1,
          batch_size: int = 16, per_token: bool = False, ctx: int = 0, batch: int = 256, parse_special: bool = False,
          text_column: str = "text", ids_column: str = "ids", **map_batches_args: Any) -> "ray.data.Dataset":
    """Scores every document of a Ray Dataset with an actor pool of `actors` actors, each holding one Model with
    `threads` engine threads (and asking Ray for that many CPUs). Returns a Dataset with the input's other columns
    and the summary columns (and the per-token arrays with per_token=True). `model`: a path or name as Model takes
    (resolved here, on the driver). `batch_size`: documents per map_batches call. Other keyword arguments go to
    map_batches."""
    if actors < 1:
        raise ValueError(f"actors: value {actors} is less than 1")
    path = os.path.abspath(resolve_model(model))
    return ds.map_batches(
        _Scorer,
        fn_constructor_kwargs=dict(path=path, threads=threads, top=top, ctx=ctx, batch=batch,
                                   parse_special=parse_special, per_token=per_token, text_column=text_column,
                                   ids_column=ids_column),
        batch_size=batch_size,
        batch_format="pandas",
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=threads,
        **map_batches_args,
    )
