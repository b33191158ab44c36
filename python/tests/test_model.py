"""The model of SPEC §5: input layer, causality, incremental decoding, parameter counts."""

from argparse import Namespace

import pytest
import torch
import torch.nn.functional as F
from fairseq.models import ARCH_CONFIG_REGISTRY

from fairseq_plugins.models.netflowgen import build_decoder


def decoder(arch="netflowgen_tiny", n_features=5, n_bins=4, nodes=3, customers=2, window=12, **overrides):
    args = Namespace(**overrides)
    ARCH_CONFIG_REGISTRY[arch](args)
    return build_decoder(args, n_features, n_bins, nodes, customers, window)


def random_inputs(B, T, n_features, n_bins, nodes, customers, seed=0):
    g = torch.Generator().manual_seed(seed)
    bins = torch.randint(0, n_bins, (B, T, n_features), generator=g)
    time = torch.stack([torch.randint(0, s, (B, T), generator=g) for s in (60, 24, 7)], dim=-1)
    node = torch.randint(0, nodes, (B,), generator=g)
    customer = torch.randint(0, customers, (B,), generator=g)
    return bins, time, node, customer


def test_embedding_sum_equals_one_hot_concat_then_linear():
    torch.manual_seed(0)
    Fe, K, d = 5, 4, 32
    dec = decoder(n_features=Fe, n_bins=K)
    bins, time, node, customer = random_inputs(3, 7, Fe, K, 3, 2)
    one_hot = torch.cat(
        [
            F.one_hot(bins, K).reshape(3, 7, Fe * K),
            F.one_hot(time[..., 0], 60),
            F.one_hot(time[..., 1], 24),
            F.one_hot(time[..., 2], 7),
        ],
        dim=-1,
    ).float()
    assert one_hot.shape[-1] == Fe * K + 91
    linear = torch.nn.Linear(Fe * K + 91, d)
    with torch.no_grad():
        linear.weight.copy_(dec.input_weight.t())
        linear.bias.copy_(dec.input_bias)
    expected = (
        linear(one_hot)
        + (dec.node_embed(node) + dec.customer_embed(customer))[:, None]
        + dec.embed_positions.weight[:7][None]
    )
    got = dec.embed(bins, time, node, customer)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)

    # Same gradient for the weight matrix too (embedding_bag's backward against the matmul's).
    g = torch.randn_like(got)
    (got * g).sum().backward()
    (linear(one_hot) * g).sum().backward()
    torch.testing.assert_close(dec.input_weight.grad, linear.weight.grad.t(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(dec.input_bias.grad, linear.bias.grad, rtol=1e-5, atol=1e-5)


def test_output_shape_and_distribution():
    dec = decoder(n_features=5, n_bins=4).eval()
    logits, extra = dec(*random_inputs(2, 9, 5, 4, 3, 2))
    assert logits.shape == (2, 9, 5, 4)
    assert extra["hidden"].shape == (2, 9, 32)
    probs = dec.get_normalized_probs((logits, extra), log_probs=False)
    torch.testing.assert_close(probs.sum(-1), torch.ones(2, 9, 5))


@pytest.mark.parametrize("t", [0, 4, 10])
def test_causal_future_inputs_do_not_change_past_outputs(t):
    torch.manual_seed(1)
    dec = decoder(window=12).eval()
    bins, time, node, customer = random_inputs(2, 12, 5, 4, 3, 2, seed=2)
    before, _ = dec(bins, time, node, customer)
    bins2, time2 = bins.clone(), time.clone()
    bins2[:, t + 1 :] = (bins2[:, t + 1 :] + 1) % 4
    time2[:, t + 1 :, 1] = (time2[:, t + 1 :, 1] + 5) % 24
    after, _ = dec(bins2, time2, node, customer)
    torch.testing.assert_close(after[:, : t + 1], before[:, : t + 1], rtol=1e-5, atol=1e-5)
    if t + 1 < 12:  # the change is visible from step t+1 on, so the test can fail
        assert (after[:, t + 1 :] - before[:, t + 1 :]).abs().max() > 1e-3


def test_incremental_decoding_matches_full_forward():
    torch.manual_seed(3)
    dec = decoder(window=10).eval()
    bins, time, node, customer = random_inputs(2, 10, 5, 4, 3, 2, seed=4)
    full, _ = dec(bins, time, node, customer)
    state = {}
    for s in range(10):
        step, _ = dec(bins[:, : s + 1], time[:, : s + 1], node, customer, incremental_state=state)
        torch.testing.assert_close(step[:, 0], full[:, s], rtol=1e-4, atol=1e-5)


def test_too_many_steps_or_wrong_feature_count_is_an_error():
    dec = decoder(window=6)
    with pytest.raises(ValueError, match="exceed the model's 6 positions"):
        dec(*random_inputs(1, 7, 5, 4, 3, 2))
    with pytest.raises(ValueError, match="built for 5 features"):
        dec(*random_inputs(1, 3, 6, 4, 3, 2))


def expected_parameters(layers, heads, d, ffn, nodes, customers, n_features, n_bins, window):
    """Written out from the layer shapes (heads split d, they add no parameters)."""
    inputs = n_features * n_bins + 60 + 24 + 7
    input_layer = inputs * d + d  # the Linear from the one-hot vector, with bias
    tables = nodes * d + customers * d + window * d  # node, customer and position embeddings
    attention = 4 * (d * d + d)  # q, k, v and output projections with biases
    feed_forward = (d * ffn + ffn) + (ffn * d + d)  # fc1 and fc2 with biases
    norms = 2 * (2 * d)  # LayerNorm before attention and before the feed-forward block
    final_norm = 2 * d
    output = d * n_features * n_bins + n_features * n_bins
    return input_layer + tables + layers * (attention + feed_forward + norms) + final_norm + output


PAPER_SHAPE = dict(nodes=520, customers=80, n_features=86, n_bins=10, window=512)  # Table 1, SPEC §1/§2


@pytest.mark.parametrize(
    "arch,sizes",
    [
        ("netflowgen_4_4_128_512", (4, 4, 128, 512)),
        ("netflowgen_4_4_256_1024", (4, 4, 256, 1024)),
        ("netflowgen_4_4_512_1024", (4, 4, 512, 1024)),
        ("netflowgen_4_4_512_2048", (4, 4, 512, 2048)),
        ("netflowgen_tiny", (2, 2, 32, 64)),
    ],
)
def test_parameter_counts_match_the_formula(arch, sizes):
    s = PAPER_SHAPE
    dec = decoder(arch, s["n_features"], s["n_bins"], s["nodes"], s["customers"], s["window"])
    assert (len(dec.layers), dec.layers[0].self_attn.num_heads, dec.embed_dim, dec.layers[0].fc1.out_features) == sizes
    assert sum(p.numel() for p in dec.parameters()) == expected_parameters(*sizes, **s)


def test_architecture_sizes_can_be_overridden():
    dec = decoder("netflowgen_4_4_128_512", decoder_layers=2, decoder_embed_dim=64, decoder_attention_heads=8)
    assert (len(dec.layers), dec.embed_dim, dec.layers[0].self_attn.num_heads, dec.layers[0].fc1.out_features) == (
        2,
        64,
        8,
        512,
    )
    assert dec.layers[0].normalize_before  # pre-norm, as transformer_lm
    with pytest.raises(ValueError, match="not divisible"):
        decoder("netflowgen_tiny", decoder_attention_heads=3)
