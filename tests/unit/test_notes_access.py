"""Row-level security on label notes under ``team.setup`` (docs/security.md): with real PostgreSQL roles, an
annotator writes notes only on their own labels, a lead writes judge-call notes (and runs a judge on the
access-controlled store), nobody deletes a note, and each reads what the labels policies allow."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError

import factories
import rank_widget as rw
from rank_widget import team
from rank_widget.store import open_store
from rank_widget.store.notes import read_notes, write_notes

RS = ["r1", "r2"]


def _as(url: str, user: str) -> str:
    return make_url(url).set(username=user, password=f"pw-{user}").render_as_string(hide_password=False)


def _label(label_id: str, item: str, annotator: str, **kw: Any) -> dict[str, Any]:
    return factories.label(
        label_id,
        item,
        annotator,
        status="submitted",
        display_order=RS,
        submitted_at="2026-12-02T10:00:00+00:00",
        winner="r1",
        strength=2,
        **kw,
    )


def _note(label_id: str, annotator: str, kind: str = "suggestion", item: str = "it000") -> dict[str, Any]:
    return {"label_id": label_id, "kind": kind, "item_id": item, "annotator": annotator, "status": "after"}


@pytest.fixture
def urls(pg_url: str) -> Iterator[dict[str, str]]:
    # role names of this file only: roles are server-wide, other tests give alice another password
    people = ("na-alice", "na-bob", "na-lead", "na-adj")
    team.setup(
        pg_url,
        annotators=["na-alice", "na-bob"],
        leads=["na-lead"],
        adjudicators=["na-adj"],
        passwords={p: f"pw-{p}" for p in people},
        echo=False,
    )
    yield {p: _as(pg_url, p) for p in people}


def _raw(url: str, sql: str, **params: Any) -> int:
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    try:
        with engine.begin() as conn:
            return int(conn.execute(text(sql), params).rowcount)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_annotators_write_notes_only_on_their_own_labels(urls: dict[str, str]) -> None:
    alice, bob = open_store(urls["na-alice"]), open_store(urls["na-bob"])
    alice.append(_label("a-1", "it000", "na-alice"), response_ids=RS)
    bob.append(_label("b-1", "it000", "na-bob"), response_ids=RS)
    assert write_notes(alice, [_note("a-1", "na-alice")]) == 1
    assert write_notes(alice, [{**_note("a-1", "na-alice"), "status": "before"}]) == 1  # her own: replaced

    # another's name, another's label under her own name (squatting its key), overwriting an existing note
    with pytest.raises(Exception, match="row-level security"):
        write_notes(alice, [_note("b-1", "na-bob")])
    with pytest.raises(Exception, match="row-level security"):
        write_notes(alice, [_note("b-1", "na-alice")])
    with pytest.raises(Exception, match="row-level security"):
        write_notes(alice, [_note("no-such-label", "na-alice")])
    assert write_notes(bob, [_note("b-1", "na-bob")]) == 1  # bob's key was not squatted
    with pytest.raises(Exception, match="row-level security"):
        write_notes(alice, [_note("b-1", "na-alice")])  # the upsert meets bob's row: refused, not replaced
    # raw SQL through her own credentials: bob's note is invisible to her UPDATE, and DELETE is not granted
    assert _raw(urls["na-alice"], "UPDATE label_notes SET status = 'forged' WHERE label_id = 'b-1'") == 0
    with pytest.raises(DBAPIError, match="permission denied"):
        _raw(urls["na-alice"], "DELETE FROM label_notes WHERE label_id = 'a-1'")
    with pytest.raises(DBAPIError, match="row-level security"):  # re-labelling her note as bob's
        _raw(urls["na-alice"], "UPDATE label_notes SET annotator = 'na-bob' WHERE label_id = 'a-1'")
    assert read_notes(alice)[["label_id", "status"]].values.tolist() == [["a-1", "before"]]
    assert read_notes(bob)[["label_id", "status"]].values.tolist() == [["b-1", "after"]]
    alice.close()
    bob.close()

    with open_store(urls["na-lead"]) as lead:
        assert sorted(read_notes(lead)["label_id"]) == ["a-1", "b-1"]  # a lead reads all
        # a lead writes judge-call notes (for a judge's name), not a note on alice's label
        assert write_notes(lead, [_note("j-1", "gpt-judge", kind="judge_call")]) == 1
        with pytest.raises(Exception, match="row-level security"):
            write_notes(lead, [_note("a-1", "na-alice")])
        with pytest.raises(Exception, match="row-level security"):
            write_notes(lead, [_note("a-1", "na-lead")])
    with open_store(urls["na-adj"]) as adj:
        adj.append(_label("d-1", "it000", "na-adj", source="adjudication"), response_ids=RS)
        assert write_notes(adj, [_note("d-1", "na-adj")]) == 1
        with pytest.raises(Exception, match="row-level security"):
            write_notes(adj, [_note("a-1", "na-adj")])
        assert len(read_notes(adj)) == 4  # an adjudicator reads all, like the labels
    with open_store(urls["na-alice"]) as again:  # nothing of hers changed by anyone
        assert read_notes(again)[["label_id", "status"]].values.tolist() == [["a-1", "before"]]


@pytest.mark.postgres
def test_a_lead_runs_a_judge_on_the_access_controlled_store(urls: dict[str, str]) -> None:
    items = factories.make_items(4, gold=None)
    with open_store(urls["na-lead"]) as lead:
        run = rw.run_judge(
            items, lambda prompt, responses: "[[A]]", name="judge-a", store=lead, progress=False
        )
        assert len(run.labels) == 8  # both orders
        calls = read_notes(lead, "judge_call")
        assert len(calls) == 8 and set(calls["status"]) == {"parsed"}
    with open_store(urls["na-alice"]) as alice:  # the judge's notes are not hers to read or rewrite
        assert read_notes(alice).empty
        with pytest.raises(Exception, match="row-level security"):
            write_notes(alice, [{**_note(str(calls["label_id"].iloc[0]), "judge-a", kind="judge_call")}])
