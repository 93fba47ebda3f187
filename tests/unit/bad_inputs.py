"""A corpus of malformed item datasets for ``load_items``.

Each case builds a source (a DataFrame, a list of dicts, or a file under ``tmp``) and says where the error
must point: ``where`` is the text naming the row ("row 2 (item 'b')"), the file line ("line 3") or the whole
dataset ("items"), and ``field`` is the field the message must name. test_items.py runs every case and also
checks that the input is left unchanged.
"""

from __future__ import annotations

import copy
import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class BadInput:
    name: str
    make: Callable[[Path], Any]
    where: str
    field: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    says: str = ""  # an extra phrase the message must contain (what went wrong / what to do)


def _pairs(n: int = 3) -> list[dict[str, Any]]:
    return [
        {"id": f"q{i}", "prompt": f"Question {i}?", "response1": f"Answer A{i}", "response2": f"Answer B{i}"}
        for i in range(n)
    ]


def _with(rows: list[dict[str, Any]], i: int, **changes: Any) -> list[dict[str, Any]]:
    rows[i].update(changes)
    return rows


def _row_case(
    name: str,
    i: int,
    field: str,
    value: Any,
    *,
    frame: bool = False,
    kwargs: dict[str, Any] | None = None,
    says: str = "",
) -> BadInput:
    """A case that sets ``field`` of row ``i`` of ``_pairs()`` to (a copy of) ``value``, in the records or
    in a DataFrame of them when ``frame``: the error must name that row, its item and ``field``."""

    def make(tmp: Path) -> Any:
        rows = _with(_pairs(), i, **{field: copy.deepcopy(value)})
        return pd.DataFrame(rows) if frame else rows

    return BadInput(name, make, f"row {i} (item 'q{i}')", field, kwargs=kwargs or {}, says=says)


def _kwargs_case(name: str, field: str, kwargs: dict[str, Any], says: str) -> BadInput:
    """A case that loads the good ``_pairs()`` with bad ``kwargs``: the error must name the whole dataset and
    ``field``."""
    return BadInput(name, lambda tmp: _pairs(), "items", field, kwargs=kwargs, says=says)


def _write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def _jsonl(tmp: Path, rows: list[dict[str, Any]], name: str = "items.jsonl") -> Path:
    return _write(tmp, name, "".join(json.dumps(r) + "\n" for r in rows))


def _gzip_truncated(tmp: Path, name: str, text: str) -> Path:
    """A .gz file cut short, as an interrupted download or copy leaves it."""
    data = gzip.compress(text.encode("utf-8"))
    path = tmp / name
    path.write_bytes(data[: len(data) // 2])
    return path


HH_A = "\n\nHuman: Is the sky blue?\n\nAssistant: Yes, on a clear day."
HH_B = "\n\nHuman: Is the grass green?\n\nAssistant: Usually."

CASES: list[BadInput] = [
    BadInput(
        "missing prompt column",
        lambda tmp: pd.DataFrame({"response1": ["a", "b"], "response2": ["c", "d"]}),
        "items",
        "prompt",
        says="prompt=",
    ),
    _row_case(
        "empty prompt (allow_empty=False)", 1, "prompt", "", kwargs={"allow_empty": False}, says="empty"
    ),
    _row_case(
        "whitespace-only prompt (allow_empty=False)",
        2,
        "prompt",
        " \n\t ",
        frame=True,
        kwargs={"allow_empty": False},
        says="blank",
    ),
    BadInput(
        "only one response in a list column",
        lambda tmp: [
            {"prompt": "p0", "responses": ["x", "y"]},
            {"prompt": "p1", "responses": ["x", "y"]},
            {"prompt": "p2", "responses": ["only"]},
        ],
        "row 2",
        "responses",
        says="at least 2",
    ),
    BadInput(
        "only one response column",
        lambda tmp: pd.DataFrame({"prompt": ["p"], "response1": ["a"]}),
        "items",
        "response1",
        says="at least 2",
    ),
    BadInput(
        "duplicate item ids in a named id column",
        lambda tmp: _with(_pairs(), 2, id="q0"),
        "row 2 (item 'q0')",
        "id",
        kwargs={"item_id": "id"},
        says="row 0",
    ),
    BadInput(
        "duplicate rows without ids (same derived id)",
        lambda tmp: pd.DataFrame({"prompt": ["p", "p"], "response1": ["a", "a"], "response2": ["b", "b"]}),
        "row 1",
        "item_id",
        says="drop_duplicates",
    ),
    BadInput(
        "duplicate response ids within an item",
        lambda tmp: [{"prompt": "p", "responses": [{"id": "x", "text": "one"}, {"id": "x", "text": "two"}]}],
        "row 0",
        "responses",
        says="'x' appears twice",
    ),
    _row_case("integer response text", 1, "response2", 42, says="int"),
    _row_case("dict response text", 0, "response1", {"text": "hi"}, frame=True, says="dict"),
    _row_case("NaN response text", 2, "response1", np.nan, frame=True, says="missing"),
    BadInput(
        "None inside a list column",
        lambda tmp: [{"prompt": "p", "responses": ["fine", None]}],
        "row 0",
        "responses[1]",
        says="missing",
    ),
    _row_case(
        "empty-string response text (allow_empty=False)",
        1,
        "response1",
        "",
        kwargs={"allow_empty": False},
        says="allow_empty=False",
    ),
    _row_case("bool response text", 0, "response2", True, says="coerce_text=True"),
    BadInput(
        "unrecognisable columns",
        lambda tmp: pd.DataFrame({"prompt": ["p"], "left": ["a"], "right": ["b"]}),
        "items",
        "responses",
        says="responses=[",
    ),
    _kwargs_case("unknown format", "format", {"format": "sharegpt"}, says="'wide'"),
    BadInput(
        "mixed shapes in a list column",
        lambda tmp: [{"prompt": "p", "responses": ["plain", {"text": "dict"}]}],
        "row 0",
        "responses[1]",
        says="mixes strings and dicts",
    ),
    BadInput(
        "list column holding a string",
        lambda tmp: [{"prompt": "p", "responses": ["a", "b"]}, {"prompt": "q", "responses": "a, b"}],
        "row 1",
        "responses",
        says="list of responses",
    ),
    _row_case("10 MB response text", 1, "response2", "x" * 10_000_000, says="1,000,000"),
    _row_case("lone surrogate in a response", 2, "response1", "broken \ud800 text", says="surrogate"),
    BadInput(
        "lone surrogate escaped in a JSONL file",
        lambda tmp: _write(
            tmp, "s.jsonl", '{"prompt": "p", "response1": "ok", "response2": "bad \\udc80"}\n'
        ),
        "row 0",
        "response2",
        says="surrogate",
    ),
    BadInput(
        "unsupported file extension",
        lambda tmp: _write(tmp, "items.txt", "prompt,response1,response2\n"),
        "items",
        "source",
        says=".jsonl",
    ),
    BadInput(
        "malformed JSONL line",
        lambda tmp: _write(
            tmp,
            "bad.jsonl",
            json.dumps(_pairs()[0])
            + "\n"
            + json.dumps(_pairs()[1])
            + "\n"
            + '{"prompt": "p", "response1": "a",\n',
        ),
        "line 3",
        "source",
        says="fix or delete that line",
    ),
    BadInput(
        "JSON file holding an object",
        lambda tmp: _write(tmp, "obj.json", json.dumps({"data": _pairs()})),
        "items",
        "source",
        says="array of objects",
    ),
    BadInput(
        "chat prompt with an unknown role",
        lambda tmp: [
            {
                "prompt": [{"role": "user", "content": "hi"}, {"role": "wizard", "content": "boo"}],
                "responses": ["a", "b"],
            }
        ],
        "row 0",
        "prompt[1].role",
        says="'assistant'",
    ),
    BadInput(
        "chat prompt with non-string content",
        lambda tmp: [
            {"prompt": [{"role": "user", "content": ["part 1", "part 2"]}], "responses": ["a", "b"]}
        ],
        "row 0",
        "prompt[0].content",
        says="must be a string",
    ),
    BadInput(
        "chat prompt message that is not a dict",
        lambda tmp: [{"prompt": ["hello"], "responses": ["a", "b"]}],
        "row 0",
        "prompt[0]",
        says="role",
    ),
    _kwargs_case(
        "format forced to trl without chosen/rejected", "chosen", {"format": "trl"}, says="format='trl'"
    ),
    _kwargs_case(
        "responses= naming a missing column",
        "response3",
        {"responses": ["response1", "response3"]},
        says="no such column",
    ),
    _kwargs_case(
        "prompt= naming a missing column", "question", {"prompt": "question"}, says="no such column"
    ),
    BadInput(
        "missing id in a named id column",
        lambda tmp: pd.DataFrame(_with(_pairs(), 1, id=None)),
        "row 1",
        "id",
        kwargs={"item_id": "id"},
        says="missing",
    ),
    BadInput(
        "record missing a response field",
        lambda tmp: [{"prompt": "p", "response1": "a", "response2": "b"}, {"prompt": "q", "response1": "a"}],
        "row 1",
        "response2",
        says="missing",
    ),
    BadInput(
        "gold naming an unknown response",
        lambda tmp: [{"id": "g1", "prompt": "p", "responses": ["a", "b"], "gold": [["r1"], ["r9"]]}],
        "row 0 (item 'g1')",
        "gold",
        says="r9",
    ),
    BadInput(
        "HH pair answering different prompts",
        lambda tmp: [{"chosen": HH_A, "rejected": HH_B}],
        "row 0",
        "rejected",
        says="same prompt",
    ),
    BadInput(
        "TRL plain strings without a prompt",
        lambda tmp: [{"chosen": "good answer", "rejected": "bad answer"}],
        "row 0",
        "chosen",
        says="prompt=",
    ),
    BadInput(
        "arena conversation with a broken message",
        lambda tmp: [
            {
                "model_a": "m1",
                "model_b": "m2",
                "conversation_a": [{"role": "user", "content": "q"}, "oops"],
                "conversation_b": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "b"}],
            }
        ],
        "row 0",
        "conversation_a[1]",
        says="role",
    ),
    BadInput(
        "non-string model name",
        lambda tmp: pd.DataFrame(
            {"prompt": ["p"], "response_a": ["a"], "response_b": ["b"], "model_a": [7], "model_b": ["m"]}
        ),
        "row 0",
        "model_a",
        says="model name",
    ),
    BadInput(
        "a record that is not a dict",
        lambda tmp: [{"prompt": "p", "response1": "a", "response2": "b"}, ["p", "a", "b"]],
        "row 1",
        "record",
        says="dict",
    ),
    BadInput(
        "no rows",
        lambda tmp: pd.DataFrame({"prompt": [], "response1": [], "response2": []}),
        "items",
        "source",
        says="no rows",
    ),
    BadInput(
        "lone surrogate in an already-normalised responses list",
        lambda tmp: [
            {
                "prompt": "p",
                "responses": [
                    {"response_id": "r1", "text": "fine", "model": None},
                    {"response_id": "r2", "text": "bad \udfff", "model": "m"},
                ],
            }
        ],
        "row 0",
        "responses[1].text",
        says="surrogate",
    ),
    BadInput(
        "blank response id in an already-normalised responses list",
        lambda tmp: [
            {
                "prompt": "p",
                "responses": [
                    {"response_id": "r1", "text": "a", "model": None},
                    {"response_id": " ", "text": "b", "model": None},
                ],
            }
        ],
        "row 0",
        "responses[1].response_id",
        says="empty",
    ),
    BadInput(
        "ultrafeedback completion without text",
        lambda tmp: [
            {"instruction": "i", "completions": [{"model": "m1", "response": "a"}, {"model": "m2"}]}
        ],
        "row 0",
        "completions[1]",
        says="'response'",
    ),
    # issue 13, finding 9: text that shows nothing is a blank prompt; a damaged .gz names the file
    _row_case(
        "prompt of zero-width characters only (allow_empty=False)",
        1,
        "prompt",
        "\u200b\u200c\u200d\u2060\ufeff",
        frame=True,
        kwargs={"allow_empty": False},
        says="prompt is blank (only spaces or invisible characters such as U+200B); fill it in or drop",
    ),
    _row_case(
        "prompt of zero-width characters and whitespace (allow_empty=False)",
        0,
        "prompt",
        " \u200b\n\ufeff\t",
        kwargs={"allow_empty": False},
        says="prompt is blank",
    ),
    BadInput(
        "alpaca instruction and input of zero-width characters (allow_empty=False)",
        lambda tmp: [{"instruction": "\u200b", "input": "\u2060", "response1": "a", "response2": "b"}],
        "row 0",
        "instruction",
        kwargs={"allow_empty": False},
        says="prompt is blank",
    ),
    BadInput(
        "chat prompt whose user message is zero-width characters (allow_empty=False)",
        lambda tmp: [
            {
                "prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "\u200b"}],
                "response1": "a",
                "response2": "b",
            }
        ],
        "row 0",
        "prompt",
        kwargs={"allow_empty": False},
        says="no user message with text",
    ),
    BadInput(
        "truncated .jsonl.gz",
        lambda tmp: _gzip_truncated(tmp, "items.jsonl.gz", "".join(json.dumps(r) + "\n" for r in _pairs(50))),
        "items",
        "source",
        says="items.jsonl.gz' is truncated or corrupt",
    ),
    BadInput(
        "truncated .csv.gz",
        lambda tmp: _gzip_truncated(tmp, "items.csv.gz", pd.DataFrame(_pairs(50)).to_csv(index=False)),
        "items",
        "source",
        says="items.csv.gz' is truncated or corrupt",
    ),
    BadInput(
        "not gzip at all, named .json.gz",
        lambda tmp: _write(tmp, "items.json.gz", json.dumps(_pairs())),
        "items",
        "source",
        says="items.json.gz' is truncated or corrupt",
    ),
]
