"""Text no store can hold, sent by the view (issue 13, finding 9).

A NUL character (PostgreSQL refuses it in text) or an unpaired surrogate (not UTF-8: neither engine can encode
it) in a rationale or a flag note used to reach the store and come back as a "could not save ... try again"
reject, a transient-error wording for an error no retry can fix. ``schema.validate_label`` now refuses them up
front, so the reject names the field and says what to fix, identically on both engines, and nothing is stored.
The widget is driven through its public ``handle_message`` with the dict the browser's JSON decodes to (JSON
can carry both: ``"\\u0000"`` and a lone ``"\\ud83d"`` are valid escapes).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from factories import make_items, submit_message, utc_now
from rank_widget.store import open_store
from rank_widget.widget import RankWidget

BAD_TEXT = {
    "NUL in the rationale": (
        "rationale",
        "clear\x00er",
        "contains a NUL character (\\x00, at position 5): remove it",
    ),
    "lone surrogate in the rationale": (
        "rationale",
        "nice \ud83d",
        "contains an unpaired surrogate ('\\ud83d' at position 5), a broken character that cannot be stored: "
        "remove it",
    ),
    "NUL in the flag note": (
        "flag_note",
        "\x00",
        "contains a NUL character (\\x00, at position 0): remove it",
    ),
    "lone surrogate in the flag note": (
        "flag_note",
        "\udc00 note",
        "contains an unpaired surrogate ('\\udc00' at position 0), a broken character that cannot be stored: "
        "remove it",
    ),
}


def _submit(w: RankWidget, field: str, value: str) -> dict[str, Any]:
    """A submit for the item on screen, as the view sends it, with ``field`` set to ``value``."""
    item = w.window[0]
    label = {"started_at": utc_now(), "flags": ["harmful"] if field == "flag_note" else [], field: value}
    msg = submit_message(item, client_id="c-1", index=0, **label)
    # what arrives from the browser is decoded JSON: round-trip it so the test sends nothing JSON can't carry
    return dict(json.loads(json.dumps(msg)))


@pytest.mark.parametrize("case", list(BAD_TEXT))
def test_bad_text_is_a_clear_reject_and_nothing_is_stored(store_target: str, case: str) -> None:
    field, value, says = BAD_TEXT[case]
    with open_store(store_target) as store:
        w = RankWidget(make_items(), annotator="alice", seed=1, store=store)
        sent: list[dict[str, Any]] = []
        w.send = lambda msg, buffers=None: sent.append(msg)  # type: ignore[method-assign, assignment, misc]
        msg = _submit(w, field, value)
        assert msg["label"][field] == value
        w.handle_message(msg)
        assert len(sent) == 1, sent
        reject = sent[0]
        assert (reject["type"], reject["client_id"], reject["item_id"]) == ("reject", "c-1", msg["item_id"])
        assert reject["field"] == field and reject["message"].endswith(says), reject
        assert "try again" not in reject["message"]
        assert len(store.labels()) == 0 and len(w.labels) == 0 and w.position == 0
        # the same submit without the bad character is stored: the reject was about the text alone
        fixed = _submit(w, field, value.replace("\x00", "").encode("utf-8", "ignore").decode("utf-8") or "ok")
        w.handle_message({**fixed, "client_id": "c-2"})
        assert sent[-1]["type"] == "ack", sent[-1]
        assert store.labels()[field].tolist() == [fixed["label"][field]]
