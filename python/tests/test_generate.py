"""python/generate.py: incremental decoding against full recomputation, greedy sampling, the masks,
and the command line's files. Untrained tiny decoders: what is checked does not depend on the weights."""

import json
import os
import subprocess
import sys

import generate
import numpy as np
import pytest
import torch
from conftest import ROOT
from test_model import decoder, random_inputs

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
START = 27_000_000  # any epoch minute; time features follow from it


def setup(window=8, B=2, H=3, F=5, K=4, seed=0):
    torch.manual_seed(seed)
    dec = decoder(n_features=F, n_bins=K, window=window).eval()
    bins, _, node, customer = random_inputs(B, H, F, K, 3, 2, seed=seed + 1)
    return dec, bins, np.arange(100, 100 + H), node, customer


def full_logprobs(dec, seq, minutes, node, customer):
    """log-probabilities of the minute after `seq` [B, c, F], by a plain full forward pass."""
    t = torch.from_numpy(generate.time_features(START, minutes)).unsqueeze(0).expand(seq.size(0), -1, 3)
    logits, _ = dec(seq, t, node, customer)
    return torch.log_softmax(logits[:, -1].float(), dim=-1)


def test_a_primed_prefix_then_single_steps_equal_the_full_forward():
    """Incremental state filled with 4 history steps in one call, then 6 steps one at a time."""
    torch.manual_seed(3)
    dec = decoder(window=10).eval()
    bins, time, node, customer = random_inputs(2, 10, 5, 4, 3, 2, seed=4)
    with torch.no_grad():
        full, _ = dec(bins, time, node, customer)
        state = {}
        primed, _ = dec(bins[:, :4], time[:, :4], node, customer, incremental_state=state)
        assert primed.shape[1] == 4 and dec.cached_steps(state) == 4
        torch.testing.assert_close(primed, full[:, :4], rtol=1e-4, atol=1e-5)
        for s in range(4, 10):
            step, _ = dec(bins[:, : s + 1], time[:, : s + 1], node, customer, incremental_state=state)
            assert step.shape[1] == 1
            torch.testing.assert_close(step[:, 0], full[:, s], rtol=1e-4, atol=1e-5)
        with pytest.raises(ValueError, match="already cached"):
            dec(bins, time, node, customer, incremental_state=state)


def context_lengths(H, P, R, n):
    """The schedule of generate.py: the context length used to predict each sampled minute."""
    c, out = min(H, P), []
    for _ in range(n):
        out.append(c)
        c = R if c == P else c + 1
    return out


@pytest.mark.parametrize("H,keep", [(3, 3), (7, 2), (1, 7)])
def test_incremental_sampling_equals_full_recomputation_step_by_step(H, keep):
    dec, hist, minutes, node, customer = setup(window=8, H=H)  # context P = 7: several re-primes in 25 minutes
    n, P = 25, 7
    runs = {}
    for cache in (True, False):
        trace = []
        out, reprimes = generate.sample_series(
            dec, hist, minutes, START, node, customer, n, generator=torch.Generator().manual_seed(5),
            cache=cache, keep=keep, trace=trace,
        )  # fmt: skip
        runs[cache] = (out, reprimes, trace)
    assert torch.equal(runs[True][0], runs[False][0])
    assert runs[True][1] == runs[False][1] > 0
    # every step's distribution is what a full forward pass over that step's context gives
    out, _, trace = runs[True]
    seq = torch.cat([hist, out], dim=1)
    all_minutes = np.arange(minutes[0], minutes[0] + H + n)
    for i, c in enumerate(context_lengths(H, P, keep, n)):
        a, b = H + i - c, H + i
        expected = full_logprobs(dec, seq[:, a:b], all_minutes[a:b], node, customer)
        torch.testing.assert_close(trace[i], expected, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(runs[False][2][i], expected, rtol=1e-4, atol=1e-5)


def test_temperature_near_zero_returns_the_argmax_bins_the_models_greedy_prediction():
    dec, hist, minutes, node, customer = setup(window=16, H=3)
    n = 12  # 3 + 12 <= 15: no re-prime, so one forward pass over the whole series checks every step
    greedy, _ = generate.sample_series(dec, hist, minutes, START, node, customer, n, temperature=0)
    cold, _ = generate.sample_series(
        dec, hist, minutes, START, node, customer, n, temperature=1e-5, generator=torch.Generator().manual_seed(9)
    )
    assert torch.equal(greedy, cold)
    top1, _ = generate.sample_series(
        dec, hist, minutes, START, node, customer, n, top_k=1, generator=torch.Generator().manual_seed(2)
    )
    assert torch.equal(greedy, top1)
    seq = torch.cat([hist, greedy], dim=1)
    t = torch.from_numpy(generate.time_features(START, np.arange(100, 100 + 3 + n))).unsqueeze(0).expand(2, -1, 3)
    with torch.no_grad():
        logits, _ = dec(seq[:, :-1], t[:, :-1], node, customer)
    assert torch.equal(logits[:, 2:].argmax(-1), greedy)  # step t predicts minute t+1
    hot, _ = generate.sample_series(
        dec, hist, minutes, START, node, customer, n, temperature=1.0, generator=torch.Generator().manual_seed(9)
    )
    assert not torch.equal(greedy, hot)  # the test can fail: plain sampling does leave the arg-max


def test_sampling_follows_the_probabilities_and_never_draws_a_masked_bin():
    g = torch.Generator().manual_seed(0)
    logits = torch.log(torch.tensor([0.1, 0.2, 0.3, 0.4])).expand(4000, 1, 4)
    picked, _ = generate.draw(logits, 1.0, 0, g)
    share = torch.bincount(picked.reshape(-1), minlength=4).double() / 4000
    torch.testing.assert_close(share, torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64), atol=0.03, rtol=0)
    allowed = torch.tensor([True, False, True, False]).expand(4000, 1, 4)
    picked, logp = generate.draw(logits, 1.0, 0, g, allowed)
    assert set(picked.unique().tolist()) == {0, 2} and torch.isinf(logp[..., 1]).all()
    picked, _ = generate.draw(logits, 1.0, 2, g)  # top-2: bins 2 and 3 only
    assert set(picked.unique().tolist()) == {2, 3}


def test_allowed_bins_follow_the_present_cutoffs():
    inf = np.inf
    cut = np.array([[[1.0, 2.0, 3.0], [5.0, inf, inf], [inf, inf, inf]]])  # 1 row, 3 features, K = 4
    assert generate.allowed_bins(cut, 4).tolist() == [
        [[True, True, True, True], [True, True, False, True], [True, False, False, True]]
    ]


def run_cli(data, out, *extra):
    r = subprocess.run(
        [sys.executable, os.path.join(ROOT, "python", "generate.py"), "--init-arch", "netflowgen_tiny", "--data", data,
         "--from", "300", "--minutes", "30", "--history", "10", "--rows-list", "0,2", "--seed", "4", "--out", out,
         *extra],
        env=ENV, capture_output=True, text=True,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    return [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]


def test_cli_writes_bins_and_sample_json_the_same_with_and_without_the_cache(shift_dataset, tmp_path):
    lines = run_cli(shift_dataset, str(tmp_path / "a"))
    assert lines[-1]["event"] == "done" and lines[-1]["rows"] == 2 and lines[-1]["node_minutes_per_s"] > 0
    s = json.load(open(tmp_path / "a" / "sample.json"))
    assert (s["rows"], s["minutes"], s["history"], s["context"], s["keep"], s["cache"], s["size"]) == (
        [0, 2],
        30,
        10,
        15,
        7,
        True,
        "2-2-32-64",
    )
    assert s["reprimes"] == 3  # contexts 10..15 (minutes 0-5), 7..15 (6-14), 7..15 (15-23), 7..12 (24-29)
    assert s["files"]["bins"]["shape"] == [2, 30, 4]
    bins = np.fromfile(tmp_path / "a" / "bins.u8", dtype=np.uint8)
    assert bins.size == 2 * 30 * 4 and bins.max() < 10
    assert sorted(os.listdir(tmp_path / "a")) == ["bins.u8", "sample.json"]
    run_cli(shift_dataset, str(tmp_path / "b"), "--no-cache")
    assert np.array_equal(bins, np.fromfile(tmp_path / "b" / "bins.u8", dtype=np.uint8))
    assert json.load(open(tmp_path / "b" / "sample.json"))["cache"] is False


def test_cli_names_what_is_wrong(shift_dataset, tmp_path):
    r = subprocess.run(
        [sys.executable, os.path.join(ROOT, "python", "generate.py"), "--init-arch", "netflowgen_tiny",
         "--data", shift_dataset, "--from", "5", "--minutes", "3", "--history", "10", "--out", str(tmp_path / "x")],
        env=ENV, capture_output=True, text=True,
    )  # fmt: skip
    assert r.returncode == 1 and "history minutes -5..4 are not all in the dataset" in r.stderr
