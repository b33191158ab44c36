"""Reading EarlyDetect folders: examples, targets, attack-type selection, the seeded hold-out, the task's
subsets, and errors that name the file, the example and the field."""

import json
import os
import shutil

import detect_fixtures
import numpy as np
import pytest

from fairseq_plugins.dataset import DatasetError
from fairseq_plugins.detect_data import (
    ALERT,
    LABEL,
    TYPE,
    EarlyDetectData,
    collate_examples,
    holdout_split,
    select,
    targets,
)
from fairseq_plugins.tasks.netflow_detect import NetflowDetectConfig, NetflowDetectTask

W, D = 16, 4


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """3 rows, 1200 minutes: valid and test have 240 minutes = 15 slots of 16 per row, 7 pairs per row."""
    out = str(tmp_path_factory.mktemp("detect-small"))
    return detect_fixtures.make_detect_fixture(out, rows=3, minutes=1200, n_features=4, window=W, detect=D, seed=3)


def task_for(ed, train="valid", valid="holdout", **kw):
    cfg = NetflowDetectConfig(
        data=ed,
        seed=1,
        holdout_seed=kw.pop("holdout_seed", 1),
        train_subset=train,
        valid_subset=valid,
        disable_validation=False,
        **kw,
    )
    return NetflowDetectTask.setup_task(cfg)


def test_reads_manifest_examples_and_targets(small):
    data = EarlyDetectData(small["ed"])
    assert (data.window, data.detect_length) == (W, D)
    assert data.attack_types == ["DNS", "NTP", "UDP", "SYN", "other"]
    ex = data.examples("valid")
    assert ex.shape == (3 * 7 * 2 + 2, 6) and ex.dtype == np.int32
    assert (ex[-2:, TYPE] == -1).all() and (ex[-2:, ALERT] == -1).all()  # the unseen-node examples
    label, onset = targets(ex, D)
    assert (onset[label == 1] == ex[label == 1, 3]).all()
    assert (onset[label == 0] == D - 1).all()  # non-attack: censored at the last step


def test_a_sample_holds_the_W_minutes_of_each_example_and_its_targets(small):
    import torch

    data = EarlyDetectData(small["ed"])
    ex = data.examples("test")[:6]
    sample = collate_examples(data, ex, np.arange(4), torch.arange(6))
    b = data.binned
    assert sample["net_input"]["bins"].shape == (6, W, 4) and sample["ntokens"] == 6 * D
    for i, (row, start, label, step, _, _) in enumerate(ex):
        assert (sample["net_input"]["bins"][i].numpy() == b.bins[row, start : start + W]).all()
        assert (sample["net_input"]["time"][i].numpy() == b.time[start : start + W]).all()
        assert sample["net_input"]["node"][i] == b.node_id[row]
        assert sample["target"]["onset"][i] == (step if label else D - 1)
        # The fixture's attack: feature 0 in the top bin from the onset on, never before or in normal examples.
        top = sample["net_input"]["bins"][i, :, 0].numpy() == b.n_bins - 1
        assert top.tolist() == ([False] * (W - D + step) + [True] * (D - step) if label else [False] * W)


def test_attack_type_selection_keeps_whole_pairs_and_never_unseen_examples(small):
    data = EarlyDetectData(small["ed"])
    ex = data.examples("valid")
    assert len(select(ex, None)) == len(ex) - 2
    ntp = select(ex, data.type_indices("NTP"))
    assert (ex[ntp, TYPE] == 1).all() and len(ntp) > 0
    alerts, counts = np.unique(ex[ntp, ALERT], return_counts=True)
    assert (counts == 2).all() and (ex[ntp, LABEL].sum() == len(alerts))
    assert data.type_indices("DNS, UDP") == [0, 2] and data.type_indices("") is None
    with pytest.raises(
        DatasetError, match=r"--attack-types: XYZ not in .*manifest.json's attackTypes \(DNS, NTP, UDP, SYN, other\)"
    ):
        data.type_indices("DNS,XYZ")


def test_holdout_is_seeded_disjoint_and_made_of_whole_pairs(small):
    data = EarlyDetectData(small["ed"])
    ex = data.examples("valid")
    chosen = select(ex, None)  # 21 pairs
    kept, held = holdout_split(ex, chosen, 0.2, seed=1)
    assert len(held) == 2 * round(0.2 * 21) and len(kept) + len(held) == len(chosen)
    assert not set(kept) & set(held)
    assert not set(ex[kept, ALERT]) & set(ex[held, ALERT])  # no pair is cut
    assert ex[held, LABEL].sum() * 2 == len(held)  # as balanced as the pairs
    again, _ = holdout_split(ex, chosen, 0.2, seed=1)
    other, _ = holdout_split(ex, chosen, 0.2, seed=2)
    assert again.tolist() == kept.tolist() and other.tolist() != kept.tolist()
    assert holdout_split(ex, chosen, 0.0, seed=1)[1].size == 0
    assert len(holdout_split(ex, chosen[:4], 0.01, seed=1)[1]) == 2  # a share > 0 holds out at least one pair
    with pytest.raises(DatasetError, match="--holdout-share must be in"):
        holdout_split(ex, chosen, 1.0, seed=1)


def test_task_trains_on_one_split_and_monitors_the_held_out_pairs(small):
    task = task_for(small["ed"], train="valid", valid="holdout,test")
    for s in ("valid", "holdout", "test"):
        task.load_dataset(s)
    train, hold, test = (task.datasets[s] for s in ("valid", "holdout", "test"))
    assert (train.split, hold.split, test.split) == ("valid", "valid", "test")
    assert not set(train.indices) & set(hold.indices)
    assert len(train) + len(hold) == 42 and len(test) == 42  # unseen-node examples are never loaded
    assert train.shuffle and not hold.shuffle and not test.shuffle
    train.set_epoch(3)
    assert sorted(train.ordered_indices()) == list(range(len(train))) and train.ordered_indices().tolist() != list(
        range(len(train))
    )
    # Without `holdout` among the validation subsets the training split is used whole.
    whole = task_for(small["ed"], train="valid", valid="test")
    whole.load_dataset("valid")
    assert len(whole.datasets["valid"]) == 42


def test_task_filters_attack_types_and_names_bad_subsets(small):
    task = task_for(small["ed"], train="train", valid="valid", attack_types="DNS")
    task.load_dataset("train")
    assert (task.datasets["train"].examples[:, TYPE] == 0).all()
    with pytest.raises(
        DatasetError, match="--valid-subset valid is the training split: validate on --valid-subset holdout"
    ):
        task_for(small["ed"], train="valid", valid="valid")
    with pytest.raises(DatasetError, match="--train-subset 'holdout'"):
        task_for(small["ed"], train="holdout", valid="valid")
    with pytest.raises(DatasetError, match=r"train.examples.i32: no examples of type SYN for the train subset"):
        task_for(small["ed"], train="train", valid="valid", attack_types="SYN").load_dataset("train")
    with pytest.raises(DatasetError, match="--valid-subset holdout needs --holdout-share above 0"):
        task_for(small["ed"], holdout_share=0.0).load_dataset("holdout")


def corrupt(src, dst, edit):
    shutil.copytree(src, dst)
    edit(dst)
    return dst


def test_errors_name_the_file_the_example_and_the_field(small, tmp_path):
    ed = small["ed"]

    def set_manifest(**changes):
        def edit(folder):
            path = os.path.join(folder, "manifest.json")
            m = json.load(open(path))
            m.update(changes)
            json.dump(m, open(path, "w"))

        return edit

    def set_example(split, i, col, value):
        def edit(folder):
            path = os.path.join(folder, f"{split}.examples.i32")
            ex = np.fromfile(path, dtype="<i4").reshape(-1, 6)
            ex[i, col] = value
            ex.tofile(path)

        return edit

    with pytest.raises(
        DatasetError, match=r"manifest.json: not found \(is .* a folder made by `netflowgen detect-dataset`"
    ):
        EarlyDetectData(str(tmp_path))
    with pytest.raises(DatasetError, match="field 'kind' must be 'netflowgen.earlydetect'"):
        EarlyDetectData(corrupt(ed, str(tmp_path / "kind"), set_manifest(kind="netflowgen.binned-dataset")))
    with pytest.raises(DatasetError, match=r"field 'dataset' = '/nowhere': .*/nowhere/manifest.json: not found"):
        EarlyDetectData(corrupt(ed, str(tmp_path / "ds"), set_manifest(dataset="/nowhere")))
    # the schema's checks (schemas/earlydetect.schema.json), naming the field
    with pytest.raises(
        DatasetError, match=r"earlydetect.schema.json\): field 'detectLength': 0 is less than the minimum of 1"
    ):
        EarlyDetectData(corrupt(ed, str(tmp_path / "dl"), set_manifest(detectLength=0)))
    with pytest.raises(DatasetError, match=r"field 'columns': .* was expected"):
        EarlyDetectData(corrupt(ed, str(tmp_path / "cols"), set_manifest(columns=["row", "start"])))
    cases = [
        (
            "row",
            set_example("valid", 5, 0, 99),
            r"valid.examples.i32: example 5, field 'row' = 99: not a row of the binned dataset \(0..2\)",
        ),
        (
            "start",
            set_example("valid", 2, 1, 1190),
            r"example 2, field 'start' = 1190: the example's 16 minutes do not fit in the dataset's 1200",
        ),
        ("label", set_example("valid", 1, 2, 2), r"example 1, field 'label' = 2: must be 0 or 1"),
        (
            "onset",
            set_example("valid", 0, 3, D),
            r"example 0, field 'onsetStep' = 4: an attack example's onset must be a step 0..3",
        ),
        ("type", set_example("valid", 3, 4, 9), r"example 3, field 'attackType' = 9: must be -1 or an index"),
    ]
    for name, edit, message in cases:
        with pytest.raises(DatasetError, match=message):
            EarlyDetectData(corrupt(ed, str(tmp_path / name), edit)).examples("valid")

    def truncate(folder):
        path = os.path.join(folder, "test.examples.i32")
        with open(path, "r+b") as f:
            f.truncate(os.path.getsize(path) - 4)

    with pytest.raises(DatasetError, match=r"test.examples.i32: \d+ bytes, the manifest's count 44 implies 1056"):
        EarlyDetectData(corrupt(ed, str(tmp_path / "short"), truncate)).examples("test")
