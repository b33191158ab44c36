"""Reading an EarlyDetect folder of `netflowgen detect-dataset` for fine-tuning and scoring (SPEC §6).

The layout is fixed by docs/earlydetect.md and schemas/earlydetect.schema.json (little-endian, C order):

    ED/manifest.json          windowLength W, detectLength D, attackTypes, dataset (the binned dataset
                              folder), splits.<split>.{count, examples, mask, traffic}, alerts, ...
    ED/<split>.examples.i32   int32 [n, 6]   row, start, label, onsetStep, attackType, alert

An example is minutes [start, start + W) of row `row` of the binned dataset (bins.u8, time.u8, node and
customer ids of nodes[row]; read through fairseq_plugins/dataset.py's memmap). Its last D minutes are the
detection window. SAFE's targets (SPEC §6): C = label, and T = onsetStep for an attack example, D - 1 for a
non-attack example (censored at the last step). The masks and traffic arrays feed the evaluation
(TypeScript), not the model, so they are not read here.

Which examples fine-tuning sees (the task netflow_detect):

- `select`: examples of the chosen attack types (`--attack-types`; a non-attack example carries the type of
  the alert it was drawn for, so pairs stay together). Unseen-node examples (attackType -1, alert -1) are
  evaluation-only (paper §7.1, Table 8) and never trained on; python/score_detect.py scores them.
- `holdout_split`: a seeded share of the selected examples, drawn as whole pairs (the two examples of an
  alert), set aside to monitor training (fairseq's validation, --patience, checkpoint_best.pt).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import torch

from .dataset import SPLITS, BinnedData, DatasetError, ShuffledFixedSizeDataset, collate_windows, load_manifest

COLUMNS = ("row", "start", "label", "onsetStep", "attackType", "alert")
ROW, START, LABEL, ONSET, TYPE, ALERT = range(len(COLUMNS))
MANIFEST_KIND = "netflowgen.earlydetect"
MANIFEST_SCHEMA = "earlydetect.schema.json"


class EarlyDetectData:
    """An EarlyDetect folder: its manifest, the binned dataset it points to, and the examples of each split."""

    def __init__(self, folder: str):
        self.folder = folder
        path = os.path.join(folder, "manifest.json")
        self.manifest_path = path
        # Types, ranges, required fields and the column order are the schema's; the rest is checked here.
        m = load_manifest(folder, MANIFEST_KIND, "netflowgen detect-dataset", MANIFEST_SCHEMA)
        self.manifest = m
        self.window: int = m["windowLength"]
        self.detect_length: int = m["detectLength"]
        if self.detect_length > self.window:
            raise DatasetError(f"{path}: detectLength {self.detect_length} exceeds windowLength {self.window}")
        self.attack_types: list[str] = list(m["attackTypes"])
        self._splits = m["splits"]
        dataset = m["dataset"]
        # The manifest holds an absolute path; a relative one is read relative to the EarlyDetect folder.
        self.dataset_folder = dataset if os.path.isabs(dataset) else os.path.join(folder, dataset)
        try:
            self.binned = BinnedData(self.dataset_folder)
        except DatasetError as e:
            raise DatasetError(f"{path}: field 'dataset' = {dataset!r}: {e}") from None
        self._cache: dict[str, np.ndarray] = {}

    def examples_path(self, split: str) -> str:
        return os.path.join(self.folder, self._split_entry(split)["examples"])

    def _split_entry(self, split: str) -> dict:
        if split not in SPLITS:
            raise DatasetError(f"unknown split {split!r}: an EarlyDetect folder has {', '.join(SPLITS)}")
        return self._splits[split]

    def examples(self, split: str) -> np.ndarray:
        """All examples of a split in file order: int32 [n, 6], checked against the manifest and the dataset."""
        if split in self._cache:
            return self._cache[split]
        entry = self._split_entry(split)
        path = os.path.join(self.folder, entry["examples"])
        n = entry["count"]
        try:
            size = os.path.getsize(path)
        except OSError:
            raise DatasetError(f"{path}: missing") from None
        if size != n * len(COLUMNS) * 4:
            raise DatasetError(
                f"{path}: {size} bytes, the manifest's count {n} implies {n * len(COLUMNS) * 4} ([{n}, 6] int32)"
            )
        ex = np.fromfile(path, dtype="<i4").reshape(n, len(COLUMNS)).astype(np.int32)
        check_examples(
            ex, self.binned.rows, self.binned.minutes, self.window, self.detect_length, len(self.attack_types), path
        )
        self._cache[split] = ex
        return ex

    def type_indices(self, names: str | None) -> list[int] | None:
        """Indices into attackTypes of a comma- (or space-) separated list of names; None = all types."""
        wanted = [x for x in (names or "").replace(",", " ").split() if x]
        if not wanted:
            return None
        unknown = [x for x in wanted if x not in self.attack_types]
        if unknown:
            raise DatasetError(
                f"--attack-types: {', '.join(unknown)} not in {self.manifest_path}'s attackTypes "
                f"({', '.join(self.attack_types)})"
            )
        return sorted({self.attack_types.index(x) for x in wanted})


def check_examples(
    ex: np.ndarray, rows: int, minutes: int, window: int, detect: int, n_types: int, source: str
) -> None:
    """Raise a DatasetError naming the first bad example (0-based line of the file) and its field."""
    checks = [
        ("row", (ex[:, ROW] < 0) | (ex[:, ROW] >= rows), f"not a row of the binned dataset (0..{rows - 1})"),
        (
            "start",
            (ex[:, START] < 0) | (ex[:, START].astype(np.int64) + window > minutes),
            f"the example's {window} minutes do not fit in the dataset's {minutes}",
        ),
        ("label", (ex[:, LABEL] != 0) & (ex[:, LABEL] != 1), "must be 0 or 1"),
        (
            "onsetStep",
            (ex[:, LABEL] == 1) & ((ex[:, ONSET] < 0) | (ex[:, ONSET] >= detect)),
            f"an attack example's onset must be a step 0..{detect - 1}",
        ),
        ("onsetStep", (ex[:, LABEL] == 0) & (ex[:, ONSET] != -1), "must be -1 for a non-attack example"),
        (
            "attackType",
            (ex[:, TYPE] < -1) | (ex[:, TYPE] >= n_types),
            f"must be -1 or an index into attackTypes (0..{n_types - 1})",
        ),
        ("attackType", (ex[:, LABEL] == 1) & (ex[:, TYPE] < 0), "an attack example needs a type"),
    ]
    for name, bad, why in checks:
        i = np.nonzero(bad)[0]
        if i.size:
            k = int(i[0])
            raise DatasetError(f"{source}: example {k}, field '{name}' = {int(ex[k, COLUMNS.index(name)])}: {why}")


def select(examples: np.ndarray, types: Sequence[int] | None) -> np.ndarray:
    """Indices (file order) of the trainable examples of the given attack types (None = all types).

    Unseen-node examples (attackType -1) are never selected: they are for evaluation only."""
    keep = examples[:, TYPE] >= 0
    if types is not None:
        keep &= np.isin(examples[:, TYPE], np.asarray(list(types), dtype=np.int32))
    return np.nonzero(keep)[0].astype(np.int64)


def holdout_split(examples: np.ndarray, indices: np.ndarray, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(kept, held out): round(share x groups) groups of `indices`, drawn with RandomState(seed), held out.

    A group is the examples that share an `alert` (an attack example and its non-attack partner), so the
    monitoring set is as balanced as the data and no alert's node-time sits on both sides. An example with
    alert -1 is its own group. With share > 0 and at least 2 groups, at least one group is held out and at
    least one kept. Both outputs are sorted (file order)."""
    if not 0 <= share < 1:
        raise DatasetError(f"--holdout-share must be in [0, 1), got {share}")
    alerts = examples[indices, ALERT].astype(np.int64)
    keys = np.where(alerts >= 0, alerts, -1 - indices)  # alert -1: a group of its own, keyed by its index
    groups = np.unique(keys)
    k = int(round(share * len(groups)))
    if share > 0 and len(groups) >= 2:
        k = min(max(k, 1), len(groups) - 1)
    chosen = np.random.RandomState(seed).permutation(len(groups))[:k]
    held = np.isin(keys, groups[chosen])
    return np.sort(indices[~held]), np.sort(indices[held])


def targets(examples: np.ndarray, detect: int) -> tuple[np.ndarray, np.ndarray]:
    """SAFE's (C, T) of each example: C = label; T = onsetStep for attacks, D - 1 (censored) otherwise."""
    label = examples[:, LABEL].astype(np.int64)
    onset = np.where(label == 1, examples[:, ONSET], detect - 1).astype(np.int64)
    return label, onset


def collate_examples(data: EarlyDetectData, examples: np.ndarray, features: np.ndarray, ids: torch.Tensor) -> dict:
    """A fairseq sample of whole examples: the W minutes of input and SAFE's targets.

    net_input: bins [n, W, F'], time [n, W, 3], node [n], customer [n]; target: label [n], onset [n] (T_i).
    ntokens counts detection steps (n x D), so fairseq's `wps` is scored steps per second."""
    inputs = collate_windows(data.binned, examples[:, :2], data.window, features)
    label, onset = targets(examples, data.detect_length)
    n = len(examples)
    return {
        "id": ids,
        "nsentences": n,
        "ntokens": n * data.detect_length,
        "net_input": inputs,
        "target": {"label": torch.from_numpy(label), "onset": torch.from_numpy(onset)},
    }


class DetectDataset(ShuffledFixedSizeDataset):
    """Some examples of one split (indices into its file), as fairseq examples. A batch is whole examples.

    The training split is shuffled every epoch with a permutation fixed by (seed, epoch), as in pre-training,
    so a resumed run sees the same batches."""

    def __init__(
        self, data: EarlyDetectData, split: str, indices: np.ndarray, features: np.ndarray, shuffle: bool, seed: int = 1
    ):
        super().__init__(len(indices), data.window, shuffle, seed)
        self.data, self.split, self.features = data, split, features
        self.indices = np.asarray(indices, dtype=np.int64)
        self.examples = data.examples(split)[self.indices]

    def __len__(self) -> int:
        return len(self.indices)

    def collater(self, samples: list[int]) -> dict:
        if not samples:
            return {}
        idx = np.asarray(samples, dtype=np.int64)
        return collate_examples(self.data, self.examples[idx], self.features, torch.from_numpy(idx))
