"""The data contracts this plugin shares with the TypeScript side, read from the package's schemas/ folder.

The plugin ships beside schemas/ (package.json's "files" holds both), so the folder is found relative to
this file and nothing outside the package is needed:

    architectures.json   named model sizes {layers, heads, width, ffn} (Table 10 and netflowgen_tiny);
                         ts/catalogue/architectures.ts reads the same file.
    feature-sets.json    named feature subsets besides `full` (light: the 6 volume features), feature names;
                         ts/catalogue/features.ts reads the same file.
    *.schema.json        the JSON Schemas of the files the stages exchange; `schema_problems` checks a document
                         against one of them with the jsonschema package, as ajv does on the TypeScript side;
                         `event_problems` checks a JSON line of a python/ script against
                         python-events.schema.json, as ts/bridge/events.ts does when it reads the line.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"

SIZE_KEYS = ("layers", "heads", "width", "ffn")


def read_json(name: str) -> Any:
    """A JSON file of schemas/ by name."""
    path = SCHEMAS / name
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{path}: missing; the plugin expects the package's schemas/ folder beside it"
        ) from None


def architectures() -> dict[str, tuple[int, int, int, int]]:
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
            raise ValueError(
                f"architectures.json: {name}: width {sizes['width']} is not divisible by heads {sizes['heads']}"
            )
        out[name] = values
    return out


def feature_sets() -> dict[str, tuple[str, ...]]:
    """name -> feature names, for the sets besides `full` (every feature); `light` is NetFlowGen_Light."""
    out = {}
    for name, entry in read_json("feature-sets.json").items():
        if name.startswith("$"):
            continue
        features = entry.get("features") if isinstance(entry, dict) else None
        if (
            name == "full"
            or not isinstance(features, list)
            or not features
            or not all(isinstance(f, str) for f in features)
        ):
            raise ValueError(f"feature-sets.json: {name}: expected {{\"features\": [feature names]}} (and no 'full')")
        out[name] = tuple(features)
    return out


@cache
def _validator(schema: str, pointer: str = ""):
    """A draft-07 validator of schemas/SCHEMA, or of the part of it at the JSON pointer `pointer`
    ("/definitions/score"); references to the other schema files resolve through their $id."""
    from jsonschema import Draft7Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    resources = []
    for file in sorted(SCHEMAS.glob("*.schema.json")):
        doc = read_json(file.name)
        resources.append((doc.get("$id", file.name), Resource.from_contents(doc, default_specification=DRAFT7)))
    root = read_json(schema)
    document = {"$ref": f"{root.get('$id', schema)}#{pointer}"} if pointer else root
    return Draft7Validator(document, registry=Registry().with_resources(resources))


def _where(path) -> str:
    """A JSON path as a field name: nodes[1].nodeId."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _describe(e) -> str:
    missing = re.fullmatch(r"'(.*)' is a required property", e.message) if e.validator == "required" else None
    if missing:
        return f"field '{_where([*e.absolute_path, missing.group(1)])}' is missing"
    if e.absolute_path:
        return f"field '{_where(e.absolute_path)}': {e.message}"
    return e.message


def schema_problems(document: Any, schema: str, limit: int = 5, pointer: str = "") -> list[str]:
    """What is wrong with `document` against schemas/SCHEMA, or the part of it at `pointer` (jsonschema's best
    match first, then in document order), each naming the field: "field 'nodes[1].nodeId': -1 is less than the
    minimum of 0". Empty if valid."""
    from jsonschema.exceptions import best_match

    errors = list(_validator(schema, pointer).iter_errors(document))
    if not errors:
        return []
    best = best_match(errors)
    rest = sorted((e for e in errors if e is not best), key=lambda e: [str(p) for p in e.absolute_path])
    return [_describe(e) for e in [best, *rest][:limit]]


EVENTS_SCHEMA = "python-events.schema.json"


@cache
def _event_names(script: str) -> tuple[str, ...]:
    """The "event" values of a script's alternatives in python-events.schema.json, in their order (read once)."""
    definitions = read_json(EVENTS_SCHEMA)["definitions"]
    if script not in definitions or "oneOf" not in definitions[script]:
        raise ValueError(f"{EVENTS_SCHEMA}: no definition of the events of {script}.py")
    return tuple(a["properties"]["event"]["const"] for a in definitions[script]["oneOf"])


def event_problems(script: str, record: Any) -> list[str]:
    """What is wrong with one JSON line that python/SCRIPT.py writes on stdout (script: score, score_detect,
    generate, forkserver), against its definition in python-events.schema.json: the alternative its "event" names
    is the one checked, so a wrong field is named ("field 'windows': -1 is less than the minimum of 0"), not "not
    valid under any of the given schemas". Empty if valid. ts/bridge/events.ts does the same on the reading side.
    The schema file is read and each validator built once per process, not per line."""
    names = _event_names(script)
    event = record.get("event") if isinstance(record, dict) else None
    if event not in names:
        return [f"field 'event': {json.dumps(event)} is not one of {', '.join(names)}"]
    return schema_problems(record, EVENTS_SCHEMA, pointer=f"/definitions/{script}/oneOf/{names.index(event)}")
