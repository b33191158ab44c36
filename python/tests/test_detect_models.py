"""The detection models: the head's size, causality (the hazard of minute t never sees minutes after t),
the multiscale LSTM's block alignment, and the frozen decoder of netflowgen_safe."""

from argparse import Namespace

import detect_fixtures
import numpy as np
import pytest
import torch

from fairseq_plugins.models.detect import HazardHead, NetflowGenSafeModel, block_index, head_parameters, parse_scales
from fairseq_plugins.models.netflowgen import build_decoder
from fairseq_plugins.tasks.netflow_detect import NetflowDetectConfig, NetflowDetectTask

W, D = 32, 8


@pytest.fixture(scope="module")
def task(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("detect-models"))
    paths = detect_fixtures.make_detect_fixture(out, rows=3, minutes=1200, window=W, detect=D, seed=5)
    t = NetflowDetectTask.setup_task(
        NetflowDetectConfig(
            data=paths["ed"],
            seed=1,
            holdout_seed=1,
            train_subset="valid",
            valid_subset="test",
            disable_validation=False,
        )
    )
    t.load_dataset("valid")
    return t


def tiny_decoder(task, positions, dropout=0.0, seed=0):
    torch.manual_seed(seed)
    args = Namespace(
        decoder_layers=2, decoder_attention_heads=2, decoder_embed_dim=32, decoder_ffn_embed_dim=64, dropout=dropout
    )
    return build_decoder(args, task.n_features, task.n_bins, task.n_node_ids, task.n_customers, positions)


def safe_model(task, positions=W + 1, dropout=0.0):
    return NetflowGenSafeModel(tiny_decoder(task, positions, dropout), HazardHead(32), D, min(W, positions - 1))


def build(task, arch):
    torch.manual_seed(0)
    if arch == "safe":
        return safe_model(task)
    return task.build_model(Namespace(arch=arch, _name=arch, dropout=0.0))


def test_head_has_the_papers_67k_parameters_at_width_128():
    head = HazardHead(128)
    assert sum(p.numel() for p in head.parameters()) == head_parameters(128) == 128 * 512 + 512 + 512 + 1 == 66_561
    out = head(torch.randn(3, 30, 128))
    assert out.shape == (3, 30) and out.dtype == torch.float32 and (out >= 0).all()


def test_block_index_reads_the_last_block_that_has_ended():
    # Blocks of 5 minutes from minute 0: [0-4], [5-9], ...; the answer is that block's number + 1, 0 = none yet.
    assert block_index([0, 3, 4, 5, 9, 10, 14], 5) == [0, 0, 1, 1, 2, 2, 3]
    assert block_index([0, 1, 2], 1) == [1, 2, 3]
    assert parse_scales("1, 5,15") == [1, 5, 15]
    for bad in ("0,5", "1,1", "x", ""):
        with pytest.raises(ValueError, match="--lstm-scales"):
            parse_scales(bad)


@pytest.mark.parametrize("arch", ["safe", "tf_tiny", "ms_lstm_tiny"])
def test_hazards_are_causal(task, arch):
    """Changing the input after minute m (every feature and the time) leaves the hazards of minutes <= m
    unchanged and changes the later ones; changing minute m itself changes the hazard at m."""
    model = build(task, arch).eval()
    sample = task.datasets["valid"].collater(list(range(4)))
    inp = sample["net_input"]
    with torch.no_grad():
        base = model(**inp)
    assert base.shape == (4, D)
    g = torch.Generator().manual_seed(1)
    for step in (0, 3, D - 2):
        m = W - D + step  # the minute of detection step `step`
        changed = {k: v.clone() for k, v in inp.items()}
        changed["bins"][:, m + 1 :] = torch.randint(0, task.n_bins, changed["bins"][:, m + 1 :].shape, generator=g)
        changed["time"][:, m + 1 :] = (changed["time"][:, m + 1 :] + 1) % 7
        with torch.no_grad():
            after = model(**changed)
        assert torch.allclose(after[:, : step + 1], base[:, : step + 1], atol=1e-6, rtol=0), (
            f"{arch}: steps <= {step} changed"
        )
        assert not torch.allclose(after[:, step + 1 :], base[:, step + 1 :]), f"{arch}: later steps did not react"
    now = {k: v.clone() for k, v in inp.items()}
    now["bins"][:, W - D + 2] = (now["bins"][:, W - D + 2] + 3) % task.n_bins
    with torch.no_grad():
        moved = model(**now)
    assert torch.allclose(moved[:, :2], base[:, :2], atol=1e-6, rtol=0)
    assert not torch.allclose(moved[:, 2], base[:, 2]), f"{arch}: the hazard at minute m does not see minute m"


def test_survival_of_every_model_is_non_increasing(task):
    from fairseq_plugins.criterions.safe import survival

    sample = task.datasets["valid"].collater(list(range(8)))
    for arch in ("safe", "tf_tiny", "ms_lstm_tiny"):
        with torch.no_grad():
            S = survival(build(task, arch).eval()(**sample["net_input"]))
        assert (S[:, 1:] <= S[:, :-1]).all() and ((S > 0) & (S <= 1)).all()


def test_safe_freezes_the_decoder_and_keeps_it_in_eval_mode(task):
    model = safe_model(task, dropout=0.5)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable == ["head.hidden.weight", "head.hidden.bias", "head.out.weight", "head.out.bias"]
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == head_parameters(32)
    model.train()  # what fairseq's trainer calls before every update
    assert model.training and model.head.training and not model.decoder.training
    assert not any(m.training for m in model.decoder.modules())
    sample = task.datasets["valid"].collater(list(range(4)))
    a, b = model(**sample["net_input"]), model(**sample["net_input"])
    assert torch.equal(a, b)  # dropout 0.5 in the decoder, yet no randomness: it is not applied


def test_safe_reads_only_the_positions_pre_training_trained(task):
    """Pre-training on windows of L minutes trains positions 0..L-2. With W = L the first minute is left out."""
    model = safe_model(task, positions=W).eval()
    assert model.context == W - 1
    sample = task.datasets["valid"].collater(list(range(4)))
    inp = sample["net_input"]
    changed = {k: v.clone() for k, v in inp.items()}
    changed["bins"][:, 0] = (changed["bins"][:, 0] + 1) % task.n_bins
    with torch.no_grad():
        assert torch.equal(model(**inp), model(**changed))
    more = safe_model(task, positions=W + 1).eval()
    assert more.context == W
    with torch.no_grad():
        assert not torch.equal(more(**inp), more(**changed))


def test_tf_and_ms_lstm_sizes_follow_the_architecture(task):
    tf = task.build_model(Namespace(arch="tf_tiny", _name="tf_tiny"))
    assert (len(tf.decoder.layers), tf.decoder.embed_dim, tf.decoder.max_positions()) == (2, 32, W)
    big = task.build_model(Namespace(arch="netflowgen_tf", _name="netflowgen_tf", decoder_layers=1))
    assert (len(big.decoder.layers), big.decoder.embed_dim) == (1, 128)
    assert sum(p.numel() for p in big.head.parameters()) == 66_561
    # No output layer: every parameter of TF and of the LSTM gets a gradient (distributed training needs it).
    sample = task.datasets["valid"].collater(list(range(4)))
    tf(**sample["net_input"]).sum().backward()
    assert tf.decoder.output_projection is None and all(p.grad is not None for p in tf.parameters())
    ms = task.build_model(Namespace(arch="ms_lstm_tiny", _name="ms_lstm_tiny", lstm_scales="1,4"))
    ms(**sample["net_input"]).sum().backward()
    assert all(p.grad is not None for p in ms.parameters())
    assert ms.scales == [1, 4] and len(ms.lstms) == 2 and ms.head.hidden.in_features == 2 * 32
    n = np.asarray([p.numel() for p in ms.parameters()]).sum()
    e = h = 32
    inputs = task.n_features * task.n_bins + 91
    assert n == inputs * e + e + 2 * 4 * h * (e + h + 2) + head_parameters(2 * h)
