"""The durable label store on real SQLite files and (marked postgres) a real PostgreSQL server."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import text

import factories
from rank_widget import schema
from rank_widget.schema import LabelError, LabelRules
from rank_widget.store import STORE_SCHEMA_VERSION, AppendResult, Store, StoreError, columns, open_store

T0 = pd.Timestamp("2026-11-28T10:00:00", tz="UTC")
RIDS = ["r1", "r2"]


def rec(label_id: str, item_id: str = "i1", annotator: str = "ann", **kw: Any) -> dict[str, Any]:
    submitted_at = T0 + pd.Timedelta(seconds=len(label_id))
    fields = {
        "winner": "r1",
        "strength": 2,
        "display_order": ["r2", "r1"],
        "submitted_at": submitted_at,
        **kw,
    }
    return factories.label(label_id, item_id, annotator, **fields)


@pytest.fixture
def store(store_target: str) -> Iterator[Store]:
    with open_store(store_target) as s:
        yield s


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------------------------------------------------------
# append: revisions, idempotence, validation


def test_append_assigns_revision_and_supersedes(store: Store) -> None:
    first = store.append(rec("a"), response_ids=RIDS)
    assert first == AppendResult("a", 1, None, False)
    # Caller-supplied revision/supersedes are ignored: the store assigns them.
    second = store.append(rec("b", winner="tie", strength=0, revision=9, supersedes="zzz"), response_ids=RIDS)
    assert second == AppendResult("b", 2, "a", False)
    third = store.append(rec("c", status="skipped", winner=None, strength=None), response_ids=RIDS)
    assert third == AppendResult("c", 3, "b", False)
    # Another annotator, another source and another item each start their own chain.
    assert store.append(rec("d", annotator="bob"), response_ids=RIDS).revision == 1
    assert store.append(rec("e", source="import"), response_ids=RIDS).revision == 1
    assert store.append(rec("f", item_id="i2"), response_ids=RIDS).revision == 1
    df = store.labels()
    assert df["label_id"].tolist() == ["a", "b", "c", "d", "e", "f"]
    assert df["revision"].tolist() == [1, 2, 3, 1, 1, 1]
    assert df["supersedes"].tolist() == [None, "a", "b", None, None, None]


def test_append_is_idempotent_on_label_id(store: Store) -> None:
    assert not store.append(rec("a"), response_ids=RIDS).duplicate
    again = store.append(rec("a"), response_ids=RIDS)
    assert again == AppendResult("a", 1, None, True)
    # Same id with different content: still not written; the stored row wins.
    changed = store.append(rec("a", winner="r2", rationale="changed my mind"), response_ids=RIDS)
    assert changed == AppendResult("a", 1, None, True)
    df = store.labels()
    assert len(df) == 1
    assert df.loc[0, "winner"] == "r1"
    assert df.loc[0, "rationale"] == ""


def test_label_id_reused_for_another_item_is_not_stored(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    store.append(rec("a"), response_ids=RIDS)
    with caplog.at_level("WARNING", logger="rank_widget.store.core"):
        res = store.append(rec("a", item_id="i9", annotator="mallory"), response_ids=RIDS)
    assert res == AppendResult("a", 1, None, True)
    assert "already stored for item 'i1' by 'ann'" in caplog.text
    assert store.labels()[["item_id", "annotator"]].values.tolist() == [["i1", "ann"]]
    assert bool(store)  # truthy even though len() counts rows


def test_invalid_label_is_rejected_and_nothing_stored(store: Store) -> None:
    with pytest.raises(LabelError, match=r"label 'bad' \(item 'i1'\): field 'winner'"):
        store.append(rec("bad", winner="r9"), response_ids=RIDS)
    with pytest.raises(LabelError, match="field 'rationale'"):
        store.append(rec("bad2"), response_ids=RIDS, rules=LabelRules(rationale="required"))
    with pytest.raises(LabelError, match="field 'colour'"):
        store.append(rec("bad3", colour="red"))
    assert len(store) == 0
    assert store.count() == 0


def test_round_trip_every_column(store: Store) -> None:
    rules = LabelRules(criteria=("helpful", "honest"), scale=7)
    ranking = rec(
        "rk",
        task="ranking",
        winner=None,
        strength=None,
        ranking=[["r3"], ["r1", "r2"]],
        display_order=["r1", "r3", "r2"],
        ratings={"r1": {"helpful": 7, "honest": 1}, "r3": {"helpful": 4}},
        rationale='Ünïcode "quotes", newline\nand \\ backslash 😀',
        flags=["harmful", "both_bad"],
        flag_note="note",
        guideline_version="v2",
        started_at="2026-11-28T11:59:58.123456+01:00",
        active_ms=12_345,
    )
    pair = rec("pw", item_id="i2")
    store.append(ranking, response_ids=["r1", "r2", "r3"], rules=rules)
    store.append(pair, response_ids=RIDS)
    got = store.labels()
    expected = schema.labels_frame(
        [
            {**schema.validate_label(ranking, response_ids=["r1", "r2", "r3"], rules=rules), "revision": 1},
            {**schema.validate_label(pair, response_ids=RIDS), "revision": 1},
        ]
    )
    pd.testing.assert_frame_equal(got, expected)
    pd.testing.assert_series_equal(got.dtypes, schema.empty_labels().dtypes)
    assert got.loc[0, "started_at"] == pd.Timestamp("2026-11-28T10:59:58.123456", tz="UTC")
    assert got.loc[0, "ratings"] == {"r1": {"helpful": 7, "honest": 1}, "r3": {"helpful": 4}}
    # Rows do not share mutable lists (each decoded separately).
    assert got.loc[0, "flags"] is not got.loc[1, "flags"]


def test_empty_store_reads(store: Store) -> None:
    df = store.labels()
    assert df.empty
    pd.testing.assert_series_equal(df.dtypes, schema.empty_labels().dtypes)
    assert store.current().empty
    assert store.labelled_item_ids("ann") == set()
    assert store.count() == 0
    assert store.append_many([]) == []


# ------------------------------------------------------------------------------------------------------------
# append_many


def test_append_many_assigns_revisions_across_existing_and_batch(store: Store) -> None:
    store.append(rec("a"), response_ids=RIDS)
    results = store.append_many(
        [rec("b"), rec("c", item_id="i2"), rec("a"), rec("d"), rec("d"), rec("e", annotator="bob")],
        response_ids={"i1": RIDS, "i2": RIDS},
    )
    assert results == [
        AppendResult("b", 2, "a", False),
        AppendResult("c", 1, None, False),
        AppendResult("a", 1, None, True),
        AppendResult("d", 3, "b", False),
        AppendResult("d", 3, "b", True),
        AppendResult("e", 1, None, False),
    ]
    df = store.labels()
    assert df["label_id"].tolist() == ["a", "b", "c", "d", "e"]
    assert df["revision"].tolist() == [1, 2, 1, 3, 1]


def test_append_many_is_all_or_nothing(store: Store) -> None:
    store.append(rec("a"), response_ids=RIDS)
    with pytest.raises(LabelError, match=r"label 'x2'.*field 'strength'"):
        store.append_many([rec("x1"), rec("x2", strength=7), rec("x3")])
    assert store.labels()["label_id"].tolist() == ["a"]
    with pytest.raises(LabelError, match="field 'ranking'"):
        store.append_many(
            [rec("y1", item_id="i2", ranking=[["r1"], ["r7"]], winner=None)], response_ids={"i2": RIDS}
        )
    assert len(store) == 1


def test_append_many_large_batch(store: Store) -> None:
    n = 5_000
    batch = [rec(f"L{i}", item_id=f"it{i % 1000}", annotator=f"a{i % 3}") for i in range(n)]
    results = store.append_many(batch)
    assert sum(not r.duplicate for r in results) == n
    df = store.labels()
    assert len(df) == n
    assert df["label_id"].tolist() == [f"L{i}" for i in range(n)]
    # i and i + 3000 share item (i % 1000) and annotator (i % 3): revisions 1, 2 in order.
    revs = dict(zip(df["label_id"], df["revision"], strict=True))
    assert revs["L0"] == 1 and revs["L3000"] == 2
    assert store.count() == 3000  # 1000 items x 3 annotators, each counted once
    # A second batch on top re-labels some of the same keys.
    more = [
        rec(f"M{i}", item_id=f"it{i % 1000}", annotator="a0", status="skipped", winner=None, strength=None)
        for i in range(0, 1500, 3)
    ]
    store.append_many(more)
    df = store.labels()
    pd.testing.assert_frame_equal(store.current(), schema.current_labels(df))
    assert store.count() == 3000 - 500
    assert store.count("a0") == 1000 - 500


# ------------------------------------------------------------------------------------------------------------
# reads


def test_labels_filters(store: Store) -> None:
    store.append_many(
        [
            rec("a"),
            rec("b", annotator="bob"),
            rec("c", item_id="i2"),
            rec("d", source="import"),
            rec("e", item_id="i3", annotator="bob"),
        ]
    )
    assert store.labels(annotator="bob")["label_id"].tolist() == ["b", "e"]
    assert store.labels(item_ids=["i2", "i3"])["label_id"].tolist() == ["c", "e"]
    assert store.labels(source="import")["label_id"].tolist() == ["d"]
    assert store.labels(annotator="ann", item_ids={"i1"}, source="widget")["label_id"].tolist() == ["a"]
    many = [f"x{i}" for i in range(2000)] + ["i3"]
    assert store.labels(item_ids=many)["label_id"].tolist() == ["e"]
    assert store.labels(annotator="nobody").empty


def test_labels_read_in_chunks_keeps_order(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    batch = [
        rec(f"c{i:03d}", item_id=f"i{i % 4}", rationale=f"row {i}", flags=["harmful"] if i % 5 else [])
        for i in range(50)
    ]
    store.append_many(batch)
    whole = store.labels()
    monkeypatch.setattr(columns, "CHUNK_ROWS", 7)  # 50 rows -> 8 aggregated chunks
    chunked = store.labels()
    pd.testing.assert_frame_equal(chunked, whole)
    assert chunked["label_id"].tolist() == [f"c{i:03d}" for i in range(50)]
    assert chunked["rationale"].tolist() == [f"row {i}" for i in range(50)]
    assert store.labels(annotator="ann", item_ids=["i1"])["label_id"].tolist() == [
        f"c{i:03d}" for i in range(1, 50, 4)
    ]


def test_labels_keep_insertion_order_when_read_through_an_index(store: Store) -> None:
    order = [("z1", "i2"), ("z2", "i1"), ("z3", "i2"), ("z4", "i1"), ("z5", "i3")]
    store.append_many([rec(lid, item_id=item) for lid, item in order])
    # The item filter lets the database scan the (item, annotator, source, revision) index, i.e. in item
    # order; the result must still come back in insertion order.
    assert store.labels(item_ids=["i1", "i2"])["label_id"].tolist() == ["z1", "z2", "z3", "z4"]
    assert store.current()["label_id"].tolist() == ["z3", "z4", "z5"]


def test_current_labelled_and_count(store: Store) -> None:
    store.append_many(
        [
            rec("a1", item_id="i1"),
            rec("a2", item_id="i1", winner="r2"),  # re-label: a2 is current
            rec("a3", item_id="i2", status="skipped", winner=None, strength=None),
            rec("a4", item_id="i3"),
            rec("a5", item_id="i3", status="skipped", winner=None, strength=None),  # now skipped
            rec("b1", item_id="i1", annotator="bob"),
        ]
    )
    cur = store.current()
    assert sorted(cur["label_id"]) == ["a2", "a3", "a5", "b1"]
    assert store.current("ann")["label_id"].tolist() == ["a2", "a3", "a5"]
    assert store.labelled_item_ids("ann") == {"i1", "i2", "i3"}
    assert store.labelled_item_ids("bob") == {"i1"}
    assert store.labelled_item_ids("carol") == set()
    assert store.count() == 2  # a2 and b1; skipped and superseded rows do not count
    assert store.count("ann") == 1
    assert store.count("carol") == 0
    assert len(store) == 6
    pd.testing.assert_frame_equal(cur, schema.current_labels(store.labels()))


# ------------------------------------------------------------------------------------------------------------
# open_store targets


def test_reopen_keeps_labels(store_target: str) -> None:
    with open_store(store_target) as s:
        s.append(rec("a"), response_ids=RIDS)
        assert s.schema_version == STORE_SCHEMA_VERSION
    with open_store(store_target) as s:
        assert s.labels()["label_id"].tolist() == ["a"]
        assert s.append(rec("b"), response_ids=RIDS).supersedes == "a"


def test_store_passes_through_and_closes(store_target: str) -> None:
    s = open_store(store_target)
    assert open_store(s) is s
    s.close()
    s.close()  # twice is fine
    with pytest.raises(StoreError, match="closed"):
        s.labels()


def test_meta_table(store: Store) -> None:
    with store.db.engine.connect() as conn:
        meta = dict(conn.execute(text("SELECT key, value FROM meta")).all())  # type: ignore[arg-type]
    assert meta["app"] == "rank_widget"
    assert meta["schema_version"] == str(STORE_SCHEMA_VERSION)
    assert meta["label_schema_version"] == str(schema.SCHEMA_VERSION)
    assert pd.Timestamp(meta["created_at"]).tzinfo is not None


def test_memory_store_persists_for_its_life() -> None:
    with open_store(":memory:") as s:
        s.append(rec("a"), response_ids=RIDS)
        s.append(rec("b"), response_ids=RIDS)
        assert s.labels()["revision"].tolist() == [1, 2]
    with open_store(":memory:") as fresh:
        assert len(fresh) == 0
    with open_store("sqlite://") as also_memory:
        assert also_memory.path is None


def test_sqlite_url_and_pathlike(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite"
    with open_store(f"sqlite:///{path}") as s:
        s.append(rec("a"), response_ids=RIDS)
        assert s.path == path
    with open_store(path) as s:
        assert len(s) == 1


def test_sqlite_is_wal_and_synchronous_full(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite"
    with open_store(path) as s, s.db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_unsupported_targets(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="unsupported store URL"):
        open_store("mysql://u@h/db")
    with pytest.raises(StoreError, match="psycopg"):
        open_store("postgresql+psycopg2://u@h/db")
    with pytest.raises(TypeError, match="needs a path"):
        open_store(42)  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="is a directory"):
        open_store(tmp_path)
    with pytest.raises(StoreError, match="does not exist"):
        open_store(tmp_path / "missing" / "labels.sqlite")
    assert not (tmp_path / "missing").exists()


# ------------------------------------------------------------------------------------------------------------
# refusing files that are not ours, without modifying them


def _sqlite(path: Path, *statements: str | tuple[str, tuple[Any, ...]]) -> None:
    """Run ``statements`` (SQL, or SQL and its parameters) on the SQLite file ``path`` with the plain sqlite3
    module, commit and close."""
    con = sqlite3.connect(path)
    for statement in statements:
        con.execute(*((statement,) if isinstance(statement, str) else statement))
    con.commit()
    con.close()


def _assert_refused(path: Path, match: str, **kw: Any) -> StoreError:
    before = sha(path)
    siblings = sorted(p.name for p in path.parent.iterdir())
    with pytest.raises(StoreError, match=match) as info:
        open_store(path, **kw)
    assert str(path) in str(info.value)
    assert sha(path) == before, "a refused file must not be modified"
    assert sorted(p.name for p in path.parent.iterdir()) == siblings
    return info.value


def test_refuses_non_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_bytes(os.urandom(4096))
    _assert_refused(path, "not a SQLite database")
    text_file = tmp_path / "labels.csv"
    text_file.write_text("label_id,item_id\na,b\n")
    _assert_refused(text_file, "not a SQLite database")


def test_refuses_corrupt_store(tmp_path: Path) -> None:
    good = tmp_path / "good.sqlite"
    with open_store(good) as s:
        s.append_many([rec(f"x{i}", item_id=f"i{i}") for i in range(200)])
    data = good.read_bytes()
    assert not Path(f"{good}-wal").exists()  # closed cleanly: everything is in the main file
    # Page 1 (the schema) overwritten with garbage after the 100-byte header.
    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(data[:100] + b"\xff" * 3996 + data[4096:])
    _assert_refused(broken, "corrupt|cannot be read")
    # A file truncated to its header.
    truncated = tmp_path / "truncated.sqlite"
    truncated.write_bytes(data[:100])
    _assert_refused(truncated, "corrupt|cannot be read")


def test_corrupt_data_pages_surface_as_store_error_on_read(tmp_path: Path) -> None:
    path = tmp_path / "pages.sqlite"
    with open_store(path) as s:
        s.append_many([rec(f"x{i}", item_id=f"i{i}", rationale="y" * 200) for i in range(3000)])
    data = bytearray(path.read_bytes())
    assert len(data) > 60 * 4096
    data[40 * 4096 : 60 * 4096] = os.urandom(20 * 4096)  # schema page intact, label rows destroyed
    path.write_bytes(bytes(data))
    with open_store(path) as s, pytest.raises(StoreError, match=r"is corrupt .*restore it from a backup"):
        s.labels()


def test_refuses_foreign_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    _sqlite(
        path,
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)",
        "INSERT INTO customers (name) VALUES ('ada')",
    )
    err = _assert_refused(path, "not a rank_widget store")
    assert "customers" in str(err)
    # A foreign WAL-mode file too (a read-only look must not checkpoint or leave files behind).
    wal = tmp_path / "wal.sqlite"
    _sqlite(wal, "PRAGMA journal_mode=WAL", "CREATE TABLE t (x)")
    _assert_refused(wal, "not a rank_widget store")
    # A table called meta that is not ours.
    fake = tmp_path / "fake.sqlite"
    _sqlite(
        fake, "CREATE TABLE meta (key TEXT, value TEXT)", "INSERT INTO meta VALUES ('app', 'something-else')"
    )
    _assert_refused(fake, "not a rank_widget store")


def test_refuses_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite"
    open_store(path).close()
    _sqlite(
        path, ("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(STORE_SCHEMA_VERSION + 1),))
    )
    err = _assert_refused(path, "newer rank_widget")
    assert "upgrade" in str(err)


_LOCKER = """
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("PRAGMA locking_mode = EXCLUSIVE")
con.execute("BEGIN EXCLUSIVE")
con.execute("UPDATE meta SET value = value WHERE key = 'app'")
print("locked", flush=True)
sys.stdin.read()
"""


def test_refuses_locked_file(tmp_path: Path) -> None:
    path = tmp_path / "locked.sqlite"
    with open_store(path) as s:
        s.append(rec("a"), response_ids=RIDS)
    # Another process holds an exclusive lock for longer than our busy timeout.
    locker = subprocess.Popen(
        [sys.executable, "-c", _LOCKER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
        before = sha(path)
        with pytest.raises(StoreError, match="locked by another process") as info:
            open_store(path, busy_timeout=0.2)
        assert str(path) in str(info.value)
        assert sha(path) == before
    finally:
        assert locker.stdin is not None
        locker.stdin.close()
        locker.wait(timeout=10)
    with open_store(path) as s:  # usable again once the other process is gone
        assert s.labels()["label_id"].tolist() == ["a"]


_OPEN = r"""
import sys
from rank_widget.store import StoreError, open_store
try:
    open_store(sys.argv[1]).close()
    print("opened")
except StoreError as exc:
    print(exc)
"""
# _OPEN on folder/name seen through a read-only bind mount, in a private mount namespace that dies with it
_RO_MOUNT = 'mount --bind "$1" "$2" && mount -o remount,bind,ro "$2" && exec "$3" -c "$4" "$2/$5"'


def _open_read_only(folder: Path, name: str, script: str = _OPEN) -> str:
    """What open_store says about folder/name when the folder (and so the file) is read-only.

    Tests run as root here, and root ignores permission bits, so chmod proves nothing: as root this uses a
    real read-only mount (EROFS, what a hub's read-only share gives), made with `unshare --mount` so it is
    private to one child process; as any other user, chmod."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in (folder, folder / name)}
        for p in modes:
            p.chmod(0o555 if p.is_dir() else 0o444)
        try:
            return subprocess.run(
                [sys.executable, "-c", script, str(folder / name)], capture_output=True, text=True, check=True
            ).stdout.strip()
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
    view = folder.parent / "read-only-view"
    view.mkdir(exist_ok=True)
    args = [str(folder), str(view), sys.executable, script, name]
    proc = subprocess.run(
        ["unshare", "--mount", "sh", "-c", _RO_MOUNT, "sh", *args], capture_output=True, text=True, timeout=60
    )
    if proc.returncode != 0 and "mount" in proc.stderr:
        pytest.skip(f"cannot make a read-only mount here (needs CAP_SYS_ADMIN): {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().replace(str(view), str(folder))


def _shared_store(tmp_path: Path, *label_ids: str) -> tuple[Path, Path]:
    """A folder "share" holding labels.sqlite with one label per id (items i1, i2, ...): (folder, store)."""
    folder = tmp_path / "share"
    folder.mkdir()
    path = folder / "labels.sqlite"
    with open_store(path) as s:
        for k, label_id in enumerate(label_ids):
            s.append(rec(label_id, item_id=f"i{k + 1}"), response_ids=RIDS)
    return folder, path


def test_read_only_store_says_read_only_not_restore(tmp_path: Path) -> None:
    # issue 13, finding 9: a store on a read-only mount said "restore the store from a backup"
    folder, path = _shared_store(tmp_path, "a")
    before = sha(path)
    said = _open_read_only(folder, "labels.sqlite")
    assert said == (
        f"the store file {path} is read-only (or its folder is): to read it (labels, audit, reports) use "
        "open_store(path, read_only=True); to label, open it from a writable location or fix the "
        "permissions; the file is intact"
    )
    assert "backup" not in said
    assert sha(path) == before and sorted(p.name for p in folder.iterdir()) == ["labels.sqlite"]
    said = _open_read_only(folder, "new.sqlite")
    assert said.startswith(f"{folder / 'new.sqlite'}: the folder {folder} is read-only"), said
    assert "choose a writable location" in said
    with open_store(path) as s:  # writable again: intact, nothing lost
        assert s.labels()["label_id"].tolist() == ["a"]


_OPEN_READ_ONLY = r"""
import sys
from rank_widget.store import StoreError, open_store
with open_store(sys.argv[1], read_only=True) as s:
    print(",".join(s.labels()["label_id"]))
    try:
        s.comment("a", "looks fine", by="lead")
    except StoreError as exc:
        print(exc)
"""


def test_read_only_store_is_read_on_a_read_only_mount(tmp_path: Path) -> None:
    # a lead audits a store on a read-only share: read_only=True reads every label, writes nothing (not even
    # the -wal/-shm files SQLite keeps next to a store), and a write is refused with the reason
    folder, path = _shared_store(tmp_path, "a", "b")
    before = sha(path)
    said = _open_read_only(folder, "labels.sqlite", _OPEN_READ_ONLY).splitlines()
    assert said == [
        "a,b",
        f"{path}: this store was opened with read_only=True, so it cannot be written; open it without "
        "read_only (from a writable location) to label, adjudicate or import",
    ]
    assert sha(path) == before and sorted(p.name for p in folder.iterdir()) == ["labels.sqlite"]


def test_read_only_store_follows_a_live_writer(tmp_path: Path) -> None:
    # in a writable folder read_only=True reads the write-ahead log too: labels a labeler stores while the
    # analyst watches are seen at once; the store file itself is never written by the reader
    path = tmp_path / "labels.sqlite"
    writer = open_store(path)
    writer.append(rec("a"), response_ids=RIDS)
    reader = open_store(path, read_only=True)
    assert reader.labels()["label_id"].tolist() == ["a"]
    writer.append(rec("b", item_id="i2"), response_ids=RIDS)
    assert reader.labels()["label_id"].tolist() == ["a", "b"] and len(reader) == 2
    with pytest.raises(StoreError, match="opened with read_only=True, so it cannot be written"):
        reader.append(rec("c", item_id="i3"), response_ids=RIDS)
    with pytest.raises(StoreError, match="opened with read_only=True"):
        reader.append_many(pd.DataFrame([rec("d", item_id="i4")]), response_ids={"i4": RIDS})
    with pytest.raises(StoreError, match="opened with read_only=True"):
        reader.comment("a", "looks fine", by="lead")
    reader.close()
    writer.close()
    with open_store(path) as s:
        assert s.labels()["label_id"].tolist() == ["a", "b"]


def test_read_only_refuses_what_it_cannot_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(StoreError, match="no such store file; read_only=True opens an existing store"):
        open_store(tmp_path / "missing.sqlite", read_only=True)
    assert not (tmp_path / "missing.sqlite").exists()
    with pytest.raises(StoreError, match="read_only=True opens SQLite store files"):
        open_store(":memory:", read_only=True)
    with (
        open_store(":memory:") as writable,
        pytest.raises(StoreError, match="this Store is open for writing"),
    ):
        open_store(writable, read_only=True)
    notes = tmp_path / "notes.sqlite"
    notes.write_text("not a database")
    with pytest.raises(StoreError, match="is not a SQLite database"):
        open_store(notes, read_only=True)
    blank = tmp_path / "blank.sqlite"
    sqlite3.connect(blank).execute("PRAGMA user_version = 0").connection.close()
    with pytest.raises(StoreError, match=r"is an empty store .* read_only=True cannot upgrade it"):
        open_store(blank, read_only=True)
    # a -wal file without its -shm in a read-only folder: commits this process could not read, so refused
    path = tmp_path / "labels.sqlite"
    with open_store(path) as s:
        s.append(rec("a"), response_ids=RIDS)
    Path(f"{path}-wal").write_bytes(b"x" * 32)
    real_access = os.access
    monkeypatch.setattr(
        "rank_widget.store.engine.os.access",
        lambda p, mode: False if Path(p) == tmp_path and mode == os.W_OK else real_access(p, mode),
    )
    with pytest.raises(StoreError, match=r"labels\.sqlite-wal\) holds labels not yet in the file"):
        open_store(path, read_only=True)


def test_append_many_takes_a_labels_frame(tmp_path: Path) -> None:
    with open_store(tmp_path / "labels.sqlite") as s:
        got = s.append_many(
            pd.DataFrame([rec("a"), rec("b", item_id="i2")]), response_ids={"i1": RIDS, "i2": RIDS}
        )
        assert [r.label_id for r in got] == ["a", "b"] and s.labels()["item_id"].tolist() == ["i1", "i2"]


def test_read_only_store_file_in_a_writable_folder(tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    with open_store(path) as s:
        s.append(rec("a"), response_ids=RIDS)
    before = sha(path)
    # root ignores chmod; an immutable file (chattr +i) is refused writes even to root
    lock = ["chattr", "+i", str(path)] if os.geteuid() == 0 else ["chmod", "444", str(path)]
    unlock = ["chattr", "-i", str(path)] if os.geteuid() == 0 else ["chmod", "644", str(path)]
    made = subprocess.run(lock, capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot make the file read-only here: {made.stderr.strip()}")
    try:
        with pytest.raises(StoreError) as info:
            open_store(path)
    finally:
        subprocess.run(unlock, check=True)
    assert str(info.value) == (
        f"the store file {path} is read-only (or its folder is): to read it (labels, audit, reports) use "
        "open_store(path, read_only=True); to label, open it from a writable location or fix the "
        "permissions; the file is intact"
    )
    assert sha(path) == before
    with open_store(path) as s:
        assert s.labels()["label_id"].tolist() == ["a"]


def test_empty_file_and_empty_database_are_new(tmp_path: Path) -> None:
    zero = tmp_path / "zero.sqlite"
    zero.touch()
    with open_store(zero) as s:
        s.append(rec("a"), response_ids=RIDS)
    with open_store(zero) as s:
        assert len(s) == 1
    blank = tmp_path / "blank.sqlite"
    sqlite3.connect(blank).execute("PRAGMA user_version = 0").connection.close()
    with open_store(blank) as s:
        assert s.schema_version == STORE_SCHEMA_VERSION


@pytest.mark.postgres
def test_postgres_refuses_foreign_database(pg_url: str) -> None:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE customers (id int)")
    with pytest.raises(StoreError, match="not a rank_widget store"):
        open_store(pg_url)
    with psycopg.connect(pg_url) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert tables == {"customers"}


@pytest.mark.postgres
def test_postgres_refuses_newer_schema(pg_url: str) -> None:
    open_store(pg_url).close()
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE meta SET value = %s WHERE key = 'schema_version'", (str(STORE_SCHEMA_VERSION + 1),)
        )
    with pytest.raises(StoreError, match="newer rank_widget"):
        open_store(pg_url)


def test_postgres_unreachable_server_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="cannot connect"):
        open_store("postgresql://nobody@127.0.0.1:1/nothing")


# ------------------------------------------------------------------------------------------------------------
# concurrency


def test_concurrent_writers_get_distinct_revisions(store_target: str) -> None:
    """Several Store objects (separate connections) re-label the same item at once."""
    open_store(store_target).close()
    writers, per_writer = 4, 25
    errors: list[BaseException] = []

    def work(w: int) -> None:
        try:
            with open_store(store_target, busy_timeout=30) as s:
                for i in range(per_writer):
                    s.append(rec(f"w{w}-{i}", submitted_at=T0), response_ids=RIDS)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with open_store(store_target) as s:
        df = s.labels()
        pd.testing.assert_frame_equal(s.current(), schema.current_labels(df))
        assert s.count() == 1
    assert len(df) == writers * per_writer
    assert sorted(df["revision"]) == list(range(1, writers * per_writer + 1))
    # The revisions form one chain: each row supersedes the row with the revision before it.
    by_rev = df.set_index("revision")
    for r in range(2, writers * per_writer + 1):
        assert by_rev.loc[r, "supersedes"] == by_rev.loc[r - 1, "label_id"]


def test_same_label_id_from_concurrent_writers_is_stored_once(store_target: str) -> None:
    open_store(store_target).close()
    results: list[AppendResult] = []
    barrier = threading.Barrier(4)

    def work() -> None:
        with open_store(store_target, busy_timeout=30) as s:
            barrier.wait()
            for i in range(10):
                results.append(s.append(rec(f"same-{i}", submitted_at=T0), response_ids=RIDS))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 40
    assert sum(not r.duplicate for r in results) == 10
    with open_store(store_target) as s:
        df = s.labels()
    assert sorted(df["label_id"]) == sorted(f"same-{i}" for i in range(10))
    assert sorted(df["revision"]) == list(range(1, 11))
    # Every caller got the revision that is actually stored for its label_id.
    stored = dict(zip(df["label_id"], df["revision"], strict=True))
    assert all(stored[r.label_id] == r.revision for r in results)


def test_one_store_shared_by_threads(store: Store) -> None:
    def work(w: int) -> None:
        for i in range(20):
            store.append(rec(f"t{w}-{i}", item_id=f"i{i % 5}"), response_ids=RIDS)
            store.count()

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    df = store.labels()
    assert len(df) == 80
    pd.testing.assert_frame_equal(store.current(), schema.current_labels(df))
    assert df.groupby("item_id")["revision"].apply(sorted).tolist() == [list(range(1, 17))] * 5


# ------------------------------------------------------------------------------------------------------------
# computed queues: the store ranks "disagreements" by its caller's scores (it does not import quality)


def test_disagreements_queue_takes_the_callers_scores(store: Store) -> None:
    store.append_many(
        [
            rec("a1", item_id="i1", annotator="ann"),
            rec("b1", item_id="i1", annotator="bob", winner="r2"),
            rec("a2", item_id="i2", annotator="ann"),
            rec("b2", item_id="i2", annotator="bob", winner="r2"),
            rec("a3", item_id="i3", annotator="ann"),
            rec("d3", item_id="i3", annotator="lead", source="adjudication"),
        ]
    )
    scores = pd.DataFrame(
        {"item_id": ["i3", "i2", "i1", "i4"], "disagreement": [1.0, 0.75, 0.5, 0.0], "n_labels": [2, 2, 2, 1]}
    )
    # the caller's order, items above 0 only, adjudicated (decided) items left out
    assert store.queue_item_ids("disagreements", scores=scores) == ["i2", "i1"]
    assert store.queue_since("disagreements") == {}
    with pytest.raises(ValueError, match=r"pass scores=rank_widget\.quality\.disagreement_scores"):
        store.queue_item_ids("disagreements")
    with pytest.raises(ValueError, match="'item_id' and 'disagreement' columns"):
        store.queue_item_ids("disagreements", scores=scores[["item_id"]])
    with pytest.raises(ValueError, match="no undecided items with disagreement"):
        store.queue_item_ids("disagreements", scores=scores[scores["item_id"].isin(["i3", "i4"])])
