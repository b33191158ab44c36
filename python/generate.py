#!/usr/bin/env python3
"""Sample per-node, per-minute bin series from a NetFlowGen checkpoint, minute by minute.

    .venv/bin/python python/generate.py (--checkpoint CKPT | --init-arch ARCH) --data DATASET
        --from T --minutes N --out DIR [--rows FILE | --rows-list 0,3,5] [--history H]
        [--temperature 1] [--top-k 0] [--seed 1] [--no-cache] [--keep R] [--batch-size 64]
        [--device auto|cpu|cuda] [--window L] [--feature-set full|light]

Every selected row (node) of the binned dataset gets one series of N minutes, minutes T .. T+N-1 of the
dataset's time axis (the span may run past the dataset's end: time features follow from the minute).

Conditioning. With --history H > 0 the model first reads the real bins of minutes T-H .. T-1 (at most
the model's context, below); with H = 0 (cold start) it reads one minute of all-zero bins at T-1, so
that only the time features and the node and customer embeddings inform the first sampled minute.

Sampling. At each minute, for every feature: logits of the K bins -> bins the node cannot take are
removed (a bin above the last present cutoff other than the top bin: the training values of that node
and feature never fall there, docs/binned-dataset.md point 6) -> divided by the temperature -> only
the top-k kept (k = 0: all) -> softmax -> one bin drawn by inverse CDF with a uniform number from a
torch.Generator seeded with --seed (the same draws whatever the device). Temperature 0 is the arg-max
(greedy). The sampled minute is fed back as the next input.

Context. A window of L minutes trained positions 0..L-2, so the model reads at most P = L-1 minutes.
When the context is full, it restarts from its last R = --keep minutes (default P // 2) at position 0
(a "re-prime"): with the cache (default) those R minutes are recomputed in one pass and decoding goes
on step by step with cached keys and values; with --no-cache every step recomputes the whole current
context. Both follow the same schedule, so they give the same distributions and, with the same seed,
the same samples; --no-cache exists to measure what the cache saves.

Writes to DIR:
    bins.u8      uint8 [rows, N, F]  the sampled bins, rows in the order given, features in the order
                                     of sample.json's `features` (the checkpoint's feature set)
    sample.json  schemas/generate-sample.schema.json: what ran, and timings. Written last, atomically:
                 a DIR without it is incomplete.
stdout: JSON lines {"event": "progress", "node_minutes_done", "node_minutes", "seconds"}, then
{"event": "done", "out", "rows", "minutes", "node_minutes_per_s", "sample_seconds"} (schemas/python-events.schema.json,
"generate").
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable

from script_main import complete, emit, event_line, run_script

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if os.path.join(ROOT, "python") not in sys.path:
    sys.path.insert(0, os.path.join(ROOT, "python"))

SCHEMA_VERSION = 1


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", help="a checkpoint of fairseq-train (checkpoint_best.pt, ...)")
    src.add_argument(
        "--init-arch",
        help="an untrained model of this architecture (random weights, --seed): for speed measurements only",
    )
    p.add_argument("--data", required=True, help="binned dataset folder (history, cutoffs, node and customer ids)")
    p.add_argument(
        "--from",
        dest="start",
        type=int,
        required=True,
        help="first generated minute, an index on the dataset's time axis",
    )
    p.add_argument("--minutes", type=int, required=True, help="minutes to generate per node")
    p.add_argument("--out", required=True, help="output folder")
    rows = p.add_mutually_exclusive_group()
    rows.add_argument("--rows", help="rows to generate: int32 file (raw or .npy); default: every training row")
    rows.add_argument("--rows-list", help="rows to generate, comma-separated")
    p.add_argument("--history", type=int, default=0, help="real minutes before --from to condition on (0: cold start)")
    p.add_argument("--temperature", type=float, default=1.0, help="softmax temperature (0: arg-max)")
    p.add_argument("--top-k", type=int, default=0, help="draw among the k most likely bins only (0: all)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--no-cache", action="store_true", help="recompute the whole context at every step (speed reference)"
    )
    p.add_argument("--keep", type=int, default=0, help="minutes kept when the context is full (default: context // 2)")
    p.add_argument("--batch-size", type=int, default=64, help="nodes sampled together")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument(
        "--window", type=int, default=0, help="with --init-arch: positions (default: the dataset's windowLength)"
    )
    p.add_argument("--feature-set", default="full", choices=["full", "light"], help="with --init-arch: feature set")
    return p.parse_args(argv)


def time_features(start_minute: int, minutes):
    """[n, 3] int64 time features of dataset minutes (any integers, also before 0 or past the end):
    minute of hour, hour of day, day of week (Monday = 0), the rule of ts/splits/splits.ts."""
    import numpy as np

    m = start_minute + np.asarray(minutes, dtype=np.int64)
    return np.stack([m % 60, (m // 60) % 24, (m // 1440 + 3) % 7], axis=-1)


def allowed_bins(cutoffs, n_bins: int):
    """[rows, F, K] bool: the bins a node can take. Cutoffs [rows, F, K-1] (+inf = absent, present ones
    first): bin 0 (zero), bins 1..present, and the top bin K-1 (anything above the last cutoff)."""
    import numpy as np

    present = np.isfinite(cutoffs).sum(axis=-1, keepdims=True)  # [rows, F, 1]
    b = np.arange(n_bins)[None, None, :]
    return (b == 0) | (b <= present) | (b == n_bins - 1)


def draw(logits, temperature: float, top_k: int, generator, allowed=None):
    """Bins [B, F] from logits [B, F, K]: mask, temperature, top-k, then inverse CDF with uniforms of
    `generator` (CPU). Returns (bins, log-probabilities of the distribution drawn from [B, F, K])."""
    import torch

    logits = logits.float()
    if allowed is not None:
        logits = logits.masked_fill(~allowed, float("-inf"))
    K = logits.size(-1)
    if temperature == 0:
        return logits.argmax(dim=-1), torch.log_softmax(logits, dim=-1)
    logits = logits / temperature
    if 0 < top_k < K:
        kth = logits.topk(top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    logp = torch.log_softmax(logits, dim=-1)
    cdf = logp.exp().cumsum(dim=-1)
    u = torch.rand(logits.shape[:-1], generator=generator, dtype=torch.float32).to(logits.device)
    # first bin whose cumulative probability exceeds u x total: never a bin of probability 0
    picked = torch.searchsorted(cdf.contiguous(), (u * cdf[..., -1]).unsqueeze(-1).contiguous(), right=True).squeeze(-1)
    return picked.clamp_(max=K - 1), logp


def sample_series(
    decoder,
    history,
    history_minutes,
    start_minute: int,
    node,
    customer,
    n_minutes: int,
    *,
    temperature: float = 1.0,
    top_k: int = 0,
    generator=None,
    cache: bool = True,
    context: int | None = None,
    keep: int | None = None,
    allowed=None,
    trace: list | None = None,
    on_minute: Callable[[int], None] | None = None,
):
    """Sample n_minutes minutes for a batch of nodes; returns (bins [B, n, F] int64, re-primes).

    history: [B, H, F] bins the model reads first (H >= 1; for a cold start one all-zero minute);
    history_minutes: the H dataset minutes they belong to, consecutive, ending just before the first
    sampled minute (time features come from these minute indices and start_minute, the dataset's epoch
    minute of index 0). node, customer: [B] embedding ids. allowed: [B, F, K] bool or None. With
    `trace` (a list), the log-probabilities drawn from at each minute ([B, F, K]) are appended to it.
    See the module docstring for the context schedule; `cache` does not change the result."""
    import numpy as np
    import torch

    device = history.device
    B, H, F = history.shape
    P = context or (decoder.max_positions() - 1)
    R = keep or max(1, P // 2)
    if not 1 <= R <= P:
        raise ValueError(f"--keep {R} must be between 1 and the context of {P} minutes")
    if H < 1:
        raise ValueError("sampling needs at least one minute of history (a cold start reads one all-zero minute)")
    history_minutes = np.asarray(history_minutes, dtype=np.int64)
    if H > P:
        history, history_minutes, H = history[:, -P:], history_minutes[-P:], P
    first = int(history_minutes[-1]) + 1
    ctx_bins = torch.zeros(B, P, F, dtype=torch.long, device=device)
    ctx_min = np.zeros(P, dtype=np.int64)
    ctx_bins[:, :H] = history
    ctx_min[:H] = history_minutes
    c = H

    def forward(state):
        t = torch.from_numpy(time_features(start_minute, ctx_min[:c])).to(device).unsqueeze(0).expand(B, c, 3)
        logits, _ = decoder(ctx_bins[:, :c], t, node, customer, incremental_state=state)
        return logits[:, -1]  # [B, F, K]: the distribution of the next minute

    out = torch.empty(B, n_minutes, F, dtype=torch.long, device=device)
    state: dict | None = {} if cache else None
    logits = forward(state)
    reprimes = 0
    for i in range(n_minutes):
        picked, logp = draw(logits, temperature, top_k, generator, allowed)
        out[:, i] = picked
        if trace is not None:
            trace.append(logp)
        if on_minute is not None:
            on_minute(i)
        if i == n_minutes - 1:
            break
        if c == P:  # context full: restart from the last R minutes (the new one included) at position 0
            ctx_bins[:, : R - 1] = ctx_bins[:, P - R + 1 : P].clone()
            ctx_min[: R - 1] = ctx_min[P - R + 1 : P]
            c = R - 1
            reprimes += 1
            state = {} if cache else None
        ctx_bins[:, c] = picked
        ctx_min[c] = first + i
        c += 1
        logits = forward(state)
    return out, reprimes


def read_rows(args, data) -> list[int]:
    import numpy as np

    if args.rows:
        w = np.load(args.rows) if args.rows.endswith(".npy") else np.fromfile(args.rows, dtype="<i4")
        rows = [int(x) for x in np.asarray(w).reshape(-1)]
    elif args.rows_list:
        rows = [int(x) for x in args.rows_list.split(",") if x.strip()]
    else:
        rows = list(range(data.n_node_ids))
    for r in rows:
        if not 0 <= r < data.rows:
            raise ValueError(f"row {r} is not in the dataset (rows 0..{data.rows - 1})")
    if not rows:
        raise ValueError("no rows to generate")
    return rows


def build_untrained(args, data):
    """A randomly initialised model of --init-arch for the dataset's shape (benchmarks)."""
    from argparse import Namespace

    import torch
    from fairseq.models import ARCH_CONFIG_REGISTRY

    from fairseq_plugins.dataset import resolve_window, select_features
    from fairseq_plugins.models.netflowgen import build_decoder

    if args.init_arch not in ARCH_CONFIG_REGISTRY:
        raise ValueError(f"unknown architecture {args.init_arch!r}")
    columns = select_features(data.features, args.feature_set, data.manifest_path)
    window = resolve_window(args.window, data.window_length) if args.window else data.window_length
    ns = Namespace()
    ARCH_CONFIG_REGISTRY[args.init_arch](ns)
    torch.manual_seed(args.seed)
    dec = build_decoder(ns, len(columns), data.n_bins, data.n_node_ids, data.n_customers, window)
    return dec, columns, window


def generate(args) -> dict:
    import numpy as np
    import torch
    from score import load_model, load_plugin

    load_plugin()
    from fairseq_plugins.dataset import BinnedData

    if args.minutes < 1:
        raise ValueError(f"--minutes must be at least 1, got {args.minutes}")
    if args.history < 0:
        raise ValueError(f"--history must be >= 0, got {args.history}")
    if args.temperature < 0:
        raise ValueError(f"--temperature must be >= 0, got {args.temperature}")
    out_dir = args.out
    os.makedirs(out_dir, exist_ok=True)
    for name in ("sample.json", "bins.u8"):
        if os.path.exists(os.path.join(out_dir, name)):
            os.remove(os.path.join(out_dir, name))
    device = torch.device(
        "cuda" if args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available()) else "cpu"
    )
    if args.checkpoint:
        model, task, window = load_model(args.checkpoint, args.data, device)
        decoder, data, columns = model.decoder, task.data, np.asarray(task.feature_columns)
    else:
        data = BinnedData(args.data)
        decoder, columns, window = build_untrained(args, data)
        decoder.to(device)
    decoder.eval()
    layer = decoder.layers[0]
    size = f"{len(decoder.layers)}-{layer.self_attn.num_heads}-{decoder.embed_dim}-{layer.fc1.out_features}"
    F, K = len(columns), data.n_bins
    P = window - 1
    keep = args.keep or max(1, P // 2)
    if not 1 <= keep <= P:
        raise ValueError(f"--keep {keep} must be between 1 and the model's context of {P} minutes")
    rows = read_rows(args, data)
    T0, N = args.start, args.minutes
    H = min(args.history, P)
    if H > 0 and (T0 - H < 0 or T0 > data.minutes):
        raise ValueError(
            f"history minutes {T0 - H}..{T0 - 1} are not all in the dataset (minutes 0..{data.minutes - 1})"
        )
    cutoffs = np.fromfile(os.path.join(args.data, data.manifest["files"].get("cutoffs", "cutoffs.f64")), dtype="<f8")
    cutoffs = cutoffs.reshape(data.rows, len(data.features), K - 1)[:, columns]
    allowed_all = allowed_bins(cutoffs, K)

    bins_out = np.lib.format.open_memmap(
        os.path.join(out_dir, ".bins.npy"), mode="w+", dtype=np.uint8, shape=(len(rows), N, F)
    )
    generator = torch.Generator().manual_seed(args.seed)
    total = len(rows) * N
    done, reprimes, last_report, started = 0, 0, 0.0, time.monotonic()
    sample_seconds = 0.0
    with torch.inference_mode():
        for a in range(0, len(rows), args.batch_size):
            batch = np.asarray(rows[a : a + args.batch_size])
            B = len(batch)
            if H > 0:
                hist = np.asarray(data.bins[batch[:, None], np.arange(T0 - H, T0)[None, :]])[:, :, columns]
                hist_min = np.arange(T0 - H, T0)
            else:
                hist = np.zeros((B, 1, F), dtype=np.int64)
                hist_min = np.array([T0 - 1])
            history = torch.from_numpy(hist.astype(np.int64)).to(device)
            node = torch.from_numpy(data.node_id[batch]).to(device)
            customer = torch.from_numpy(data.customer_id[batch]).to(device)
            allowed = torch.from_numpy(allowed_all[batch]).to(device)

            def progress(i, _a=a, _B=B):
                nonlocal last_report
                now = time.monotonic()
                if now - last_report >= 0.5:
                    last_report = now
                    emit(
                        "generate",
                        {
                            "event": "progress",
                            "node_minutes_done": _a * N + _B * (i + 1),
                            "node_minutes": total,
                            "seconds": round(now - started, 2),
                        },
                    )

            t0 = time.perf_counter()
            sampled, n_re = sample_series(
                decoder, history, hist_min, data.manifest["startMinute"], node, customer, N,
                temperature=args.temperature, top_k=args.top_k, generator=generator, cache=not args.no_cache,
                context=P, keep=keep, allowed=allowed, on_minute=progress,
            )  # fmt: skip
            if device.type == "cuda":
                torch.cuda.synchronize()
            sample_seconds += time.perf_counter() - t0
            reprimes = max(reprimes, n_re)
            bins_out[a : a + B] = sampled.to("cpu", torch.uint8).numpy()
            done += B * N
    bins_out.flush()
    # raw little-endian bytes, like every other array of the pipeline (the .npy header is dropped)
    raw = os.path.join(out_dir, "bins.u8")
    np.asarray(bins_out).tofile(raw)
    del bins_out
    os.remove(os.path.join(out_dir, ".bins.npy"))
    rate = total / sample_seconds if sample_seconds > 0 else None
    result = {
        "kind": "netflowgen.generate-sample",
        "schemaVersion": SCHEMA_VERSION,
        "checkpoint": os.path.abspath(args.checkpoint) if args.checkpoint else None,
        "initArch": args.init_arch,
        "size": size,
        "data": os.path.abspath(args.data),
        "rows": [int(r) for r in rows],
        "features": [data.features[i] for i in columns],
        "featureGroups": [data.groups[i] for i in columns],
        "nBins": K,
        "from": T0,
        "minutes": N,
        "history": H,
        "cold": H == 0,
        "window": window,
        "context": P,
        "keep": keep,
        "reprimes": reprimes,
        "temperature": args.temperature,
        "topK": args.top_k,
        "seed": args.seed,
        "cache": not args.no_cache,
        "batchSize": args.batch_size,
        "device": device.type,
        "threads": torch.get_num_threads(),
        "sampleSeconds": sample_seconds,
        "nodeMinutesPerSecond": rate,
        "files": {"bins": {"file": "bins.u8", "dtype": "uint8", "shape": [len(rows), N, F]}},
    }
    done = event_line(
        "generate",
        {
            "event": "done",
            "out": out_dir,
            "rows": len(rows),
            "minutes": N,
            "node_minutes_per_s": rate,
            "sample_seconds": sample_seconds,
        },
    )  # checked before sample.json marks the folder complete
    complete(os.path.join(out_dir, "sample.json"), result, done)
    return result


def main(argv=None):
    def body(args):
        import torch

        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
        generate(args)

    run_script("generate.py", body, parse_args, argv)


if __name__ == "__main__":
    main()
