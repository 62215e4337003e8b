"""Train the demo model: corpus -> BPE vocabulary -> llama-architecture model -> dump directory for
`tokenscope convert`.

  /usr/bin/python3 training/train.py --config cpu --out training/out/cpu

Steps (each skipped when its output exists, so a rerun resumes after the slow parts):
  1. <out>/../corpus/{train,heldout}.jsonl  from training/corpus.py (run it first; make_demo.sh does)
  2. <out>/tokenizer.json                   bpe.train on the training documents only
  3. training                                AdamW, warmup + cosine decay, fixed number of steps
  4. <out>/dump/                             the export read by `tokenscope convert` (format: training/README.md)

Determinism: every random draw (initial weights, batch positions) comes from generators seeded by --seed, the
data order does not depend on timing, and the number of steps is fixed, so the same machine with the same
packages and thread count (--threads) gives the same weights bit for bit.
"""
import argparse
import json
import math
import os
import sys
import time

# GNU OpenMP spins while waiting for work by default; on two cores shared with other processes that spinning made
# attention's batched matmuls 40x slower (measured: 384 ms vs 9 ms). Passive waiting must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# cuBLAS is deterministic only with a fixed workspace (PyTorch's reproducibility notes); no effect on the CPU.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
from model import Config, Llama  # noqa: E402

# CPU: what two cores train in about 20 minutes. GPU: the shape, for a machine with one GPU (untested here).
CONFIGS = {
    "cpu": dict(model=dict(n_embd=256, n_layer=4, n_head=4, n_head_kv=2, n_ff=768, n_ctx=256),
                batch=16, steps=1000, lr=3e-3, warmup=50, eval_every=250),
    "gpu": dict(model=dict(n_embd=384, n_layer=6, n_head=6, n_head_kv=2, n_ff=1024, n_ctx=1024),
                batch=32, steps=3000, lr=2e-3, warmup=200, eval_every=500),
}
VOCAB = 8192
EVAL_WINDOWS = 48


def log(msg, f=None):
    print(msg, flush=True)
    if f:
        f.write(msg + "\n")
        f.flush()


def read_docs(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f]


def token_stream(enc, docs, bos):
    """[BOS] + ids(doc) for each document, concatenated; and the index where each document starts."""
    ids, starts = [], []
    for d in docs:
        starts.append(len(ids))
        ids.append(bos)
        ids.extend(enc.encode(d))
    return torch.tensor(ids, dtype=torch.long), torch.tensor(starts, dtype=torch.long)


def sample_batch(stream, starts, batch, ctx, g):
    """Half the rows start at a document's BOS (how `score` sees a text), half anywhere (how its sliding windows
    and the middle of long documents look)."""
    limit = len(stream) - ctx - 1
    rows = []
    for i in range(batch):
        if i % 2 == 0:
            s = int(starts[torch.randint(len(starts), (1,), generator=g)])
            s = min(s, limit)
        else:
            s = int(torch.randint(limit + 1, (1,), generator=g))
        rows.append(stream[s:s + ctx + 1])
    x = torch.stack(rows)
    return x[:, :-1], x[:, 1:]


@torch.no_grad()
def evaluate(model, stream, starts, ctx, device):
    """Mean loss (nats/token) over the first EVAL_WINDOWS held-out windows, each from a document start: a fixed set,
    so values from different runs and steps compare."""
    model.eval()
    total, n = 0.0, 0
    limit = len(stream) - ctx - 1
    picks = [min(int(s), limit) for s in starts[: EVAL_WINDOWS]]
    for i in range(0, len(picks), 8):
        x = torch.stack([stream[s:s + ctx + 1] for s in picks[i:i + 8]]).to(device)
        logits = model(x[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), x[:, 1:].reshape(-1), reduction="sum")
        total += float(loss)
        n += x[:, 1:].numel()
    model.train()
    return total / n


def export(model, tokenizer_path, out_dir, cfg, bos, name):
    """The dump format of training/README.md: config.json, tokenizer.json, tensors.json + weights.bin (fp32 LE)."""
    os.makedirs(out_dir, exist_ok=True)
    c = cfg.to_dict()
    c.update(arch="llama", name=name, bos_token_id=bos, eos_token_id=bos, add_bos_token=True)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(c, f, indent=1)
    with open(tokenizer_path, encoding="utf-8") as src, open(os.path.join(out_dir, "tokenizer.json"), "w",
                                                             encoding="utf-8") as dst:
        dst.write(src.read())
    index, off = [], 0
    with open(os.path.join(out_dir, "weights.bin"), "wb") as f:
        for tname, t in model.gguf_tensors():
            data = t.cpu().numpy().astype("<f4").tobytes()
            shape = list(t.shape) if t.dim() == 2 else [1, t.shape[0]]
            index.append({"name": tname, "rows": shape[0], "cols": shape[1], "offset": off})
            f.write(data)
            off += len(data)
    with open(os.path.join(out_dir, "tensors.json"), "w") as f:
        json.dump(index, f, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", choices=sorted(CONFIGS), default="cpu")
    ap.add_argument("--corpus", default="training/out/corpus")
    ap.add_argument("--out", default=None, help="default training/out/<config>")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--steps", type=int, default=None, help="override the config's step count")
    args = ap.parse_args()
    out = args.out or os.path.join("training/out", args.config)
    os.makedirs(out, exist_ok=True)
    hp = CONFIGS[args.config]
    steps = args.steps or hp["steps"]
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    if args.device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = True  # the GPU config's speed; the CPU never uses TF32
    logf = open(os.path.join(out, "log.txt"), "a")
    t_start = time.time()
    log(f"train: config {args.config} {hp}, steps {steps}, seed {args.seed}, threads {args.threads}, "
        f"device {args.device}, torch {torch.__version__}", logf)

    train_docs = read_docs(os.path.join(args.corpus, "train.jsonl"))
    held_docs = read_docs(os.path.join(args.corpus, "heldout.jsonl"))
    tok_path = os.path.join(out, "tokenizer.json")
    if not os.path.exists(tok_path):
        tokens, types, merges = bpe.train(train_docs, VOCAB, log=lambda m: log(m, logf))
        bpe.save(tok_path, tokens, types, merges)
    tokens, types, merges = bpe.load(tok_path)
    enc = bpe.Encoder(tokens, merges)
    bos = enc.special
    stream, starts = token_stream(enc, train_docs, bos)
    held_stream, held_starts = token_stream(enc, held_docs, bos)
    log(f"data: {len(train_docs)} train documents, {len(stream)} tokens; {len(held_docs)} held out, "
        f"{len(held_stream)} tokens; tokenizer {time.time() - t_start:.1f} s", logf)

    cfg = Config(n_vocab=len(tokens), **hp["model"])
    model = Llama(cfg)
    model.init_weights(torch.Generator().manual_seed(args.seed))
    model.to(args.device)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"model: {cfg.to_dict()}, {n_params} parameters", logf)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=hp["lr"], betas=(0.9, 0.95), eps=1e-8)
    g = torch.Generator().manual_seed(args.seed + 1)
    ctx, batch = cfg.n_ctx, hp["batch"]

    def lr_at(step):  # linear warmup, then cosine decay to 10% of the peak
        if step < hp["warmup"]:
            return hp["lr"] * (step + 1) / hp["warmup"]
        p = (step - hp["warmup"]) / max(1, steps - hp["warmup"])
        return hp["lr"] * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))

    t_train = time.time()
    val = None
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = lr_at(step)
        x, y = sample_batch(stream, starts, batch, ctx, g)
        x, y = x.to(args.device), y.to(args.device)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 10 == 0 or step == steps - 1:
            el = time.time() - t_train
            log(f"step {step:5d}  loss {loss.item():.4f}  lr {lr_at(step):.2e}  "
                f"{(step + 1) * batch * ctx / el:.0f} tok/s  {el:.0f} s", logf)
        if (step + 1) % hp["eval_every"] == 0 or step == steps - 1:
            val = evaluate(model, held_stream, held_starts, ctx, args.device)
            log(f"step {step:5d}  val_loss {val:.4f}  val_ppl {math.exp(val):.2f}", logf)
    wall_train = time.time() - t_train
    model.cpu()
    torch.save({"config": cfg.to_dict(), "state": model.state_dict()}, os.path.join(out, "model.pt"))
    export(model, tok_path, os.path.join(out, "dump"), cfg, bos, f"tokenscope demo ({args.config})")
    summary = dict(config=args.config, seed=args.seed, threads=args.threads, device=args.device, steps=steps,
                   tokens_seen=steps * batch * ctx, train_tokens=len(stream), params=n_params,
                   final_train_loss=loss.item(), final_val_loss=val, train_wall_s=round(wall_train, 1),
                   total_wall_s=round(time.time() - t_start, 1), torch=torch.__version__)
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    log(f"done: {json.dumps(summary)}", logf)


if __name__ == "__main__":
    main()
