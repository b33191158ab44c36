"""Reading the binned dataset of `netflowgen bin` for the model.

The layout is fixed by schemas/binned-dataset.schema.json and ts/datasets/binned.ts (little-endian,
C order):

    DATASET/manifest.json          nBins, features, featureGroups, windowLength, nodeIds, customers,
                                   nodes[row].{nodeId, customerId}, windows.<split>.{file, count}, ...
    DATASET/bins.u8                uint8 [rows, minutes, features]   bin of every minute of every row
    DATASET/time.u8                uint8 [minutes, 3]                minute of hour, hour of day, day of week
    DATASET/windows.<split>.i32    int32 [count, 2]                  (row, start minute) of each window

`bins.u8` is opened as a numpy memmap: nothing is read until a window is asked for.

Windows. A window of L minutes (row r, start s) covers minutes s .. s+L-1 of row r. The model reads
minutes s .. s+L-2 and predicts minutes s+1 .. s+L-1: L-1 predicted steps, each of every selected
feature. With `--window N` smaller than the dataset's windowLength W, every stored window is cut into
floor(W / N) consecutive windows of N minutes (the rest is dropped), so training only ever sees the
minutes the dataset chose for that split.

Feature sets. `full` = every feature of the dataset; the others are named in schemas/feature-sets.json (which
ts/catalogue/features.ts reads too): `light` = the 6 volume features (NetFlowGen_Light, Table 9). A set's
columns are selected by name, in dataset order. Input and output both use only the selected features.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from fairseq.data import FairseqDataset

from .contracts import feature_sets, schema_problems

SPLITS = ("train", "valid", "test")
# Time features of time.u8, in its column order, and how many values each takes (one-hot sizes).
TIME_FEATURE_SIZES = (60, 24, 7)  # minute of hour, hour of day, day of week (Monday = 0)
# Named feature subsets (schemas/feature-sets.json); light = NetFlowGen_Light (Table 9), the volume features.
NAMED_FEATURE_SETS = feature_sets()
FEATURE_SETS = ("full", *NAMED_FEATURE_SETS)
BINNED_SCHEMA = "binned-dataset.schema.json"


class DatasetError(ValueError):
    """A binned dataset that cannot be read as the manifest describes it."""


def load_manifest(folder: str, kind: str, made_by: str, schema: str) -> dict:
    """FOLDER/manifest.json as a dict whose `kind` is `kind`, valid against schemas/SCHEMA (the schema the
    TypeScript writer checks it with); a DatasetError names the file, the line (of a syntax error) and the field."""
    path = os.path.join(folder, "manifest.json")
    try:
        with open(path, encoding="utf-8") as f:
            m = json.load(f)
    except FileNotFoundError:
        raise DatasetError(f"{path}: not found (is {folder} a folder made by `{made_by}`?)") from None
    except json.JSONDecodeError as e:
        raise DatasetError(f"{path}: line {e.lineno}: not valid JSON ({e.msg})") from None
    if not isinstance(m, dict) or m.get("kind") != kind:
        got = m.get("kind") if isinstance(m, dict) else type(m).__name__
        raise DatasetError(f"{path}: field 'kind' must be {kind!r}, got {got!r}")
    problems = schema_problems(m, schema)
    if problems:
        raise DatasetError(f"{path}: not a valid manifest (schemas/{schema}): " + "; ".join(problems))
    return m


class BinnedData:
    """A binned dataset folder: its manifest, a memmap of bins.u8, the time table and node ids."""

    def __init__(self, folder: str):
        self.folder = folder
        path = os.path.join(folder, "manifest.json")
        self.manifest_path = path
        # Types, ranges and required fields are the schema's; what it cannot say is checked here.
        m = load_manifest(folder, "netflowgen.binned-dataset", "netflowgen bin", BINNED_SCHEMA)
        self.manifest = m
        self.features: list[str] = list(m["features"])
        self.groups: list[str] = list(m["featureGroups"])
        if len(self.groups) != len(self.features):
            raise DatasetError(
                f"{path}: field 'featureGroups' has {len(self.groups)} entries, 'features' has {len(self.features)}"
            )
        self.n_bins: int = m["nBins"]
        self.minutes: int = m["minutes"]
        self.window_length: int = m["windowLength"]
        self.n_node_ids: int = m["nodeIds"]
        self.n_customers: int = len(m["customers"])
        nodes = m["nodes"]
        self.rows = len(nodes)
        self.node_id = np.zeros(self.rows, dtype=np.int64)
        self.customer_id = np.zeros(self.rows, dtype=np.int64)
        for r, node in enumerate(nodes):
            for key, limit, out in (
                ("nodeId", self.n_node_ids, self.node_id),
                ("customerId", self.n_customers, self.customer_id),
            ):
                v = node[key]
                if not v < limit:
                    raise DatasetError(f"{path}: nodes[{r}].{key} = {v!r} is not in 0..{limit - 1}")
                out[r] = v
        files = m["files"]
        F = len(self.features)
        self.bins_path = os.path.join(folder, files["bins"])
        self._check_size(self.bins_path, self.rows * self.minutes * F, f"[{self.rows}, {self.minutes}, {F}] uint8")
        shape = (self.rows, self.minutes, F)
        # np.memmap cannot map an empty file; an empty dataset has nothing to read anyway.
        self.bins = (
            np.memmap(self.bins_path, dtype=np.uint8, mode="r", shape=shape)
            if min(shape)
            else np.zeros(shape, np.uint8)
        )
        time_path = os.path.join(folder, files["time"])
        self._check_size(time_path, self.minutes * 3, f"[{self.minutes}, 3] uint8")
        self.time = np.fromfile(time_path, dtype=np.uint8).reshape(self.minutes, 3)
        for c, size in enumerate(TIME_FEATURE_SIZES):
            bad = np.nonzero(self.time[:, c] >= size)[0]
            if bad.size:
                raise DatasetError(
                    f"{time_path}: minute {bad[0]}, column {c}: value {self.time[bad[0], c]} is not below {size}"
                )
        self._windows = m["windows"]

    @staticmethod
    def _check_size(path: str, expected: int, shape: str) -> None:
        try:
            size = os.path.getsize(path)
        except OSError:
            raise DatasetError(f"{path}: missing") from None
        if size != expected:
            raise DatasetError(f"{path}: {size} bytes, the manifest implies {expected} ({shape})")

    def windows(self, split: str) -> np.ndarray:
        """(row, start) of each stored window of a split: int32 [count, 2]."""
        if split not in SPLITS:
            raise DatasetError(f"unknown split {split!r}: the binned dataset has {', '.join(SPLITS)}")
        entry = self._windows[split]
        path = os.path.join(self.folder, entry["file"])
        self._check_size(path, entry["count"] * 8, f"[{entry['count']}, 2] int32")
        w = np.fromfile(path, dtype="<i4").reshape(-1, 2)
        check_windows(w, self.rows, self.minutes, self.window_length, path)
        return w


def check_windows(windows: np.ndarray, rows: int, minutes: int, length: int, source: str) -> None:
    """Raise a DatasetError naming the first window (its line, 0-based) outside the dataset."""
    bad_row = (windows[:, 0] < 0) | (windows[:, 0] >= rows)
    bad_span = (windows[:, 1] < 0) | (windows[:, 1].astype(np.int64) + length > minutes)
    bad = np.nonzero(bad_row | bad_span)[0]
    if bad.size:
        i = int(bad[0])
        raise DatasetError(
            f"{source}: window {i} = (row {windows[i, 0]}, start {windows[i, 1]}) is outside the dataset "
            f"({rows} rows, {minutes} minutes, windows of {length} minutes)"
        )


def select_features(features: Sequence[str], feature_set: str, source: str = "manifest.json") -> np.ndarray:
    """Column indices of the features of a feature set, in dataset order."""
    if feature_set == "full":
        return np.arange(len(features), dtype=np.int64)
    names = NAMED_FEATURE_SETS.get(feature_set)
    if names is not None:
        missing = [n for n in names if n not in features]
        if missing:
            raise DatasetError(
                f"{source}: --feature-set {feature_set} needs {', '.join(names)}; missing {', '.join(missing)}"
            )
        return np.array([i for i, n in enumerate(features) if n in names], dtype=np.int64)
    raise DatasetError(f"unknown feature set {feature_set!r}: choose one of {', '.join(FEATURE_SETS)}")


def resolve_window(window: int, stored: int) -> int:
    """--window (0 = the dataset's windowLength) checked against the stored window length."""
    length = stored if window in (0, None) else int(window)
    if length < 2:
        raise DatasetError(f"--window must be at least 2 minutes (one input and one predicted step), got {length}")
    if length > stored:
        raise DatasetError(
            f"--window {length} exceeds the dataset's windowLength {stored}: rebuild the dataset with longer windows"
        )
    return length


def cut_windows(windows: np.ndarray, stored: int, length: int) -> np.ndarray:
    """Cut every stored window of `stored` minutes into floor(stored / length) windows of `length`."""
    k = stored // length
    starts = windows[:, 1:2].astype(np.int64) + np.arange(k, dtype=np.int64)[None, :] * length
    rows = np.repeat(windows[:, 0:1].astype(np.int64), k, axis=1)
    return np.stack([rows.reshape(-1), starts.reshape(-1)], axis=1).astype(np.int32)


def collate_windows(
    data: BinnedData, windows: np.ndarray, length: int, features: np.ndarray
) -> dict[str, torch.Tensor]:
    """The model input of some windows: bins [n, length, F'], time [n, length, 3], node [n], customer [n].

    All `length` minutes of each window; training feeds the first length-1 and predicts the last length-1.
    """
    n, F = len(windows), len(features)
    bins = np.empty((n, length, F), dtype=np.int64)
    time = np.empty((n, length, 3), dtype=np.int64)
    for i, (row, start) in enumerate(windows):
        block = data.bins[row, start : start + length]
        bins[i] = block[:, features] if F != block.shape[1] else block
        time[i] = data.time[start : start + length]
    top = bins.max(initial=0)
    if top >= data.n_bins:
        i, t, f = (int(x[0]) for x in np.nonzero(bins == top))
        row, start = windows[i]
        raise DatasetError(
            f"{data.bins_path}: row {row}, minute {start + t}, feature {data.features[features[f]]!r}: "
            f"bin {top} is not below nBins {data.n_bins}"
        )
    return {
        "bins": torch.from_numpy(bins),
        "time": torch.from_numpy(time),
        "node": torch.from_numpy(data.node_id[windows[:, 0]]),
        "customer": torch.from_numpy(data.customer_id[windows[:, 0]]),
    }


def make_sample(inputs: dict[str, torch.Tensor], ids: torch.Tensor) -> dict:
    """A fairseq sample from collate_windows' output: inputs at steps 0..L-2, targets at 1..L-1.

    ntokens counts predicted time steps (windows x (L-1)), so fairseq's `wps` is timesteps per second.
    """
    bins = inputs["bins"]
    n, length = bins.shape[0], bins.shape[1]
    return {
        "id": ids,
        "nsentences": n,
        "ntokens": n * (length - 1),
        "net_input": {
            "bins": bins[:, :-1],
            "time": inputs["time"][:, :-1],
            "node": inputs["node"],
            "customer": inputs["customer"],
        },
        "target": bins[:, 1:],
    }


@dataclass
class WindowSpec:
    """What a split's examples are: the windows, their length and the feature columns."""

    windows: np.ndarray  # int32 [count, 2]
    length: int
    features: np.ndarray  # column indices into the dataset's features


def window_spec(data: BinnedData, split: str, window: int = 0, feature_set: str = "full") -> WindowSpec:
    length = resolve_window(window, data.window_length)
    stored = data.windows(split)
    windows = stored if length == data.window_length else cut_windows(stored, data.window_length, length)
    return WindowSpec(windows, length, select_features(data.features, feature_set, data.manifest_path))


class ShuffledFixedSizeDataset(FairseqDataset):
    """The batching side shared by the pre-training windows and the EarlyDetect examples: every example has the
    same size (`size` tokens), an item is its index (the collater reads whole batches from the memmap at once),
    and with `shuffle` the order is a new permutation every epoch, fixed by (seed, epoch), so a resumed run sees
    the same batches. Subclasses define __len__ and collater."""

    def __init__(self, n: int, size: int, shuffle: bool, seed: int):
        super().__init__()
        self.shuffle, self.seed, self.epoch = shuffle, seed, 1
        self.sizes = np.full(n, size, dtype=np.int64)

    def __getitem__(self, index: int) -> int:
        return int(index)

    def num_tokens(self, index: int) -> int:
        return int(self.sizes[index])

    def num_tokens_vec(self, indices: np.ndarray) -> np.ndarray:
        return self.sizes[indices]

    def size(self, index: int) -> int:
        return int(self.sizes[index])

    @property
    def can_reuse_epoch_itr_across_epochs(self) -> bool:
        return False  # batches are drawn again every epoch (see ordered_indices)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def ordered_indices(self) -> np.ndarray:
        if not self.shuffle:
            return np.arange(len(self), dtype=np.int64)
        return np.random.RandomState([self.seed, self.epoch]).permutation(len(self)).astype(np.int64)


class NetflowWindowDataset(ShuffledFixedSizeDataset):
    """The windows of one split, as fairseq examples. One example = one window of `length` minutes."""

    def __init__(self, data: BinnedData, spec: WindowSpec, shuffle: bool, seed: int = 1):
        super().__init__(len(spec.windows), spec.length - 1, shuffle, seed)
        self.data, self.spec = data, spec

    def __len__(self) -> int:
        return len(self.spec.windows)

    def collater(self, samples: list[int]) -> dict:
        if not samples:
            return {}
        idx = np.asarray(samples, dtype=np.int64)
        inputs = collate_windows(self.data, self.spec.windows[idx], self.spec.length, self.spec.features)
        return make_sample(inputs, torch.from_numpy(idx))
