"""source="judge" in the contract and the store (migration 4: label notes), on SQLite and PostgreSQL, and
to_trl leaving judges out unless asked."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import rank_widget as rw
from factories import make_items
from rank_widget.schema import SOURCES, validate_label
from rank_widget.store import STORE_SCHEMA_VERSION, open_store
from rank_widget.store.notes import read_notes, write_notes
from rank_widget.store.tables import MIGRATIONS

RS = ["r1", "r2"]


def judge_label(label_id: str, item: str, winner: str, **kw: Any) -> dict[str, Any]:
    return {
        "label_id": label_id,
        "item_id": item,
        "annotator": kw.pop("annotator", "gpt-judge"),
        "task": "pairwise",
        "winner": winner,
        "strength": kw.pop("strength", None),
        "display_order": ["r1", "r2"],
        "source": kw.pop("source", "judge"),
        "submitted_at": "2026-01-05T09:00:00+00:00",
        **kw,
    }


def test_judge_is_a_source() -> None:
    assert "judge" in SOURCES
    out = validate_label(judge_label("j1", "it000", "r2", rationale="[[B]]"), response_ids=["r1", "r2"])
    assert out["source"] == "judge" and out["rationale"] == "[[B]]"


def test_judge_labels_and_notes_in_the_store(store_target: str) -> None:
    with open_store(store_target) as store:
        assert store.schema_version == STORE_SCHEMA_VERSION >= 4
        store.append(judge_label("j1", "it000", "r2"), response_ids=["r1", "r2"])
        store.append(
            judge_label("j2", "it000", "r1", annotator="gpt-judge [swapped]", display_order=["r2", "r1"]),
            response_ids=["r1", "r2"],
        )
        cur = store.current()
        assert sorted(cur["annotator"]) == ["gpt-judge", "gpt-judge [swapped]"]
        assert set(cur["source"]) == {"judge"}
        note = {"label_id": "j1", "kind": "judge_call", "item_id": "it000", "annotator": "gpt-judge"}
        write_notes(store, [{**note, "status": "failed", "data": {"error": "timeout"}}])
        write_notes(store, [{**note, "status": "parsed", "data": {"raw": "[[B]] \x00 ünï", "tokens_in": 3}}])
        notes = read_notes(store, "judge_call")
        assert len(notes) == 1 and notes["status"].iloc[0] == "parsed"  # replaced, not added
        assert notes["data"].iloc[0] == {"raw": "[[B]] \x00 ünï", "tokens_in": 3}
        with pytest.raises(ValueError, match="field 'kind'"):
            write_notes(store, [{**note, "kind": "gossip", "status": "x"}])


def test_an_older_store_is_migrated(tmp_path: Any) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite"
    with open_store(path) as store:
        store.append(
            judge_label("w1", "it000", "r1", annotator="ann", source="widget"), response_ids=["r1", "r2"]
        )
    con = sqlite3.connect(path)
    con.execute("DROP TABLE label_notes")
    before_notes = next(m.version for m in MIGRATIONS if "label notes" in m.description) - 1
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(before_notes),))
    con.commit()
    con.close()
    with open_store(path) as store:
        assert store.schema_version == STORE_SCHEMA_VERSION
        assert len(store.current()) == 1 and read_notes(store).empty


def test_to_trl_leaves_judges_out_by_default() -> None:
    items = make_items(2)
    labels = rw.schema.labels_frame(
        [
            validate_label(
                judge_label("h1", "it000", "r1", annotator="ann", source="widget"), response_ids=["r1", "r2"]
            ),
            validate_label(judge_label("j1", "it000", "r2"), response_ids=["r1", "r2"]),
            validate_label(judge_label("j2", "it001", "r2"), response_ids=["r1", "r2"]),
        ]
    )
    default = rw.to_trl(labels, items)
    assert list(default["item_id"]) == ["it000"] and default["n_votes"].tolist() == [1]
    both = rw.to_trl(labels, items, sources=("widget", "judge"), tie_policy="drop")
    assert set(both["item_id"]) == {"it001"}  # it000 is now a 1-1 split: a tie, dropped
    judges_only = rw.to_trl(labels, items, sources="judge")
    assert set(judges_only["item_id"]) == {"it000", "it001"}
    with pytest.raises(ValueError, match="sources must be"):
        rw.to_trl(labels, items, sources=("robots",))
    assert isinstance(default, pd.DataFrame)
