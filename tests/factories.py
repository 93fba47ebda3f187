"""Test-data builders shared by every test layer: items frames, label records, label frames, the messages the
view sends, and a recorder of a widget's comm.

Importable as ``factories`` from any test (pyproject: ``[tool.pytest.ini_options] pythonpath = ["tests"]``).
Each test file's data are its own (its assertions depend on them): a file passes its values through the
keywords here, and the builder only owns the shape, so a new field or rule is added in one place.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from rank_widget.schema import labels_frame, validate_label

# A per-item value: a str.format template or a function of the item index i.
PerItem = str | Callable[[int], Any]
# A per-response value: a template or a function of (i, j); in templates j is the response's 0-based
# position and r = j + 1 its 1-based number ("r{r}" -> r1, r2, ...).
PerResponse = str | Callable[[int, int], Any]


def _item_value(spec: PerItem, i: int, prefix: str) -> Any:
    return spec(i) if callable(spec) else spec.format(i=i, prefix=prefix)


def _response_value(spec: PerResponse, i: int, j: int) -> Any:
    return spec(i, j) if callable(spec) else spec.format(i=i, j=j, r=j + 1)


def make_items(
    n: int = 6,
    k: int = 2,
    *,
    prefix: str = "it",
    item_id: PerItem = "{prefix}{i:03d}",
    prompt: PerItem = "Question {i}?",
    response_id: PerResponse = "r{r}",
    text: PerResponse = "answer {r} to {i}",
    model: PerResponse = "model-{j}",
    category: PerItem | None = lambda i: "math" if i % 2 else "code",
    gold: PerItem | None = lambda i: [["r1"], ["r2"]],
    explanation: PerItem | None = None,
) -> pd.DataFrame:
    """An items frame of ``n`` prompts with ``k`` responses each (columns item_id, prompt, responses, and
    category, gold and explanation unless None). The defaults are test_widget's items: it000, it001, ...;
    r1..rk."""
    columns: dict[str, list[Any]] = {
        "item_id": [_item_value(item_id, i, prefix) for i in range(n)],
        "prompt": [_item_value(prompt, i, prefix) for i in range(n)],
        "responses": [
            [
                {
                    "response_id": _response_value(response_id, i, j),
                    "text": _response_value(text, i, j),
                    "model": _response_value(model, i, j),
                }
                for j in range(k)
            ]
            for i in range(n)
        ],
    }
    if category is not None:
        columns["category"] = [_item_value(category, i, prefix) for i in range(n)]
    if gold is not None:
        columns["gold"] = [_item_value(gold, i, prefix) for i in range(n)]
    if explanation is not None:
        columns["explanation"] = [_item_value(explanation, i, prefix) for i in range(n)]
    return pd.DataFrame(columns)


def decisive_strength(winner: str | None) -> int | None:
    """The strength every builder gives a verdict: 0 for a tie, 2 for a decisive win, None without one."""
    return None if winner is None else 0 if winner == "tie" else 2


def label(
    label_id: str,
    item_id: str,
    annotator: str,
    *,
    task: str = "pairwise",
    **fields: Any,
) -> dict[str, Any]:
    """A raw label record (before validation): the identifying fields, then ``fields`` in order. A field
    whose value is ``...`` is left out of the record, to test a missing field."""
    record: dict[str, Any] = {"label_id": label_id, "item_id": item_id, "annotator": annotator, "task": task}
    record.update(fields)
    return {key: value for key, value in record.items() if value is not ...}


def append_verdict(
    store: Any, label_id: str, item_id: str, annotator: str, winner: str, *, submitted_at: Any, **fields: Any
) -> None:
    """Append to ``store`` a submitted pairwise label on responses r1, r2 shown in that order: ``winner`` with
    its ``decisive_strength``, and ``fields`` (a source, say)."""
    store.append(
        label(
            label_id,
            item_id,
            annotator,
            status="submitted",
            **fields,
            winner=winner,
            strength=decisive_strength(winner),
            display_order=["r1", "r2"],
            submitted_at=submitted_at,
        ),
        response_ids=["r1", "r2"],
    )


def frame(*records: dict[str, Any], validate: bool = True) -> pd.DataFrame:
    """A labels frame of ``records``, each put through ``validate_label`` first unless ``validate=False``
    (for records that already are)."""
    return labels_frame(validate_label(r) for r in records) if validate else labels_frame(list(records))


def as_user(url: str, user: str) -> str:
    """The database ``url`` with the credentials of ``user`` (the password ``team_urls`` sets: pw-<user>)."""
    from sqlalchemy import make_url

    return make_url(url).set(username=user, password=f"pw-{user}").render_as_string(hide_password=False)


def team_urls(pg_url: str, annotators: list[str], leads: list[str], *, times: int = 1) -> dict[str, str]:
    """Run ``team.setup`` on ``pg_url`` ``times`` times for ``annotators`` and ``leads``, each person with the
    password ``pw-<name>``; returns each person's URL to connect as themselves."""
    from rank_widget import team

    people = [*annotators, *leads]
    for _ in range(times):
        team.setup(
            pg_url,
            annotators=annotators,
            leads=leads,
            passwords={p: f"pw-{p}" for p in people},
            echo=False,
        )
    return {p: as_user(pg_url, p) for p in people}


def utc_now() -> str:
    """The current time as the view stamps ``started_at``: ISO 8601 in UTC with a ``Z``."""
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


# The label fields a client may leave out of a submit (the widget fills in their defaults).
OPTIONAL_LABEL_FIELDS = ("ranking", "ratings", "rationale", "flags", "flag_note")


def submit_message(
    payload: dict[str, Any],
    *,
    client_id: str,
    index: int,
    started_at: str | None = "2026-11-28T10:00:00Z",
    active_ms: int | None = 1500,
    minimal: bool = False,
    **label: Any,
) -> dict[str, Any]:
    """A ``submit`` message as the view sends it for the item ``payload`` (a widget's ``_payload(index)``):
    a decisive win for the first response shown, unless ``label`` overrides fields of the label body.
    ``minimal=True`` leaves out the ``OPTIONAL_LABEL_FIELDS`` not given in ``label``, as a bare client
    does; a field whose value is ``...`` is left out too."""
    body: dict[str, Any] = {
        "status": "submitted",
        "ranking": None,
        "winner": payload["display_order"][0],
        "strength": 2,
        "ratings": {},
        "rationale": "",
        "flags": [],
        "flag_note": "",
        "display_order": list(payload["display_order"]),
        "guideline_version": payload["guideline_version"],
        "started_at": started_at,
        "active_ms": active_ms,
    }
    if minimal:
        for name in OPTIONAL_LABEL_FIELDS:
            del body[name]
    body.update(label)
    return {
        "type": "submit",
        "client_id": client_id,
        "item_id": payload["item_id"],
        "index": index,
        "label": {key: value for key, value in body.items() if value is not ...},
    }


def _comm_msg(data: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"data": data}, "buffers": []}


class Wire:
    """A widget's comm as the browser sees it: ``sent`` holds everything the widget sends through it (state
    updates and custom messages), in order; ``update`` and ``custom`` send the browser's messages in through
    ``comm.handle_msg``, the kernel's entry point for them."""

    def __init__(self, w: Any) -> None:
        self.w = w
        self.sent: list[Any] = []

        def capture(data: Any = None, metadata: Any = None, buffers: Any = None) -> None:
            self.sent.append(data)

        w.comm.send = capture

    def update(self, state: Any) -> None:
        self.w.comm.handle_msg(_comm_msg({"method": "update", "state": state, "buffer_paths": []}))

    def custom(self, content: dict[str, Any]) -> None:
        self.w.comm.handle_msg(_comm_msg({"method": "custom", "content": content}))

    def customs(self) -> list[dict[str, Any]]:
        """The custom messages sent (acks, rejects, replies), in order."""
        return [m["content"] for m in self.sent if m.get("method") == "custom"]

    def states(self) -> list[dict[str, Any]]:
        """The state updates sent, in order."""
        return [m["state"] for m in self.sent if m.get("method") == "update"]

    def first_with(self, text: str) -> int | None:
        """The position in ``sent`` of the first message whose JSON contains ``text``."""
        return next((k for k, m in enumerate(self.sent) if text in json.dumps(m, default=str)), None)
