"""Turn an ``open_store`` target into a SQLAlchemy engine, refusing files that are not ours before touching
them.

SQLite files are inspected read-only first (header, schema, ``meta``) so a corrupt, foreign, newer or locked
file gets a clear ``StoreError`` and is never modified: the read-write engine (which switches the file to WAL)
is only created once the file is known to be a rank_widget store or new.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from rank_widget.store.tables import APP_NAME, STORE_SCHEMA_VERSION

SQLITE_HEADER = b"SQLite format 3\x00"
DEFAULT_BUSY_TIMEOUT = 5.0  # seconds a writer waits for another writer's lock before giving up


class StoreError(RuntimeError):
    """The store cannot be opened or used. The message names the file/URL and says what to do."""


@dataclass(frozen=True)
class Target:
    kind: str  # "sqlite-file" | "sqlite-memory" | "postgresql"
    url: URL
    path: Path | None
    display: str  # the file path, ":memory:", or the URL with its password hidden


def resolve(target: str | os.PathLike[str]) -> Target:
    """Classify a path / URL into an engine kind."""
    if isinstance(target, os.PathLike):
        return _sqlite_file(Path(target))
    if not isinstance(target, str):
        raise TypeError(
            f"open_store() needs a path, ':memory:', a sqlite:/// or postgresql:// URL, or a "
            f"Store; got {type(target).__name__}"
        )
    if target == ":memory:":
        return Target("sqlite-memory", make_url("sqlite://"), None, ":memory:")
    if target.startswith(("postgresql:", "postgres:", "postgresql+")):
        url = make_url(target)
        if url.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
            url = url.set(drivername="postgresql+psycopg")  # psycopg 3; SQLAlchemy's default is psycopg2
        else:
            raise StoreError(
                f"{url.render_as_string(hide_password=True)}: only the psycopg (3) driver is "
                f"supported; use a postgresql:// or postgresql+psycopg:// URL"
            )
        return Target("postgresql", url, None, url.render_as_string(hide_password=True))
    if target.startswith("sqlite:"):
        url = make_url(target)
        if url.database in (None, "", ":memory:"):
            return Target("sqlite-memory", make_url("sqlite://"), None, ":memory:")
        return _sqlite_file(Path(url.database))
    if "://" in target:
        raise StoreError(
            f"{target!r}: unsupported store URL; use a file path, ':memory:', sqlite:///path or "
            f"postgresql://user@host/db"
        )
    return _sqlite_file(Path(target))


def _sqlite_file(path: Path) -> Target:
    path = path.expanduser().absolute()
    return Target("sqlite-file", URL.create("sqlite", database=str(path)), path, str(path))


# ------------------------------------------------------------------------------------------------------------
# SQLite


def check_sqlite_file(path: Path, busy_timeout: float) -> None:
    """Refuse a file that is not a rank_widget store we can open, without modifying it.

    Missing and 0-byte files are new stores; a SQLite file with no tables is adopted.
    """
    if path.is_dir():
        raise StoreError(f"{path}: is a directory; give a file path such as {path / 'labels.sqlite'}")
    if not path.exists():
        if not path.parent.is_dir():
            raise StoreError(
                f"{path}: the folder {path.parent} does not exist; create it or choose another path"
            )
        if not os.access(path.parent, os.W_OK):
            raise StoreError(
                f"{path}: the folder {path.parent} is read-only, so the store cannot be created there; "
                f"choose a writable location or fix the folder's permissions"
            )
        return
    if _read_only(path):
        raise _read_only_error(path)
    size = path.stat().st_size
    if size == 0:
        return
    with open(path, "rb") as fh:
        head = fh.read(len(SQLITE_HEADER))
    if head != SQLITE_HEADER:
        raise StoreError(
            f"{path}: is not a SQLite database (corrupt, or another kind of file); "
            f"choose a new path, or restore the store from a backup"
        )
    sidecars = [Path(f"{path}{s}") for s in ("-wal", "-shm")]
    existed = [p.exists() for p in sidecars]
    ok = False
    try:
        _probe(path, busy_timeout)
        ok = True
    finally:
        if not ok:
            # A read-only open of a WAL file leaves empty -wal/-shm behind; remove only the ones we created.
            for p, was in zip(sidecars, existed, strict=True):
                if not was:
                    with contextlib.suppress(OSError):
                        p.unlink()


def read_only_uri(path: Path) -> str:
    """How to open ``path`` for reading only (``open_store(path, read_only=True)``), changing nothing.

    ``mode=ro`` where SQLite can keep its ``-shm`` index next to the file (a writable folder, or one where the
    ``-wal``/``-shm`` files already exist): it reads a live store safely while others write. In a read-only
    folder with no ``-wal`` file (every commit is in the main file) ``immutable=1``: ``mode=ro`` cannot open a
    WAL store there, and there is no log to miss. A ``-wal`` file without its ``-shm`` in a read-only folder
    holds commits this process could not read: refused."""
    if path.is_dir() or not path.exists():
        raise StoreError(f"{path}: no such store file; read_only=True opens an existing store")
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    if os.access(path.parent, os.W_OK) or (wal.exists() and shm.exists()):
        return f"{path.as_uri()}?mode=ro"
    if wal.exists() and wal.stat().st_size > 0:
        raise StoreError(
            f"{path}: its write-ahead log ({wal.name}) holds labels not yet in the file, and this read-only "
            f"folder has no {shm.name} to read it with; copy {path.name} and {wal.name} to a writable folder "
            "and open the copy"
        )
    return f"{path.as_uri()}?immutable=1"


def check_read_only_file(path: Path, busy_timeout: float) -> str:
    """Check a store to open with read_only=True without changing it; returns the URI to open it with."""
    uri = read_only_uri(path)
    with open(path, "rb") as fh:
        head = fh.read(len(SQLITE_HEADER))
    if head != SQLITE_HEADER:
        raise StoreError(f"{path}: is not a SQLite database (corrupt, or another kind of file)")
    _probe(path, busy_timeout, uri)
    return uri


def _probe(path: Path, busy_timeout: float, uri: str | None = None) -> None:
    uri = uri or f"{path.as_uri()}?mode=ro"
    try:
        con = sqlite3.connect(uri, uri=True, timeout=busy_timeout, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot be opened ({exc}); check the file's permissions") from exc
    try:
        try:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            rows = dict(con.execute("SELECT key, value FROM meta").fetchall()) if "meta" in tables else None
        except sqlite3.OperationalError as exc:
            if _read_only(path) and any(m in str(exc) for m in ("readonly", "unable to open")):
                raise _read_only_error(path) from exc
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreError(
                    f"{path}: is locked by another process (waited {busy_timeout:g} s); close "
                    f"the other program or kernel using it, or retry later"
                ) from exc
            raise StoreError(f"{path}: cannot be read ({exc}); restore the store from a backup") from exc
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{path}: is corrupt ({exc}); restore it from a backup, or try "
                f"`sqlite3 {path.name} .recover` on a copy"
            ) from exc
    finally:
        con.close()
    check_existing(str(path), tables, rows)


def _read_only(path: Path) -> bool:
    """The store file or its folder cannot be written (a read-only mount, permissions, an immutable file).
    SQLite needs both: it writes the file and creates ``-wal``/``-shm`` files next to it."""
    return not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK))


def _read_only_error(path: Path) -> StoreError:
    return StoreError(
        f"the store file {path} is read-only (or its folder is): to read it (labels, audit, reports) use "
        f"open_store(path, read_only=True); to label, open it from a writable location or fix the "
        f"permissions; the file is intact"
    )


def check_existing(where: str, tables: set[str], meta_rows: dict[str, str] | None) -> int:
    """Return the store schema version found (0 = empty database); refuse foreign or newer stores."""
    tables = {t for t in tables if not t.startswith("sqlite_")}
    if not tables:
        return 0
    if meta_rows is None or meta_rows.get("app") != APP_NAME:
        shown = ", ".join(sorted(tables)[:8])
        raise StoreError(
            f"{where}: holds tables that are not a rank_widget store ({shown}); "
            f"give a new file or database for the labels"
        )
    try:
        version = int(meta_rows.get("schema_version", ""))
    except ValueError:
        raise StoreError(
            f"{where}: its meta table has no valid schema_version "
            f"({meta_rows.get('schema_version')!r}); restore the store from a backup"
        ) from None
    if version > STORE_SCHEMA_VERSION:
        raise StoreError(
            f"{where}: was written by a newer rank_widget (store schema {version}; this version "
            f"knows up to {STORE_SCHEMA_VERSION}); upgrade rank_widget to open it"
        )
    return version


def sqlite_engine(target: Target, busy_timeout: float, read_only_uri: str | None = None) -> Engine:
    """``read_only_uri`` (from :func:`check_read_only_file`): connections that can only read; SQLite itself
    refuses every write ("attempt to write a readonly database")."""
    memory = target.kind == "sqlite-memory"
    kwargs: dict[str, Any] = {"connect_args": {"timeout": busy_timeout, "check_same_thread": False}}
    if memory:
        # One shared connection: every pooled connection to ":memory:" would otherwise be a separate database.
        kwargs["poolclass"] = StaticPool
    if read_only_uri is not None:
        uri = read_only_uri
        kwargs = {
            "creator": lambda: sqlite3.connect(uri, uri=True, timeout=busy_timeout, check_same_thread=False)
        }
    engine = create_engine(target.url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, record: ConnectionPoolEntry) -> None:
        # Let us issue BEGIN ourselves (the sqlite3 module's implicit BEGIN is deferred and would let two
        # writers both read the same max(revision) and then fail to upgrade their locks).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        if not memory and read_only_uri is None:
            # WAL: readers (an analyst's notebook) never block the labeler's writes. synchronous=FULL fsyncs
            # the WAL at every commit, so an acknowledged label survives power loss, not only a killed process
            # (NORMAL in WAL mode may lose the last commits on power loss).
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = FULL")
            # 64 MiB page cache (default 2 MiB): the random-key indexes (label_id, item x annotator) of a
            # million-label store otherwise re-read pages from the OS on every append and bulk insert.
            cur.execute("PRAGMA cache_size = -65536")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front (IMMEDIATE), so read-then-insert is atomic across processes.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.pop("rw_immediate", False) else "BEGIN")

    return engine


def postgres_engine(target: Target) -> Engine:
    return create_engine(target.url, pool_pre_ping=True)
