"""Small EarlyDetect folders for the fine-tuning tests, in the layout of `netflowgen detect-dataset`.

The contract is docs/earlydetect.md and schemas/earlydetect.schema.json; test/finetune-python.test.ts
validates a manifest written here with the TypeScript schema validator.

    .venv/bin/python python/tests/detect_fixtures.py OUT [--rows 6] [--minutes 3000] [--features 4]
        [--window 32] [--detect 8] [--bins 10] [--seed 0]     writes OUT/dataset (binned) and OUT/ed

The learnable pattern. Every feature follows the shift pattern below the top bin: bin(t+1) = (bin(t) + 1)
mod (K - 1), from a random start per row and feature, so no normal minute is ever in the top bin K - 1.
Each split of each row is cut into consecutive slots of W minutes; every two slots make an alert's
pair: one attack example and one non-attack example (which slot is which is random). In the attack
slot feature 0 jumps to the top bin from the onset to the slot's end; the onset is a random step of the
detection window (the last D minutes). Attack types cycle DNS, NTP, UDP over the pairs; masks mark the
minutes from the onset on; traffic is 1000 bytes a minute, 100 times more under attack. The valid and
test splits also get `unseen` unseen-node examples (attackType and alert -1), copies of non-attack
slots: unlike real ones they sit on seen rows, which the reader does not care about.
"""

from __future__ import annotations

import argparse
import json
import os

import fixtures
import numpy as np

ATTACK_TYPES = ["DNS", "NTP", "UDP", "SYN", "other"]
SPLITS = ("train", "valid", "test")


def make_detect_fixture(
    out: str,
    rows: int = 6,
    minutes: int = 3000,
    n_features: int = 4,
    window: int = 32,
    detect: int = 8,
    n_bins: int = 10,
    seed: int = 0,
    unseen: int = 2,
    fractions=(0.6, 0.2, 0.2),
) -> dict[str, str]:
    """Write OUT/dataset (binned, windows of `window` minutes) and OUT/ed (EarlyDetect); return both paths."""
    rng = np.random.default_rng(seed)
    K = n_bins
    features = fixtures.pick_features(n_features)
    start = rng.integers(0, K - 1, size=(rows, 1, len(features)))
    bins = ((start + np.arange(minutes)[None, :, None]) % (K - 1)).astype(np.uint8)
    ranges = fixtures.split_ranges(minutes, fractions)
    examples: dict[str, list[list[int]]] = {s: [] for s in SPLITS}
    masks: dict[str, list[np.ndarray]] = {s: [] for s in SPLITS}
    traffic: dict[str, list[np.ndarray]] = {s: [] for s in SPLITS}
    alerts = []
    for split in SPLITS:
        a, b = ranges[split]
        slots = list(range(a, b - window + 1, window))
        for k in range(0, len(slots) - 1, 2):
            for row in range(rows):
                attack_slot, normal_slot = (slots[k], slots[k + 1]) if rng.random() < 0.5 else (slots[k + 1], slots[k])
                onset_step = int(rng.integers(0, detect))
                first = attack_slot + window - detect  # first minute of the detection window
                onset = first + onset_step
                end = attack_slot + window - 1
                bins[row, onset : end + 1, 0] = K - 1
                index = len(alerts)
                kind = index % 3  # DNS, NTP, UDP
                alerts.append(
                    {
                        "index": index, "alert_id": f"A{index + 1:05d}", "victim": f"10.0.0.{row + 1}", "row": row,
                        "split": split, "attack_type": ATTACK_TYPES[kind], "start": onset, "end": end, "onset": onset,
                        "onsetSource": "truth", "cusumOnset": onset, "truthOnset": onset, "attackStart": attack_slot,
                        "normalStart": normal_slot,
                    }
                )  # fmt: skip
                mask = np.zeros(detect, np.uint8)
                mask[onset_step:] = 1
                examples[split].append([row, attack_slot, 1, onset_step, kind, index])
                masks[split].append(mask)
                traffic[split].append(np.where(mask == 1, 100000.0, 1000.0).astype(np.float32))
                examples[split].append([row, normal_slot, 0, -1, kind, index])
                masks[split].append(np.zeros(detect, np.uint8))
                traffic[split].append(np.full(detect, 1000.0, np.float32))
        if split != "train":
            normals = [e for e in examples[split] if e[2] == 0]
            for e in normals[:unseen]:
                examples[split].append([e[0], e[1], 0, -1, -1, -1])
                masks[split].append(np.zeros(detect, np.uint8))
                traffic[split].append(np.full(detect, 1000.0, np.float32))

    dataset = os.path.join(out, "dataset")
    fixtures.write_dataset(dataset, bins, features, K, window, fractions)
    ed = os.path.join(out, "ed")
    os.makedirs(ed, exist_ok=True)
    split_files = {}
    table2 = {}
    for s in SPLITS:
        ex = np.array(examples[s], dtype="<i4").reshape(-1, 6)
        ex.tofile(os.path.join(ed, f"{s}.examples.i32"))
        np.array(masks[s], dtype=np.uint8).reshape(-1, detect).tofile(os.path.join(ed, f"{s}.mask.u8"))
        np.array(traffic[s], dtype="<f4").reshape(-1, detect).tofile(os.path.join(ed, f"{s}.traffic.f32"))
        split_files[s] = {
            "count": int(len(ex)),
            "examples": f"{s}.examples.i32",
            "mask": f"{s}.mask.u8",
            "traffic": f"{s}.traffic.f32",
        }
        attacks = ex[ex[:, 2] == 1]
        table2[s] = {
            "nodes": int(len(np.unique(ex[:, 0]))), "examples": int(len(ex)), "attacks": int(len(attacks)),
            "byType": {t: int((attacks[:, 4] == i).sum()) for i, t in enumerate(ATTACK_TYPES)},
            "unseenExamples": int((ex[:, 4] == -1).sum()),
        }  # fmt: skip
    manifest = {
        "kind": "netflowgen.earlydetect",
        "schemaVersion": 1,
        "createdBy": "python/tests/detect_fixtures.py",
        "dataset": os.path.abspath(dataset),
        "store": os.path.abspath(dataset),
        "alertsFile": os.path.abspath(os.path.join(out, "alerts.jsonl")),
        "groundTruthFile": None,
        "windowLength": window,
        "detectLength": detect,
        "columns": ["row", "start", "label", "onsetStep", "attackType", "alert"],
        "attackTypes": ATTACK_TYPES,
        "selectedAttackTypes": ATTACK_TYPES,
        "matchFeatures": {
            "DNS": "in.udp.byt",
            "NTP": "in.udp.byt",
            "UDP": "in.udp.byt",
            "SYN": "in.tcp.byt",
            "other": "in.byt",
        },
        "cusum": {"k": 0.5, "h": 5, "minSigma": 1, "baseline": 240, "lookback": detect - 1},
        "ratio": 0.95,
        "margin": 0,
        "placement": "random",
        "onsetSource": "truth",
        "seed": seed,
        "splits": split_files,
        "alerts": alerts,
        "alertsRead": len(alerts),
        "dropped": {},
        "table2": table2,
        "onsetError": None,
    }
    with open(os.path.join(ed, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return {"dataset": dataset, "ed": ed}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--rows", type=int, default=6)
    p.add_argument("--minutes", type=int, default=3000)
    p.add_argument("--features", type=int, default=4)
    p.add_argument("--window", type=int, default=32)
    p.add_argument("--detect", type=int, default=8)
    p.add_argument("--bins", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    paths = make_detect_fixture(a.out, a.rows, a.minutes, a.features, a.window, a.detect, a.bins, a.seed)
    counts = {}
    for s in SPLITS:
        with open(os.path.join(paths["ed"], "manifest.json")) as f:
            counts[s] = json.load(f)["splits"][s]["count"]
    print(json.dumps({**paths, "examples": counts}))


if __name__ == "__main__":
    main()
