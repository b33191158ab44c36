"""python/score.py on a checkpoint of fairseq-train: the documented files, agreement with
fairseq-validate, hidden states that reproduce the per-step loss."""

import json
import os
import subprocess
import sys

import fixtures
import numpy as np
import pytest
import score
import torch
from conftest import ROOT

VENV_BIN = os.path.join(ROOT, ".venv", "bin")
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def fairseq_train(data, save_dir, *extra):
    cmd = [
        os.path.join(VENV_BIN, "fairseq-train"), data, "--user-dir", os.path.join(ROOT, "fairseq_plugins"),
        "--task", "netflow_pretrain", "--arch", "netflowgen_tiny", "--criterion", "netflow_nll",
        "--optimizer", "adam", "--adam-betas", "(0.9, 0.98)", "--lr", "3e-3", "--batch-size", "8",
        "--max-update", "16", "--save-dir", save_dir, "--seed", "2", "--log-format", "json", "--num-workers", "0",
        "--cpu", "--no-epoch-checkpoints", *extra,
    ]  # fmt: skip
    r = subprocess.run(cmd, env=ENV, capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-3000:]
    return r


@pytest.fixture(scope="module")
def checkpoint(shift_dataset, tmp_path_factory):
    save = str(tmp_path_factory.mktemp("ckpt"))
    fairseq_train(shift_dataset, save)
    return os.path.join(save, "checkpoint_last.pt")


def test_score_cli_writes_the_documented_files_and_agrees_with_fairseq_validate(checkpoint, shift_dataset, tmp_path):
    out = str(tmp_path / "score")
    r = subprocess.run(
        [sys.executable, os.path.join(ROOT, "python", "score.py"), "--checkpoint", checkpoint, "--data", shift_dataset,
         "--split", "test", "--out", out, "--hidden", "--batch-size", "7"],
        env=ENV, capture_output=True, text=True, cwd=str(tmp_path),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    assert lines[0]["event"] == "progress" and lines[-1]["event"] == "done" and lines[-1]["out"] == out

    s = json.load(open(os.path.join(out, "score.json")))
    assert (s["split"], s["windows"], s["steps"], s["window"], s["elements"]) == ("test", 20, 15, 16, 20 * 15 * 4)
    assert s["ppl"] == pytest.approx(np.exp(s["loss"]))
    assert set(s) >= {
        "acc",
        "acc_volume",
        "acc_protocol",
        "acc_port",
        "acc_flag",
        "loss_by_feature",
        "acc_by_feature",
        "files",
    }
    step_loss = np.load(os.path.join(out, "step_loss.npy"))
    step_acc = np.load(os.path.join(out, "step_acc.npy"))
    hidden = np.load(os.path.join(out, "hidden.npy"))
    windows = np.load(os.path.join(out, "windows.npy"))
    assert step_loss.shape == step_acc.shape == (20, 15) and step_loss.dtype == np.float32
    assert hidden.shape == (20, 16, 32) and hidden.dtype == np.float32
    assert (
        windows.tolist()
        == np.fromfile(os.path.join(shift_dataset, "windows.test.i32"), dtype="<i4").reshape(-1, 2).tolist()
    )
    assert float(step_loss.mean()) == pytest.approx(s["loss"], rel=1e-5)
    assert float(step_acc.mean()) == pytest.approx(s["acc"], rel=1e-5)
    assert np.mean(s["loss_by_feature"]) == pytest.approx(s["loss"], rel=1e-6)

    # fairseq's own validation loop, through the criterion, on the same checkpoint and split.
    v = subprocess.run(
        [os.path.join(VENV_BIN, "fairseq-validate"), shift_dataset, "--user-dir", os.path.join(ROOT, "fairseq_plugins"),
         "--task", "netflow_pretrain", "--path", checkpoint, "--valid-subset", "test", "--batch-size", "8", "--cpu",
         "--log-format", "json"],
        env=ENV, capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert v.returncode == 0, v.stderr[-3000:]
    line = next(x for x in (v.stdout + v.stderr).splitlines() if "| test |" in x)
    metrics = json.loads(line.split("| test |", 1)[1])
    assert float(metrics["test_loss"]) == pytest.approx(s["loss"], abs=1e-4)
    assert float(metrics["test_acc"]) == pytest.approx(s["acc"], abs=1e-4)
    assert float(metrics["test_acc_port"]) == pytest.approx(s["acc_port"], abs=1e-4)

    # The hidden states are what the output layer reads: they reproduce the per-step loss.
    model, _, _ = score.load_model(checkpoint, shift_dataset, torch.device("cpu"))
    from fairseq_plugins.criterions.netflow_nll import nll_and_correct
    from fairseq_plugins.dataset import BinnedData

    data = BinnedData(shift_dataset)
    target = torch.stack(
        [torch.from_numpy(np.asarray(data.bins[r, t + 1 : t + 16], dtype=np.int64)) for r, t in windows]
    )
    with torch.no_grad():
        logits = model.decoder.output_layer(torch.from_numpy(hidden[:, :-1]))
    nll, _ = nll_and_correct(logits, target)
    np.testing.assert_allclose(nll.mean(-1).numpy(), step_loss, rtol=1e-4, atol=1e-5)


def test_score_custom_windows_and_a_dataset_of_another_shape(checkpoint, shift_dataset, tmp_path):
    wfile = str(tmp_path / "w.i32")
    np.array([[3, 300], [0, 5]], dtype="<i4").tofile(wfile)
    out = str(tmp_path / "custom")
    result = score.score(
        score.parse_args(
            ["--checkpoint", checkpoint, "--data", shift_dataset, "--split", "valid", "--out", out, "--windows", wfile]
        )
    )
    assert result["windows"] == 2 and np.load(os.path.join(out, "windows.npy")).tolist() == [[3, 300], [0, 5]]
    assert not os.path.exists(os.path.join(out, "hidden.npy"))

    np.array([[3, 390]], dtype="<i4").tofile(wfile)
    with pytest.raises(ValueError, match=r"w.i32: window 0 = \(row 3, start 390\) is outside the dataset"):
        score.score(
            score.parse_args(
                [
                    "--checkpoint",
                    checkpoint,
                    "--data",
                    shift_dataset,
                    "--split",
                    "valid",
                    "--out",
                    out,
                    "--windows",
                    wfile,
                ]
            )
        )
    assert not os.path.exists(os.path.join(out, "score.json"))  # no stale result left looking complete

    other = str(tmp_path / "other")
    fixtures.make_dataset(other, "shift", n_features=6, rows=4, minutes=400, window=16, n_bins=10)
    with pytest.raises(SystemExit, match="trained on a dataset of another shape"):
        score.score(score.parse_args(["--checkpoint", checkpoint, "--data", other, "--split", "valid", "--out", out]))
