"""Criterion `safe`: the SAFE survival loss of fine-tuning (SPEC §6; Zheng, Yuan, Wu, AAAI 2019).

For an example i with hazards lambda_1..lambda_D over its detection window (the model's output),
C_i = 1 for an attack (the event happens at its onset step T_i) and C_i = 0 for a non-attack example
(censored at the last step, T_i = D - 1):

    L_i    = sum_{t <= T_i} lambda_t                         (the cumulative hazard up to T_i)
    loss_i = L_i - C_i * log(exp(L_i) - 1)
           = L_i                        for C_i = 0           (-log S_{T_i}: survive to the end)
           = -log(1 - exp(-L_i))        for C_i = 1           (-log(1 - S_{T_i}): the event by T_i)

The C = 1 term is computed as -log(-expm1(-L)), which is exact for small L and tends to 0 for large L
without overflow. It is infinite at L = 0, so L is clamped at CLAMP (1e-10) in value only: the gradient
still flows to the hazards (straight through), so a model whose hazards all underflowed can recover.

fairseq divides the summed loss by sample_size (= examples) before the backward pass, so the optimiser
sees the gradient of the mean. Logged metrics (natural log, not fairseq's base 2):

    loss      mean loss_i over the examples
    acc       share of examples with S_{T_i} < 0.5 for attacks and >= 0.5 for non-attacks (informative)
    acc_last  the same with the survival at the window's last step: caught at all at tau = 0.5 / left alone
"""

from __future__ import annotations

import math

import torch
from fairseq import metrics
from fairseq.criterions import FairseqCriterion, register_criterion

from .netflow_nll import log_mean_loss

CLAMP = 1e-10
LOG_HALF = math.log(2.0)  # S < 0.5  <=>  cumulative hazard > log 2


def survival(hazard: torch.Tensor) -> torch.Tensor:
    """S_t = exp(-sum_{k <= t} lambda_k) along the last axis, from the window's first step (non-increasing)."""
    return torch.exp(-torch.cumsum(hazard.float(), dim=-1))


def cumulative_at(hazard: torch.Tensor, step: torch.Tensor) -> torch.Tensor:
    """L_i = sum_{t <= step_i} hazard[i, t] for hazard [B, D] and step [B]."""
    return torch.cumsum(hazard.float(), dim=-1).gather(1, step.long().view(-1, 1)).squeeze(1)


def safe_loss(hazard: torch.Tensor, label: torch.Tensor, onset: torch.Tensor) -> torch.Tensor:
    """Per-example SAFE loss [B] for hazard [B, D] (>= 0), label [B] (C) and onset [B] (T_i)."""
    L = cumulative_at(hazard, onset)
    Lc = L + (L.clamp_min(CLAMP) - L).detach()  # clamped value, gradient of L (straight through)
    event = -torch.log(-torch.expm1(-Lc))
    return torch.where(label.bool(), event, L)


@register_criterion("safe")
class SafeCriterion(FairseqCriterion):
    def __init__(self, task):
        super().__init__(task)

    def forward(self, model, sample, reduce: bool = True):
        hazard = model(**sample["net_input"])
        label, onset = sample["target"]["label"], sample["target"]["onset"]
        losses = safe_loss(hazard, label, onset)
        with torch.no_grad():
            attack = label.bool()
            at_t = cumulative_at(hazard, onset) > LOG_HALF  # S_{T_i} < 0.5
            at_last = hazard.float().sum(dim=-1) > LOG_HALF
            correct = torch.where(attack, at_t, ~at_t).sum()
            correct_last = torch.where(attack, at_last, ~at_last).sum()
        n = int(label.numel())
        logging_output = {
            "loss": losses.sum().data,
            "ntokens": sample["ntokens"],
            "nsentences": n,
            "sample_size": n,
            "_correct": correct.data,
            "_correct_last": correct_last.data,
            "_count": n,
        }
        return losses.sum(), n, logging_output

    @staticmethod
    def reduce_metrics(logging_outputs) -> None:
        total = log_mean_loss(logging_outputs)
        for key in ("_correct", "_correct_last", "_count"):
            metrics.log_scalar_sum(key, total(key))
        metrics.log_derived("acc", _ratio("_correct"))
        metrics.log_derived("acc_last", _ratio("_correct_last"))

    @staticmethod
    def logging_outputs_can_be_summed() -> bool:
        return True


def _ratio(num: str):
    def fn(meters):
        d = meters["_count"].sum
        return round(float(meters[num].sum) / d, 4) if d else float("nan")

    return fn
