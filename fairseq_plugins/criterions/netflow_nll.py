"""Criterion `netflow_nll`: the loss of equation 1 and the metrics of Table 4 (SPEC §5).

For logits [B, T, F, K] and target bins [B, T, F]:

    loss = sum over (window, step, feature) of -log p(target bin)     (nats, natural log)
    sample_size = B * T * F, the number of predicted (step, feature) elements

fairseq divides the summed loss by sample_size before the backward pass (trainer: multiply_grads by
1 / sample_size), so the gradient is the one of the mean NLL. The logged metrics are

    loss       = summed NLL / sample_size: mean NLL per predicted element, in nats (not fairseq's base 2)
    ppl        = exp(loss)
    acc        = share of elements whose arg-max bin is the target bin
    acc_<g>    = the same over the features of group g (volume, protocol, port, flag; present groups only)

acc is derived from summed counts (hidden meters _correct, _count, _correct_<g>, _count_<g>), so it is
exact over a log interval or a whole validation pass.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as Fn
from fairseq import metrics, utils
from fairseq.criterions import FairseqCriterion, register_criterion


def nll_and_correct(logits: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-element NLL in nats (float32) and arg-max correctness, both shaped like target [B, T, F]."""
    K = logits.size(-1)
    nll = Fn.cross_entropy(logits.float().reshape(-1, K), target.reshape(-1), reduction="none").view_as(target)
    correct = logits.argmax(dim=-1) == target
    return nll, correct


def group_columns(groups: Sequence[str]) -> dict[str, list[int]]:
    """Feature columns of each group present, in first-seen order."""
    out: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        out.setdefault(g, []).append(i)
    return out


def safe_exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return float("inf")


@register_criterion("netflow_nll")
class NetflowNllCriterion(FairseqCriterion):
    def __init__(self, task):
        super().__init__(task)
        self.groups = group_columns(task.feature_groups)

    def forward(self, model, sample, reduce: bool = True):
        logits, _ = model(**sample["net_input"])
        target = sample["target"]
        nll, correct = nll_and_correct(logits, target)
        loss = nll.sum()
        sample_size = target.numel()
        per_window_steps = target.size(0) * target.size(1)
        logging_output = {
            "loss": loss.data,
            "ntokens": sample["ntokens"],
            "nsentences": sample["nsentences"],
            "sample_size": sample_size,
            "_correct": correct.sum().data,
            "_count": sample_size,
        }
        for g, cols in self.groups.items():
            logging_output[f"_correct_{g}"] = correct[..., cols].sum().data
            logging_output[f"_count_{g}"] = per_window_steps * len(cols)
        return loss, sample_size, logging_output

    @staticmethod
    def reduce_metrics(logging_outputs) -> None:
        total = log_mean_loss(logging_outputs)
        metrics.log_derived("ppl", lambda meters: round(safe_exp(meters["loss"].avg), 4))
        keys = sorted({k for log in logging_outputs for k in log if k.startswith("_correct")})
        for key in keys:
            count_key = "_count" + key[len("_correct") :]
            metrics.log_scalar_sum(key, total(key))
            metrics.log_scalar_sum(count_key, total(count_key))
            name = "acc" + key[len("_correct") :]  # _correct -> acc, _correct_port -> acc_port
            metrics.log_derived(name, _ratio(key, count_key))

    @staticmethod
    def logging_outputs_can_be_summed() -> bool:
        return True


def log_mean_loss(logging_outputs):
    """Logs `loss`, the summed loss over the summed sample_size of the workers' logging outputs, and returns
    total(key): a key's sum over them (the criteria's reduce_metrics share it)."""

    def total(key):
        return sum(utils.item(log.get(key, 0)) for log in logging_outputs)

    n = total("sample_size")
    metrics.log_scalar("loss", total("loss") / max(n, 1), n, round=4)
    return total


def _ratio(num: str, den: str):
    def fn(meters):
        d = meters[den].sum
        return round(float(meters[num].sum) / d, 4) if d else float("nan")

    return fn
