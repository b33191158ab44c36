"""Fine-tuning end to end on a learnable synthetic task: a briefly pre-trained netflowgen checkpoint
(fairseq-train), the head on its frozen decoder and the from-scratch Transformer separate attack from
normal examples; fairseq-train with netflowgen_safe leaves the decoder bit-identical to the checkpoint;
python/score_detect.py writes every example's survival curve."""

import json
import os
import subprocess
import sys
from argparse import Namespace

import detect_fixtures
import numpy as np
import pytest
import score_detect
import torch
from conftest import ROOT
from fixtures import training_batches

from fairseq_plugins.criterions.safe import safe_loss, survival
from fairseq_plugins.tasks.netflow_detect import NetflowDetectConfig, NetflowDetectTask

VENV_BIN = os.path.join(ROOT, ".venv", "bin")
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
PLUGIN = os.path.join(ROOT, "fairseq_plugins")


def run(cmd):
    r = subprocess.run(cmd, env=ENV, capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    return r


def log_lines(output, tag):
    marker = f"| {tag} | "
    return [json.loads(x.split(marker, 1)[1]) for x in output.splitlines() if marker in x and x.rstrip().endswith("}")]


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    """6 rows, 3000 minutes, examples of 32 minutes with 8 detection steps; the binned dataset has windows of 32."""
    return detect_fixtures.make_detect_fixture(str(tmp_path_factory.mktemp("detect-train")))


@pytest.fixture(scope="module")
def pretrained(fixture, tmp_path_factory):
    """netflowgen_tiny pre-trained for 100 updates on the fixture's binned dataset (seconds on a CPU)."""
    save = str(tmp_path_factory.mktemp("pretrain"))
    run(
        [os.path.join(VENV_BIN, "fairseq-train"), fixture["dataset"], "--user-dir", PLUGIN,
         "--task", "netflow_pretrain", "--arch", "netflowgen_tiny", "--criterion", "netflow_nll",
         "--optimizer", "adam", "--adam-betas", "(0.9, 0.98)", "--lr", "3e-3", "--dropout", "0", "--batch-size", "16",
         "--max-update", "100", "--save-dir", save, "--seed", "1", "--log-format", "json", "--num-workers", "0",
         "--cpu", "--no-epoch-checkpoints", "--disable-validation"]
    )  # fmt: skip
    return os.path.join(save, "checkpoint_last.pt")


def task_for(ed, train="valid", valid="test", **kw):
    cfg = NetflowDetectConfig(
        data=ed, seed=1, holdout_seed=1, train_subset=train, valid_subset=valid, disable_validation=False, **kw
    )
    task = NetflowDetectTask.setup_task(cfg)
    task.load_dataset(train)
    task.load_dataset("test")
    return task


def fine_tune(task, model, updates, lr=3e-3, batch_size=16):
    """A plain loop like fairseq's: every parameter is handed to Adam; frozen ones have no gradient."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for sample in training_batches(task.datasets[str(task.cfg.train_subset)], updates, batch_size):
        loss = safe_loss(model(**sample["net_input"]), sample["target"]["label"], sample["target"]["onset"]).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


def score_args(ckpt, ed, out):
    """score_detect.py's arguments for the test split of EarlyDetect folder `ed`."""
    return ["--checkpoint", ckpt, "--data", ed, "--split", "test", "--out", out]


def separation(task, model):
    """(share of test attacks with S_last < 0.5, share of test non-attacks with S_last >= 0.5)."""
    data = task.datasets["test"]
    sample = data.collater(list(range(len(data))))
    with torch.no_grad():
        last = survival(model(**sample["net_input"]))[:, -1]
    attack = sample["target"]["label"].bool()
    return float((last[attack] < 0.5).float().mean()), float((last[~attack] >= 0.5).float().mean())


def test_head_on_the_frozen_pretrained_decoder_learns_and_leaves_the_decoder_untouched(fixture, pretrained):
    task = task_for(fixture["ed"])  # the paper's small setting: train on valid (108 examples), test on test
    torch.manual_seed(0)
    model = task.build_model(Namespace(arch="netflowgen_safe", _name="netflowgen_safe", pretrained=pretrained))
    assert (model.decoder.embed_dim, len(model.decoder.layers)) == (32, 2)  # sizes from the checkpoint
    head_before = {k: v.clone() for k, v in model.head.state_dict().items()}
    fine_tune(task, model, updates=100)
    attack, normal = separation(task, model)
    assert attack >= 0.9 and normal >= 0.9, (attack, normal)
    weights = torch.load(pretrained, map_location="cpu", weights_only=False)["model"]
    decoder = model.decoder.state_dict()
    assert set(decoder) == {k[len("decoder.") :] for k in weights}
    for k, v in decoder.items():
        assert torch.equal(v, weights["decoder." + k]), k  # bit-identical
    assert all(not torch.equal(v, head_before[k]) for k, v in model.head.state_dict().items())


def test_transformer_from_scratch_learns_the_pattern_too(fixture):
    task = task_for(fixture["ed"])
    torch.manual_seed(0)
    model = task.build_model(Namespace(arch="tf_tiny", _name="tf_tiny", dropout=0.0))
    fine_tune(task, model, updates=150)
    attack, normal = separation(task, model)
    assert attack >= 0.7 and normal >= 0.7, (attack, normal)


def test_safe_needs_a_fitting_pretrained_checkpoint(fixture, pretrained, tmp_path):
    task = task_for(fixture["ed"])
    with pytest.raises(ValueError, match="--arch netflowgen_safe needs --pretrained CKPT"):
        task.build_model(Namespace(arch="netflowgen_safe", _name="netflowgen_safe"))
    with pytest.raises(FileNotFoundError, match="--pretrained /nowhere.pt: no such file"):
        task.build_model(Namespace(arch="netflowgen_safe", _name="netflowgen_safe", pretrained="/nowhere.pt"))

    # Another dataset: 24 features (all 6 volume ones, so `light` exists), 10 bins.
    other = detect_fixtures.make_detect_fixture(str(tmp_path), rows=2, minutes=600, n_features=24)["ed"]
    for feature_set, message in [
        ("light", "was pre-trained with --feature-set full: pass --feature-set full"),
        ("full", r"decoder.input_weight has 131 rows, the EarlyDetect data needs 331 \(24 features x 10 bins\)"),
    ]:
        cfg = NetflowDetectConfig(
            data=other,
            seed=1,
            holdout_seed=1,
            train_subset="valid",
            valid_subset="test",
            disable_validation=False,
            feature_set=feature_set,
        )
        with pytest.raises(ValueError, match=message):
            NetflowDetectTask.setup_task(cfg).build_model(
                Namespace(arch="netflowgen_safe", _name="netflowgen_safe", pretrained=pretrained)
            )


def test_fairseq_train_keeps_the_decoder_frozen_and_score_detect_writes_survival_curves(
    fixture, pretrained, tmp_path, capsys
):
    save = str(tmp_path / "safe")
    r = run(
        [os.path.join(VENV_BIN, "fairseq-train"), fixture["ed"], "--user-dir", PLUGIN, "--task", "netflow_detect",
         "--arch", "netflowgen_safe", "--pretrained", pretrained, "--criterion", "safe", "--train-subset", "valid",
         "--valid-subset", "holdout", "--attack-types", "DNS,NTP,UDP", "--optimizer", "adam", "--lr", "3e-3",
         "--batch-size", "16", "--max-epoch", "2", "--save-dir", save, "--seed", "1", "--log-format", "json",
         "--log-interval", "2", "--num-workers", "0", "--cpu", "--required-batch-size-multiple", "1"]
    )  # fmt: skip
    out = r.stdout + r.stderr
    assert "num. trained: 17,409" in out  # the head: 32*512 + 512 + 512 + 1
    inner = log_lines(out, "train_inner")
    assert inner and all({"loss", "acc", "acc_last"} <= set(x) for x in inner)
    held = log_lines(out, "holdout")
    assert len(held) == 2 and {"holdout_loss", "holdout_acc", "holdout_acc_last"} <= set(held[0])

    weights = torch.load(pretrained, map_location="cpu", weights_only=False)["model"]
    states = [
        torch.load(os.path.join(save, f), map_location="cpu", weights_only=False)["model"]
        for f in ("checkpoint1.pt", "checkpoint2.pt")
    ]
    for state in states:
        for k, v in weights.items():
            assert torch.equal(state[k], v), k
    assert not torch.equal(states[0]["head.out.weight"], states[1]["head.out.weight"])  # the head trained on

    score_out = str(tmp_path / "score")
    ckpt = os.path.join(save, "checkpoint_best.pt")
    s = run(
        [
            sys.executable,
            os.path.join(ROOT, "python", "score_detect.py"),
            *score_args(ckpt, fixture["ed"], score_out),
            "--batch-size",
            "7",
        ]
    )
    events = [json.loads(x) for x in s.stdout.splitlines() if x.startswith("{")]
    assert events[0]["event"] == "progress" and events[-1]["event"] == "done"
    meta = json.load(open(os.path.join(score_out, "score.json")))
    ex = np.fromfile(os.path.join(fixture["ed"], "test.examples.i32"), dtype="<i4").reshape(-1, 6)
    n, D = len(ex), 8
    assert (meta["split"], meta["n"], meta["D"], meta["W"], meta["arch"], meta["n_selected"]) == (
        "test",
        n,
        D,
        32,
        "netflowgen_safe",
        n,
    )
    assert meta["examples_file"] == os.path.join(fixture["ed"], "test.examples.i32") and (ex[:, 4] == -1).sum() == 2
    S = np.fromfile(os.path.join(score_out, "survival.f32"), dtype="<f4").reshape(n, D)
    lam = np.fromfile(os.path.join(score_out, "hazard.f32"), dtype="<f4").reshape(n, D)
    assert (np.diff(S, axis=1) <= 0).all() and ((S > 0) & (S <= 1)).all() and (lam >= 0).all()
    assert np.allclose(S, np.exp(-np.cumsum(lam.astype(np.float64), axis=1)), rtol=1e-5)
    label = ex[:, 2]
    onset = np.where(label == 1, ex[:, 3], D - 1)
    losses = safe_loss(torch.from_numpy(lam), torch.from_numpy(label), torch.from_numpy(onset)).numpy()
    assert meta["mean_loss"] == pytest.approx(float(losses.mean()), rel=1e-5)

    # --attack-types changes what mean_loss averages over, not which rows are written.
    # (In this process: a second start of Python and torch would cost seconds.)
    result = score_detect.score(
        score_detect.parse_args([*score_args(ckpt, fixture["ed"], score_out), "--attack-types", "DNS"])
    )
    meta = json.load(open(os.path.join(score_out, "score.json")))
    assert result == meta
    keep = ex[:, 4] == 0
    assert (meta["n"], meta["n_selected"], meta["attack_types"]) == (n, int(keep.sum()), ["DNS"])
    assert meta["mean_loss"] == pytest.approx(float(losses[keep].mean()), rel=1e-5)
    assert np.allclose(
        np.fromfile(os.path.join(score_out, "survival.f32"), dtype="<f4").reshape(n, D), S, atol=1e-6
    )  # other batch size

    # Several splits in one process (the model loaded once): ROOT/<split>/, each the same as scored alone.
    root = str(tmp_path / "eval")
    results = score_detect.score(
        score_detect.parse_args(
            ["--checkpoint", ckpt, "--data", fixture["ed"], "--split", "test,valid,test", "--out-root", root]
        )
    )
    assert list(results) == ["test", "valid"]  # each split once, in the order given
    for split in ("test", "valid"):
        meta = json.load(open(os.path.join(root, split, "score.json")))
        assert results[split] == meta and meta["split"] == split and meta["checkpoint"] == os.path.abspath(ckpt)
        n_split = len(np.fromfile(os.path.join(fixture["ed"], f"{split}.examples.i32"), dtype="<i4")) // 6
        assert meta["n"] == n_split and os.path.getsize(os.path.join(root, split, "survival.f32")) == 4 * n_split * D
    assert np.allclose(np.fromfile(os.path.join(root, "test", "survival.f32"), dtype="<f4").reshape(n, D), S, atol=1e-6)
    for bad, message in [
        (["--split", "test,valid", "--out", score_out], "--out names one split's folder"),
        (["--split", "test", "--out", score_out, "--out-root", root], "not both"),
        (["--split", "test,tset"], "'tset' is not a split"),
    ]:
        with pytest.raises(SystemExit):
            score_detect.parse_args(["--checkpoint", ckpt, "--data", fixture["ed"], *bad])
        assert message in capsys.readouterr().err
