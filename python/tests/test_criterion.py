"""netflow_nll: summed NLL in nats, sample_size, accuracy overall and per feature group, logged metrics."""

import math

import pytest
import torch
from fairseq import metrics

from fairseq_plugins.criterions.netflow_nll import NetflowNllCriterion
from fairseq_plugins.tasks.netflow_pretrain import NetflowPretrainConfig, NetflowPretrainTask


@pytest.fixture(scope="module")
def task(shift_dataset):
    t = NetflowPretrainTask.setup_task(NetflowPretrainConfig(data=shift_dataset, seed=1))
    t.load_dataset("valid")
    return t


class FixedLogits:
    """A stand-in model that returns given logits."""

    def __init__(self, logits):
        self.logits = logits

    def __call__(self, **net_input):
        return self.logits, {}


def test_uniform_logits_give_log_k_and_perfect_logits_give_zero(task):
    sample = task.datasets["valid"].collater([0, 1])
    target = sample["target"]
    B, T, Fe = target.shape
    crit = NetflowNllCriterion(task)
    loss, size, log = crit(FixedLogits(torch.zeros(B, T, Fe, 10)), sample)
    assert size == B * T * Fe == log["sample_size"]
    assert loss.item() == pytest.approx(B * T * Fe * math.log(10), rel=1e-6)
    perfect = torch.nn.functional.one_hot(target, 10).float() * 50.0
    loss, _, log = crit(FixedLogits(perfect), sample)
    assert loss.item() < 1e-10
    assert int(log["_correct"]) == size
    assert {k: int(v) for k, v in log.items() if k.startswith("_count_")} == {
        f"_count_{g}": B * T for g in ("volume", "protocol", "port", "flag")
    }


def test_loss_equals_a_direct_computation_on_the_model(task):
    torch.manual_seed(0)
    from argparse import Namespace

    model = task.build_model(Namespace(arch="netflowgen_tiny", _name="netflowgen_tiny"))
    model.eval()
    sample = task.datasets["valid"].collater([0, 1, 2])
    loss, size, log = NetflowNllCriterion(task)(model, sample)

    logits, _ = model(**sample["net_input"])
    lp = torch.log_softmax(logits.double(), dim=-1)
    target = sample["target"]
    direct = -lp.gather(-1, target.unsqueeze(-1)).sum()
    assert loss.item() == pytest.approx(direct.item(), rel=1e-5)
    assert size == target.numel()
    hits = logits.argmax(-1) == target
    assert int(log["_correct"]) == int(hits.sum())
    for f, g in enumerate(task.feature_groups):  # one feature per group in this dataset
        assert int(log[f"_correct_{g}"]) == int(hits[..., f].sum())
    assert log["ntokens"] == 3 * 15 and log["nsentences"] == 3


def test_reduce_metrics_weights_by_elements_and_derives_ppl_and_acc():
    logs = [
        {
            "loss": 6.0,
            "sample_size": 4,
            "ntokens": 2,
            "nsentences": 1,
            "_correct": 1,
            "_count": 4,
            "_correct_volume": 1,
            "_count_volume": 2,
            "_correct_flag": 0,
            "_count_flag": 2,
        },
        {
            "loss": 2.0,
            "sample_size": 4,
            "ntokens": 2,
            "nsentences": 1,
            "_correct": 3,
            "_count": 4,
            "_correct_volume": 2,
            "_count_volume": 2,
            "_correct_flag": 1,
            "_count_flag": 2,
        },
    ]
    with metrics.aggregate() as agg:
        NetflowNllCriterion.reduce_metrics(logs)
        out = agg.get_smoothed_values()
    assert out["loss"] == pytest.approx(1.0)  # (6 + 2) / 8 nats
    assert out["ppl"] == pytest.approx(round(math.e, 4))  # exp, not 2 **
    assert out["acc"] == pytest.approx(0.5)
    assert out["acc_volume"] == pytest.approx(0.75)
    assert out["acc_flag"] == pytest.approx(0.25)
    assert "acc_port" not in out and not any(k.startswith("_") for k in out)
