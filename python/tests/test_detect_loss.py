"""The SAFE loss (SPEC §6) against a direct computation, its gradients at the extremes, survival curves,
and the criterion's logged metrics on a hand-made batch."""

import math

import pytest
import torch
import torch.nn.functional as Fn
from fairseq import metrics

from fairseq_plugins.criterions.safe import CLAMP, SafeCriterion, cumulative_at, safe_loss, survival


def direct(hazard, label, onset):
    """SPEC §6 written out: L_i = sum_{t <= T_i} lambda_t, loss_i = L_i - C_i log(exp(L_i) - 1), float64."""
    out = []
    for lam, c, T in zip(hazard.tolist(), label.tolist(), onset.tolist(), strict=True):
        L = sum(lam[: T + 1])
        out.append(L - c * math.log(math.exp(L) - 1))
    return out


def test_loss_equals_the_direct_computation_for_both_classes():
    hazard = torch.tensor(
        [
            [0.10, 0.20, 0.30, 0.40],  # attack, onset at step 2: L = 0.6
            [0.01, 0.02, 0.03, 0.04],  # attack, onset at step 0: L = 0.01 (small: the log term dominates)
            [1.50, 2.00, 0.50, 3.00],  # attack, onset at the last step: L = 7
            [0.05, 0.05, 0.05, 0.05],  # non-attack, censored at the last step: L = 0.2
            [0.70, 0.10, 0.00, 0.90],  # non-attack: L = 1.7
        ]
    )
    label = torch.tensor([1, 1, 1, 0, 0])
    D = hazard.size(1)
    onset = torch.tensor([2, 0, 3, D - 1, D - 1])
    got = safe_loss(hazard, label, onset)
    want = direct(hazard.double(), label, onset)
    assert got.tolist() == pytest.approx(want, rel=1e-5, abs=1e-7)
    # Hand values: C = 0 gives L itself; C = 1 gives -log(1 - exp(-L)).
    assert got[3].item() == pytest.approx(0.2, rel=1e-6)
    assert got[0].item() == pytest.approx(-math.log(1 - math.exp(-0.6)), rel=1e-6)
    assert cumulative_at(hazard, onset).tolist() == pytest.approx([0.6, 0.01, 7.0, 0.2, 1.7], rel=1e-6)


def test_loss_on_random_tensors_matches_in_float64():
    g = torch.Generator().manual_seed(0)
    hazard = Fn.softplus(torch.randn(64, 30, generator=g) - 2)
    label = torch.randint(0, 2, (64,), generator=g)
    onset = torch.where(label == 1, torch.randint(0, 30, (64,), generator=g), torch.full((64,), 29))
    assert safe_loss(hazard, label, onset).tolist() == pytest.approx(
        direct(hazard.double(), label, onset), rel=1e-5, abs=1e-6
    )


@pytest.mark.parametrize("value", [0.0, 1e-30, 1e-12, 1e-3, 1.0, 50.0, 1e4, 1e30])
@pytest.mark.parametrize("c", [0, 1])
def test_loss_and_gradient_stay_finite_from_zero_to_huge_hazards(value, c):
    hazard = torch.full((1, 5), value, requires_grad=True)
    loss = safe_loss(hazard, torch.tensor([c]), torch.tensor([4])).sum()
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(hazard.grad).all()
    L = 5 * value
    if c == 0:
        assert loss.item() == pytest.approx(L, rel=1e-6)
        assert hazard.grad.tolist() == [[1.0] * 5]
    elif L >= CLAMP:  # above the clamp the value is exact: -log(1 - exp(-L))
        assert loss.item() == pytest.approx(-math.log(-math.expm1(-L)), rel=1e-5)
        assert (hazard.grad <= 0).all()  # more hazard before the onset lowers an attack's loss
    else:  # below it, the loss is that of L = CLAMP and the gradient still pushes the hazards up
        assert loss.item() == pytest.approx(-math.log(CLAMP), rel=1e-5)
        assert (hazard.grad < 0).all()


def test_gradient_through_softplus_is_finite_when_the_hazards_underflow():
    logits = torch.tensor([[-200.0, -150.0, -120.0], [80.0, 90.0, 100.0]], requires_grad=True)
    loss = safe_loss(Fn.softplus(logits), torch.tensor([1, 1]), torch.tensor([2, 2])).sum()
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()


def test_survival_is_exp_of_minus_the_cumulative_hazard_and_non_increasing():
    g = torch.Generator().manual_seed(1)
    hazard = Fn.softplus(torch.randn(16, 30, generator=g) * 3)
    hazard[0] = 0  # no hazard: survival stays 1
    S = survival(hazard)
    assert torch.allclose(S, torch.exp(-torch.cumsum(hazard, dim=1)))
    assert (S[:, 1:] <= S[:, :-1]).all()
    assert ((S > 0) & (S <= 1)).all()
    assert S[0].tolist() == [1.0] * 30
    assert S[:, 0].tolist() == pytest.approx(torch.exp(-hazard[:, 0]).tolist())


class FixedHazards(torch.nn.Module):
    def __init__(self, hazard):
        super().__init__()
        self.hazard = hazard

    def forward(self, **unused):
        return self.hazard


def test_criterion_logs_mean_loss_and_the_two_accuracies():
    hazard = torch.tensor(
        [
            [0.1, 1.0, 0.0, 0.0],  # attack, onset 1: S_1 = e^-1.1 < 0.5 (right at T), S_last < 0.5
            [0.01, 0.01, 0.0, 1.0],  # attack, onset 1: S_1 = e^-0.02 (wrong at T), S_last < 0.5 (caught late)
            [0.01, 0.01, 0.01, 0.1],  # attack, onset 2: missed both ways
            [0.0, 0.0, 0.0, 0.1],  # non-attack: S_last = e^-0.1 >= 0.5, right
            [0.5, 0.5, 0.0, 0.0],  # non-attack: S_last = e^-1 < 0.5, a false alarm
        ]
    )
    label = torch.tensor([1, 1, 1, 0, 0])
    onset = torch.tensor([1, 1, 2, 3, 3])
    sample = {"net_input": {}, "target": {"label": label, "onset": onset}, "ntokens": 20, "nsentences": 5}
    crit = SafeCriterion(task=None)
    loss, n, log = crit(FixedHazards(hazard), sample)
    assert n == 5
    assert loss.item() == pytest.approx(sum(direct(hazard.double(), label, onset)), rel=1e-5)
    assert (int(log["_correct"]), int(log["_correct_last"]), log["_count"]) == (2, 3, 5)
    with metrics.aggregate() as agg:
        SafeCriterion.reduce_metrics([log, log])  # two batches: ratios of sums
        values = agg.get_smoothed_values()
    assert values["loss"] == pytest.approx(round(loss.item() / 5, 4), abs=1e-4)
    assert (values["acc"], values["acc_last"]) == (0.4, 0.6)
