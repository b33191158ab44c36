"""Models for early DDoS detection (SPEC §6): a hazard head on three kinds of history encoders.

Every model reads whole EarlyDetect examples (bins [B, W, F], time [B, W, 3], node [B], customer [B], as the
task netflow_detect batches them) and returns the hazards lambda [B, D] (float32, >= 0) of the last D
minutes, the detection window. Survival S_t = exp(-cumsum(lambda)) (criterions/safe.py: survival).

    hazard head     Linear(d, 512) -> ReLU -> Linear(512, 1) -> softplus, applied to the encoder's state at
                    each of the D detection minutes: d*512 + 512 + 512 + 1 parameters (66,561 at d = 128,
                    the paper's "about 67K")

    netflowgen_safe the pre-trained NetFlowGen decoder (--pretrained CKPT, a checkpoint of the netflowgen
                    model; its sizes and feature set come from the checkpoint), frozen: no gradient, eval
                    mode (no dropout) even while the head trains. The head reads its last hidden state.
    netflowgen_tf   the same decoder built from --decoder-* sizes (or a named size, tf_tiny,
                    tf_4_4_128_512, ...), without its output layer (nothing predicts the next minute),
                    randomly initialised and trained end to end with the head.
    ms_lstm         a Multiscale-LSTM (Xatu): LSTMs over the input downsampled at several time scales
                    (--lstm-scales, default 1,5,15 minutes), their states concatenated into the head.

Causality: the hazard of minute t depends on minutes <= t of the example only (tests check it).

The frozen decoder's context. A checkpoint pre-trained on windows of L minutes has L position rows, but
only positions 0..L-2 were ever trained (pre-training feeds minutes 0..L-2 and predicts 1..L-1). So
netflowgen_safe feeds the last min(W, L-1) minutes of each example: with the paper's W = L = 512 the
decoder sees 511 minutes of history, every one at a trained position.

Multiscale-LSTM details (our reading of Xatu and of the paper's one sentence). The per-minute input is
the same one-hot vector as the Transformer's (every feature's bin, minute of hour, hour of day, day of
week), projected by one Linear layer (computed as an embedding sum, as in models/netflowgen.py) to
--lstm-embed-dim. At scale s the projected minutes are averaged over non-overlapping blocks of s minutes
counted from the example's first minute (the average of one-hot vectors, projected, since the projection
is linear); an LSTM runs over the blocks. At minute t, scale s contributes the LSTM output after the last
block that ends at or before t, i.e. block floor((t + 1) / s) - 1 (zeros when no block has ended): a
causal upsampling to minute resolution. The LSTM sees no node or customer ids.
"""

from __future__ import annotations

import math
import os
from argparse import Namespace
from collections.abc import Sequence

import torch
import torch.nn.functional as Fn
from fairseq import checkpoint_utils
from fairseq.models import BaseFairseqModel, register_model, register_model_architecture
from torch import Tensor, nn

from .netflowgen import (
    ARCHITECTURES,
    MODEL_ARGS,
    TIME_SIZES,
    NetflowGenDecoder,
    NetflowGenModel,
    build_decoder,
    decoder_defaults,
    register_sizes,
)

HEAD_HIDDEN = 512
# What the frozen decoder's architecture copies from the pre-trained checkpoint's model arguments.
BACKBONE_ARGS = MODEL_ARGS


class HazardHead(nn.Module):
    """Linear(d, hidden) -> ReLU -> Linear(hidden, 1) -> softplus: one hazard per step, in float32."""

    def __init__(self, d: int, hidden: int = HEAD_HIDDEN):
        super().__init__()
        self.hidden = nn.Linear(d, hidden)
        self.out = nn.Linear(hidden, 1)

    def forward(self, states: Tensor) -> Tensor:
        """states [B, D, d] -> hazards [B, D] (float32, >= 0)."""
        return Fn.softplus(self.out(torch.relu(self.hidden(states))).squeeze(-1).float())


def head_parameters(d: int, hidden: int = HEAD_HIDDEN) -> int:
    return d * hidden + hidden + hidden + 1


def _record_shape(args, task) -> None:
    """Remember the examples' shape in the model arguments (saved in checkpoints; score_detect.py checks it)."""
    args.example_window = task.window
    args.detect_length = task.detect_length


def _add_head_args(parser) -> None:
    parser.add_argument(
        "--head-hidden", type=int, metavar="N", help=f"hidden width of the hazard head (default {HEAD_HIDDEN})"
    )


# ---------------------------------------------------------------------------------------------- SAFE


@register_model("netflowgen_safe")
class NetflowGenSafeModel(BaseFairseqModel):
    """The frozen pre-trained decoder and a trainable hazard head (the paper's NetFlowGen rows)."""

    def __init__(self, decoder: NetflowGenDecoder, head: HazardHead, detect_length: int, context: int):
        super().__init__()
        self.decoder, self.head = decoder, head
        self.detect_length, self.context = detect_length, context
        for p in self.decoder.parameters():
            p.requires_grad_(False)
        self.decoder.eval()

    @staticmethod
    def add_args(parser):
        parser.add_argument(
            "--pretrained", metavar="CKPT", help="checkpoint of the pre-trained netflowgen model (required)"
        )
        _add_head_args(parser)

    @classmethod
    def build_model(cls, args, task):
        safe_architecture(args)
        weights = None
        if getattr(args, "backbone_positions", None) is not None:
            # A fine-tuned checkpoint being loaded (score_detect.py, fairseq-validate): its arguments record the
            # decoder's shape and its weights hold the frozen decoder, so the pre-trained file is not read.
            if getattr(args, "backbone_feature_set", "full") != task.cfg.feature_set:
                raise ValueError(
                    f"the model was fine-tuned with --feature-set {args.backbone_feature_set}, "
                    f"the task has {task.cfg.feature_set}"
                )
        elif getattr(args, "pretrained", None):
            weights = _adopt_checkpoint(args, args.pretrained, task)
        else:
            raise ValueError(
                "--arch netflowgen_safe needs --pretrained CKPT (a checkpoint of the pre-trained netflowgen model)"
            )
        decoder = build_decoder(
            _backbone_args(args),
            task.n_features,
            task.n_bins,
            task.n_node_ids,
            task.n_customers,
            args.backbone_positions,
        )
        if weights is not None:
            decoder.load_state_dict(weights, strict=True)
        _record_shape(args, task)
        context = min(task.window, args.backbone_positions - 1)
        return cls(decoder, HazardHead(decoder.embed_dim, args.head_hidden), task.detect_length, context)

    def train(self, mode: bool = True):
        super().train(mode)
        self.decoder.eval()  # frozen: never dropout, whatever fairseq's trainer asks for
        return self

    def forward(self, bins, time, node, customer, **unused) -> Tensor:
        bins, time = bins[:, -self.context :], time[:, -self.context :]
        with torch.no_grad():
            h, _ = self.decoder.extract_features(bins, time, node, customer)
        return self.head(h[:, -self.detect_length :])


def _backbone_args(args) -> Namespace:
    return Namespace(**{k: getattr(args, k) for k in BACKBONE_ARGS})


def _get(cfg, key: str, default=None):
    """A field of a saved config section: a Namespace (legacy model arguments) or a dict-like config."""
    if isinstance(cfg, Namespace):
        return getattr(cfg, key, default)
    return cfg.get(key, default) if cfg is not None else default


def _adopt_checkpoint(args, path: str, task) -> dict:
    """Read a pre-trained netflowgen checkpoint: copy its sizes into args, check it fits the task, return
    the decoder's weights (keys without the 'decoder.' prefix)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"--pretrained {path}: no such file")
    state = checkpoint_utils.load_checkpoint_to_cpu(path)
    model_cfg, task_cfg = state["cfg"]["model"], state["cfg"]["task"]
    prefix = "decoder."
    weights = {k[len(prefix) :]: v for k, v in state["model"].items() if k.startswith(prefix)}
    if "input_weight" not in weights or "embed_positions.weight" not in weights:
        raise ValueError(f"--pretrained {path}: not a checkpoint of the netflowgen model (no decoder.input_weight)")
    for k in BACKBONE_ARGS:
        setattr(args, k, _get(model_cfg, k))
    feature_set = str(_get(task_cfg, "feature_set", "full"))
    if feature_set != task.cfg.feature_set:
        raise ValueError(
            f"--pretrained {path} was pre-trained with --feature-set {feature_set}: pass --feature-set {feature_set}"
        )
    expected = {
        "input_weight": (
            task.n_features * task.n_bins + sum(TIME_SIZES),
            f"{task.n_features} features x {task.n_bins} bins",
        ),
        "node_embed.weight": (task.n_node_ids, f"{task.n_node_ids} node ids"),
        "customer_embed.weight": (task.n_customers, f"{task.n_customers} customers"),
    }
    for key, (rows, what) in expected.items():
        if int(weights[key].shape[0]) != rows:
            raise ValueError(
                f"--pretrained {path}: decoder.{key} has {weights[key].shape[0]} rows, "
                f"the EarlyDetect data needs {rows} ({what}): the model was pre-trained on a dataset of another shape"
            )
    args.backbone_positions = int(weights["embed_positions.weight"].shape[0])
    args.backbone_feature_set = feature_set
    if args.backbone_positions < 2:
        raise ValueError(f"--pretrained {path}: {args.backbone_positions} positions is too few")
    return weights


@register_model_architecture("netflowgen_safe", "netflowgen_safe")
def safe_architecture(args):
    args.head_hidden = getattr(args, "head_hidden", None) or HEAD_HIDDEN


# ------------------------------------------------------------------------------------------------ TF


@register_model("netflowgen_tf")
class NetflowGenTFModel(BaseFairseqModel):
    """The NetFlowGen decoder from random initialisation and the hazard head, trained end to end (TF rows)."""

    def __init__(self, decoder: NetflowGenDecoder, head: HazardHead, detect_length: int):
        super().__init__()
        self.decoder, self.head, self.detect_length = decoder, head, detect_length

    @staticmethod
    def add_args(parser):
        NetflowGenModel.add_args(parser)
        _add_head_args(parser)

    @classmethod
    def build_model(cls, args, task):
        tf_architecture(args)
        decoder = build_decoder(args, task.n_features, task.n_bins, task.n_node_ids, task.n_customers, task.window)
        # No next-minute prediction here: without its output layer every parameter gets a gradient (as
        # distributed training requires) and the count is the detector's.
        decoder.output_projection = None
        _record_shape(args, task)
        return cls(decoder, HazardHead(decoder.embed_dim, args.head_hidden), task.detect_length)

    def forward(self, bins, time, node, customer, **unused) -> Tensor:
        h, _ = self.decoder.extract_features(bins, time, node, customer)
        return self.head(h[:, -self.detect_length :])


@register_model_architecture("netflowgen_tf", "netflowgen_tf")
def tf_architecture(args):
    """Defaults: the paper's 4-4-128-512 (the pre-trained model's shape), dropout 0.1."""
    args.head_hidden = getattr(args, "head_hidden", None) or HEAD_HIDDEN
    decoder_defaults(args)


for _name, _s in ARCHITECTURES.items():  # tf_tiny, tf_4_4_128_512, ...: the pre-training sizes
    register_sizes("netflowgen_tf", "tf_" + _name[len("netflowgen_") :], _s, tf_architecture)


# ------------------------------------------------------------------------------------------- MS-LSTM


def parse_scales(text) -> list[int]:
    if isinstance(text, (list, tuple)):
        scales = [int(s) for s in text]
    else:
        try:
            scales = [int(s) for s in str(text).replace(",", " ").split()]
        except ValueError:
            raise ValueError(f"--lstm-scales {text!r}: expected minutes such as 1,5,15") from None
    if not scales or min(scales) < 1 or len(set(scales)) != len(scales):
        raise ValueError(f"--lstm-scales {text!r}: expected distinct positive minutes such as 1,5,15")
    return scales


def block_index(minutes: Sequence[int], scale: int) -> list[int]:
    """For each minute t (0-based in the example), the last block of `scale` minutes (blocks counted from
    minute 0) that ends at or before t, plus one; 0 when no block has ended yet."""
    return [(t + 1) // scale for t in minutes]


@register_model("ms_lstm")
class MultiscaleLSTMModel(BaseFairseqModel):
    """LSTMs over the input averaged in blocks of each scale, states concatenated into the hazard head."""

    def __init__(self, args, n_features: int, n_bins: int, window: int, detect_length: int):
        super().__init__()
        self.scales = parse_scales(args.lstm_scales)
        self.n_features, self.n_bins = n_features, n_bins
        self.window, self.detect_length = window, detect_length
        e, h = args.lstm_embed_dim, args.lstm_hidden
        n_inputs = n_features * n_bins + sum(TIME_SIZES)
        self.input_weight = nn.Parameter(torch.empty(n_inputs, e))
        self.input_bias = nn.Parameter(torch.empty(e))
        bound = 1.0 / math.sqrt(n_inputs)  # nn.Linear's initialisation, as the Transformer's input layer
        nn.init.uniform_(self.input_weight, -bound, bound)
        nn.init.uniform_(self.input_bias, -bound, bound)
        self.register_buffer("feature_offsets", torch.arange(n_features) * n_bins, persistent=False)
        time_offsets = [n_features * n_bins + sum(TIME_SIZES[:j]) for j in range(len(TIME_SIZES))]
        self.register_buffer("time_offsets", torch.tensor(time_offsets), persistent=False)
        self.lstms = nn.ModuleList(nn.LSTM(e, h, num_layers=args.lstm_layers, batch_first=True) for _ in self.scales)
        self.dropout = nn.Dropout(args.dropout)
        self.head = HazardHead(h * len(self.scales), args.head_hidden)
        # Which block output each detection minute reads, per scale (index 0 = "no block yet" = zeros).
        minutes = range(window - detect_length, window)
        for i, s in enumerate(self.scales):
            self.register_buffer(f"_pick{i}", torch.tensor(block_index(minutes, s)), persistent=False)

    @staticmethod
    def add_args(parser):
        parser.add_argument(
            "--lstm-scales", type=str, metavar="S,S,...", help="time scales in minutes (default 1,5,15)"
        )
        parser.add_argument("--lstm-embed-dim", type=int, metavar="N", help="width of the projected one-hot input")
        parser.add_argument("--lstm-hidden", type=int, metavar="N", help="hidden width of each scale's LSTM")
        parser.add_argument("--lstm-layers", type=int, metavar="N", help="layers of each scale's LSTM")
        parser.add_argument(
            "--dropout", type=float, metavar="P", help="dropout on the input and the concatenated states"
        )
        _add_head_args(parser)

    @classmethod
    def build_model(cls, args, task):
        ms_lstm_architecture(args)
        _record_shape(args, task)
        return cls(args, task.n_features, task.n_bins, task.window, task.detect_length)

    def forward(self, bins, time, node=None, customer=None, **unused) -> Tensor:
        B, T, F = bins.shape
        if F != self.n_features or T != self.window:
            raise ValueError(
                f"the model was built for examples of {self.window} minutes x {self.n_features} features, got {T} x {F}"
            )
        rows = torch.cat([bins + self.feature_offsets, time + self.time_offsets], dim=-1)
        x = Fn.embedding_bag(rows.reshape(B * T, -1), self.input_weight, mode="sum").view(B, T, -1) + self.input_bias
        x = self.dropout(x)
        states = []
        for i, (s, lstm) in enumerate(zip(self.scales, self.lstms, strict=True)):
            n_blocks = T // s
            if n_blocks == 0:
                out = x.new_zeros(B, 0, lstm.hidden_size)
            else:
                blocks = x[:, : n_blocks * s].reshape(B, n_blocks, s, -1).mean(dim=2)
                out, _ = lstm(blocks)
            out = torch.cat([out.new_zeros(B, 1, out.size(-1)), out], dim=1)  # row 0: no block has ended
            states.append(out[:, getattr(self, f"_pick{i}")])
        return self.head(self.dropout(torch.cat(states, dim=-1)))


@register_model_architecture("ms_lstm", "ms_lstm")
def ms_lstm_architecture(args):
    args.lstm_scales = getattr(args, "lstm_scales", None) or "1,5,15"
    args.lstm_embed_dim = getattr(args, "lstm_embed_dim", None) or 128
    args.lstm_hidden = getattr(args, "lstm_hidden", None) or 128
    args.lstm_layers = getattr(args, "lstm_layers", None) or 1
    args.dropout = getattr(args, "dropout", 0.1)
    args.head_hidden = getattr(args, "head_hidden", None) or HEAD_HIDDEN


@register_model_architecture("ms_lstm", "ms_lstm_tiny")
def ms_lstm_tiny(args):
    args.lstm_embed_dim = getattr(args, "lstm_embed_dim", None) or 32
    args.lstm_hidden = getattr(args, "lstm_hidden", None) or 32
    ms_lstm_architecture(args)
