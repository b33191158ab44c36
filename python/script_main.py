"""The shared entry point of the scripts the TypeScript side starts (score.py, score_detect.py, generate.py).

A script's progress and result lines on stdout go through emit() (event_line()): each is checked against the script's
definition in schemas/python-events.schema.json, which ts/bridge/events.ts checks again when it reads them.
A script's data errors (DatasetError is a ValueError, a missing file a FileNotFoundError) end it with one line
`<script>: <message>` on stderr and exit status 1, no traceback: the message names the file. OMP_NUM_THREADS
defaults to 1 when the caller set none, before torch is imported.
"""

import json
import math
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


def _finite(value: Any) -> Any:
    """`value` with every non-finite float as None (JSON has no NaN or Infinity; the schema says null)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def event_line(script: str, record: dict) -> str:
    """One event line of `script` (score, score_detect, generate, forkserver): `record` with non-finite numbers
    as null, as JSON, after checking it against the script's definition in schemas/python-events.schema.json.
    A line that breaks the contract is a bug of the script, not of its data: RuntimeError, with the field.
    A script checks its done line this way before it renames its output into place, so that an output that
    looks complete never ends in a contract error."""
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    from fairseq_plugins.contracts import event_problems

    line = _finite(record)
    problems = event_problems(script, line)
    if problems:
        raise RuntimeError(
            f"{script}.py: the line {json.dumps(line)} does not match schemas/python-events.schema.json "
            f"(definitions/{script}): {'; '.join(problems)}"
        )
    return json.dumps(line, allow_nan=False)


def emit(script: str, record: dict) -> None:
    """Writes one checked event line (event_line) on stdout."""
    print(event_line(script, record), flush=True)


def complete(marker: str, result: dict, done: str) -> None:
    """Writes `result` as JSON to `marker` atomically (a temporary name, then a rename): the file whose presence
    marks the output folder complete. Then prints `done`, the script's done line, checked by event_line before."""
    tmp = marker + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=1)
    os.replace(tmp, marker)
    print(done, flush=True)
