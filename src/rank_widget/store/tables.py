"""The store's tables and the migrations that create them, one schema for SQLite and PostgreSQL.

Migrations are a list keyed by store schema version. ``open_store`` applies every migration newer than the
version recorded in ``meta`` inside one transaction, on both engines. Later features (items, assignments,
leases, queues) add a migration here; they never edit an earlier one, and they create their own new tables
and indexes (``labels.create`` in v1 would otherwise pick up an index later attached to ``labels``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
)

from rank_widget import schema

APP_NAME = "rank_widget"

metadata = MetaData()

# One row per label. JSON columns (ranking, ratings, flags, display_order) hold compact JSON text; times are
# UTC ISO-8601 strings with microseconds and a "+00:00" suffix (fixed width, so they sort as text).
_LABEL_TYPES = {
    "str": Text,
    "int": BigInteger,
    "datetime": Text,
    "ranking": Text,
    "str_list": Text,
    "ratings": Text,
}

labels = Table(
    "labels",
    metadata,
    # Insertion order; INTEGER PRIMARY KEY is SQLite's rowid, BIGINT identity on PostgreSQL.
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    *(Column(c.name, _LABEL_TYPES[c.kind](), nullable=c.nullable) for c in schema.COLUMNS),
    UniqueConstraint("label_id", name="uq_labels_label_id"),
    # One revision number per (item, annotator, source): the database itself refuses a duplicated revision,
    # which makes concurrent appends on PostgreSQL safe (the loser retries). Also the lookup index for them.
    UniqueConstraint("item_id", "annotator", "source", "revision", name="uq_labels_key_revision"),
)
Index("ix_labels_annotator", labels.c.annotator)

# The latest revision of each (item, annotator, source): derived from ``labels`` and written in the same
# transaction as every append, so count / labelled_item_ids / current do not scan all revisions. An update
# only ever raises ``revision`` (ON CONFLICT ... WHERE excluded.revision > latest.revision), so concurrent
# writers cannot move it backwards.
latest = Table(
    "latest",
    metadata,
    Column("item_id", Text, primary_key=True),
    Column("annotator", Text, primary_key=True),
    Column("source", Text, primary_key=True),
    Column("label_id", Text, nullable=False),
    Column("revision", BigInteger, nullable=False),
    Column("status", Text, nullable=False),
    Column("seq", BigInteger, nullable=False),  # labels.seq of that revision: current() reads by seq range
)
Index("ix_latest_annotator", latest.c.annotator)
Index("ix_latest_seq", latest.c.seq)
Index("ix_latest_status_annotator", latest.c.status, latest.c.annotator)

meta = Table(
    "meta",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection], None]


def _v1(conn: Connection) -> None:
    labels.create(conn)
    latest.create(conn)
    meta.create(conn)


def _v2(conn: Connection) -> None:
    # Team assignment (issue 6): tables defined in rank_widget.store.assign, created here so both engines
    # migrate on open. Imported late: assign imports this module.
    from rank_widget.store import assign

    for table in assign.TEAM_TABLES:
        table.create(conn)


def _v3(conn: Connection) -> None:
    # Named queues (audit, issue 5): defined in rank_widget.store.queues; imported late like assign.
    from rank_widget.store import queues

    for table in queues.QUEUE_TABLES:
        table.create(conn)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "labels, latest and meta tables", _v1),
    Migration(2, "team assignment: datasets, items, assignments (leases)", _v2),
    Migration(3, "named queues: items sent back for another round (audit)", _v3),
)

STORE_SCHEMA_VERSION = MIGRATIONS[-1].version
