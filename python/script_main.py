"""The shared entry point of the scripts the TypeScript side starts (score.py, score_detect.py, generate.py).

A script's data errors (DatasetError is a ValueError, a missing file a FileNotFoundError) end it with one line
`<script>: <message>` on stderr and exit status 1, no traceback: the message names the file. OMP_NUM_THREADS
defaults to 1 when the caller set none, before torch is imported.
"""

import os
import sys
from collections.abc import Callable
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_plugin() -> None:
    """Register the plugin's tasks, models and criteria with fairseq, as --user-dir does."""
    from argparse import Namespace

    from fairseq import utils

    utils.import_user_module(Namespace(user_dir=os.path.join(ROOT, "fairseq_plugins")))


def default_threads() -> None:
    """OMP_NUM_THREADS=1 unless the caller set it (runPython always does)."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def run_script(name: str, body: Callable[[Any], object], parse_args: Callable[[Any], Any], argv=None) -> None:
    """Runs body(parse_args(argv)) with OMP_NUM_THREADS defaulting to 1; a ValueError or FileNotFoundError in
    body becomes `name: message` on stderr and exit status 1."""
    default_threads()
    args = parse_args(argv)
    try:
        body(args)
    except (ValueError, FileNotFoundError) as e:
        print(f"{name}: {e}", file=sys.stderr)
        sys.exit(1)
