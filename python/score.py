#!/usr/bin/env python3
"""Score a NetFlowGen checkpoint on a split of a binned dataset, per window and per step.

    .venv/bin/python python/score.py --checkpoint CKPT --data DATASET --split valid|test
        [--out DIR] [--hidden] [--batch-size B] [--windows FILE] [--device auto|cpu|cuda]

Reads the windows of the split (or the (row, start) pairs of --windows: an int32 [n, 2] file, raw like
windows.<split>.i32 or .npy), with the window length and feature set the checkpoint was trained with,
and writes to DIR (default: CKPT's folder/score-<split>):

    step_loss.npy  float32 [windows, L-1]  mean NLL (nats) over features of each predicted step
    step_acc.npy   float32 [windows, L-1]  share of features whose arg-max bin is right, per step
    windows.npy    int32   [windows, 2]    (row, start minute) of each window, in the order above
    hidden.npy     float32 [windows, L, d] with --hidden: the last layer's hidden state (after the final
                                           LayerNorm) after reading minutes 0..t of the window, for
                                           every t = 0..L-1 (the model is fed all L minutes)
    score.json     {split, loss, ppl, acc, acc_<group>..., steps, windows, window, elements,
                    features, groups, loss_by_feature, acc_by_feature, checkpoint, data, files}

Step t of step_loss (t = 0..L-2) is the prediction of minute t+1 of the window from minutes 0..t.
loss / acc are means over all predicted (window, step, feature) elements, as the criterion logs them.
score.json is written last: while it is missing, the folder is incomplete. Progress goes to stdout as
JSON lines ({"event": "progress", ...}, then {"event": "done", ...}; schemas/python-events.schema.json, "score").
"""

import argparse
import math
import os
import time

from script_main import complete, emit, event_line, load_plugin, run_script

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True, help="a checkpoint of fairseq-train (checkpoint_best.pt, ...)")
    p.add_argument("--data", required=True, help="binned dataset folder")
    p.add_argument("--split", required=True, choices=["train", "valid", "test"])
    p.add_argument("--out", help="output folder (default: <checkpoint folder>/score-<split>)")
    p.add_argument("--hidden", action="store_true", help="also write the last layer's hidden states (hidden.npy)")
    p.add_argument("--batch-size", type=int, default=16, help="windows per forward pass (default 16)")
    p.add_argument(
        "--windows", help="score these (row, start) pairs instead of the split's windows (int32 [n, 2], raw or .npy)"
    )
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    return p.parse_args(argv)


def read_windows_file(path):
    import numpy as np

    if path.endswith(".npy"):
        w = np.load(path)
    else:
        size = os.path.getsize(path)
        if size % 8:
            raise SystemExit(f"{path}: {size} bytes is not a whole number of (row, start) int32 pairs")
        w = np.fromfile(path, dtype="<i4")
    w = np.asarray(w)
    if w.dtype.kind not in "iu" or w.size % 2:
        raise SystemExit(f"{path}: expected int32 (row, start) pairs, got {w.dtype} with {w.size} values")
    return w.reshape(-1, 2).astype(np.int32)


def load_model(checkpoint, data_dir, device):
    """The model and task of a checkpoint, set up on another (or the same) dataset folder."""
    from fairseq import checkpoint_utils, tasks
    from omegaconf import open_dict

    from fairseq_plugins.models.netflowgen import TIME_SIZES

    def model_inputs(n_features, n_bins):
        return n_features * n_bins + sum(TIME_SIZES)

    state = checkpoint_utils.load_checkpoint_to_cpu(checkpoint)
    cfg = state["cfg"]
    weights = state["model"]
    window = int(weights["decoder.embed_positions.weight"].shape[0])
    with open_dict(cfg):
        cfg.task.data = data_dir
        cfg.task.window = window
    task = tasks.setup_task(cfg.task)
    expected = {
        "decoder.input_weight": model_inputs(task.n_features, task.n_bins),
        "decoder.node_embed.weight": task.n_node_ids,
        "decoder.customer_embed.weight": task.n_customers,
        "decoder.output_projection.weight": task.n_features * task.n_bins,
    }
    for key, rows in expected.items():
        if int(weights[key].shape[0]) != rows:
            raise SystemExit(
                f"{checkpoint}: {key} has {weights[key].shape[0]} rows but {data_dir} needs {rows} "
                f"({task.n_features} features x {task.n_bins} bins, {task.n_node_ids} node ids, "
                f"{task.n_customers} customers): "
                "the checkpoint was trained on a dataset of another shape"
            )
    model = task.build_model(cfg.model)
    model.load_state_dict(weights, strict=True)
    model.to(device).eval()
    return model, task, window


def score(args):
    import numpy as np
    import torch

    load_plugin()
    from fairseq_plugins.criterions.netflow_nll import group_columns, nll_and_correct
    from fairseq_plugins.dataset import check_windows, collate_windows, window_spec

    out = args.out or os.path.join(os.path.dirname(os.path.abspath(args.checkpoint)), f"score-{args.split}")
    done_marker = os.path.join(out, "score.json")
    for name in ("score.json", "step_loss.npy", "step_acc.npy", "windows.npy", "hidden.npy"):
        if os.path.exists(os.path.join(out, name)):  # no older result may pass for this run's
            os.remove(os.path.join(out, name))
    device = torch.device(
        "cuda" if args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available()) else "cpu"
    )
    model, task, L = load_model(args.checkpoint, args.data, device)
    data = task.data
    if args.windows:
        windows = read_windows_file(args.windows)
        check_windows(windows, data.rows, data.minutes, L, args.windows)
        features = task.feature_columns
    else:
        spec = window_spec(data, args.split, L, task.cfg.feature_set)
        windows, features = spec.windows, spec.features
    n, F, steps = len(windows), len(features), L - 1
    if n == 0:
        raise SystemExit(f"{args.data}: no windows of {L} minutes to score in the {args.split} split")
    os.makedirs(out, exist_ok=True)

    step_loss = np.lib.format.open_memmap(
        os.path.join(out, "step_loss.npy"), mode="w+", dtype=np.float32, shape=(n, steps)
    )
    step_acc = np.lib.format.open_memmap(
        os.path.join(out, "step_acc.npy"), mode="w+", dtype=np.float32, shape=(n, steps)
    )
    d = model.decoder.embed_dim
    hidden = (
        np.lib.format.open_memmap(os.path.join(out, "hidden.npy"), mode="w+", dtype=np.float32, shape=(n, L, d))
        if args.hidden
        else None
    )
    np.save(os.path.join(out, "windows.npy"), windows.astype(np.int32))

    groups = group_columns(task.feature_groups)
    nll_by_feature = torch.zeros(F, dtype=torch.float64)
    correct_by_feature = torch.zeros(F, dtype=torch.float64)
    last_report, started = 0.0, time.monotonic()
    with torch.inference_mode():
        for a in range(0, n, args.batch_size):
            b = min(n, a + args.batch_size)
            batch = {k: v.to(device) for k, v in collate_windows(data, windows[a:b], L, features).items()}
            bins = batch["bins"]
            if args.hidden:  # all L minutes in; outputs at 0..L-2 are the same as with L-1 minutes (causal)
                logits, extra = model(bins, batch["time"], batch["node"], batch["customer"])
                hidden[a:b] = extra["hidden"].float().cpu().numpy()
                logits = logits[:, :-1]
            else:
                logits, _ = model(bins[:, :-1], batch["time"][:, :-1], batch["node"], batch["customer"])
            nll, correct = nll_and_correct(logits, bins[:, 1:])
            step_loss[a:b] = nll.mean(dim=-1).cpu().numpy()
            step_acc[a:b] = correct.float().mean(dim=-1).cpu().numpy()
            nll_by_feature += nll.double().sum(dim=(0, 1)).cpu()
            correct_by_feature += correct.double().sum(dim=(0, 1)).cpu()
            now = time.monotonic()
            if now - last_report >= 0.5 or b == n:
                last_report = now
                progress = {"event": "progress", "windows_done": b, "windows": n, "seconds": round(now - started, 2)}
                emit("score", progress)

    for arr in (step_loss, step_acc, hidden):
        if arr is not None:
            arr.flush()
    per_feature = n * steps
    loss = float(nll_by_feature.sum()) / (per_feature * F)
    result = {
        "split": args.split if not args.windows else f"{args.split} (windows from {args.windows})",
        "loss": loss,
        "ppl": math.exp(loss) if loss < 700 else float("inf"),
        "acc": float(correct_by_feature.sum()) / (per_feature * F),
    }
    for g, cols in groups.items():
        result[f"acc_{g}"] = float(correct_by_feature[cols].sum()) / (per_feature * len(cols))
    result.update(
        {
            "steps": steps,
            "windows": n,
            "window": L,
            "elements": per_feature * F,
            "features": task.feature_names,
            "groups": task.feature_groups,
            "loss_by_feature": (nll_by_feature / per_feature).tolist(),
            "acc_by_feature": (correct_by_feature / per_feature).tolist(),
            "checkpoint": os.path.abspath(args.checkpoint),
            "data": os.path.abspath(args.data),
            "files": {
                "step_loss": {"file": "step_loss.npy", "dtype": "float32", "shape": [n, steps]},
                "step_acc": {"file": "step_acc.npy", "dtype": "float32", "shape": [n, steps]},
                "windows": {"file": "windows.npy", "dtype": "int32", "shape": [n, 2]},
                **({"hidden": {"file": "hidden.npy", "dtype": "float32", "shape": [n, L, d]}} if args.hidden else {}),
            },
        }
    )
    summary = {k: result[k] for k in ("loss", "ppl", "acc")}
    # checked before score.json marks the folder complete
    done = event_line("score", {"event": "done", "out": out, "windows": n, "steps": steps, **summary})
    complete(done_marker, result, done)
    return result


def main(argv=None):
    run_script("score.py", score, parse_args, argv)


if __name__ == "__main__":
    main()
