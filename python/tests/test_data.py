"""Reading the binned dataset: windows, shorter windows, feature sets, samples, errors that name the place."""

import json
import os
import shutil

import fixtures
import numpy as np
import pytest
import torch

from fairseq_plugins.dataset import (
    BinnedData,
    DatasetError,
    NetflowWindowDataset,
    collate_windows,
    cut_windows,
    make_sample,
    select_features,
    window_spec,
)


def test_manifest_fields_and_windows(shift_dataset):
    data = BinnedData(shift_dataset)
    assert (data.rows, data.minutes, len(data.features), data.n_bins, data.window_length) == (4, 400, 4, 10, 16)
    assert data.groups == ["volume", "protocol", "port", "flag"]
    # 400 minutes at 0.6/0.2/0.2: train [0, 240) -> 15 windows of 16 per row, valid [240, 320) -> 5, test -> 5
    assert [len(data.windows(s)) for s in ("train", "valid", "test")] == [60, 20, 20]
    w = data.windows("valid")
    assert w[0].tolist() == [0, 240] and w[1].tolist() == [0, 256] and w[5].tolist() == [1, 240]
    assert data.time[0].tolist() == [0, 0, 0]  # fixtures start on a Monday at 00:00
    assert data.time[61].tolist() == [1, 1, 0]


def test_sample_inputs_are_minutes_0_to_L_minus_2_and_targets_1_to_L_minus_1(shift_dataset):
    data = BinnedData(shift_dataset)
    spec = window_spec(data, "train")
    inputs = collate_windows(data, spec.windows[:3], spec.length, spec.features)
    sample = make_sample(inputs, torch.arange(3))
    row, start = spec.windows[1]
    window = torch.from_numpy(np.asarray(data.bins[row, start : start + 16], dtype=np.int64))
    assert torch.equal(sample["net_input"]["bins"][1], window[:-1])
    assert torch.equal(sample["target"][1], window[1:])
    assert torch.equal(sample["target"][1], (sample["net_input"]["bins"][1] + 1) % 10)  # the shift pattern
    assert torch.equal(sample["net_input"]["time"][1], torch.from_numpy(data.time[start : start + 15].astype(np.int64)))
    assert sample["net_input"]["node"].tolist() == data.node_id[spec.windows[:3, 0]].tolist()
    assert sample["ntokens"] == 3 * 15 and sample["nsentences"] == 3


def test_shorter_windows_cut_the_stored_ones():
    stored = np.array([[0, 240], [2, 256]], dtype=np.int32)
    assert cut_windows(stored, 16, 5).tolist() == [[0, 240], [0, 245], [0, 250], [2, 256], [2, 261], [2, 266]]


def test_window_option_checks(shift_dataset):
    data = BinnedData(shift_dataset)
    assert len(window_spec(data, "valid", window=8).windows) == 40
    with pytest.raises(DatasetError, match="exceeds the dataset's windowLength 16"):
        window_spec(data, "valid", window=17)
    with pytest.raises(DatasetError, match="at least 2"):
        window_spec(data, "valid", window=1)


def test_light_feature_set_selects_the_volume_features_by_name(full_dataset):
    data = BinnedData(full_dataset)
    cols = select_features(data.features, "light")
    assert [data.features[c] for c in cols] == ["in.pkt", "in.byt", "in.flow", "out.pkt", "out.byt", "out.flow"]
    assert len(select_features(data.features, "full")) == 86
    with pytest.raises(DatasetError, match="missing in.byt"):
        select_features(["in.pkt", "in.tcp.pkt"], "light")


def test_shuffle_depends_on_seed_and_epoch_only(shift_dataset):
    data = BinnedData(shift_dataset)
    spec = window_spec(data, "train")
    a, b = (
        NetflowWindowDataset(data, spec, shuffle=True, seed=7),
        NetflowWindowDataset(data, spec, shuffle=True, seed=7),
    )
    a.set_epoch(2)
    b.set_epoch(2)
    assert a.ordered_indices().tolist() == b.ordered_indices().tolist()
    b.set_epoch(3)
    assert a.ordered_indices().tolist() != b.ordered_indices().tolist()
    assert sorted(a.ordered_indices().tolist()) == list(range(60))
    assert NetflowWindowDataset(data, spec, shuffle=False).ordered_indices().tolist() == list(range(60))


@pytest.fixture
def broken(shift_dataset, tmp_path):
    folder = str(tmp_path / "ds")
    shutil.copytree(shift_dataset, folder)
    return folder


def test_errors_name_the_file_and_place(broken):
    bins = np.fromfile(os.path.join(broken, "bins.u8"), dtype=np.uint8).reshape(4, 400, 4)
    bins[2, 250, 3] = 10  # not below nBins
    bins.tofile(os.path.join(broken, "bins.u8"))
    data = BinnedData(broken)
    with pytest.raises(
        DatasetError, match=r"bins.u8: row 2, minute 250, feature 'out.flag0.flow': bin 10 is not below nBins 10"
    ):
        collate_windows(data, np.array([[2, 240]], dtype=np.int32), 16, np.arange(4))

    w = np.fromfile(os.path.join(broken, "windows.test.i32"), dtype="<i4").reshape(-1, 2)
    w[3] = [1, 395]
    w.tofile(os.path.join(broken, "windows.test.i32"))
    with pytest.raises(DatasetError, match=r"windows.test.i32: window 3 = \(row 1, start 395\) is outside the dataset"):
        data.windows("test")

    with open(os.path.join(broken, "bins.u8"), "ab") as f:
        f.write(b"\0")
    with pytest.raises(DatasetError, match=r"bins.u8: 6401 bytes, the manifest implies 6400"):
        BinnedData(broken)

    m = json.load(open(os.path.join(broken, "manifest.json")))
    m["nodes"][1]["nodeId"] = 9
    json.dump(m, open(os.path.join(broken, "manifest.json"), "w"))
    with pytest.raises(DatasetError, match=r"manifest.json: nodes\[1\].nodeId = 9 is not in 0..3"):
        BinnedData(broken)
    with pytest.raises(DatasetError, match="not found"):
        BinnedData(str(os.path.join(broken, "nope")))


def test_fixture_time_table_follows_the_ts_rule():
    # 1970-01-01 (epoch minute 0) was a Thursday: day of week 3 with Monday = 0.
    assert fixtures.time_table(0, 1).tolist() == [[0, 0, 3]]
    assert fixtures.time_table(fixtures.START_MINUTE, 1).tolist() == [[0, 0, 0]]
    assert fixtures.time_table(24 * 60 * 4 + 125, 1).tolist() == [[5, 2, 0]]


def test_manifest_is_checked_against_the_schema_naming_the_field(full_dataset, tmp_path):
    def broken(name, edit):
        folder = str(tmp_path / name)
        shutil.copytree(full_dataset, folder)
        path = os.path.join(folder, "manifest.json")
        with open(path) as f:
            m = json.load(f)
        edit(m)
        with open(path, "w") as f:
            json.dump(m, f)
        return folder

    cases = [
        (
            "type",
            lambda m: m.update(nBins="10"),
            r"binned-dataset.schema.json\): field 'nBins': '10' is not of type 'integer'",
        ),
        ("missing", lambda m: m.pop("minutes"), r"field 'minutes' is missing"),
        (
            "nested",
            lambda m: m["nodes"][1].update(nodeId=-1),
            r"field 'nodes\[1\].nodeId': -1 is less than the minimum of 0",
        ),
        (
            "group",
            lambda m: m["featureGroups"].__setitem__(0, "volumes"),
            r"field 'featureGroups\[0\]': 'volumes' is not one of",
        ),
        ("window", lambda m: m["windows"]["test"].pop("count"), r"field 'windows.test.count' is missing"),
        ("extra", lambda m: m.update(nbins=10), r"Additional properties are not allowed \('nbins' was unexpected\)"),
    ]
    for name, edit, message in cases:
        with pytest.raises(DatasetError, match=message):
            BinnedData(broken(name, edit))
