#!/usr/bin/env python3
"""The NetFlowGen model in a bare PyTorch training loop: the baseline of `npm run bench:train`.

    .venv/bin/python python/bare_train.py DATASET --arch ARCH --batch-size B --max-update U
        [--window N] [--feature-set full|light] [--lr 5e-4] [--adam-betas "(0.9, 0.98)"] [--dropout D]
        [--seed S] [--threads N] [--device auto|cpu|cuda] [--bf16] [--log-interval K] [--warmup W]
        [--decoder-layers N --decoder-attention-heads N --decoder-embed-dim D --decoder-ffn-embed-dim N]

Same model class (fairseq_plugins/models/netflowgen.py, built by the task as fairseq-train builds it),
same dataset and batches (the task's train windows; every epoch the permutation of (seed, epoch), cut
into batches of B whole windows), same loss (summed NLL / elements) and Adam betas as

    fairseq-train DATASET --user-dir fairseq_plugins --task netflow_pretrain --criterion netflow_nll
        --arch ARCH --batch-size B --max-update U --optimizer adam --adam-betas "(0.9, 0.98)" --lr LR
        --lr-scheduler fixed --dropout D --seed S --num-workers 0 [--cpu | --bf16]

but no fairseq trainer: no config system, metrics, gradient-norm, checkpoints or validation. For a
like-for-like comparison: use a batch size that is a multiple of 8 (fairseq's default
--required-batch-size-multiple), the same --max-update and --seed, `--disable-validation --no-save`
on fairseq-train, and the same threads (OMP_NUM_THREADS for both, or --threads here). --bf16 here is
torch.autocast on the GPU (the idiomatic PyTorch way); fairseq's --bf16 keeps bf16 weights with fp32
master copies.

Prints JSON lines: {"event": "config", ...}, every K updates {"event": "train", "update", "loss",
"timesteps_per_s"}, and {"event": "done", "updates", "timesteps", "seconds", "timesteps_per_s",
"steady_timesteps_per_s"} where a timestep is one predicted minute of one window (fairseq's ntokens,
so its wps is the same unit) and the steady rate leaves out the first --warmup updates.
"""

import argparse
import ast
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", help="binned dataset folder")
    p.add_argument("--arch", default="netflowgen_tiny")
    p.add_argument("--window", type=int, default=0)
    p.add_argument("--feature-set", default="full", choices=["full", "light"])
    p.add_argument("--batch-size", type=int, required=True)
    p.add_argument("--max-update", type=int, required=True)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--adam-betas", default="(0.9, 0.98)")
    p.add_argument("--adam-eps", type=float, default=1e-8)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, help="torch.set_num_threads (default: OMP_NUM_THREADS / torch's default)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--bf16", action="store_true", help="bf16 autocast (GPU)")
    p.add_argument("--log-interval", type=int, default=10)
    p.add_argument("--warmup", type=int, default=5, help="updates left out of steady_timesteps_per_s")
    for name in ("decoder-layers", "decoder-attention-heads", "decoder-embed-dim", "decoder-ffn-embed-dim"):
        p.add_argument(f"--{name}", type=int)
    for name in ("dropout", "attention-dropout", "activation-dropout"):
        p.add_argument(f"--{name}", type=float)
    return p.parse_args(argv)


def emit(obj):
    print(json.dumps(obj), flush=True)


def batches_of_epoch(dataset, batch_size, seed, epoch):
    """The batches of an epoch in fairseq's way: permutation of (seed, epoch), chunks of B, chunk order shuffled."""
    import numpy as np

    dataset.set_epoch(epoch)
    order = dataset.ordered_indices()
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    np.random.RandomState(seed + epoch).shuffle(batches)
    return batches


def main(argv=None):
    args = parse_args(argv)
    import torch
    from fairseq import utils

    utils.import_user_module(argparse.Namespace(user_dir=os.path.join(ROOT, "fairseq_plugins")))
    from fairseq.models import ARCH_CONFIG_REGISTRY

    from fairseq_plugins.criterions.netflow_nll import nll_and_correct
    from fairseq_plugins.models.netflowgen import NetflowGenModel
    from fairseq_plugins.tasks.netflow_pretrain import NetflowPretrainConfig, NetflowPretrainTask

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(
        "cuda" if args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available()) else "cpu"
    )
    if args.bf16 and device.type != "cuda":
        sys.exit("bare_train.py: --bf16 needs a GPU (--device cuda)")

    task = NetflowPretrainTask.setup_task(
        NetflowPretrainConfig(data=args.data, window=args.window, feature_set=args.feature_set, seed=args.seed)
    )
    task.load_dataset("train")
    dataset = task.datasets["train"]
    model_args = argparse.Namespace(
        **{
            k: v
            for k, v in vars(args).items()
            if k.startswith(("decoder_", "dropout", "attention_dropout", "activation_dropout")) and v is not None
        }
    )
    ARCH_CONFIG_REGISTRY[args.arch](model_args)
    model = NetflowGenModel.build_model(model_args, task).to(device)
    model.train()
    optimizer = torch.optim.Adam(
        model.parameters(), lr=args.lr, betas=ast.literal_eval(args.adam_betas), eps=args.adam_eps
    )
    emit(
        {
            "event": "config",
            "arch": args.arch,
            "parameters": sum(p.numel() for p in model.parameters()),
            "batch_size": args.batch_size,
            "window": task.window,
            "features": task.n_features,
            "threads": torch.get_num_threads(),
            "device": str(device),
            "bf16": args.bf16,
        }
    )

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    update, epoch, timesteps, steady_timesteps = 0, 0, 0, 0
    interval_timesteps, interval_loss, interval_n = 0, 0.0, 0
    sync()
    start = interval_start = time.perf_counter()
    steady_start = start if args.warmup <= 0 else None
    while update < args.max_update:
        epoch += 1
        for idx in batches_of_epoch(dataset, args.batch_size, args.seed, epoch):
            sample = (
                utils.move_to_cuda(dataset.collater(list(idx)))
                if device.type == "cuda"
                else dataset.collater(list(idx))
            )
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=args.bf16):
                logits, _ = model(**sample["net_input"])
            nll, _ = nll_and_correct(logits, sample["target"])
            loss = nll.sum() / nll.numel()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            update += 1
            n = sample["ntokens"]
            timesteps += n
            interval_timesteps += n
            interval_loss += float(loss.detach())
            interval_n += 1
            if steady_start is not None:
                steady_timesteps += n
            elif update == args.warmup:
                sync()
                steady_start = time.perf_counter()
            if update % args.log_interval == 0 or update == args.max_update:
                sync()
                now = time.perf_counter()
                emit(
                    {
                        "event": "train",
                        "epoch": epoch,
                        "update": update,
                        "loss": round(interval_loss / interval_n, 4),
                        "timesteps_per_s": round(interval_timesteps / max(now - interval_start, 1e-9), 1),
                    }
                )
                interval_start, interval_timesteps, interval_loss, interval_n = now, 0, 0.0, 0
            if update >= args.max_update:
                break
    sync()
    end = time.perf_counter()
    steady = (
        steady_timesteps / (end - steady_start)
        if steady_start is not None and end > steady_start and steady_timesteps
        else None
    )
    emit(
        {
            "event": "done",
            "updates": update,
            "epochs": epoch,
            "timesteps": timesteps,
            "seconds": round(end - start, 3),
            "timesteps_per_s": round(timesteps / (end - start), 1),
            "steady_timesteps_per_s": round(steady, 1) if steady else None,
        }
    )


if __name__ == "__main__":
    main()
