"""Small binned datasets for the tests, written in the layout of `netflowgen bin`.

The contract is schemas/binned-dataset.schema.json and ts/datasets/binned.ts; test/pretrain-python.test.ts
validates a dataset written here with the TypeScript validator and BinnedDataset.open. Windows follow
ts/splits/splits.ts: splits by floored cumulative fractions, non-overlapping windows from each split's
start, every row.

    .venv/bin/python python/tests/fixtures.py OUT [--pattern shift|mixed] [--features 86] [--rows 4]
        [--minutes 400] [--window 16] [--bins 10] [--seed 0]          writes a dataset folder OUT

Patterns, with K bins and time features from the minute index:
    shift   every feature: bin(t+1) = (bin(t) + 1) mod K, from a random start per row and feature.
    mixed   feature 0 = a fixed random bin for each minute of the hour; feature 1 copies feature 0 one
            minute later; feature 2 = (feature 0 two minutes earlier + hour of day) mod K; the rest
            copy feature 1 plus a per-feature offset. Everything follows from the time features and
            the history of feature 0, so the model can reach a loss near 0, while a bigram of each
            feature's own previous bin stays near log K (and nothing random invites memorising).
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence

import numpy as np

DIRECTIONS = ("in", "out")
MEASURES = ("pkt", "byt", "flow")
PROTOCOLS = ("icmp", "tcp", "udp", "other")
PORTS = ("port0", "port53", "port80", "port123", "port443", "portwk", "portreg", "portpriv")
FLAGS = (0, 16, 24, 2, 17, 18, 4, 25)
SPLITS = ("train", "valid", "test")
START_MINUTE = 27_000_000  # 2021-05-03T00:00Z (a Monday), minutes since the epoch


def training_batches(data, updates: int, batch_size: int):
    """The batches of a plain training loop like fairseq's: epoch after epoch (set_epoch, then the dataset's
    ordered_indices cut into batch_size pieces), `updates` batches in all."""
    update, epoch = 0, 0
    while update < updates:
        epoch += 1
        data.set_epoch(epoch)
        order = data.ordered_indices()
        for a in range(0, len(order), batch_size):
            yield data.collater(order[a : a + batch_size].tolist())
            update += 1
            if update == updates:
                return


def catalogue() -> list[tuple]:
    """(name, group) of the 86 features, in the order of ts/catalogue/features.ts."""
    out = [(f"{d}.{m}", "volume") for d in DIRECTIONS for m in MEASURES]
    out += [(f"{d}.{c}.{m}", "protocol") for d in DIRECTIONS for c in PROTOCOLS for m in MEASURES]
    out += [(f"{d}.{c}.{m}", "port") for d in DIRECTIONS for c in PORTS for m in MEASURES]
    out += [(f"out.flag{v}.flow", "flag") for v in FLAGS]
    return out


def pick_features(n: int) -> list[tuple]:
    """n catalogue features spread over the groups: the first n of volume, protocol, port, flag taken in turn."""
    cat = catalogue()
    if n >= len(cat):
        return cat
    by_group = {g: [f for f in cat if f[1] == g] for g in ("volume", "protocol", "port", "flag")}
    chosen: list[tuple] = []
    while len(chosen) < n:
        for g in by_group:
            if by_group[g] and len(chosen) < n:
                chosen.append(by_group[g].pop(0))
    index = {f: i for i, f in enumerate(cat)}
    return sorted(chosen, key=lambda f: index[f])


def time_table(start_minute: int, minutes: int) -> np.ndarray:
    """[minutes, 3] uint8: minute of hour, hour of day, day of week (Monday = 0), as ts/splits/splits.ts."""
    m = start_minute + np.arange(minutes, dtype=np.int64)
    return np.stack([m % 60, (m // 60) % 24, (m // 1440 + 3) % 7], axis=1).astype(np.uint8)


def split_ranges(minutes: int, fractions: Sequence[float]) -> dict:
    a = int(np.floor(fractions[0] * minutes + 1e-9))
    b = min(minutes, int(np.floor((fractions[0] + fractions[1]) * minutes + 1e-9)))
    return {"train": (0, a), "valid": (a, b), "test": (b, minutes)}


def pattern_bins(
    pattern: str, rows: int, minutes: int, n_features: int, n_bins: int, seed: int, start_minute: int = START_MINUTE
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    K = n_bins
    if pattern == "shift":
        start = rng.integers(0, K, size=(rows, 1, n_features))
        return ((start + np.arange(minutes)[None, :, None]) % K).astype(np.uint8)
    if pattern == "mixed":
        time = time_table(start_minute, minutes).astype(np.int64)
        hour = time[:, 1]
        out = np.zeros((rows, minutes, n_features), dtype=np.int64)
        table = rng.integers(0, K, size=60)  # a random bin for every minute of the hour
        f0 = np.broadcast_to(table[time[:, 0]], (rows, minutes))
        out[:, :, 0] = f0
        if n_features > 1:
            out[:, 1:, 1] = f0[:, :-1]
        if n_features > 2:
            out[:, 2:, 2] = (f0[:, :-2] + hour[None, 2:]) % K
        for f in range(3, n_features):
            out[:, :, f] = (out[:, :, 1] + f) % K
        return out.astype(np.uint8)
    raise ValueError(f"unknown pattern {pattern!r}")


def write_dataset(
    folder: str,
    bins: np.ndarray,
    features: Sequence[tuple],
    n_bins: int,
    window: int,
    fractions: Sequence[float] = (0.6, 0.2, 0.2),
    customers: Sequence[int] | None = None,
    start_minute: int = START_MINUTE,
) -> dict:
    """Write a binned dataset folder from bins [rows, minutes, features]; returns the manifest."""
    rows, minutes, F = bins.shape
    assert F == len(features)
    os.makedirs(folder, exist_ok=True)
    customers = list(customers) if customers is not None else [r % 2 for r in range(rows)]
    n_customers = max(customers) + 1
    np.ascontiguousarray(bins, dtype=np.uint8).tofile(os.path.join(folder, "bins.u8"))
    cut = np.tile(np.arange(1, n_bins, dtype=np.float64), (rows, F, 1))
    cut.tofile(os.path.join(folder, "cutoffs.f64"))
    time_table(start_minute, minutes).tofile(os.path.join(folder, "time.u8"))
    ranges = split_ranges(minutes, fractions)
    windows = {}
    for s in SPLITS:
        a, b = ranges[s]
        starts = list(range(a, b - window + 1, window)) if b - a >= window else []
        pairs = np.array([(r, t) for r in range(rows) for t in starts], dtype="<i4").reshape(-1, 2)
        pairs.tofile(os.path.join(folder, f"windows.{s}.i32"))
        windows[s] = {"file": f"windows.{s}.i32", "count": int(len(pairs))}
    with open(os.path.join(folder, "unseen.json"), "w") as f:
        json.dump(
            {
                "summaryColumns": ["min", "p25", "p50", "p75", "max"],
                "summaries": [[0.0] * 5] * rows,
                "featureMean": [0.0] * F,
                "featureStd": [1.0] * F,
                "mapping": [],
                "table7": [],
            },
            f,
        )

    def iso(m: int) -> str:
        return np.datetime_as_string(np.datetime64(int(m), "m"), unit="s") + "Z"

    per_node = {s: (ranges[s][1] - ranges[s][0]) // window for s in SPLITS}

    def column():
        return {"customers": n_customers, "nodes": rows, "windows": {s: rows * per_node[s] for s in SPLITS}}

    manifest = {
        "kind": "netflowgen.binned-dataset",
        "schemaVersion": 1,
        "createdBy": "python/tests/fixtures.py",
        "source": {"store": os.path.abspath(folder), "nodes": rows, "features": F},
        "startMinute": start_minute,
        "firstMinute": iso(start_minute),
        "minutes": minutes,
        "features": [n for n, _ in features],
        "featureIndices": [i for i, f in enumerate(catalogue()) if f in set(features)],
        "featureGroups": [g for _, g in features],
        "nBins": n_bins,
        "files": {"bins": "bins.u8", "cutoffs": "cutoffs.f64", "time": "time.u8", "unseen": "unseen.json"},
        "shapes": {"bins": [rows, minutes, F], "cutoffs": [rows, F, n_bins - 1], "time": [minutes, 3]},
        "timeFeatures": {
            "names": ["minuteOfHour", "hourOfDay", "dayOfWeek"],
            "sizes": [60, 24, 7],
            "rule": "as ts/splits/splits.ts",
        },
        "splitRule": {"kind": "fractions", "fractions": list(fractions)},
        "splits": {
            s: {
                "start": ranges[s][0],
                "end": ranges[s][1],
                "from": iso(start_minute + ranges[s][0]),
                "to": iso(start_minute + ranges[s][1]),
            }
            for s in SPLITS
        },
        "windowLength": window,
        "windows": windows,
        "nodeIds": rows,
        "customers": [f"cust{c}" for c in range(n_customers)],
        "nodes": [
            {
                "row": r,
                "address": f"10.0.0.{r + 1}",
                "customer": f"cust{customers[r]}",
                "storeIndex": r,
                "nodeId": r,
                "customerId": customers[r],
                "seen": True,
            }
            for r in range(rows)
        ],
        "filters": {"minActive": 0, "excludeCustomers": [], "dropped": {}},
        "table1": {
            "windowLength": window,
            "minutes": {s: ranges[s][1] - ranges[s][0] for s in SPLITS},
            "windowsPerNode": per_node,
            "raw": column(),
            "filtered": column(),
        },
        "unseen": {"included": False, "rows": 0},
    }
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return manifest


def make_dataset(
    folder: str,
    pattern: str = "shift",
    n_features: int = 4,
    rows: int = 4,
    minutes: int = 400,
    window: int = 16,
    n_bins: int = 10,
    seed: int = 0,
    fractions=(0.6, 0.2, 0.2),
) -> dict:
    features = pick_features(n_features)
    bins = pattern_bins(pattern, rows, minutes, len(features), n_bins, seed)
    return write_dataset(folder, bins, features, n_bins, window, fractions)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--pattern", default="shift", choices=["shift", "mixed"])
    p.add_argument("--features", type=int, default=86)
    p.add_argument("--rows", type=int, default=4)
    p.add_argument("--minutes", type=int, default=400)
    p.add_argument("--window", type=int, default=16)
    p.add_argument("--bins", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    m = make_dataset(a.out, a.pattern, a.features, a.rows, a.minutes, a.window, a.bins, a.seed)
    print(json.dumps({"out": a.out, "windows": {s: m["windows"][s]["count"] for s in SPLITS}}))


if __name__ == "__main__":
    main()
