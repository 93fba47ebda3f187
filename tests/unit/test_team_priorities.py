"""A lead's priorities in the team queue (issue 12: active sampling's picks go first), on SQLite and
PostgreSQL, through the store's own claim and through ``rw_claim`` under ``team.setup`` with real roles."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError

import factories
import rank_widget as rw
from rank_widget import RankWidget, team
from rank_widget.store import AccessDenied, StoreError, access, assign, open_store
from rank_widget.store.tables import STORE_SCHEMA_VERSION

DS = "ds"
IDS = [f"it{i:03d}" for i in range(20)]


def _label(label_id: str, item: str, annotator: str) -> dict[str, Any]:
    return factories.label(
        label_id,
        item,
        annotator,
        status="submitted",
        display_order=["r1", "r2"],
        submitted_at="2026-12-02T10:00:00+00:00",
        winner="r1",
        strength=2,
    )


def test_claims_hand_out_the_priorities_first_in_order(store_target: str) -> None:
    with open_store(store_target) as store:
        store.register_items(DS, IDS, overlap=2, gold=["it019"])
        assert store.set_priorities(DS, ["it015", "it003", "it010"]) == 3
        assert store.priorities(DS) == ["it015", "it003", "it010"]
        assert store.claim(DS, "alice", 4) == ["it015", "it003", "it010", "it000"]
        assert store.claim(DS, "bob", 2) == ["it015", "it003"]  # each up to the overlap, as always
        # it015/it003 are full (two leases): carol gets it010, then the rest in the usual order
        assert store.claim(DS, "carol", 2) == ["it010", "it000"]
        # a refresh replaces the order; labels still count toward the overlap
        store.append(_label("a-1", "it015", "alice"), response_ids=["r1", "r2"])
        assert store.set_priorities(DS, ["it007", "it015"]) == 2
        assert store.priorities(DS) == ["it007", "it015"]
        assert store.claim_next(DS, "dave") == "it007"
        assert store.claim_next(DS, "dave") == "it001"  # it015: alice's label + bob's lease fill it
        assert store.set_priorities(DS, []) == 0 and store.priorities(DS) == []
        assert store.claim_next(DS, "erin") == "it001"  # fewest labels first again
        status = assign.item_status(store, DS)
        assert int(status.loc[status["item_id"] == "it015", "done"].iloc[0]) == 1

        for bad, match in (
            (["nope"], r"item_ids\[0\]: 'nope' is not registered in team dataset 'ds'"),
            (["it001", "it019"], r"item_ids\[1\]: 'it019' is a gold item"),
            (["it001", "it001"], "listed twice"),
            ([""], "non-empty strings"),
        ):
            with pytest.raises(ValueError, match=match):
                store.set_priorities(DS, bad)
        assert store.priorities(DS) == []  # a refused call changed nothing
        with pytest.raises(StoreError, match="no team dataset 'other'"):
            store.set_priorities("other", ["it001"])


def test_a_store_from_before_priorities_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with open_store(path) as store:
        store.register_items(DS, IDS[:5], overlap=1)
    con = sqlite3.connect(path)
    con.execute("DROP INDEX ix_team_items_priority")
    con.execute("ALTER TABLE team_items DROP COLUMN priority")
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(STORE_SCHEMA_VERSION - 1),))
    con.commit()
    con.close()
    with open_store(path) as store:
        assert store.schema_version == STORE_SCHEMA_VERSION
        store.set_priorities(DS, ["it004"])
        assert store.claim(DS, "alice", 2) == ["it004", "it000"]
    con = sqlite3.connect(path)
    plan = " ".join(
        str(r)
        for r in con.execute(
            "EXPLAIN QUERY PLAN SELECT t.item_id FROM team_items t WHERE t.dataset = 'ds' AND t.gold = 0 "
            f"ORDER BY {access.CLAIM_ORDER} LIMIT 1"
        )
    )
    con.close()
    assert "ix_team_items_priority" in plan and "TEMP B-TREE" not in plan  # an index scan, no sort


def _as(url: str, user: str) -> str:
    return make_url(url).set(username=user, password=f"pw-{user}").render_as_string(hide_password=False)


@pytest.mark.postgres
def test_priorities_under_team_setup(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # role names of this file only: roles are server-wide, and other tests set alice's password differently
    people = ("alice", "bob", "lead")
    setup = dict(
        annotators=["pq-alice", "pq-bob"],
        leads=["pq-lead"],
        passwords={f"pq-{p}": f"pw-pq-{p}" for p in people},
    )
    team.setup(pg_url, echo=False, **setup)  # type: ignore[arg-type]
    urls = {p: _as(pg_url, f"pq-{p}") for p in people}
    items = factories.make_items(20, gold=None)
    with open_store(urls["lead"]) as lead:
        lead.register_items(DS, IDS, overlap=2)
        lead.set_priorities(DS, ["it012", "it005"])
    with open_store(urls["alice"]) as alice:
        assert alice.claim(DS, "pq-alice", 3) == ["it012", "it005", "it000"]  # through rw_claim
        with pytest.raises(AccessDenied, match="needs the lead role"):
            alice.set_priorities(DS, ["it009"])
    raw = create_engine(make_url(urls["bob"]).set(drivername="postgresql+psycopg"))
    with pytest.raises(DBAPIError, match="permission denied"), raw.begin() as conn:
        conn.execute(text("UPDATE team_items SET priority = 99 WHERE item_id = 'it009'"))
    raw.dispose()
    w = RankWidget(items, store=urls["bob"], dataset=DS)  # the widget's batch starts with the priorities
    assert w._team is not None and w._team.item_ids[:3] == ["it012", "it005", "it000"]
    w.store.close()

    # a database set up by an older rank_widget claims in the old order: setting priorities says so
    monkeypatch.setattr(access, "CLAIM_ORDER", "t.done, t.seq")
    team.setup(pg_url, echo=False, **setup)  # type: ignore[arg-type]
    with open_store(urls["lead"]) as lead, pytest.raises(StoreError, match=r"run rank_widget\.team\.setup"):
        lead.set_priorities(DS, ["it009"])
    monkeypatch.undo()
    team.setup(pg_url, echo=False, **setup)  # type: ignore[arg-type]
    with open_store(urls["lead"]) as lead:
        lead.set_priorities(DS, ["it009"])
    with open_store(urls["alice"]) as alice:
        assert alice.claim_next(DS, "pq-alice") == "it009"
    # the lead's active-sampling refresh; an annotator may not reorder the team's queue
    with open_store(urls["lead"]) as lead:
        picks = rw.refresh_team_queue(lead, items, DS, k=3, seed=0)
        assert lead.priorities(DS) == ["it009", *picks]  # it009 is in progress (alice's lease): kept first
    with open_store(urls["alice"]) as alice, pytest.raises(AccessDenied, match="needs the lead role"):
        rw.refresh_team_queue(alice, items, DS, k=3)
