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
    inspect,
    text,
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
    # A lead's order for the next claims (assign.set_priorities, e.g. rw.next_items): higher first, 0 = none.
    # Added by migration 7 to stores made before it.
    Column("priority", Integer, nullable=False, server_default="0"),
)
Index("ix_team_items_queue", team_items.c.dataset, team_items.c.gold, team_items.c.done, team_items.c.seq)
PRIORITY_INDEX = Index(
    "ix_team_items_priority",
    team_items.c.dataset,
    team_items.c.gold,
    team_items.c.priority.desc(),
    team_items.c.done,
    team_items.c.seq,
)
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

# -- comments on labels (rank_widget.store.comments; docs/audit.md) -----------------------------------------

label_comments = Table(
    "label_comments",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("comment_id", Text, nullable=False),
    Column("label_id", Text, nullable=False),  # the label commented on (any revision)
    Column("item_id", Text, nullable=False),  # that label's item and annotator: who sees the comment
    Column("annotator", Text, nullable=False),
    Column("text", Text, nullable=False),  # untrusted text, shown as text
    Column("author", Text, nullable=False),
    Column("created_at", Text, nullable=False),  # UTC ISO-8601, like the labels' times
    Column("read_at", Text, nullable=True),  # when the annotator marked it read (None: unread)
    UniqueConstraint("comment_id", name="uq_label_comments_id"),
)
Index("ix_label_comments_item", label_comments.c.item_id, label_comments.c.annotator)

COMMENT_TABLES = (label_comments,)

# -- qualification (rank_widget.store.qualification; docs/qualification.md) ---------------------------------

qualifications = Table(
    "qualifications",
    metadata,
    Column("name", Text, primary_key=True),
    Column("version", Integer, primary_key=True),  # 1, 2, ...: registering changed content adds a version
    Column("pass_mark", Float, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("cooldown_s", Float, nullable=False),
    Column("scoring", Text, nullable=False),  # JSON: the scoring rules (store/qualification.py)
    Column("digest", Text, nullable=False),  # sha256 of the content: the same content is the same version
    Column("created_at", Float, nullable=False),
)

qualification_items = Table(
    "qualification_items",
    metadata,
    Column("name", Text, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("item_id", Text, primary_key=True),
    Column("seq", Integer, nullable=False),  # the order the items are served in
    Column("content", Text, nullable=False),  # JSON: prompt, responses (what the view shows)
    Column("gold", Text, nullable=False),  # JSON: {"winner", "strength"} or {"ranking"}
    Column("gold_ratings", Text, nullable=True),  # JSON: {response_id: {criterion: int}}
    Column("explanation", Text, nullable=True),  # markdown: why this answer
)
Index("ix_qualification_items_item", qualification_items.c.item_id)

qualification_attempts = Table(
    "qualification_attempts",
    metadata,
    Column("attempt_id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("annotator", Text, nullable=False),
    Column("attempt", Integer, nullable=False),  # 1, 2, ... per (name, annotator)
    Column(
        "start_seq", BigInteger, nullable=False
    ),  # labels.seq at the start: later labels are this attempt's
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float, nullable=True),
    Column("score", Float, nullable=True),
    Column("passed", Integer, nullable=True),
    Column("breakdown", Text, nullable=True),  # JSON: per-criterion results
)
Index("ix_qualification_attempts_who", qualification_attempts.c.name, qualification_attempts.c.annotator)

qualification_results = Table(
    "qualification_results",
    metadata,
    Column("attempt_id", Text, primary_key=True),
    Column("item_id", Text, primary_key=True),
    Column("label_id", Text, nullable=True),  # None: not labelled (or skipped) in the attempt
    Column("matched", Integer, nullable=False),
    Column("detail", Text, nullable=False),  # JSON: each check of the item
)

# Append-only history of who is qualified: passed | failed | granted | revoked | requalify | reset. A NULL
# annotator applies to everyone (requalify after a guideline change). The latest event decides.
qualification_events = Table(
    "qualification_events",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False),
    Column("annotator", Text, nullable=True),
    Column("event", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("at", Float, nullable=False),
    Column("attempt_id", Text, nullable=True),
    Column("detail", Text, nullable=True),  # e.g. the guideline version that asked for requalification
)
Index("ix_qualification_events_who", qualification_events.c.name, qualification_events.c.annotator)

dataset_qualifications = Table(
    "dataset_qualifications",
    metadata,
    Column("dataset", Text, primary_key=True),
    Column("name", Text, primary_key=True),
    Column("created_at", Float, nullable=False),
)

QUALIFICATION_TABLES = (
    qualifications,
    qualification_items,
    qualification_attempts,
    qualification_results,
    qualification_events,
    dataset_qualifications,
)

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
    # Comments on labels: review reaches the labeler (issue 14, finding 8).
    for table in COMMENT_TABLES:
        table.create(conn)


def _v5(conn: Connection) -> None:
    # Qualification, training and calibration (issue 11).
    for table in QUALIFICATION_TABLES:
        table.create(conn)


def _v6(conn: Connection) -> None:
    # Label notes: judge calls and suggestion modes (issue 12).
    for table in NOTE_TABLES:
        table.create(conn)


def _v7(conn: Connection) -> None:
    # Team queue priorities: a lead puts active sampling's picks first (issue 12). A store made after this
    # version got the column and index from the table definition already (migration 2 creates the tables).
    if "priority" not in {c["name"] for c in inspect(conn).get_columns("team_items")}:
        conn.execute(text("ALTER TABLE team_items ADD COLUMN priority INTEGER NOT NULL DEFAULT 0"))
    PRIORITY_INDEX.create(conn, checkfirst=True)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "labels, latest and meta tables", _v1),
    Migration(2, "team assignment: datasets, items, assignments (leases)", _v2),
    Migration(3, "named queues: items sent back for another round (audit)", _v3),
    Migration(4, "comments on labels: a lead's review note the annotator sees", _v4),
    Migration(5, "qualification: sets, attempts, results, events, dataset requirements", _v5),
    Migration(6, "label notes: LLM judge calls and suggestion modes (judges)", _v6),
    Migration(7, "team queue priorities: a lead's order for the next claims (active sampling)", _v7),
)

STORE_SCHEMA_VERSION = MIGRATIONS[-1].version
