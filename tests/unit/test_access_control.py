"""Access control enforced by PostgreSQL (issue 13, finding 1; docs/security.md).

After ``rank_widget.team.setup``, alice repeats every abuse of finding 1 with her own credentials; each is
refused (by the store before the database where it can, and by the database itself, shown with raw SQL
through her own URL), while a lead reads all, adjudicates and re-queues, and alice's own flow works.
A shared SQLite file on a hub gets a warning.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError

import factories
from rank_widget import RankWidget, team
from rank_widget.audit import AuditWidget
from rank_widget.store import AccessDenied, StoreError, assign, open_store
from rank_widget.store.access import SharedStoreWarning, shared_sqlite_reason

DATASET = "ds"
ITEMS = 40


def _as(url: str, user: str) -> str:
    return make_url(url).set(username=user, password=f"pw-{user}").render_as_string(hide_password=False)


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _label(label_id: str, item: str, annotator: str, *, source: str = "widget", **kw: Any) -> dict[str, Any]:
    return factories.label(
        label_id,
        item,
        annotator,
        status="submitted",
        display_order=["r1", "r2"],
        submitted_at="2026-12-02T10:00:00+00:00",
        source=source,
        winner=kw.pop("winner", "r1"),
        strength=2,
        **kw,
    )


class Abuses:
    """Counts the abuses tried and refused (the report's figure); each must be refused."""

    def __init__(self) -> None:
        self.tried = 0
        self.refused = 0
        self.names: list[str] = []

    def refused_by(
        self,
        name: str,
        exc: type[BaseException] | tuple[type[BaseException], ...],
        match: str,
        fn: Callable[[], Any],
    ) -> BaseException:
        self.tried += 1
        with pytest.raises(exc, match=match) as info:
            fn()
        self.refused += 1
        self.names.append(name)
        return info.value

    def no_effect(self, name: str, ok: bool) -> None:
        self.tried += 1
        assert ok, name
        self.refused += 1
        self.names.append(name)


@pytest.fixture
def team_db(pg_url: str) -> Iterator[dict[str, str]]:
    people = {"alice": "annotator", "bob": "annotator", "lead": "lead", "judge": "adjudicator"}
    shown = team.setup(
        pg_url,
        annotators=["alice", "bob"],
        leads=["lead"],
        adjudicators=["judge"],
        passwords={p: f"pw-{p}" for p in people},
        echo=False,
    )
    assert any("ENABLE ROW LEVEL SECURITY" in s for s in shown)
    assert not any("pw-alice" in s for s in shown)  # passwords never shown
    urls = {p: _as(pg_url, p) for p in people}
    urls["admin"] = pg_url
    with open_store(urls["lead"]) as lead:
        lead.register_items(DATASET, [f"it{i:03d}" for i in range(ITEMS)], overlap=3)
    yield urls


@pytest.mark.postgres
def test_setup_is_idempotent_and_prints_its_sql(pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    first = team.setup(pg_url, annotators=["alice"], leads=["lead"], passwords={"alice": "s3cret"})
    printed = capsys.readouterr().out
    assert "CREATE POLICY rw_labels_insert_own" in printed and "s3cret" not in printed
    assert "PASSWORD '********'" in printed
    second = team.setup(
        pg_url, annotators=["alice"], leads=["lead"], passwords={"alice": "s3cret"}, echo=False
    )
    assert first == second and capsys.readouterr().out == ""
    with pytest.raises(ValueError, match="not a usable role name"):
        team.setup(pg_url, annotators=['x"; DROP TABLE labels; --'], echo=False)
    with pytest.raises(ValueError, match="reserved"):
        team.setup(pg_url, annotators=["rw_lead"], echo=False)
    with pytest.raises(StoreError, match="needs PostgreSQL"):
        team.setup(":memory:", annotators=["alice"], echo=False)
    with open_store(pg_url) as admin:
        assert admin.db.access.on and admin.db.access.admin


@pytest.mark.postgres
def test_every_abuse_of_finding_1_is_refused(
    team_db: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ab = Abuses()
    items = factories.make_items(ITEMS, gold=None)
    bob = open_store(team_db["bob"])
    bob_items = bob.claim(DATASET, "bob", 3)
    bob_label = bob.append(_label("bob-1", bob_items[0], "bob"), response_ids=["r1", "r2"])
    alice = open_store(team_db["alice"])
    assert alice.identity == "alice" and bob.identity == "bob"

    # 1. label as bob in the widget, and by setting JUPYTERHUB_USER; resume bob's batch
    ab.refused_by(
        "widget annotator='bob'",
        PermissionError,
        "connected as 'alice'",
        lambda: RankWidget(items, store=alice, annotator="bob"),
    )
    ab.refused_by(
        "widget annotator='bob' resuming bob's team batch",
        PermissionError,
        "connected as 'alice'",
        lambda: RankWidget(items, store=alice, annotator="bob", dataset=DATASET),
    )
    monkeypatch.setenv("JUPYTERHUB_USER", "bob")
    w = RankWidget(items, store=alice, dataset=DATASET)
    ab.no_effect("JUPYTERHUB_USER=bob is ignored: the widget labels as alice", w.annotator == "alice")
    with open_store(team_db["lead"]) as lead:  # the batch is leased to alice, bob's leases are untouched
        assert set(lead.leases(DATASET, "alice")["item_id"]) == set(w._team.item_ids)
        assert set(lead.leases(DATASET, "bob")["item_id"]) == set(bob_items[1:])
    alice.release(DATASET, "alice")  # back to the pool
    monkeypatch.delenv("JUPYTERHUB_USER")

    # 2. store.append as bob (store check), and a raw INSERT as bob (the database's policy)
    ab.refused_by(
        "store.append annotator='bob'",
        AccessDenied,
        "names annotator 'bob'.*connected as 'alice'",
        lambda: alice.append(_label("forged-1", "it030", "bob"), response_ids=["r1", "r2"]),
    )
    ab.refused_by(
        "store.append_many annotator='bob'",
        AccessDenied,
        "names annotator 'bob'",
        lambda: alice.append_many([_label("forged-2", "it031", "bob")]),
    )
    # psycopg 3 named explicitly: SQLAlchemy 2.0 (the floor we support) maps a bare postgresql:// to psycopg2
    raw = create_engine(make_url(team_db["alice"]).set(drivername="postgresql+psycopg"))
    cols = (
        "label_id, item_id, annotator, task, source, status, revision, submitted_at, rationale, flags, "
        "flag_note"
    )

    def raw_sql(sql: str, params: dict[str, Any] | None = None) -> Any:
        with raw.begin() as conn:
            return (
                conn.execute(text(sql), params or {}).fetchall()
                if sql.lstrip().upper().startswith("SELECT")
                else conn.execute(text(sql), params or {}).rowcount
            )

    def insert(label_id: str, annotator: str, source: str = "widget", supersedes: str | None = None) -> Any:
        return raw_sql(
            f"INSERT INTO labels ({cols}, display_order, supersedes) VALUES (:l, :i, :a, 'pairwise', :s, "
            "'submitted', 2, '2026-12-02T10:00:00.000000+00:00', '', '[]', '', '[\"r1\",\"r2\"]', :sup)",
            {"l": label_id, "i": bob_items[0], "a": annotator, "s": source, "sup": supersedes},
        )

    ab.refused_by(
        "raw INSERT annotator='bob'", DBAPIError, "row-level security", lambda: insert("raw-1", "bob")
    )

    # 3. read bob's labels and leases
    mine = alice.labels()
    ab.no_effect("open_store(url).labels() shows no label of bob's", "bob" not in set(mine["annotator"]))
    ab.no_effect("store.current() shows no label of bob's", "bob" not in set(alice.current()["annotator"]))
    ab.refused_by(
        "store.labels(annotator='bob')",
        AccessDenied,
        "only their own labels",
        lambda: alice.labels(annotator="bob"),
    )
    ab.no_effect(
        "raw SELECT of bob's labels returns nothing",
        raw_sql("SELECT count(*) FROM labels WHERE annotator = 'bob'")[0][0] == 0
        and raw_sql("SELECT count(*) FROM latest WHERE annotator = 'bob'")[0][0] == 0,
    )
    ab.no_effect(
        "bob's leases are invisible",
        alice.leases(DATASET, "bob").empty
        and raw_sql("SELECT count(*) FROM assignments WHERE annotator = 'bob'")[0][0] == 0,
    )

    # 4. supersede bob's label
    ab.refused_by(
        "store.append superseding bob's label",
        AccessDenied,
        "names annotator 'bob'",
        lambda: alice.append(_label("sup-1", bob_items[0], "bob", winner="r2"), response_ids=["r1", "r2"]),
    )
    ab.refused_by(
        "raw INSERT revision 2 of bob's label",
        DBAPIError,
        "row-level security",
        lambda: insert("raw-2", "bob", supersedes=bob_label.label_id),
    )

    # 5. adjudicate (as 'lead', and as herself), and re-queue
    ab.refused_by(
        "AuditWidget(adjudicator='lead')",
        PermissionError,
        "connected as 'alice'",
        lambda: AuditWidget(items, alice, adjudicator="lead"),
    )
    alice.append(_label("alice-0", "it035", "alice"), response_ids=["r1", "r2"])
    audit = AuditWidget(items, alice)
    assert audit.adjudicator == "alice"
    ab.refused_by(
        "AuditWidget.adjudicate as an annotator",
        AccessDenied,
        "may not store adjudications",
        lambda: audit.adjudicate("it035", [["r2"], ["r1"]], "mine"),
    )
    ab.refused_by(
        "raw INSERT source='adjudication'",
        DBAPIError,
        "row-level security",
        lambda: insert("raw-3", "alice", source="adjudication"),
    )
    ab.refused_by(
        "AuditWidget.requeue as an annotator",
        AccessDenied,
        "permission denied for table queue_items",
        lambda: audit.requeue(["it035"], "again"),
    )

    # 6. release bob's leases
    ab.refused_by(
        "store.release(ds, 'bob')",
        AccessDenied,
        "cannot release leases for 'bob'",
        lambda: alice.release(DATASET, "bob"),
    )
    ab.refused_by(
        "raw UPDATE assignments (release bob's)",
        DBAPIError,
        "permission denied for table assignments",
        lambda: raw_sql("UPDATE assignments SET state = 'released' WHERE annotator = 'bob'"),
    )
    raw_sql(f"SELECT rw_leases_update('{DATASET}', NULL, true, NULL)")  # releases alice's own only
    with open_store(team_db["lead"]) as lead:
        held = lead.leases(DATASET, "bob")
    ab.no_effect("the release function left bob's leases alone", set(held["item_id"]) == set(bob_items[1:]))

    # 7. claim the pool: more than the cap in one call, for someone else, or by calling again and again
    ab.refused_by(
        "store.claim(ds, 'alice', 30)",
        AccessDenied,
        "at most 10 items per call",
        lambda: alice.claim(DATASET, "alice", 30),
    )
    ab.refused_by(
        "raw SELECT rw_claim(ds, 30)",
        DBAPIError,
        "a claim takes 1 to 10 items per call",
        lambda: raw_sql(f"SELECT rw_claim('{DATASET}', 30, 600)"),
    )
    ab.refused_by(
        "store.claim(ds, 'bob', 1)",
        AccessDenied,
        "cannot claim items for 'bob'",
        lambda: alice.claim(DATASET, "bob", 1),
    )
    ab.refused_by(
        "raw INSERT INTO assignments (a lease without a claim)",
        DBAPIError,
        "permission denied",
        lambda: raw_sql(
            "INSERT INTO assignments VALUES ('ds', 'it039', 'alice', 'leased', 0, 1e12, NULL, NULL)"
        ),
    )
    got = alice.claim(DATASET, "alice", 10) + alice.claim(DATASET, "alice", 10)
    assert len(got) == 20
    ab.refused_by(
        "claim beyond 20 held leases",
        AccessDenied,
        "already holds 20 active leases",
        lambda: alice.claim(DATASET, "alice", 1),
    )

    # 8. rewrite and delete labels with her URL (her own and bob's): no UPDATE/DELETE grant at all
    alice.append(_label("alice-1", got[0], "alice"), response_ids=["r1", "r2"])
    for sql in (
        "UPDATE labels SET winner = 'r2'",
        "UPDATE labels SET winner = 'r2' WHERE annotator = 'alice'",
        "DELETE FROM labels",
        "DELETE FROM labels WHERE annotator = 'alice'",
        "TRUNCATE labels",
        "UPDATE latest SET revision = 99",
        "DELETE FROM latest",
        "UPDATE team_items SET done = 0",
    ):
        ab.refused_by(f"raw {sql}", DBAPIError, "permission denied", lambda sql=sql: raw_sql(sql))
    with psycopg.connect(_libpq(team_db["alice"])) as conn:  # psycopg directly, too
        ab.refused_by(
            "psycopg DELETE FROM labels",
            psycopg.errors.InsufficientPrivilege,
            "permission denied",
            lambda: conn.execute("DELETE FROM labels"),
        )

    with open_store(team_db["admin"]) as admin:  # nothing changed: bob's label and alice's are intact
        everything = admin.labels()
    assert sorted(everything["label_id"]) == ["alice-0", "alice-1", "bob-1"]
    assert everything.set_index("label_id").loc["bob-1", "winner"] == "r1"
    raw.dispose()
    alice.close()
    bob.close()
    print(f"\nabuses tried: {ab.tried}, refused: {ab.refused}")
    assert ab.tried == ab.refused == 34, ab.names


@pytest.mark.postgres
def test_refused_by_the_database_itself_when_the_store_check_is_skipped(team_db: dict[str, str]) -> None:
    """The store's own checks are a courtesy: with them switched off, the database still refuses."""
    from dataclasses import replace

    with open_store(team_db["alice"]) as alice:
        alice.db.access = replace(alice.db.access, admin=True)  # the store no longer checks anything
        with pytest.raises(
            AccessDenied, match=r"refused by the database's access control as 'alice'.*row-level"
        ):
            alice.append(_label("forged", "it001", "bob"), response_ids=["r1", "r2"])
        with pytest.raises(AccessDenied, match="row-level security"):
            alice.append(_label("adj", "it001", "alice", source="adjudication"), response_ids=["r1", "r2"])
        with pytest.raises(AccessDenied, match="permission denied for table assignments"):
            alice.release(DATASET, "bob")  # now the old UPDATE path
        assert alice.labels().empty


@pytest.mark.postgres
def test_lead_reads_all_adjudicates_and_requeues(team_db: dict[str, str]) -> None:
    items = factories.make_items(ITEMS, gold=None)
    for who in ("alice", "bob"):
        with open_store(team_db[who]) as s:
            item = s.claim_next(DATASET, who)
            assert item is not None
            s.append(_label(f"{who}-1", "it000" if who == "alice" else item, who), response_ids=["r1", "r2"])
    with open_store(team_db["lead"]) as lead:
        assert set(lead.labels()["annotator"]) == {"alice", "bob"}
        assert lead.labels(annotator="bob")["label_id"].tolist() == ["bob-1"]
        audit = AuditWidget(items, lead)
        assert audit.adjudicator == "lead"
        res = audit.adjudicate("it000", [["r2"], ["r1"]], "r2 is right")
        assert not res.duplicate
        assert audit.requeue(["it000"], "split", queue="round2") == 1
        assert lead.queue_item_ids("round2") == ["it000"]
        rows = assign.assignment_rows(lead, DATASET)  # the lead reads every lease / assignment
        assert set(rows["annotator"]) == {"alice", "bob"} and set(rows["state"]) == {"done"}
        status = team.TeamMonitor(lead, dataset=DATASET).snapshot()["datasets"]
        assert int(status["labels"].iloc[0]) == 2  # the trigger completed both leases
        # a lead imports others' labels (source='import') but cannot forge a widget label in bob's name
        imported = lead.append_many([_label("imp-1", "it005", "carol", source="import")])
        assert not imported[0].duplicate
        with pytest.raises(AccessDenied, match="names annotator 'bob'"):
            lead.append(_label("forged", "it006", "bob"), response_ids=["r1", "r2"])
    with open_store(team_db["judge"]) as judge:  # an adjudicator reads all labels and adjudicates as itself
        assert set(judge.current()["annotator"]) >= {"alice", "bob", "lead"}
        AuditWidget(items, judge).adjudicate("it001", [["r1"], ["r2"]], "r1")
        with pytest.raises(AccessDenied, match="names annotator 'lead'"):
            judge.append(_label("x", "it002", "lead", source="adjudication"), response_ids=["r1", "r2"])


@pytest.mark.postgres
def test_alice_labels_normally_claim_append_resume(team_db: dict[str, str]) -> None:
    items = factories.make_items(ITEMS, gold=None)
    w = RankWidget(items, store=team_db["alice"], dataset=DATASET)
    assert w.annotator == "alice" and len(w._team.item_ids) == 10
    first = w._team.item_ids[0]
    r1 = w.store.append(_label("a-1", first, "alice"), response_ids=["r1", "r2"])
    r2 = w.store.append(_label("a-2", first, "alice", winner="r2"), response_ids=["r1", "r2"])
    assert (r1.revision, r2.revision, r2.supersedes) == (1, 2, "a-1")  # revisions under row-level security
    assert w.store.append(_label("a-2", first, "alice", winner="r2"), response_ids=["r1", "r2"]).duplicate
    assert w._team.renew() == 9  # the label completed its lease; the rest are renewed
    w.store.close()
    again = RankWidget(items, store=team_db["alice"], dataset=DATASET)  # a reopened notebook resumes
    assert first not in again._team.item_ids and set(w._team.item_ids[1:]) < set(again._team.item_ids)
    assert len(again._team.item_ids) == 10  # her 9 leases resumed, topped up with one new claim
    assert again.store.labelled_item_ids("alice") == {first}
    assert again.labels["winner"].tolist() == ["r2"]
    assert again.store.release(DATASET, "alice") == 10
    many = again.store.append_many([_label(f"b-{i}", f"it03{i}", "alice") for i in range(3)])
    assert [m.revision for m in many] == [1, 1, 1]
    assert again.store.count("alice") == 4
    # registering is a lead's job: the annotator is told what to ask for, and the database's reason is kept
    with pytest.raises(AccessDenied, match=r"'unregistered' is not registered .* ask a lead") as refused:
        RankWidget(items, store=again.store, dataset="unregistered", overlap=2)
    assert "permission denied for table team_datasets" in str(refused.value.__cause__)
    again.store.close()
    with open_store(team_db["lead"]) as lead:
        done = lead.current()
        assert done.groupby("annotator").size().to_dict() == {"alice": 4}
        status = team.TeamMonitor(lead, dataset=DATASET).snapshot()["datasets"]
        assert int(status["labels"].iloc[0]) == 4 and int(status["leased"].iloc[0]) == 0


@pytest.mark.postgres
def test_a_label_id_taken_by_someone_else_is_a_clear_error(team_db: dict[str, str]) -> None:
    with open_store(team_db["bob"]) as bob:
        bob.append(_label("same-id", "it000", "bob"), response_ids=["r1", "r2"])
    with (
        open_store(team_db["alice"]) as alice,
        pytest.raises(StoreError, match="'same-id' is already used by a label you cannot see"),
    ):
        alice.append(_label("same-id", "it001", "alice"), response_ids=["r1", "r2"])


@pytest.mark.postgres
def test_without_setup_postgres_keeps_todays_behaviour(pg_url: str) -> None:
    with open_store(pg_url) as s:
        assert s.identity is None and not s.db.access.on
        s.append(_label("x", "it000", "bob"), response_ids=["r1", "r2"])  # any name: no access control
        assert s.labels()["annotator"].tolist() == ["bob"]


# -- SQLite on a hub -----------------------------------------------------------------------------------------


def test_shared_sqlite_on_a_hub_warns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rule: on a hub (JUPYTERHUB_USER set), a store file owned by someone else or writable by its
    group or others (for a new file: its folder) warns; a person's own file does not; off a hub nothing is
    checked."""
    own = tmp_path / "mine.sqlite"
    shared = tmp_path / "team.sqlite"
    tmp_path.chmod(0o755)
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    open_store(shared).close()
    shared.chmod(0o664)  # group-writable: a team file
    with warnings.catch_warnings():
        warnings.simplefilter("error", SharedStoreWarning)
        open_store(shared).close()  # off a hub: no check
    monkeypatch.setenv("JUPYTERHUB_USER", "alice")
    with pytest.warns(SharedStoreWarning, match="no access control.*writable by its group"):
        open_store(shared).close()
    with warnings.catch_warnings():
        warnings.simplefilter("error", SharedStoreWarning)
        open_store(own).close()  # a new file in her own folder
        own.chmod(0o644)
        open_store(own).close()  # her own file
    assert shared_sqlite_reason(own) is None
    team_dir = tmp_path / "shared"
    team_dir.mkdir()
    team_dir.chmod(0o2777)
    assert "folder" in (shared_sqlite_reason(team_dir / "new.sqlite") or "")
    with pytest.warns(SharedStoreWarning, match="writable by"):
        open_store(team_dir / "new.sqlite").close()


@pytest.mark.postgres
def test_annotator_processes_with_their_own_roles_keep_the_overlap(pg_url: str, tmp_path: Path) -> None:
    """The claim function and the labels trigger under real concurrency: 4 annotator processes, each logged in
    as itself, 60 labels each, overlap 2 over 150 items: no label lost, none over-assigned, counts exact."""
    import json
    import subprocess
    import sys
    import time
    from collections import Counter

    from test_team_concurrency import _WORKER, _env

    names = [f"proc{a}" for a in range(4)]
    team.setup(pg_url, annotators=names, leads=["lead"], passwords={n: f"pw-{n}" for n in names}, echo=False)
    items = [f"item{i:04d}" for i in range(150)]
    with open_store(pg_url) as admin:
        admin.register_items("team", items, overlap=2)
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, _as(pg_url, n), "team", n, "60", str(go), "120"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
        )
        for n in names
    ]
    time.sleep(1.0)
    go.touch()
    acked: list[str] = []
    try:
        for n, proc in zip(names, procs, strict=True):
            out, err = proc.communicate(timeout=150)
            assert proc.returncode == 0, f"{n} failed:\n{err[-3000:]}"
            rows = [json.loads(line) for line in out.splitlines()]
            assert len(rows) == 60 and not any(r.get("none") for r in rows), n
            acked += [r["label_id"] for r in rows]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    with open_store(pg_url) as admin:
        stored = admin.labels()
        status = assign.item_status(admin, "team")
        rows = assign.assignment_rows(admin, "team")
        assert admin.leases("team").empty
    assert sorted(stored["label_id"]) == sorted(acked)
    assert stored.groupby("item_id")["annotator"].nunique().max() <= 2
    counts = Counter(stored["item_id"])
    assert all(int(d) == counts.get(i, 0) for i, d in zip(status["item_id"], status["done"], strict=True))
    assert set(rows["state"]) == {"done"} and len(rows) == 240
