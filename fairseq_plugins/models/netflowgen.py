"""NetFlowGen: a decoder-only Transformer that predicts the next minute of every feature of a node.

SPEC §5. For a window of one node (B windows in a batch, T input steps, F features, K bins, width d):

    input at step t:  one-hot of each feature's bin (F x K)  ++  one-hot of minute of hour (60),
                      hour of day (24), day of week (7)                      -> one Linear to d
                    + node embedding      (nodeIds x d, the node id of the window's row)
                    + customer embedding  (customers x d)
                    + learned position    (window x d; position t = step t of the window)
    dropout
    N x fairseq TransformerDecoderLayer, causal self-attention only (no encoder attention), pre-norm
    final LayerNorm
    output Linear d -> F x K, reshaped to logits [B, T, F, K]: for every feature, the distribution
    over its K bins at step t+1.

The input Linear is computed as a sum of embedding rows. A one-hot vector x with a 1 at positions
i_1..i_m, times a weight matrix W (d x n), is the sum of the columns W[:, i_1] + ... + W[:, i_m]. So
"one-hot concat, then Linear(n -> d) with bias" equals "an embedding table of n rows (row f*K + bin
for feature f, then the 60 + 24 + 7 time rows), summed over the F + 3 active rows, plus a bias".
F.embedding_bag(mode="sum") computes that sum without building the [B, T, F*K + 91] one-hot tensor,
and with F + 3 instead of F*K + 91 multiply-adds per output unit. The table is initialised like the
nn.Linear it stands for (uniform in +-1/sqrt(n)); python/tests/test_model.py checks the equivalence.

Normalisation: pre-norm (LayerNorm before attention and before the feed-forward block, then a final
LayerNorm), which is what fairseq's transformer_lm architectures use (decoder_normalize_before = True).

Windows: a window of L minutes is fed as steps 0..L-2 and scored on steps 1..L-1 (the task builds the
samples); the position table has L rows so that scoring can also feed all L minutes (for the hidden
state after the last minute, python/score.py --hidden).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as Fn
from fairseq import utils
from fairseq.models import (
    FairseqIncrementalDecoder,
    FairseqLanguageModel,
    register_model,
    register_model_architecture,
)
from fairseq.modules import FairseqDropout, LayerNorm, TransformerDecoderLayer
from torch import Tensor, nn

from ..contracts import architectures

TIME_SIZES = (60, 24, 7)  # minute of hour, hour of day, day of week: columns of time.u8


class NetflowGenDecoder(FairseqIncrementalDecoder):
    """The whole network (there is no encoder). Inputs are batch-first: bins [B, T, F] (bin per feature),
    time [B, T, 3], node [B], customer [B]; forward returns logits [B, T, F, K] and extras."""

    def __init__(self, args, n_features: int, n_bins: int, n_node_ids: int, n_customers: int, max_positions: int):
        super().__init__(None)  # no dictionary: inputs are bins, not tokens
        d = args.decoder_embed_dim
        self.n_features, self.n_bins, self.embed_dim = n_features, n_bins, d
        self.max_pos = max_positions
        self.n_inputs = n_features * n_bins + sum(TIME_SIZES)  # length of the one-hot input vector

        # One-hot concat + Linear(n_inputs -> d), stored as an embedding table (see the module docstring).
        self.input_weight = nn.Parameter(torch.empty(self.n_inputs, d))
        self.input_bias = nn.Parameter(torch.empty(d))
        bound = 1.0 / math.sqrt(self.n_inputs)  # nn.Linear's default initialisation
        nn.init.uniform_(self.input_weight, -bound, bound)
        nn.init.uniform_(self.input_bias, -bound, bound)
        # Row of bin b of feature f: f*K + b. Rows of the time features follow the F*K bin rows.
        self.register_buffer("feature_offsets", torch.arange(n_features) * n_bins, persistent=False)
        time_offsets = [n_features * n_bins + sum(TIME_SIZES[:j]) for j in range(len(TIME_SIZES))]
        self.register_buffer("time_offsets", torch.tensor(time_offsets), persistent=False)

        self.node_embed = nn.Embedding(n_node_ids, d)
        self.customer_embed = nn.Embedding(n_customers, d)
        self.embed_positions = nn.Embedding(max_positions, d)
        for emb in (self.node_embed, self.customer_embed, self.embed_positions):
            nn.init.normal_(emb.weight, mean=0.0, std=d**-0.5)  # fairseq's Embedding initialisation

        self.dropout_module = FairseqDropout(args.dropout, module_name=self.__class__.__name__)
        self.layers = nn.ModuleList(
            TransformerDecoderLayer(args, no_encoder_attn=True) for _ in range(args.decoder_layers)
        )
        self.layer_norm = LayerNorm(d)
        self.output_projection = nn.Linear(d, n_features * n_bins)
        self._future_mask = torch.empty(0)

    def embed(self, bins: Tensor, time: Tensor, node: Tensor, customer: Tensor, first_position: int = 0) -> Tensor:
        """Input vectors [B, T, d]: one-hot Linear + node + customer + positions (before dropout)."""
        B, T, F = bins.shape
        if F != self.n_features:
            raise ValueError(f"the model was built for {self.n_features} features, the input has {F}")
        if first_position + T > self.max_pos:
            raise ValueError(f"{first_position + T} steps exceed the model's {self.max_pos} positions")
        rows = torch.cat([bins + self.feature_offsets, time + self.time_offsets], dim=-1)  # [B, T, F + 3]
        x = Fn.embedding_bag(rows.reshape(B * T, -1), self.input_weight, mode="sum").view(B, T, -1)
        x = x + self.input_bias
        x = x + (self.node_embed(node) + self.customer_embed(customer)).unsqueeze(1)
        positions = torch.arange(first_position, first_position + T, device=bins.device)
        return x + self.embed_positions(positions).unsqueeze(0)

    def extract_features(
        self,
        bins: Tensor,
        time: Tensor,
        node: Tensor,
        customer: Tensor,
        incremental_state: dict[str, dict[str, Tensor | None]] | None = None,
        **unused,
    ):
        """Last hidden states [B, T, d] (after the final LayerNorm) and {'inner_states': [T, B, d] ...}.

        With incremental_state (generation) the inputs are the whole prefix, as fairseq's decoders
        expect, and only the steps not yet in the cache are computed: the keys and values of earlier
        steps come from it. Usually that is the last step; with an empty cache and a prefix of several
        steps (real history to condition on), the whole prefix is computed at once, causally, and
        cached. The outputs then cover the new steps only: [B, T - cached, d]."""
        first = 0
        if incremental_state is not None:
            first = self.cached_steps(incremental_state)
            if first >= bins.size(1):
                raise ValueError(
                    f"incremental decoding: the prefix has {bins.size(1)} steps and all {first} are already cached"
                )
            bins, time = bins[:, first:], time[:, first:]
        x = self.dropout_module(self.embed(bins, time, node, customer, first))
        x = x.transpose(0, 1)  # T x B x d, the layout of fairseq's layers
        inner_states: list[Tensor] = [x]
        if incremental_state is None:
            mask = self.buffered_future_mask(x)
        elif x.size(0) > 1:  # several new steps: step first+i sees the cache and new steps 0..i
            mask = torch.triu(utils.fill_with_neg_inf(x.new_zeros(x.size(0), first + x.size(0))), first + 1)
        else:
            mask = None
        for layer in self.layers:
            x, _, _ = layer(x, incremental_state=incremental_state, self_attn_mask=mask)
            inner_states.append(x)
        x = self.layer_norm(x).transpose(0, 1)
        return x, {"inner_states": inner_states}

    def cached_steps(self, incremental_state: dict[str, dict[str, Tensor | None]]) -> int:
        """How many steps the incremental cache holds (the keys of the first layer's self-attention)."""
        if not self.layers:
            raise ValueError("incremental decoding needs at least one layer")
        buffer = self.layers[0].self_attn._get_input_buffer(incremental_state)
        key = buffer.get("prev_key") if buffer else None
        return 0 if key is None else int(key.size(2))  # [B, heads, steps, head_dim]

    def output_layer(self, features: Tensor) -> Tensor:
        B, T, _ = features.shape
        return self.output_projection(features).view(B, T, self.n_features, self.n_bins)

    def forward(self, bins, time, node, customer, incremental_state=None, features_only: bool = False, **unused):
        x, extra = self.extract_features(bins, time, node, customer, incremental_state)
        extra["hidden"] = x
        return (x if features_only else self.output_layer(x)), extra

    def buffered_future_mask(self, x: Tensor) -> Tensor:
        """[T, T] additive mask: -inf above the diagonal, so step t attends to steps <= t only."""
        dim = x.size(0)
        if self._future_mask.size(0) < dim or self._future_mask.device != x.device:
            self._future_mask = torch.triu(utils.fill_with_neg_inf(torch.zeros([dim, dim])), 1)
        self._future_mask = self._future_mask.to(x)
        return self._future_mask[:dim, :dim]

    def get_normalized_probs(self, net_output, log_probs: bool, sample=None) -> Tensor:
        logits = net_output[0].float()
        return Fn.log_softmax(logits, dim=-1) if log_probs else Fn.softmax(logits, dim=-1)

    def max_positions(self) -> int:
        return self.max_pos


@register_model("netflowgen")
class NetflowGenModel(FairseqLanguageModel):
    """fairseq's wrapper around NetflowGenDecoder. Sizes come from the dataset (through the task) and
    from the architecture (--arch netflowgen_4_4_128_512 ..., each size overridable)."""

    @staticmethod
    def add_args(parser):
        parser.add_argument("--decoder-layers", type=int, metavar="N", help="number of decoder layers")
        parser.add_argument("--decoder-attention-heads", type=int, metavar="N", help="attention heads per layer")
        parser.add_argument("--decoder-embed-dim", type=int, metavar="D", help="model width d")
        parser.add_argument("--decoder-ffn-embed-dim", type=int, metavar="N", help="feed-forward width")
        parser.add_argument("--dropout", type=float, metavar="P", help="dropout after the input and in every layer")
        parser.add_argument("--attention-dropout", type=float, metavar="P", help="dropout of attention weights")
        parser.add_argument("--activation-dropout", type=float, metavar="P", help="dropout after the FFN activation")
        parser.add_argument("--activation-fn", choices=utils.get_available_activation_fns(), help="FFN activation")

    @classmethod
    def build_model(cls, args, task):
        base_architecture(args)
        return cls(build_decoder(args, task.n_features, task.n_bins, task.n_node_ids, task.n_customers, task.window))

    def forward(self, bins, time, node, customer, **kwargs):
        return self.decoder(bins, time, node, customer, **kwargs)


def build_decoder(
    args, n_features: int, n_bins: int, n_node_ids: int, n_customers: int, window: int
) -> NetflowGenDecoder:
    """The network for a dataset shape; used by the model, python/bridge.py and python/bare_train.py."""
    base_architecture(args)
    if args.decoder_embed_dim % args.decoder_attention_heads:
        raise ValueError(
            f"--decoder-embed-dim {args.decoder_embed_dim} is not divisible by "
            f"--decoder-attention-heads {args.decoder_attention_heads}"
        )
    args.decoder_normalize_before = True  # pre-norm, as fairseq's transformer_lm (see the module docstring)
    return NetflowGenDecoder(args, n_features, n_bins, n_node_ids, n_customers, window)


# Table 10 sizes, {layers}-{heads}-{width}-{ffn}, and a tiny one for tests and the CPU demo: name ->
# (layers, heads, width, ffn), from schemas/architectures.json (ts/catalogue/architectures.ts reads it too).
ARCHITECTURES = architectures()
DEFAULT_ARCH = "netflowgen_4_4_128_512"  # the paper's base model: the sizes of the bare "netflowgen" arch


def _sizes(args, layers: int, heads: int, width: int, ffn: int) -> None:
    args.decoder_layers = getattr(args, "decoder_layers", layers)
    args.decoder_attention_heads = getattr(args, "decoder_attention_heads", heads)
    args.decoder_embed_dim = getattr(args, "decoder_embed_dim", width)
    args.decoder_ffn_embed_dim = getattr(args, "decoder_ffn_embed_dim", ffn)


# The model arguments an architecture sets: what python/bridge.py passes through and what a detector's frozen
# decoder copies from the pre-trained checkpoint (models/detect.py).
MODEL_ARGS = (
    "decoder_layers",
    "decoder_attention_heads",
    "decoder_embed_dim",
    "decoder_ffn_embed_dim",
    "dropout",
    "attention_dropout",
    "activation_dropout",
    "activation_fn",
)


def decoder_defaults(args) -> None:
    """Defaults of the decoder: the paper's 4-4-128-512 sizes, dropout 0.1 (Table 10 also uses 0.3), ReLU."""
    _sizes(args, *ARCHITECTURES[DEFAULT_ARCH])
    args.dropout = getattr(args, "dropout", 0.1)
    args.attention_dropout = getattr(args, "attention_dropout", 0.0)
    args.activation_dropout = getattr(args, "activation_dropout", 0.0)
    args.activation_fn = getattr(args, "activation_fn", "relu")


@register_model_architecture("netflowgen", "netflowgen")
def base_architecture(args):
    """Defaults: the paper's 4-4-128-512 model, dropout 0.1 (Table 10 also uses 0.3), ReLU."""
    decoder_defaults(args)


def register_sizes(model: str, name: str, sizes, architecture) -> None:
    """Registers architecture `name` of `model`: the given sizes, then `architecture`'s defaults."""

    @register_model_architecture(model, name)
    def arch(args):
        _sizes(args, *sizes)
        architecture(args)


for _name, _s in ARCHITECTURES.items():
    register_sizes("netflowgen", _name, _s, base_architecture)
