"""Every table of the store and the migrations that create them, one schema for SQLite and PostgreSQL.

The label tables (``labels``, ``latest``, ``meta``), the team-assignment tables used by ``assign`` and the
named-queue table used by ``queues`` all live here; those modules import their tables from this one, never the
other way round.

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
    Float,
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


# -- team assignment (rank_widget.store.assign; docs/team.md) -----------------------------------------------

team_datasets = Table(
    "team_datasets",
    metadata,
    Column("dataset", Text, primary_key=True),
    Column("overlap", Integer, nullable=False),
    Column("gold_share", Float, nullable=False),
    Column("created_at", Float, nullable=False),
)

team_items = Table(
    "team_items",
    metadata,
    Column("dataset", Text, primary_key=True),
    Column("item_id", Text, primary_key=True),
    Column("seq", BigInteger, nullable=False),  # registration order: the tie-break after `done`
    Column("gold", Integer, nullable=False),  # 1: a gold / attention item, given to every annotator
    Column("done", Integer, nullable=False),  # annotators whose current label here is submitted
)
Index("ix_team_items_queue", team_items.c.dataset, team_items.c.gold, team_items.c.done, team_items.c.seq)
Index("ix_team_items_item", team_items.c.item_id)

assignments = Table(
    "assignments",
    metadata,
    Column("dataset", Text, primary_key=True),
    Column("item_id", Text, primary_key=True),
    Column("annotator", Text, primary_key=True),
    Column("state", Text, nullable=False),  # leased | done | skipped | released
    Column("claimed_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("finished_at", Float, nullable=True),
    Column("label_id", Text, nullable=True),
)
Index("ix_assignments_annotator", assignments.c.dataset, assignments.c.annotator, assignments.c.state)
Index("ix_assignments_item_annotator", assignments.c.item_id, assignments.c.annotator)

TEAM_TABLES = (team_datasets, team_items, assignments)

# -- named queues (rank_widget.store.queues; docs/audit.md) --------------------------------------------------

queue_items = Table(
    "queue_items",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("queue", Text, nullable=False),
    Column("item_id", Text, nullable=False),
    Column("annotator", Text, nullable=True),  # None: the queue is for everyone
    Column("reason", Text, nullable=False),
    Column("added_by", Text, nullable=False),
    Column("added_at", Text, nullable=False),  # UTC ISO-8601, like the labels' times
)
Index("ix_queue_items_queue", queue_items.c.queue, queue_items.c.seq)

QUEUE_TABLES = (queue_items,)

# -- label notes (rank_widget.store.notes; docs/judges.md) ---------------------------------------------------

# Facts about a label that are not part of the label contract: an LLM judge's call (raw reply, tokens, cost,
# latency, attempts, parse status) and the suggestion mode a human label was made under. One row per
# (label_id, kind); a judge call that failed has a note but no label (yet), so it is asked again on resume.
label_notes = Table(
    "label_notes",
    metadata,
    Column("label_id", Text, primary_key=True),
    Column("kind", Text, primary_key=True),  # judge_call | suggestion
    Column("item_id", Text, nullable=False),
    Column("annotator", Text, nullable=False),
    Column("status", Text, nullable=False),  # judge_call: parsed | unparsed | failed; suggestion: the mode
    Column("data", Text, nullable=False),  # compact JSON object
    Column("written_at", Text, nullable=False),  # UTC ISO-8601, like the labels' times
)
Index("ix_label_notes_annotator", label_notes.c.annotator, label_notes.c.kind)

NOTE_TABLES = (label_notes,)

# -- migrations ----------------------------------------------------------------------------------------------


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
    # Team assignment (issue 6).
    for table in TEAM_TABLES:
        table.create(conn)


def _v3(conn: Connection) -> None:
    # Named queues (audit, issue 5).
    for table in QUEUE_TABLES:
        table.create(conn)


def _v4(conn: Connection) -> None:
    # Label notes: judge calls and suggestion modes (issue 12).
    for table in NOTE_TABLES:
        table.create(conn)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "labels, latest and meta tables", _v1),
    Migration(2, "team assignment: datasets, items, assignments (leases)", _v2),
    Migration(3, "named queues: items sent back for another round (audit)", _v3),
    Migration(4, "label notes: LLM judge calls and suggestion modes (judges)", _v4),
)

STORE_SCHEMA_VERSION = MIGRATIONS[-1].version
