"""Shared set-up of the Python tests (run: .venv/bin/python -m pytest -q python/tests).

One thread per test process (the suite must stay fast on 2 shared cores), the plugin registered with
fairseq as --user-dir registers it, and small datasets written by fixtures.py.
"""

import os
import sys
from argparse import Namespace

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PYTHON_DIR = os.path.join(ROOT, "python")
for p in (HERE, PYTHON_DIR):
    if p not in sys.path:
        sys.path.insert(0, p)

import torch  # noqa: E402 (after OMP_NUM_THREADS is set: torch reads it when imported)

torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

from fairseq import utils  # noqa: E402 (after torch's thread count is set)

utils.import_user_module(Namespace(user_dir=os.path.join(ROOT, "fairseq_plugins")))

import fixtures  # noqa: E402 (found through the sys.path entries set above)


@pytest.fixture(scope="session")
def shift_dataset(tmp_path_factory):
    """4 features (one per group), 10 bins, windows of 16 minutes: bin(t+1) = bin(t) + 1 mod 10."""
    folder = str(tmp_path_factory.mktemp("shift"))
    fixtures.make_dataset(folder, "shift", n_features=4, rows=4, minutes=400, window=16, n_bins=10)
    return folder


@pytest.fixture(scope="session")
def full_dataset(tmp_path_factory):
    """All 86 catalogue features, 10 bins, windows of 16 minutes."""
    folder = str(tmp_path_factory.mktemp("full"))
    fixtures.make_dataset(folder, "shift", n_features=86, rows=3, minutes=200, window=16, n_bins=10, seed=3)
    return folder
