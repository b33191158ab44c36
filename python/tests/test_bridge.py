"""python/bridge.py, the functions the TypeScript side calls through pythonia."""

import json
import os
import sys

import bridge
import pytest
from conftest import ROOT
from test_model import PAPER_SHAPE, expected_parameters


def test_count_parameters_by_part_matches_the_formula():
    s = PAPER_SHAPE
    r = bridge.count_parameters(
        "netflowgen_4_4_128_512", {}, s["nodes"], s["customers"], s["n_features"], s["n_bins"], s["window"]
    )
    assert r["total"] == expected_parameters(4, 4, 128, 512, **s) == sum(r["by_part"].values())
    d = 128
    assert r["by_part"] == {
        "input": (86 * 10 + 91) * d + d,
        "node_emb": 520 * d,
        "customer_emb": 80 * d,
        "positions": 512 * d,
        "layers": 4 * (4 * (d * d + d) + 2 * d * 512 + 512 + d + 4 * d) + 2 * d,
        "output": d * 860 + 860,
    }
    json.dumps(r)  # plain JSON for the bridge


def test_count_parameters_takes_overrides_with_or_without_dashes():
    a = bridge.count_parameters("netflowgen_tiny", {"--decoder-layers": 3, "decoder_embed_dim": 16}, 4, 2, 6, 10, 32)
    assert a["total"] == expected_parameters(3, 2, 16, 64, nodes=4, customers=2, n_features=6, n_bins=10, window=32)
    with pytest.raises(ValueError, match="unknown option 'decoder-depth'"):
        bridge.count_parameters("netflowgen_tiny", {"decoder-depth": 3}, 4, 2, 6, 10, 32)
    with pytest.raises(ValueError, match="unknown architecture 'netflowgen_huge'"):
        bridge.count_parameters("netflowgen_huge", {}, 4, 2, 6, 10, 32)


def train_argv(data):
    return [
        "fairseq-train", data, "--user-dir", "fairseq_plugins", "--task", "netflow_pretrain",
        "--arch", "netflowgen_tiny", "--criterion", "netflow_nll", "--optimizer", "adam",
        "--adam-betas", "(0.9, 0.98)", "--lr", "5e-4", "--lr-scheduler", "inverse_sqrt", "--warmup-updates", "10",
        "--dropout", "0.3", "--batch-size", "8", "--max-epoch", "1", "--patience", "3", "--save-dir", "/tmp/unused",
        "--log-format", "json", "--num-workers", "0", "--cpu",
    ]  # fmt: skip


def test_check_train_args_accepts_a_good_command_and_names_what_is_wrong(shift_dataset, tmp_path, monkeypatch):
    # Start elsewhere than ROOT, so that a call that left the process in its cwd=ROOT (or with fairseq's
    # sys.argv) is seen: each call must restore both, whether the command is good or not.
    monkeypatch.chdir(tmp_path)
    argv_before = list(sys.argv)

    def check(argv):
        r = bridge.check_train_args(argv, cwd=ROOT)
        assert os.getcwd() == str(tmp_path) and sys.argv == argv_before, (
            "the working directory or argv was not restored"
        )
        return r

    good = train_argv(shift_dataset)
    assert check(good) == {"ok": True, "errors": []}
    assert check(good[1:])["ok"]  # without the program name too

    r = check(good + ["--lr-sheduler", "fixed"])
    assert not r["ok"] and "--lr-sheduler" in r["errors"][0]
    r = check([a if a != "netflowgen_tiny" else "netflowgen_4_4_128_513" for a in good])
    assert not r["ok"] and "netflowgen_4_4_128_513" in r["errors"][0] and "netflowgen_4_4_128_512" in r["errors"][0]
    r = check(good + ["--feature-set", "lite"])
    assert not r["ok"] and "lite" in r["errors"][0]
    r = check(good + ["--decoder-attention-heads", "5"])
    assert not r["ok"] and "not divisible" in r["errors"][0]
    r = check([a if a != shift_dataset else "/no/such/dataset" for a in good])
    assert not r["ok"] and "/no/such/dataset/manifest.json: not found" in r["errors"][0]
    r = check(good + ["--window", "99"])
    assert not r["ok"] and "exceeds the dataset's windowLength 16" in r["errors"][0]


def test_forward_smoke(shift_dataset):
    r = bridge.forward_smoke(shift_dataset, "netflowgen_tiny", {"window": 8, "dropout": 0.0})
    assert r["shape"] == [2, 7, 4, 10] and r["split"] == "valid"
    assert 1.0 < r["loss"] < 4.0  # about log(10) = 2.30 for an untrained model
    json.dumps(r)
