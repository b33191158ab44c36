#!/usr/bin/env python3
"""Score a fine-tuned detection checkpoint on splits of an EarlyDetect folder: every example's hazards and
survival curve over its detection window (SPEC §6), for the evaluation (`netflowgen evaluate-detect`).

    .venv/bin/python python/score_detect.py --checkpoint CKPT --data EARLYDETECT_DIR --split test|valid|train
        [--out DIR] [--attack-types DNS,UDP,NTP] [--batch-size 32] [--device auto|cpu|cuda]
    .venv/bin/python python/score_detect.py --checkpoint CKPT --data EARLYDETECT_DIR --split test,valid,train
        [--out-root ROOT] ...

--split takes one split or a comma-separated list: the model is loaded once and the splits are scored one
after the other in this process (a start of Python, torch and fairseq costs seconds; scoring a small split
costs less). With one split the output folder is --out; with several, ROOT/<split> for each (--out-root).

CKPT is a checkpoint of `fairseq-train --task netflow_detect --criterion safe` (any of the archs
netflowgen_safe, netflowgen_tf, ms_lstm); its feature set comes from the checkpoint. DATA may be another
EarlyDetect folder than the one it was trained on, with the same window and detection lengths and a
binned dataset of the same shape. Writes to each split's folder DIR (--out, or --out-root ROOT: ROOT/<split>;
default: CKPT's folder/detect-<split>):

    survival.f32  float32 [n, D]  S_t = exp(-sum_{k<=t} lambda_k) of each example, t = 0..D-1
    hazard.f32    float32 [n, D]  lambda_t
    score.json    {split, n, D, W, checkpoint, arch, data, examples_file, mean_loss, attack_types, n_selected, files}

Rows are ALL the examples of <split>.examples.i32, in file order, unseen-node examples included, whatever
--attack-types says; --attack-types only selects the examples `mean_loss` (the mean SAFE loss, nats)
averages over (default: all). Raw little-endian arrays, no header. The old outputs of every split asked for
are deleted before anything is scored, and each split's score.json is written last, atomically: a folder with a
score.json is complete (after a failure or an interruption, the splits scored before it are complete and the
others have no score.json). stdout carries JSON lines {"event": "progress", "split", "examples_done",
"examples", "seconds"} and, after each split, {"event": "done", "split", "out", "n", "D", "mean_loss", "seconds"};
the last line is the last split's "done" (schemas/python-events.schema.json, "score_detect").
"""

import argparse
import os
import time

from script_main import complete, emit, event_line, load_plugin, run_script

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTPUTS = ("score.json", "survival.f32", "hazard.f32")
SPLIT_NAMES = ("train", "valid", "test")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True, help="a checkpoint of fine-tuning (checkpoint_best.pt, ...)")
    p.add_argument("--data", required=True, help="EarlyDetect folder (netflowgen detect-dataset)")
    p.add_argument(
        "--split", required=True, type=split_list, help="train, valid or test, or a comma-separated list of them"
    )
    p.add_argument("--out", help="output folder of a single split (default: <checkpoint folder>/detect-<split>)")
    p.add_argument("--out-root", help="with one or more splits: write each to OUT_ROOT/<split>")
    p.add_argument(
        "--attack-types", default="", help="comma-separated types mean_loss averages over (default: all examples)"
    )
    p.add_argument("--batch-size", type=int, default=32, help="examples per forward pass (default 32)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    args = p.parse_args(argv)
    if args.out and args.out_root:
        p.error("give --out (one split) or --out-root (ROOT/<split>), not both")
    if args.out and len(args.split) > 1:
        p.error(
            f"--out names one split's folder, but --split names {len(args.split)} ({','.join(args.split)}): "
            "use --out-root"
        )
    return args


def split_list(text):
    """'test,valid' -> ['test', 'valid'] (each once, in the order given)."""
    out = []
    for s in (x.strip() for x in text.split(",")):
        if s not in SPLIT_NAMES:
            raise argparse.ArgumentTypeError(
                f"{s!r} is not a split: choose from {', '.join(SPLIT_NAMES)}, comma-separated"
            )
        if s not in out:
            out.append(s)
    if not out:
        raise argparse.ArgumentTypeError("no split given")
    return out


def out_dir(args, split):
    """The folder a split's scores go to."""
    if args.out:
        return args.out
    if args.out_root:
        return os.path.join(args.out_root, split)
    return os.path.join(os.path.dirname(os.path.abspath(args.checkpoint)), f"detect-{split}")


def load_model(checkpoint, data_dir, device):
    """The model and task of a fine-tuned checkpoint, set up on an EarlyDetect folder."""
    from fairseq import checkpoint_utils, tasks
    from omegaconf import open_dict

    state = checkpoint_utils.load_checkpoint_to_cpu(checkpoint)
    cfg = state["cfg"]
    if cfg.task.get("_name") != "netflow_detect":
        raise SystemExit(
            f"{checkpoint}: a checkpoint of task {cfg.task.get('_name')!r}, not netflow_detect "
            "(use python/score.py for pre-training)"
        )
    with open_dict(cfg):
        cfg.task.data = data_dir
        cfg.task.attack_types = ""
        cfg.task.disable_validation = True  # no datasets are loaded through the task here
    task = tasks.setup_task(cfg.task)
    model_args = cfg.model
    trained = (getattr(model_args, "example_window", None), getattr(model_args, "detect_length", None))
    if trained != (task.window, task.detect_length):
        raise SystemExit(
            f"{checkpoint}: trained on examples of {trained[0]} minutes with {trained[1]} detection steps; "
            f"{data_dir} has {task.window} and {task.detect_length}"
        )
    model = task.build_model(model_args)
    model.load_state_dict(state["model"], strict=True)
    model.to(device).eval()
    return model, task, str(getattr(model_args, "arch", getattr(model_args, "_name", "?")))


def score(args):
    """Scores every split of args.split; returns the split's score.json content, or {split: content} for several."""
    results = score_splits(args)
    return results[args.split[0]] if len(args.split) == 1 else results


def score_splits(args):
    """Loads the model once and scores each split of args.split in turn; returns {split: score.json content}."""
    import torch

    load_plugin()
    if isinstance(args.split, str):  # a caller's Namespace with a plain string
        args.split = split_list(args.split)
    outs = {split: out_dir(args, split) for split in args.split}
    for out in outs.values():  # no older result may pass for this run's
        for name in OUTPUTS:
            if os.path.exists(os.path.join(out, name)):
                os.remove(os.path.join(out, name))
    device = torch.device(
        "cuda" if args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available()) else "cpu"
    )
    model, task, arch = load_model(args.checkpoint, args.data, device)
    return {split: score_split(args, model, task, arch, device, split, outs[split]) for split in args.split}


def forward_scores(model, net_input, device):
    """Hazards lambda [n, D] (float32) and survival S_t = exp(-cumsum(lambda)) of a batch's net_input (bins, time,
    node, customer): the one computation score_split and python/watch_model.py (netflowgen watch) share. Call it
    under torch.inference_mode()."""
    import torch

    inputs = {k: v.to(device) for k, v in net_input.items()}
    lam = model(**inputs).float()
    return lam, torch.exp(-torch.cumsum(lam, dim=-1))


def score_split(args, model, task, arch, device, split, out):
    """One split's survival.f32, hazard.f32 and, last and atomically, score.json in `out`."""
    import numpy as np
    import torch

    from fairseq_plugins.criterions.safe import safe_loss
    from fairseq_plugins.detect_data import collate_examples, select

    data = task.data
    examples = data.examples(split)
    n, D = len(examples), data.detect_length
    if n == 0:
        raise SystemExit(f"{data.examples_path(split)}: no examples to score")
    types = data.type_indices(args.attack_types)
    selected = np.zeros(n, dtype=bool)
    selected[select(examples, types) if types is not None else np.arange(n)] = True
    os.makedirs(out, exist_ok=True)
    survival = np.memmap(os.path.join(out, "survival.f32"), dtype="<f4", mode="w+", shape=(n, D))
    hazard = np.memmap(os.path.join(out, "hazard.f32"), dtype="<f4", mode="w+", shape=(n, D))

    loss_sum, last_report, started = 0.0, 0.0, time.monotonic()
    with torch.inference_mode():
        for a in range(0, n, args.batch_size):
            b = min(n, a + args.batch_size)
            sample = collate_examples(data, examples[a:b], task.feature_columns, torch.arange(a, b))
            lam, surv = forward_scores(model, sample["net_input"], device)
            losses = safe_loss(lam, sample["target"]["label"].to(device), sample["target"]["onset"].to(device))
            hazard[a:b] = lam.cpu().numpy()
            survival[a:b] = surv.cpu().numpy()
            loss_sum += float(losses.double().cpu().numpy()[selected[a:b]].sum())
            now = time.monotonic()
            if now - last_report >= 0.5 or b == n:
                last_report = now
                emit(
                    "score_detect",
                    {
                        "event": "progress",
                        "split": split,
                        "examples_done": b,
                        "examples": n,
                        "seconds": round(now - started, 2),
                    },
                )
    survival.flush()
    hazard.flush()
    del survival, hazard

    n_selected = int(selected.sum())
    result = {
        "split": split,
        "n": n,
        "D": D,
        "W": data.window,
        "checkpoint": os.path.abspath(args.checkpoint),
        "arch": arch,
        "data": os.path.abspath(args.data),
        "examples_file": os.path.abspath(data.examples_path(split)),
        "mean_loss": loss_sum / n_selected if n_selected else None,
        "attack_types": [data.attack_types[i] for i in types] if types is not None else None,
        "n_selected": n_selected,
        "files": {
            "survival": {"file": "survival.f32", "dtype": "float32", "shape": [n, D]},
            "hazard": {"file": "hazard.f32", "dtype": "float32", "shape": [n, D]},
        },
    }
    done = event_line(
        "score_detect",
        {
            "event": "done",
            "split": split,
            "out": out,
            "n": n,
            "D": D,
            "mean_loss": result["mean_loss"],
            "seconds": round(time.monotonic() - started, 2),
        },
    )  # checked before score.json marks the folder complete
    complete(os.path.join(out, "score.json"), result, done)
    return result


def main(argv=None):
    run_script("score_detect.py", score, parse_args, argv)


if __name__ == "__main__":
    main()
