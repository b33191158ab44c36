"""The data contracts this plugin shares with the TypeScript side, read from the package's schemas/ folder.

The plugin ships beside schemas/ (package.json's "files" holds both), so the folder is found relative to
this file and nothing outside the package is needed:

    architectures.json   named model sizes {layers, heads, width, ffn} (Table 10 and netflowgen_tiny);
                         ts/catalogue/architectures.ts reads the same file.
    feature-sets.json    named feature subsets besides `full` (light: the 6 volume features), feature names;
                         ts/catalogue/features.ts reads the same file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Tuple

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"

SIZE_KEYS = ("layers", "heads", "width", "ffn")


def read_json(name: str) -> Any:
    """A JSON file of schemas/ by name."""
    path = SCHEMAS / name
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: missing; the plugin expects the package's schemas/ folder beside it") from None


def architectures() -> Dict[str, Tuple[int, int, int, int]]:
    """name -> (layers, heads, width, ffn), in the file's order, checked as ts/catalogue/architectures.ts checks it."""
    out = {}
    for name, sizes in read_json("architectures.json").items():
        if name.startswith("$"):
            continue  # "$comment"
        if not isinstance(sizes, dict) or sorted(sizes) != sorted(SIZE_KEYS):
            raise ValueError(f"architectures.json: {name}: expected exactly the keys {', '.join(SIZE_KEYS)}")
        values = tuple(sizes[k] for k in SIZE_KEYS)
        if any(not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in values):
            raise ValueError(f"architectures.json: {name}: sizes must be positive integers, got {sizes}")
        if sizes["width"] % sizes["heads"]:
            raise ValueError(f"architectures.json: {name}: width {sizes['width']} is not divisible by heads {sizes['heads']}")
        out[name] = values
    return out


def feature_sets() -> Dict[str, Tuple[str, ...]]:
    """name -> feature names, for the sets besides `full` (every feature); `light` is NetFlowGen_Light."""
    out = {}
    for name, entry in read_json("feature-sets.json").items():
        if name.startswith("$"):
            continue
        features = entry.get("features") if isinstance(entry, dict) else None
        if name == "full" or not isinstance(features, list) or not features or not all(isinstance(f, str) for f in features):
            raise ValueError(f"feature-sets.json: {name}: expected {{\"features\": [feature names]}} (and no 'full')")
        out[name] = tuple(features)
    return out
