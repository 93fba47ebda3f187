"""Reading items: every source load_items takes (a DataFrame, a list of dicts, a Hugging Face dataset, a
.jsonl/.json/.csv/.parquet file, optionally .gz) becomes a :class:`Table` of plain Python column lists.

:mod:`rank_widget.items` then checks and normalises those columns into the items DataFrame.
"""

from __future__ import annotations

import gzip
import io
import json
import mmap
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

MAX_LISTED = 20  # bad rows (or lines) an error message names; the rest are counted
EXTENSIONS = (".jsonl", ".json", ".csv", ".parquet", ".jsonl.gz", ".json.gz", ".csv.gz")
MISSING: Any = object()  # a key absent from a record (distinct from an explicit None)


class ItemsError(ValueError):
    """A dataset that cannot be loaded. The message names the row (and item id) and the field, and the fix.

    When several rows are bad (``errors="raise"``), ``errors`` holds one ``ItemsError`` per bad row (the
    first one's row, item id and field are this error's own) and the message lists the first 20 of them."""

    def __init__(
        self, row: int | None, item_id: str | None, field: str, problem: str, *, message: str | None = None
    ) -> None:
        self.row = row
        self.item_id = item_id
        self.field = field
        self.problem = problem
        self.errors: list[ItemsError] = [self]
        super().__init__(message if message is not None else self.where() + f": field {field!r}: {problem}")

    def __reduce__(self) -> tuple[Any, ...]:
        # Picklable (multiprocessing, joblib): __init__ takes the parts, not the message.
        others = [e for e in self.errors if e is not self]
        return (_rebuilt, (self.row, self.item_id, self.field, self.problem, str(self), others))

    def where(self) -> str:
        where = "items" if self.row is None else f"row {self.row}"
        if self.item_id is not None:
            where += f" (item {self.item_id!r})"
        return where


# Raised by load_items: shown (and pickled) as rank_widget.items.ItemsError, where users import it from.
ItemsError.__module__ = "rank_widget.items"


def _rebuilt(
    row: int | None, item_id: str | None, field: str, problem: str, message: str, others: list[ItemsError]
) -> ItemsError:
    error = ItemsError(row, item_id, field, problem, message=message)
    error.errors = others or [error]
    return error


@dataclass
class Table:
    columns: list[str]
    get: Callable[[str], list[Any]]  # column name -> one value per row (MISSING when a record lacks the key)
    n: int
    frame: pd.DataFrame | None  # the source DataFrame, for keeping metadata dtypes
    csv: bool = False
    gaps: bool = False  # records that lack some keys: their columns hold MISSING there
    _cache: dict[str, list[Any]] = field(default_factory=dict)

    def col(self, name: str) -> list[Any]:
        if name not in self._cache:
            self._cache[name] = self.get(name)
        return self._cache[name]

    def put(self, name: str, values: list[Any]) -> None:
        """A derived column (combined ids, a model name given as a constant), readable like a source one."""
        self._cache[name] = values

    def rows(self, rows: list[int], *, frame: bool = True) -> Table:
        """The same table restricted to some rows (in order)."""

        def get(name: str) -> list[Any]:
            values = self.col(name)
            return [values[i] for i in rows]

        sub = self.frame.iloc[rows] if frame and self.frame is not None else None
        return Table(self.columns, get, len(rows), sub, self.csv, self.gaps)


def read_source(source: Any, split: str | None = None) -> Table:
    if _is_hf_dict(source):
        source = _hf_split(source, split)
    elif split is not None:
        raise ItemsError(
            None,
            None,
            "split",
            f"split= picks a split of a datasets.DatasetDict; got a {type(source).__name__}",
        )
    if isinstance(source, pd.DataFrame):
        return _frame_table(source)
    if isinstance(source, (str, Path)):
        return _read_path(Path(source))
    if hasattr(source, "to_pandas") and callable(source.to_pandas):  # pyarrow Table, datasets.Dataset, polars
        frame = source.to_pandas()
        if isinstance(frame, pd.DataFrame):
            return _frame_table(frame)
    if isinstance(source, Mapping):
        raise ItemsError(
            None,
            None,
            "source",
            "a dict is not a dataset; pass a list of dicts (one per item),"
            " a DataFrame (for a dict of columns: pd.DataFrame(d)) or a file path",
        )
    if isinstance(source, (bytes, bytearray)) or not isinstance(source, Iterable):
        raise ItemsError(
            None,
            None,
            "source",
            f"cannot read items from a {type(source).__name__}; pass a "
            "DataFrame, a list of dicts or a path to a .jsonl/.json/.csv/.parquet file",
        )
    return _records_table(list(source))


def _is_hf_dict(source: Any) -> bool:
    """A Hugging Face DatasetDict / IterableDatasetDict (recognised without importing ``datasets``)."""
    return isinstance(source, Mapping) and type(source).__module__.split(".")[0] == "datasets"


def _hf_split(source: Mapping[str, Any], split: str | None) -> Any:
    splits = list(source)
    if split is None:
        if len(splits) == 1:
            return source[splits[0]]
        raise ItemsError(
            None,
            None,
            "split",
            f"the DatasetDict has {len(splits)} splits {splits}; choose one with split=..., e.g. "
            f"load_items(ds, split={splits[0]!r}) or load_items(ds[{splits[0]!r}])",
        )
    if split not in source:
        raise ItemsError(None, None, "split", f"no split {split!r}; the DatasetDict has splits {splits}")
    return source[split]


def _frame_table(frame: pd.DataFrame) -> Table:
    names = list(frame.columns)
    for name in names:
        if not isinstance(name, str):
            raise ItemsError(
                None,
                None,
                str(name),
                "column names must be strings; rename the columns (e.g. df.columns = df.columns.astype(str))",
            )
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ItemsError(None, None, dupes[0], "the column appears twice; rename or drop one of them")
    return Table(names, lambda c: frame[c].tolist(), len(frame), frame)


def _records_table(records: list[Any]) -> Table:
    if records and type(records[0]) is dict:
        keys = records[0].keys()
        # The common case (JSON lines of one shape): every record has the same keys, so each column is one
        # itemgetter pass (no per-record .get, no MISSING).
        if all(type(r) is dict and r.keys() == keys for r in records) and all(type(k) is str for k in keys):
            return Table(list(keys), lambda c: list(map(itemgetter(c), records)), len(records), None)
    columns: dict[str, None] = {}
    for i, rec in enumerate(records):
        if not isinstance(rec, Mapping):
            raise ItemsError(
                i, None, "record", f"each item must be a dict (a JSON object), got {type(rec).__name__}"
            )
        for key in rec:
            if not isinstance(key, str):
                raise ItemsError(i, None, str(key), "field names must be strings")
            columns.setdefault(key, None)
    return Table(list(columns), lambda c: [r.get(c, MISSING) for r in records], len(records), None, gaps=True)


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for ext in sorted(EXTENSIONS, key=len, reverse=True):
        if name.endswith(ext):
            return ext
    return path.suffix.lower()


def _read_path(path: Path) -> Table:
    ext = _suffix(path)
    if ext not in EXTENSIONS:
        raise ItemsError(
            None,
            None,
            "source",
            f"unsupported file type {ext or '(none)'!r} for "
            f"{str(path)!r}; use one of {list(EXTENSIONS)}, or load it into a DataFrame first",
        )
    if not path.exists():
        raise FileNotFoundError(f"items file {str(path)!r} does not exist")
    if ext.startswith(".parquet"):
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises its own error types for corrupt files
            raise ItemsError(None, None, "source", f"cannot read {str(path)!r} as Parquet: {exc}") from exc
        return _frame_table(frame)
    if ext.startswith(".csv"):
        return _read_csv(path)
    opener: Callable[..., Any] = gzip.open if ext.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            if ext.startswith(".jsonl"):
                table = _stream_jsonl(fh)
                if table is not None:
                    return table
                fh.seek(0)  # a line orjson refused: read it all again, slowly, to name every bad line
            data: bytes = fh.read()
    except _GZIP_ERRORS as exc:
        raise _corrupt_gzip(path, exc) from exc
    if data.startswith(_BOM):  # tolerate a BOM from Windows tools
        data = data[3:]
    if ext.startswith(".jsonl"):  # the fast reader refused a line: straight to the one that names them all
        return _records_table(_parse_lines_slowly(data[: _content_end(data)].split(b"\n"), path))
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError:
        parsed = _parse_json_slowly(data, path)
        if parsed is MISSING:  # a JSON-lines file named .json
            return _records_table(_parse_jsonl(data, path))
    if not isinstance(parsed, list):
        raise ItemsError(
            None,
            None,
            "source",
            f"{str(path)!r} holds a JSON {type(parsed).__name__}; expected "
            "an array of objects (one per item) or JSON lines",
        )
    return _records_table(parsed)


def _decode(data: bytes, path: Path, offset: int = 0) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ItemsError(
            None,
            None,
            "source",
            f"{str(path)!r} is not valid UTF-8 (byte {offset + exc.start}); re-save it as UTF-8",
        ) from exc


def _parse_json_slowly(data: bytes, path: Path) -> Any:
    """What orjson refused: python's json accepts the bare NaN tokens some datasets contain (and lone
    surrogate escapes, which the text checks then name). MISSING: the file is JSON lines."""
    try:
        return json.loads(_decode(data, path))
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":
            return MISSING
        raise ItemsError(
            None,
            None,
            "source",
            f"{str(path)!r} is not valid JSON: {exc.msg} at line "
            f"{exc.lineno} column {exc.colno}; fix the file or save it as JSON lines",
        ) from exc


# A truncated .gz ends in EOFError, a damaged one in gzip.BadGzipFile (an OSError) or zlib.error.
_GZIP_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error)


def _corrupt_gzip(path: Path, exc: BaseException) -> ItemsError:
    return ItemsError(
        None,
        None,
        "source",
        f"{str(path)!r} is truncated or corrupt (gzip: {exc}); copy or download it again, or re-compress it "
        "from the original",
    )


_BOM = b"\xef\xbb\xbf"
_READ_BYTES = 8 << 20  # JSON lines are read this much at a time into one reused buffer


def _stream_jsonl(fh: io.BufferedIOBase) -> Table | None:
    """JSON lines parsed by orjson line by line from the mapped file (or, for a .gz, from blocks read into one
    reused buffer): no copy of the file, nor of each line. While every record has the first one's keys in the
    same order (a file written by one program), its values go straight into per-column lists: no record dict
    outlives its line and no second pass over the records is needed. None: a line orjson refuses (a bare NaN
    token, invalid UTF-8, broken JSON, a line of spaces), for :func:`_parse_jsonl` to name."""
    loads, append = orjson.loads, list.append
    put_all = deque[None](maxlen=0).extend  # runs a map to its end at C speed, keeping nothing
    keys: tuple[str, ...] | None = None
    columns: list[list[Any]] = []
    records: list[Any] | None = None  # the records themselves, once one does not fit the columns
    n = 0
    for buf, view, pos, last in _line_blocks(fh):
        find = buf.find
        try:
            while pos < last:
                stop = find(b"\n", pos, last)
                if stop < 0:
                    stop = last
                if stop > pos:  # an empty line is no record
                    rec = loads(view[pos:stop])
                    if records is None:
                        if keys is None and type(rec) is dict:
                            keys = tuple(rec)
                            columns = [[] for _ in keys]
                        if type(rec) is dict and tuple(rec) == keys:
                            put_all(map(append, columns, rec.values()))
                        else:
                            records = _as_records(keys, columns, n)
                            records.append(rec)
                    else:
                        records.append(rec)
                    n += 1
                pos = stop + 1
        except orjson.JSONDecodeError:
            return None
    if records is not None:
        return _records_table(records)
    named = dict(zip(keys or (), columns, strict=True))
    return Table(list(named), named.__getitem__, n, None)


def _line_blocks(fh: io.BufferedIOBase) -> Iterator[tuple[Any, memoryview, int, int]]:
    """The file as blocks of whole lines: (buffer, a view of it, where the lines start, where they end).

    A plain file is mapped into memory: one block, no copy (reading 450 MB into a bytes object costs about
    as much as parsing it). A compressed one is read :data:`_READ_BYTES` at a time into one reused buffer,
    an unfinished last line carried over to the next block."""
    if isinstance(fh, io.BufferedReader):
        try:
            mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):  # an empty file, a pipe or a device: read it instead
            pass
        else:
            yield mapped, memoryview(mapped), 3 if mapped[:3] == _BOM else 0, len(mapped)
            return
    buf = bytearray(_READ_BYTES)
    have = 0  # bytes of an unfinished line carried over at the start of buf
    start = None
    while True:
        view = memoryview(buf)
        got = fh.readinto(view[have:])
        end = have + got
        last = buf.rfind(b"\n", 0, end) if got else end  # at the end, the last line may lack its newline
        if last < 0:  # one line longer than the buffer: grow it
            view.release()
            buf.extend(bytes(len(buf)))
            have = end
            continue
        if start is None:
            start = 3 if buf.startswith(_BOM) else 0
        yield buf, view, start, last
        if not got:
            return
        start = 0
        tail = end - last - 1
        view.release()
        buf[:tail] = buf[last + 1 : end]
        have = tail


def _as_records(keys: tuple[str, ...] | None, columns: list[list[Any]], n: int) -> list[Any]:
    """The records read into columns so far, as dicts again."""
    if not keys:
        return [{} for _ in range(n)]
    return [dict(zip(keys, values, strict=True)) for values in zip(*columns, strict=True)]


def _parse_jsonl(data: bytes, path: Path) -> list[Any]:
    """One record per line, parsed by orjson from memoryview slices (no copy of each line); any line it
    refuses (a blank line, a bare NaN token, invalid UTF-8, broken JSON) sends the file through
    :func:`_parse_lines_slowly`, which names every bad line."""
    # lines end at b"\n" only: U+2028/U+0085 (which JSON allows raw inside strings) are multi-byte in UTF-8
    end = _content_end(data)
    view, find, loads = memoryview(data), data.find, orjson.loads
    out: list[Any] = []
    pos = 0
    try:
        while pos < end:
            stop = find(b"\n", pos, end)
            if stop < 0:
                stop = end
            out.append(loads(view[pos:stop]))
            pos = stop + 1
    except orjson.JSONDecodeError:
        return _parse_lines_slowly(data[:end].split(b"\n"), path)
    return out


def _content_end(data: bytes) -> int:
    """Where the data ends without its trailing whitespace (a final newline, blank lines at the end)."""
    end = len(data)
    while end and data[end - 1 : end].isspace():
        end -= 1
    return end


def _parse_lines_slowly(lines: list[bytes], path: Path) -> list[Any]:
    out: list[Any] = []
    bad: list[str] = []
    offset = 0
    for lineno, line in enumerate(lines, start=1):
        start, offset = offset, offset + len(line) + 1
        if not line.strip():
            continue
        try:
            out.append(orjson.loads(line))
            continue
        except orjson.JSONDecodeError:
            pass
        try:
            out.append(json.loads(_decode(line, path, start)))
        except json.JSONDecodeError as exc:
            bad.append(f"line {lineno} ({exc.msg} at column {exc.colno})")
    if len(bad) == 1:
        lineno_text, why = bad[0].split(" (", 1)
        raise ItemsError(
            None,
            None,
            "source",
            f"{lineno_text} of {str(path)!r} is not valid JSON ({why}; fix or delete that line",
        )
    if bad:
        shown = ", ".join(bad[:MAX_LISTED])
        more = f" and {len(bad) - MAX_LISTED} more" if len(bad) > MAX_LISTED else ""
        raise ItemsError(
            None,
            None,
            "source",
            f"{len(bad)} lines of {str(path)!r} are not valid JSON: {shown}{more}; fix or delete those lines",
        )
    return out


def _read_csv(path: Path) -> Table:
    try:
        # Content as exact strings: "", "NA" or "001" in a text or id column must stay what they are.
        text_frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        meta_frame = pd.read_csv(path)  # metadata with inferred dtypes (numbers, missing values)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ItemsError(None, None, "source", f"cannot read {str(path)!r} as CSV: {exc}") from exc
    except _GZIP_ERRORS as exc:
        if not path.name.lower().endswith(".gz"):
            raise
        raise _corrupt_gzip(path, exc) from exc
    table = _frame_table(text_frame)
    table.frame = meta_frame
    table.csv = True
    return table
