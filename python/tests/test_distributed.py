"""Training past one machine: fairseq's distributed data parallel, two processes on the CPU (gloo).

`torchrun --standalone --nproc_per_node 2 fairseq-train ... --batch-size B --distributed-backend gloo`
must train like one process with `--batch-size 2B`: each update all-reduces the two ranks' gradients of B
windows each, which is the gradient of the 2B windows one process reads in one batch. This is the
launch docs/pretrain.md shows for GPUs (there with NCCL, one process per GPU, and --nnodes for several
machines); the DDP backend is fairseq's default, pytorch_ddp, which runs on the CPU with the patch of
python/patch_fairseq.py (hunk 7) and exits cleanly with hunk 8.

Both runs see the same windows in every update: dropout is 0 (each rank would draw its own masks),
--required-batch-size-multiple 1 keeps batches at B and 2B, and --curriculum keeps the batches in
dataset order, so rank r takes batches r, r+2, ... of B windows, and update k of the two ranks covers
the windows of batch k of the single process (the dataset's own shuffle by seed and epoch is the same).

Tolerance: weights within 1e-4 (max abs), losses and gradient norms as printed (4 and 3 decimals).
The runs are not bit-identical because float32 sums run in a different order (each rank sums over its
B windows, gloo then adds the two partial gradients), and Adam divides every update by the root of its
running squared gradient, so a relative rounding difference becomes a difference in the update of the
same relative size, and a larger one where a gradient nearly cancels. Measured: 3.4e-6 after 4 updates
at lr 1e-3. 1e-4 is 2.5% of the largest change 4 updates can make to a weight (about lr per update),
and a single process with the undoubled batch (the control below) differs by about 7.6e-3.
"""

import json
import os
import subprocess
import sys

import fixtures
import pytest
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
UPDATES = 4
TOLERANCE = 1e-4


def _records(output: str) -> list:
    """The train_inner and valid records fairseq logged (rank 0's), as dicts of strings."""
    out = []
    for line in output.splitlines():
        if "| train_inner |" in line or "| valid |" in line:
            out.append(json.loads(line.split(" | ", 3)[-1]))
    return out


def _train(launcher: list, data: str, save_dir: str, batch_size: int, extra=()) -> list:
    argv = launcher + [
        os.path.join(BIN, "fairseq-train"),
        data,
        "--user-dir",
        os.path.join(ROOT, "fairseq_plugins"),
        "--task",
        "netflow_pretrain",
        "--arch",
        "netflowgen_tiny",
        "--criterion",
        "netflow_nll",
        "--optimizer",
        "adam",
        "--lr",
        "1e-3",
        "--max-update",
        str(UPDATES),
        "--dropout",
        "0",
        "--curriculum",
        "1000",
        "--required-batch-size-multiple",
        "1",
        "--seed",
        "3",
        "--batch-size",
        str(batch_size),
        "--cpu",
        "--num-workers",
        "0",
        "--log-format",
        "json",
        "--log-interval",
        "1",
        "--no-epoch-checkpoints",
        "--save-dir",
        save_dir,
        *extra,
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"exit code {r.returncode}:\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}"
    return _records(r.stdout + r.stderr)


def _weights(save_dir: str) -> dict:
    return torch.load(os.path.join(save_dir, "checkpoint_last.pt"), map_location="cpu", weights_only=False)["model"]


def _max_diff(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max((a[k].float() - b[k].float()).abs().max().item() for k in a)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ddp")
    data = str(tmp / "data")
    fixtures.make_dataset(data, "mixed", n_features=6, rows=4, minutes=400, window=16)  # 60 training windows
    one = _train([], data, str(tmp / "one"), 8)
    two = _train(
        [os.path.join(BIN, "torchrun"), "--standalone", "--nproc_per_node", "2"],
        data,
        str(tmp / "two"),
        4,
        ["--distributed-backend", "gloo"],
    )
    _train([], data, str(tmp / "half"), 4)  # read back from its folder
    return {"one": one, "two": two, "dirs": {k: str(tmp / k) for k in ("one", "two", "half")}}


def test_two_processes_log_the_same_updates_as_one_with_the_doubled_batch(runs):
    one, two = runs["one"], runs["two"]

    def inner(rs):
        return [r for r in rs if "num_updates" in r]

    assert [r["num_updates"] for r in inner(one)] == [str(u) for u in range(1, UPDATES + 1)]
    assert [r["num_updates"] for r in inner(two)] == [r["num_updates"] for r in inner(one)]
    for a, b in zip(inner(one), inner(two), strict=True):
        assert a["bsz"] == b["bsz"] == "8"  # two ranks x 4 windows, reduced over both ranks
        assert abs(float(a["loss"]) - float(b["loss"])) <= 1e-4, (a, b)
        assert abs(float(a["gnorm"]) - float(b["gnorm"])) <= 1e-3, (a, b)

    def valid(rs):
        return [r for r in rs if "valid_loss" in r]

    assert len(valid(one)) == len(valid(two)) == 1  # validation when max_update stops the run
    assert abs(float(valid(one)[0]["valid_loss"]) - float(valid(two)[0]["valid_loss"])) <= 1e-4


def test_two_processes_end_with_the_weights_of_one_within_the_tolerance(runs):
    d = runs["dirs"]
    w1, w2, wh = _weights(d["one"]), _weights(d["two"]), _weights(d["half"])
    diff = _max_diff(w1, w2)
    print(f"max |one - two| = {diff:.2e}, control max |one - half| = {_max_diff(w1, wh):.2e}")
    assert diff <= TOLERANCE
    # the tolerance tells batches apart: the undoubled batch ends far outside it
    assert _max_diff(w1, wh) > 20 * TOLERANCE
