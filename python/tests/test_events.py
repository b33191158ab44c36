"""The scripts' JSON lines against schemas/python-events.schema.json: script_main.emit writes only lines that
match their script's definition, names the wrong field of one that does not, and writes a non-finite number as
null (JSON has no Infinity). test/python-events.test.ts checks that ajv gives the same verdicts."""

import io
import json
from contextlib import redirect_stdout

import pytest
from script_main import emit, event_line

from fairseq_plugins.contracts import event_problems

PROGRESS = {"event": "progress", "split": "test", "examples_done": 3, "examples": 10, "seconds": 0.5}
DONE = {"event": "done", "out": "/x", "windows": 4, "steps": 7, "loss": 0.5, "ppl": 1.65, "acc": 0.9}


def test_valid_lines_have_no_problems():
    assert event_problems("score_detect", PROGRESS) == []
    assert event_problems("score", DONE) == []
    generate = {"event": "progress", "node_minutes_done": 0, "node_minutes": 5, "seconds": 0}
    assert event_problems("generate", generate) == []


def test_the_fork_servers_lines():
    assert event_problems("forkserver", {"event": "ready", "pid": 12, "seconds": 3.5}) == []
    assert event_problems("forkserver", {"event": "bad-request", "error": "short read"}) == []
    assert event_problems("forkserver", {"event": "ready", "pid": 0, "seconds": 3.5}) == [
        "field 'pid': 0 is less than the minimum of 1"
    ]


def test_event_line_checks_without_writing():
    buf = io.StringIO()
    with redirect_stdout(buf):
        line = event_line("score", DONE)
        with pytest.raises(RuntimeError, match="field 'steps' is missing"):
            event_line("score", {k: v for k, v in DONE.items() if k != "steps"})
    assert json.loads(line) == DONE and buf.getvalue() == ""


def test_a_wrong_field_is_named():
    assert event_problems("score_detect", {**PROGRESS, "examples_done": -1}) == [
        "field 'examples_done': -1 is less than the minimum of 0"
    ]
    assert event_problems("score_detect", {k: v for k, v in PROGRESS.items() if k != "split"}) == [
        "field 'split' is missing"
    ]
    (extra,) = event_problems("score", {**DONE, "acc_volume": 0.8})
    assert "acc_volume" in extra
    assert event_problems("score", {**DONE, "event": "finished"}) == [
        "field 'event': \"finished\" is not one of progress, done"
    ]
    # the progress line of another script is not this script's
    assert event_problems("score", PROGRESS) != []


def test_a_script_without_a_definition_is_refused():
    with pytest.raises(ValueError, match="no definition of the events of nosuch.py"):
        event_problems("nosuch", PROGRESS)


def test_emit_writes_one_json_line_with_null_for_a_non_finite_number():
    buf = io.StringIO()
    with redirect_stdout(buf):
        emit("score", {**DONE, "loss": 800.0, "ppl": float("inf")})
        emit("score_detect", PROGRESS)
    lines = buf.getvalue().splitlines()
    assert [json.loads(x) for x in lines] == [{**DONE, "loss": 800.0, "ppl": None}, PROGRESS]


def test_emit_refuses_a_line_that_breaks_the_contract_and_writes_nothing():
    buf = io.StringIO()
    with redirect_stdout(buf), pytest.raises(RuntimeError, match=r"score_detect.py: .*field 'examples' is missing"):
        emit("score_detect", {k: v for k, v in PROGRESS.items() if k != "examples"})
    assert buf.getvalue() == ""
