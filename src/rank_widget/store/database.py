"""The store's one handle on its database: the package-internal connection API of ``rank_widget.store``.

``Store`` (core.py), ``assign`` and ``queues`` all run their SQL through the ``Database`` held in
``store.db``, so none of them reaches into another's private methods. It is internal to the package: not part
of the public API, and user code should call ``Store``'s methods instead. What it guarantees:

- ``read()``: a connection under the store's lock, driver errors turned into ``StoreError``; nothing it runs
  is committed (SQLAlchemy rolls its implicit transaction back at exit), so use it only to read.
- ``write()``: ONE transaction, committed when the block exits normally and rolled back if it raises; on
  SQLite it starts with ``BEGIN IMMEDIATE`` (the write lock is held from the first statement, so a
  read-then-write inside it is atomic across processes); on PostgreSQL it is a plain transaction and the
  caller relies on constraints, row locks and retries.
- ``sql(text)``: raw SQL written with ``?`` placeholders, translated to the driver's paramstyle (``%s`` for
  psycopg); ``cursor(conn)``: the connection's raw DBAPI cursor, closed at exit; ``fetch(conn, select)``:
  a Core ``SELECT`` run on that cursor, rows as plain tuples (no Row objects: they cost at a million rows).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, Protocol

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.sql import Select

from rank_widget.store.access import OFF, Access, AccessDenied, denied_message
from rank_widget.store.engine import StoreError, Target

Connect = Callable[[], AbstractContextManager[Connection]]


class Database:
    """An engine plus the lock, transaction and error rules every module of the store uses (see above).

    Thread-safe: one re-entrant lock serialises this object's use of the database (the widget's message
    handler and the analyst's cells may run on different threads).
    """

    def __init__(self, engine: Engine, target: Target) -> None:
        self.engine = engine
        self.target = target
        self.dialect: str = engine.dialect.name  # "sqlite" | "postgresql"
        self.url = target.display
        # What a concurrent writer's duplicate key raises, through SQLAlchemy or from a raw DBAPI cursor.
        self.integrity_errors = (IntegrityError, engine.dialect.loaded_dbapi.IntegrityError)
        self._lock = threading.RLock()
        self._closed = False
        # PostgreSQL set up with team.setup: what the connected role may do (store/access.py); set at open.
        self.access: Access = OFF
        self.read_only = False  # open_store(..., read_only=True): SQLite refuses every write

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self.engine.dispose()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"{self.url}: this store is closed; open it again with open_store()")

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading, under the lock; its implicit transaction is rolled back at exit."""
        self._check_open()
        with self._lock, self.errors(), self.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction, committed on normal exit, rolled back on an exception (SQLite: BEGIN
        IMMEDIATE, so it holds the write lock from the start)."""
        with self.read() as conn:
            if self.dialect == "sqlite":
                conn.info["rw_immediate"] = True  # read by engine.sqlite_engine's "begin" listener
            with conn.begin():
                yield conn

    @contextmanager
    def readers(self) -> Iterator[Connect]:
        """Connection factory for one read that may run its queries on several threads (``columns.read``):
        a fresh pooled connection per call, outside the lock. In-memory SQLite has one shared connection: it
        is lent out under the lock instead (check ``single_connection`` before using threads)."""
        if self.single_connection:
            with self.read() as conn:
                yield lambda: nullcontext(conn)
            return
        self._check_open()
        with self.errors():
            yield self.engine.connect

    @property
    def single_connection(self) -> bool:
        """True for ``:memory:`` SQLite: every pooled connection would otherwise be a separate database."""
        return self.target.kind == "sqlite-memory"

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Turn driver errors (through SQLAlchemy or from a raw DBAPI cursor) into a StoreError that says what
        to do. Integrity errors pass through: the writers retry on them."""
        dbapi: Any = self.engine.dialect.loaded_dbapi
        try:
            yield
        except (IntegrityError, dbapi.IntegrityError, StoreError):
            raise
        except (OperationalError, dbapi.OperationalError) as exc:
            msg = str(getattr(exc, "orig", None) or exc)
            if "locked" in msg or "busy" in msg:
                raise StoreError(
                    f"{self.url}: is locked by another process; close the other program or "
                    f"kernel writing to it, or retry"
                ) from exc
            if self.read_only and ("readonly" in msg or "read-only" in msg):
                raise StoreError(
                    f"{self.url}: this store was opened with read_only=True, so it cannot be written; open "
                    "it without read_only (from a writable location) to label, adjudicate or import"
                ) from exc
            if "readonly" in msg or "read-only" in msg:
                raise StoreError(
                    f"{self.url}: cannot be written ({msg}); check the permissions of the file "
                    f"and its folder (SQLite also writes -wal/-shm files next to it)"
                ) from exc
            if "connection" in msg:
                raise StoreError(
                    f"{self.url}: cannot connect ({msg}); check the URL, that the server is "
                    f"running, and the credentials"
                ) from exc
            raise StoreError(f"{self.url}: database error ({msg}); check the file/server and retry") from exc
        except (DBAPIError, dbapi.DatabaseError) as exc:
            msg = str(getattr(exc, "orig", None) or exc)
            if (
                getattr(getattr(exc, "orig", None) or exc, "sqlstate", None) == "42501"
            ):  # insufficient_privilege
                raise AccessDenied(denied_message(self.url, self.access, msg)) from exc
            if getattr(getattr(exc, "orig", None) or exc, "sqlstate", None) in ("P0002", "22023"):
                raise StoreError(f"{self.url}: {msg.strip()}") from exc  # the access functions' own refusals
            if "malformed" in msg or "not a database" in msg:
                raise StoreError(f"{self.url}: is corrupt ({msg}); restore it from a backup") from exc
            raise

    def sql(self, statement: str) -> str:
        """Raw SQL written with ``?`` placeholders, in this driver's paramstyle."""
        return statement.replace("?", "%s") if self.dialect == "postgresql" else statement

    @contextmanager
    def cursor(self, conn: Connection) -> Iterator[Any]:
        """The raw DBAPI cursor of ``conn`` (inside its transaction), closed at exit. The hot paths use it:
        SQLAlchemy's statement handling cost more CPU than SQLite itself there."""
        cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            yield cur
        finally:
            cur.close()

    def fetch(self, conn: Connection, stmt: Select[Any]) -> list[tuple[Any, ...]]:
        """Run a SELECT on the raw DBAPI cursor: no Row objects, which matters at a million rows."""
        compiled = stmt.compile(dialect=self.engine.dialect, compile_kwargs={"render_postcompile": True})
        params: Any = compiled.params
        if compiled.positional and compiled.positiontup is not None:
            params = tuple(params[k] for k in compiled.positiontup)
        with self.cursor(conn) as cur:
            cur.execute(str(compiled), params)
            return list(cur.fetchall())

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Raw ``?``-placeholder SQL on a read connection; all its rows as tuples."""
        with self.read() as conn, self.cursor(conn) as cur:
            cur.execute(self.sql(sql), params)
            return list(cur.fetchall())


class UsesDatabase(Protocol):
    """Anything that holds its ``Database`` as ``db``, i.e. a ``Store``. ``assign`` and ``queues`` take their
    store typed this way, so they need not import ``core`` (which imports them)."""

    @property
    def db(self) -> Database: ...
