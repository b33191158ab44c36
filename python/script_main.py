"""The shared entry point of the scripts the TypeScript side starts (score.py, score_detect.py, generate.py).

A script's data errors (DatasetError is a ValueError, a missing file a FileNotFoundError) end it with one line
`<script>: <message>` on stderr and exit status 1, no traceback: the message names the file. OMP_NUM_THREADS
defaults to 1 when the caller set none, before torch is imported.
"""

import os
import sys
from collections.abc import Callable


def default_threads() -> None:
    """OMP_NUM_THREADS=1 unless the caller set it (runPython always does)."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def run_script(name: str, body: Callable[[], object]) -> None:
    """Runs body(); a ValueError or FileNotFoundError becomes `name: message` on stderr and exit status 1."""
    try:
        body()
    except (ValueError, FileNotFoundError) as e:
        print(f"{name}: {e}", file=sys.stderr)
        sys.exit(1)
