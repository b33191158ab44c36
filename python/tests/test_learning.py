"""The model learns: on tiny datasets with a learnable pattern its validation loss falls far below
log(nBins), and below the bigram baseline where the next bin depends on more than the previous bin of
the same feature."""

import math
from argparse import Namespace

import fixtures
import numpy as np
import pytest
import torch
from fixtures import training_batches

from fairseq_plugins.criterions.netflow_nll import nll_and_correct
from fairseq_plugins.tasks.netflow_pretrain import NetflowPretrainConfig, NetflowPretrainTask


def train(folder, updates, lr=3e-3, batch_size=8, seed=0):
    """A plain loop over the task's batches with the criterion's loss; returns (task, model)."""
    torch.manual_seed(seed)
    task = NetflowPretrainTask.setup_task(NetflowPretrainConfig(data=folder, seed=seed))
    task.load_dataset("train")
    task.load_dataset("valid")
    model = task.build_model(Namespace(arch="netflowgen_tiny", _name="netflowgen_tiny", dropout=0.0))
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.98))
    for sample in training_batches(task.datasets["train"], updates, batch_size):
        logits, _ = model(**sample["net_input"])
        nll, _ = nll_and_correct(logits, sample["target"])
        opt.zero_grad()
        nll.mean().backward()
        opt.step()
    return task, model.eval()


def valid_loss(task, model):
    data = task.datasets["valid"]
    sample = data.collater(list(range(len(data))))
    with torch.no_grad():
        logits, _ = model(**sample["net_input"])
    nll, correct = nll_and_correct(logits, sample["target"])
    return float(nll.mean()), float(correct.float().mean())


def bigram_loss(task):
    """SPEC §5's baseline: per feature, P(bin t | bin t-1) counted on the training windows (pooled over
    nodes, add-one smoothing), scored on the validation windows' predicted steps."""
    K = task.n_bins
    tr = task.datasets["train"].collater(list(range(len(task.datasets["train"]))))
    va = task.datasets["valid"].collater(list(range(len(task.datasets["valid"]))))
    total, n = 0.0, 0
    for f in range(task.n_features):
        counts = np.ones((K, K))
        np.add.at(counts, (tr["net_input"]["bins"][..., f].numpy().ravel(), tr["target"][..., f].numpy().ravel()), 1)
        logp = np.log(counts / counts.sum(axis=1, keepdims=True))
        prev, nxt = va["net_input"]["bins"][..., f].numpy().ravel(), va["target"][..., f].numpy().ravel()
        total -= logp[prev, nxt].sum()
        n += prev.size
    return total / n


def test_shift_pattern_is_learned(shift_dataset):
    task, model = train(shift_dataset, updates=150)
    loss, acc = valid_loss(task, model)
    assert loss < 0.1 * math.log(10), loss
    assert acc > 0.99


@pytest.fixture(scope="module")
def mixed_dataset(tmp_path_factory):
    """fixtures.py's `mixed` pattern, 4 bins: feature 0 = a random bin per minute of the hour; 1 = feature 0
    one minute earlier; 2 = feature 0 two minutes earlier + hour of day; 3 = feature 1 + 3 (mod 4). The
    next bin follows from time and other features; a feature's own previous bin says little about it."""
    folder = str(tmp_path_factory.mktemp("mixed"))
    fixtures.make_dataset(folder, "mixed", n_features=4, rows=6, minutes=800, window=32, n_bins=4, seed=5)
    return folder


def test_model_beats_the_bigram_baseline_where_time_and_other_features_matter(mixed_dataset):
    task, model = train(mixed_dataset, updates=300)
    loss, _ = valid_loss(task, model)
    bigram = bigram_loss(task)
    assert bigram > 0.8 * math.log(4), bigram  # the bigram cannot see the pattern
    assert loss < 0.25 * math.log(4), loss
    assert loss < bigram - 0.5, (loss, bigram)
