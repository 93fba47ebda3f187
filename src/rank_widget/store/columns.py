"""Read the labels table column by column, fast enough for a million rows (design §8: <= 3 s).

Fetching rows costs one Python object per cell plus one tuple per row. Instead the database aggregates each
column of a chunk into ONE JSON array text (SQLite ``json_group_array``/``group_concat``, PostgreSQL
``json_agg``/``string_agg``), and Python decodes each with a single ``orjson.loads``. The JSON columns are
already JSON text, so they are joined with commas and parsed once; integer columns are parsed by numpy and the
store's fixed-width timestamps as a byte matrix, so neither makes a Python object per value.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import Any

import numpy as np
import orjson
import pandas as pd
from sqlalchemy import Connection, Text, cast, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql import ColumnElement, Select

from rank_widget import schema
from rank_widget.store.tables import labels, latest

COLS = schema.COLUMN_NAMES
JSON_COLS = frozenset(schema.JSON_COLUMNS)
TIME_COLS = frozenset(schema.DATETIME_COLUMNS)
INT_COLS = frozenset(schema.INT_COLUMNS)
NULL_INT = -1  # stand-in for NULL in integer columns while fetching (strength, active_ms, revision are >= 0)
NAMES = ("seq", *COLS)  # the order of _query's aggregates
INT_NAMES = frozenset({"seq", *INT_COLS})
CHUNK_ROWS = 100_000  # seq span per aggregated query: bounds each text (SQLite caps strings at 1 GB) and
# gives the query thread several chunks to overlap with decoding


def _query(
    dialect: str, where: Sequence[ColumnElement[bool]], lo: int, hi: int, latest_only: bool
) -> Select[Any]:
    c = labels.c
    if latest_only:
        # Only the current revisions: the chunk's seqs listed in `latest` (a small integer set per chunk).
        lt = latest.c
        where = [*where, c.seq.in_(select(lt.seq).where(lt.seq > lo, lt.seq <= hi))]

    def values(col: ColumnElement[Any]) -> ColumnElement[Any]:
        if dialect == "postgresql":
            return func.coalesce(cast(func.json_agg(aggregate_order_by(col, c.seq)), Text), "[]")
        # SQLite has no ORDER BY inside aggregates (before 3.44). A seq range scan visits rows in seq (rowid)
        # order; when the planner picks another index, read() sees it in the seq array and reorders.
        # (Aggregating straight from the table costs 40% less than over an ORDER BY subquery.)
        return func.json_group_array(col)

    def joined(col: ColumnElement[Any], null: str) -> ColumnElement[Any]:
        """The chunk's texts joined by commas, NULL written as ``null``."""
        item = func.coalesce(col, null)
        if dialect == "postgresql":
            return func.coalesce(func.string_agg(item, aggregate_order_by(literal_column("','"), c.seq)), "")
        return func.coalesce(func.group_concat(item, ","), "")

    aggs: list[ColumnElement[Any]] = [values(c.seq)]
    for name in COLS:
        if name in JSON_COLS:
            aggs.append(joined(c[name], "null"))
        elif name in TIME_COLS:
            aggs.append(joined(c[name], ""))  # ISO texts hold no comma; read() parses them as fixed-width
        elif name in INT_COLS:
            aggs.append(values(func.coalesce(c[name], NULL_INT)))
        else:
            aggs.append(values(c[name]))
    return select(*aggs).where(*where, c.seq > lo, c.seq <= hi)


Connect = Callable[[], AbstractContextManager[Connection]]


def read(
    connect: Connect,
    dialect: str,
    where: Sequence[ColumnElement[bool]],
    *,
    workers: int = 0,
    latest_only: bool = False,
) -> pd.DataFrame:
    """The labels matching ``where`` (only current revisions with ``latest_only``), in insertion order, as a
    canonical labels DataFrame.

    Chunks are ranges of ``seq`` fixed up front (up to the largest seq visible now), so rows appended while
    reading are left out rather than half-read. With ``workers >= 1`` the chunks' queries run on their own
    connections in threads (the database works without the GIL) while this thread decodes finished chunks.
    Call with the cyclic GC paused: decoding creates millions of small lists.
    """
    c = labels.c
    with connect() as conn:
        lo, hi = conn.execute(select(func.min(c.seq), func.max(c.seq)).where(*where)).one()
    if lo is None:
        return schema.empty_labels()
    bounds = [(a, min(a + CHUNK_ROWS, hi)) for a in range(lo - 1, hi, CHUNK_ROWS)]

    def fetch(bound: tuple[int, int]) -> Sequence[str]:
        with connect() as conn:
            return tuple(conn.execute(_query(dialect, where, *bound, latest_only)).one())

    # Per column, the decoded value list (objects) or int64 array of each chunk, joined once at the end.
    chunks: dict[str, list[Any]] = {name: [] for name in NAMES}

    def decode(row: Sequence[str]) -> None:
        for name, text in zip(NAMES, row, strict=True):
            if name in INT_NAMES:
                chunks[name].append(ints(text))
            elif name in TIME_COLS:
                chunks[name].append(times(text, len(chunks["seq"][-1])))
            else:
                chunks[name].append(loads(f"[{text}]" if name in JSON_COLS else text))

    if workers >= 1 and len(bounds) > 1:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rank_widget-read") as pool:
            for row in pool.map(fetch, bounds):
                decode(row)
    else:
        for bound in bounds:
            decode(fetch(bound))
    data = {
        name: join(parts, name in INT_NAMES or name in TIME_COLS, name in JSON_COLS)
        for name, parts in chunks.items()
    }
    order = data.pop("seq")
    if not len(order):
        return schema.empty_labels()
    if len(order) > 1 and not bool((np.diff(order) > 0).all()):
        # SQLite aggregated in another index's order (see _query).
        perm = np.argsort(order, kind="stable")
        data = {name: values[perm] for name, values in data.items()}
    return frame(data)


def frame(data: dict[str, np.ndarray]) -> pd.DataFrame:
    """Decoded columns -> the canonical labels DataFrame (same dtypes as schema.coerce_labels)."""
    out: dict[str, Any] = {}
    for name in COLS:
        values = data[name]
        if name in INT_COLS:
            out[name] = pd.arrays.IntegerArray(values, values == NULL_INT)
        elif name in TIME_COLS:  # epoch microseconds (see times())
            out[name] = pd.DatetimeIndex(values.view("M8[us]")).tz_localize("UTC")  # schema.TIME_DTYPE
        else:
            # Explicitly object: pandas 3 would otherwise infer its `str` dtype (schema: object + None).
            out[name] = pd.Series(values, dtype=object, copy=False)
    return pd.DataFrame(out, copy=False)


def loads(text: str) -> Any:
    """orjson is 20-60% faster than json on these documents; json also accepts NaN/Infinity (Python's json
    writes them), so it decodes whatever orjson refuses."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def ints(text: str) -> np.ndarray:
    """A JSON array of integers (no nulls: see NULL_INT) -> int64 array, without a Python int per value."""
    body = text.strip()[1:-1]
    if not body.strip():
        return np.empty(0, dtype=np.int64)
    values = np.fromstring(body, dtype=np.int64, sep=",")
    if len(values) != body.count(",") + 1:  # fromstring stops quietly at anything unexpected
        values = np.asarray(loads(text), dtype=np.int64)
    return values


# Python's isoformat of a UTC time (what the store writes): "2026-11-28T09:00:00.000000+00:00" and a comma.
_ISO_WIDTH = 33
_ISO_DIGITS = np.array([0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22, 23, 24, 25])
_ISO_MARKS = {
    4: "-",
    7: "-",
    10: "T",
    13: ":",
    16: ":",
    19: ".",
    26: "+",
    27: "0",
    28: "0",
    29: ":",
    30: "0",
    31: "0",
    32: ",",
}
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
NAT = np.iinfo(np.int64).min  # datetime64's NaT


def times(text: str, n: int) -> np.ndarray:
    """``n`` comma-joined ISO timestamps ('' for NULL) -> int64 microseconds since the epoch (UTC; NAT for
    NULL). The store's own fixed-width texts are parsed as a byte matrix (20x faster than pd.to_datetime);
    anything else goes through pd.to_datetime."""
    if n == 0:
        return np.empty(0, dtype=np.int64)
    if len(text) == _ISO_WIDTH * n - 1 and text.isascii():
        raw = np.frombuffer((text + ",").encode("ascii"), dtype=np.uint8).reshape(n, _ISO_WIDTH)
        marks = all(bool((raw[:, pos] == ord(ch)).all()) for pos, ch in _ISO_MARKS.items())
        d = raw[:, _ISO_DIGITS].astype(np.int64) - ord("0")
        if marks and bool(((d >= 0) & (d <= 9)).all()):
            micros = _micros(d)
            if micros is not None:
                return micros
    values = [v or None for v in text.split(",")]
    parsed = pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601")
    return np.asarray(parsed.dt.as_unit("us").to_numpy(dtype="datetime64[us]").view(np.int64))


def _micros(d: np.ndarray) -> np.ndarray | None:
    """Digit matrix (YYYY MM DD hh mm ss ffffff) -> epoch microseconds; None if a field is out of range."""
    year = d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]
    month, day = d[:, 4] * 10 + d[:, 5], d[:, 6] * 10 + d[:, 7]
    hour, minute, second = d[:, 8] * 10 + d[:, 9], d[:, 10] * 10 + d[:, 11], d[:, 12] * 10 + d[:, 13]
    frac = d[:, 14:20] @ np.array([100_000, 10_000, 1_000, 100, 10, 1])
    if not (bool(((month >= 1) & (month <= 12)).all()) and bool((year >= 1).all())):
        return None
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_days = _DAYS_IN_MONTH[month] + (leap & (month == 2))
    if not bool(((day >= 1) & (day <= month_days) & (hour < 24) & (minute < 60) & (second < 60)).all()):
        return None
    # Days from the civil date (H. Hinnant's algorithm), proleptic Gregorian like datetime64.
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    days = era * 146_097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719_468
    return ((days * 86_400 + hour * 3_600 + minute * 60 + second) * 1_000_000 + frac).astype(np.int64)


def join(parts: list[Any], integer: bool, nested: bool) -> np.ndarray:
    """Per-chunk int64 arrays or value lists -> one 1-D array (object dtype for values)."""
    if integer:
        return np.concatenate(parts) if len(parts) != 1 else parts[0]
    out = np.empty(sum(len(p) for p in parts), dtype=object)
    pos = 0
    for part in parts:
        # Lists would be read as a 2nd dimension by a slice assignment: fromiter keeps them as elements.
        out[pos : pos + len(part)] = object_array(part) if nested else part
        pos += len(part)
    return out


def object_array(values: Sequence[Any]) -> np.ndarray:
    """A 1-D object array of ``values``, lists kept as elements (np.array would build a 2-D array)."""
    return np.fromiter(values, dtype=object, count=len(values))
