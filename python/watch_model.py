"""The model side of `netflowgen watch` (docs/watch.md): a fine-tuned detection checkpoint held in one long-lived
Python process that pythonia (ts/bridge/bridge.ts) imports, loaded once, then called once per closed minute.

    load(checkpoint, data_dir, device, threads) -> {window, detect, features, featureColumns, nBins, nNodeIds,
                                                    nCustomers, arch, pid, device}
    score(in_path, out_path, n, batch_size)     -> {n, D, seconds}

The scoring is python/score_detect.py's: the same `load_model` (checkpoint checks, task set up on the run's
EarlyDetect folder `data_dir`, whose binned dataset gives the shapes) and the same `forward_scores` (hazards
lambda [n, D] of the last D minutes of each W-minute window, survival S_t = exp(-cumsum(lambda))), so a
window scored here and the same window scored by score_detect.py give the same numbers.

Exchange by files, never element by element (pythonia passes a typed array as a proxy read one element at a
time). The input file, written by ts/watch/model.ts, little-endian, no header:

    node      int32 [n]            node-embedding ids (a live node not in the dataset: the id it maps to)
    customer  int32 [n]            customer-embedding ids
    time      uint8 [W, 3]         minute of hour, hour of day, day of week (Monday 0) of the window's minutes,
                                   shared by every row (all windows end at the same minute)
    bins      uint8 [n, W, F]      bins of the window's minutes, F = the binned dataset's features (all of them;
                                   the checkpoint's feature set picks its columns here)

The output file: float32 [2, n, D], the hazards then the survival curves, row order as the input.
"""

import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for _p in (ROOT, os.path.join(ROOT, "python")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import score_detect  # noqa: E402 (found through the sys.path entries set just above)

_held = {}


def load(checkpoint, data_dir, device="cpu", threads=0):
    """Loads the checkpoint once (score_detect.load_model) and keeps it; returns the shapes the caller must send."""
    import torch

    if int(threads or 0) > 0:
        torch.set_num_threads(int(threads))
    if not os.path.isfile(checkpoint):
        raise FileNotFoundError(f"{checkpoint}: no such checkpoint (the fine-tuning run's final model)")
    score_detect.load_plugin()
    dev = torch.device("cuda" if device == "cuda" or (device == "auto" and torch.cuda.is_available()) else "cpu")
    try:
        model, task, arch = score_detect.load_model(checkpoint, data_dir, dev)
    except SystemExit as e:  # load_model refuses with SystemExit(message): an exception the bridge can carry
        raise ValueError(str(e)) from None
    binned = task.data.binned
    _held.update(model=model, task=task, device=dev, n_all=len(binned.features))
    return {
        "window": int(task.window),
        "detect": int(task.detect_length),
        "features": [str(binned.features[i]) for i in task.feature_columns],
        "featureColumns": [int(i) for i in task.feature_columns],
        "nBins": int(task.n_bins),
        "nNodeIds": int(task.n_node_ids),
        "nCustomers": int(task.n_customers),
        "arch": arch,
        "pid": os.getpid(),
        "device": str(dev),
    }


def read_input(in_path, n, window, n_features):
    """The arrays of an input file (module docstring), checked against its size."""
    import numpy as np

    raw = np.fromfile(in_path, dtype=np.uint8)
    expected = n * 8 + window * 3 + n * window * n_features
    if raw.size != expected:
        raise ValueError(
            f"{in_path}: {raw.size} bytes, expected {expected} for {n} nodes x {window} minutes x {n_features} features"
        )
    node = raw[: 4 * n].view("<i4")
    customer = raw[4 * n : 8 * n].view("<i4")
    time_ = raw[8 * n : 8 * n + 3 * window].reshape(window, 3)
    bins = raw[8 * n + 3 * window :].reshape(n, window, n_features)
    return node, customer, time_, bins


def score(in_path, out_path, n, batch_size=256):
    """Scores n windows of an input file; writes hazards and survival to out_path (float32 [2, n, D])."""
    import numpy as np
    import torch

    if "model" not in _held:
        raise RuntimeError("score() before load(): no model is loaded")
    model, task, device = _held["model"], _held["task"], _held["device"]
    n, W, D = int(n), task.window, task.detect_length
    started = time.time()
    node, customer, time_, bins = read_input(in_path, n, W, _held["n_all"])
    cols = np.asarray(task.feature_columns)
    top = int(bins.max(initial=0))
    if top >= task.n_bins:
        raise ValueError(f"{in_path}: bin {top} is not below nBins {task.n_bins}")
    out = np.empty((2, n, D), dtype="<f4")
    time_rows = torch.from_numpy(time_.astype(np.int64))
    with torch.inference_mode():
        for a in range(0, n, int(batch_size)):
            b = min(n, a + int(batch_size))
            sel = bins[a:b][:, :, cols] if len(cols) != bins.shape[2] else bins[a:b]
            net_input = {
                "bins": torch.from_numpy(sel.astype(np.int64)),
                "time": time_rows.unsqueeze(0).expand(b - a, W, 3).contiguous(),
                "node": torch.from_numpy(node[a:b].astype(np.int64)),
                "customer": torch.from_numpy(customer[a:b].astype(np.int64)),
            }
            lam, surv = score_detect.forward_scores(model, net_input, device)
            out[0, a:b] = lam.cpu().numpy()
            out[1, a:b] = surv.cpu().numpy()
    tmp = out_path + ".tmp"
    out.tofile(tmp)
    os.replace(tmp, out_path)
    return {"n": n, "D": D, "seconds": round(time.time() - started, 4)}


def pid():
    """This process's id (tests kill it to check that a crash surfaces)."""
    return os.getpid()
