"""Load and normalise item datasets: every supported input shape -> the items DataFrame (design §3).

The result has one row per item and the columns ``item_id`` (str, unique), ``prompt`` (str, or a chat: a list
of ``{"role", "content"}``), ``responses`` (a list of ``{"response_id", "text", "model"}``), ``gold`` (only
when the source has one: the known-correct ranking as tie groups) and every other source column as metadata.

Bad input raises :class:`ItemsError` (a ``ValueError``) naming every bad row (0-based position, and the item
id when known) and the field, and saying what to do; nothing is returned half-loaded and the input is never
modified. ``errors="skip"``/``"collect"`` load the good rows instead. Empty responses and blank prompts are
data: they load with one :class:`ItemsWarning` per kind (``allow_empty=False`` refuses them).

Texts pass through byte-identical: no stripping, no unicode normalisation. Limits: a response text or a prompt
(each chat message) is at most :data:`MAX_TEXT_CHARS` characters; ids at most ``schema.MAX_ID_CHARS``.

Shapes (``format="auto"`` picks the first that fits, in this order):

- ``responses=[...]`` (a list of column names) or columns like ``response1..N`` / ``response_a, response_b``:
  **wide**; the column names are the response ids, ``models=[...]`` names parallel model columns (auto:
  ``model_a``/``model1``... matching the response columns' suffixes).
- ``conversation_a`` + ``conversation_b``: **arena** (Chatbot Arena). The prompt is the chat both
  conversations share; each final assistant reply is a response (ids ``r1``/``r2``, models from
  ``model_a``/``model_b``). When the conversations diverge before the last turn (multi-turn battles), each
  response is the rest of its conversation as a markdown transcript.
- ``chosen`` + ``rejected``: **trl** (TRL / Anthropic HH). The prompt comes from ``prompt=`` / a prompt
  column, or is the part the two conversations share (HH strings
  ``"\\n\\nHuman: ...\\n\\nAssistant: ..."`` or message lists). Ids are ``r1``/``r2`` in a stable
  pseudo-random order (so the id never gives the answer away) and ``gold`` records which one was chosen.
- ``completions``: **ultrafeedback** (``instruction`` + a list of ``{model, response, ...}``).
- ``responses`` (or ``responses="col"``): **list**: a list of strings, or of dicts with the text under
  ``text``/``content``/``response`` and optional ``model`` and ``response_id``/``id``.

The prompt column defaults to the first of ``prompt, instruction, question, query, input``; when both
``instruction`` and ``input`` exist (Alpaca style) the prompt is ``instruction + "\\n\\n" + input`` (input
omitted when empty). ``prompt=["a", "b"]`` joins several columns the same way. The id column defaults to the
first of ``item_id, id, idx, question_id`` when its values can be ids (unique, non-blank, at most 256
characters); otherwise, or without one, ``item_id`` is ``<col>:<model columns>`` for battles when that is
unique, else :func:`stable_item_id` of the content (with a warning when a column was passed over).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .gc_pause import gc_paused
from .item_sources import MAX_LISTED, MISSING, ItemsError, Table, read_source
from .schema import MAX_ID_CHARS, LabelError, normalise_ranking

MAX_TEXT_CHARS = 1_000_000
FORMATS = ("auto", "wide", "list", "trl", "arena", "ultrafeedback")
ERRORS = ("raise", "skip", "collect")
ROLES = ("system", "developer", "user", "assistant", "tool", "function")
# ShareGPT-style messages ({"from": "human", "value": ...}) are read as {role, content}.
_SHAREGPT_ROLES = {
    "human": "user",
    "gpt": "assistant",
    "system": "system",
    "user": "user",
    "assistant": "assistant",
    "tool": "tool",
    "function": "function",
}
PROMPT_COLUMNS = ("prompt", "instruction", "question", "query", "input")
ID_COLUMNS = ("item_id", "id", "idx", "question_id")
RESERVED = ("item_id", "prompt", "responses", "gold")
_TEXT_KEYS = ("text", "content", "response", "output", "completion")
# response1, response_2, output_a, "answer b"; a letter suffix needs a separator ("responses" is not one)
_WIDE_RE = re.compile(
    r"^(response|output|completion|answer|generation)(?:[_ ]?([0-9]+)|[_ ]([a-z]))$", re.IGNORECASE
)
_HH_HUMAN = "\n\nHuman:"
_HH_ASSISTANT = "\n\nAssistant:"
_HH_SPLIT = re.compile(r"\n\n(Human|Assistant):")


class ItemsWarning(UserWarning):
    """Rows that loaded with a note (empty responses, blank prompts, derived ids, skipped rows)."""


# ---------------------------------------------------------------------------------------------------------
# Public API


def load_items(
    source: Any,
    *,
    prompt: str | Sequence[str] | None = None,
    responses: str | Sequence[str] | None = None,
    item_id: str | None = None,
    models: str | Sequence[str] | Mapping[str, str] | None = None,
    format: str = "auto",
    allow_empty: bool | None = None,
    coerce_text: bool = False,
    errors: str = "raise",
    split: str | None = None,
) -> pd.DataFrame:
    """Load items from a DataFrame, a list of dicts, a file (.jsonl, .json, .csv, .parquet; optionally .gz)
    or a Hugging Face ``datasets.Dataset`` / ``DatasetDict`` (pick the split with ``split=``).

    ``prompt``, ``responses``, ``item_id`` and ``models`` name source columns (see the module docs for the
    defaults); ``models`` may also map each response column to its model column or to a model name
    (``{"output_1": "generator_1", "output_2": "gpt-4"}``). ``format`` forces a shape: "wide", "list", "trl",
    "arena" or "ultrafeedback".

    Empty responses (a model that really answered nothing) and blank prompts load, with one
    :class:`ItemsWarning` that counts them; ``allow_empty=True`` loads them silently, ``allow_empty=False``
    makes them errors. ``coerce_text=True`` turns JSON scalars given as text (true, 42, 1.5) into their JSON
    text; otherwise a non-text value is an error.

    ``errors``: "raise" (default) raises one :class:`ItemsError` naming every bad row (the first
    :data:`MAX_LISTED` and a count) and loads nothing; "skip" loads the good rows and warns with a count;
    "collect" does the same and lists the rejected rows in ``items.attrs["rejected"]`` (plain records, so
    the frame still merges, concatenates and saves to Parquet); ``rank_widget.rejected_rows(items)`` shows
    them as a DataFrame (``row``, ``item_id``, ``field``, ``reason``). Problems with the whole source (no
    such column, an unreadable file) always raise.

    Returns a new DataFrame: ``item_id``, ``prompt``, ``responses``, [``gold``], then the metadata columns.
    """
    if format not in FORMATS:
        raise ItemsError(None, None, "format", f"unknown format {format!r}; use one of {list(FORMATS)}")
    if errors not in ERRORS:
        raise ItemsError(None, None, "errors", f"unknown errors mode {errors!r}; use one of {list(ERRORS)}")
    with gc_paused():
        table = read_source(source, split)
        opts = _Options(allow_empty=allow_empty is not False, coerce_text=coerce_text, csv=table.csv)
        plan = _plan(table, prompt=prompt, responses=responses, item_id=item_id, models=models, format=format)
        notes = _settle_ids(plan, table)
        items, bad = _build_rows(plan, table, opts)
    bad = [_annotated(plan, e) for e in bad]
    if bad and (errors == "raise" or items is None):
        raise _all_errors(bad, table.n, errors)
    assert items is not None
    if allow_empty is None:
        notes += _empty_notes(items, opts.empty_rows)
    if bad:
        notes.append(
            f"{len(bad)} of {table.n} rows were not loaded (first: {bad[0]})"
            + ("; rank_widget.rejected_rows(items) lists them" if errors == "collect" else "")
        )
    if errors == "collect":
        # plain records (see schema.rejected_records); schema.rejected_rows(items) is the DataFrame view
        items.attrs["rejected"] = [
            {"row": e.row, "item_id": e.item_id, "field": e.field, "reason": e.problem} for e in bad
        ]
    for note in notes:
        warnings.warn(note, ItemsWarning, stacklevel=2)
    return items


def _all_errors(bad: list[ItemsError], n: int, errors: str) -> ItemsError:
    """One error for every bad row: the first :data:`MAX_LISTED` by name, then a count."""
    first = bad[0]
    hint = (
        "fix them; or pass errors='skip' to load the other rows, or errors='collect' to also keep the list "
        "of rejected rows for rank_widget.rejected_rows(items)"
        if errors == "raise"
        else "no row could be loaded"
    )
    if len(bad) == 1:
        message = str(first) if n == 1 else f"{first}\n(1 of {n} rows is bad; {hint})"
    else:
        lines = [f"  {e}" for e in bad[:MAX_LISTED]]
        if len(bad) > MAX_LISTED:
            lines.append(f"  ... and {len(bad) - MAX_LISTED} more bad rows")
        message = f"{len(bad)} of {n} rows cannot be loaded; nothing was loaded:\n" + "\n".join(lines)
        message += f"\n({hint})"
    out = ItemsError(first.row, first.item_id, first.field, first.problem, message=message)
    out.errors = list(bad)
    return out


def _empty_notes(items: pd.DataFrame, empty_rows: list[int]) -> list[str]:
    notes = []
    if empty_rows:
        notes.append(
            f"{len(empty_rows)} empty response(s) in {len(set(empty_rows))} item(s) loaded as data (a model "
            "that answered nothing; the widget shows them as 'empty response'); pass allow_empty=True to "
            "silence this or allow_empty=False to refuse them"
        )
    # a text prompt that starts with a visible ASCII character is not blank: the rest need a closer look
    blank = sum(
        _is_blank_prompt(p) for p in items["prompt"].tolist() if not (type(p) is str and "!" <= p[:1] <= "~")
    )
    if blank:
        notes.append(
            f"{blank} item(s) have a blank prompt (empty, only spaces or invisible characters); they loaded "
            "as they are: pass allow_empty=True to silence this or allow_empty=False to refuse them"
        )
    return notes


def _is_blank_prompt(prompt: Any) -> bool:
    if isinstance(prompt, str):
        return _is_blank_text(prompt)
    return not _has_user_text(prompt)


def stable_item_id(prompt: str | list[dict[str, str]], responses: Sequence[Mapping[str, Any]]) -> str:
    """The id of an item without one: a sha1 of its prompt and responses, 16 hex digits.

    Recipe (stable across runs, machines and versions): ``parts`` = the prompt (or, for a chat, each
    message's role then content), then per response its id, text and model (None as ""); ``head`` = ``"s"``
    (text prompt) or ``"c<number of messages>"``, ``":"``, then the parts' lengths joined by ``","`` (a None
    model counts -1); the id is ``sha1(head + "\\n" + "".join(parts))`` over UTF-8, hex[:16]. The lengths
    make the concatenation unambiguous without escaping megabytes of text.
    """
    if isinstance(prompt, str):
        kind = "s"
        parts = [prompt]
    else:
        kind = f"c{len(prompt)}"
        parts = [x for m in prompt for x in (m["role"], m["content"])]
    lengths = [len(x) for x in parts]
    for r in responses:
        model = r.get("model")
        parts += (r["response_id"], r["text"], model or "")
        lengths += (len(r["response_id"]), len(r["text"]), -1 if model is None else len(model))
    head = kind + ":" + ",".join(map(str, lengths)) + "\n"
    return hashlib.sha1((head + "".join(parts)).encode("utf-8"), usedforsecurity=False).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------------------
# Value checks


@dataclass(frozen=True)
class _Options:
    allow_empty: bool
    coerce_text: bool
    csv: bool
    # the row (position in the table being built) of each empty response text accepted, for the one warning
    empty_rows: list[int] = field(default_factory=list)


def _blank(value: Any) -> bool:
    if value is None or value is MISSING or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _check_unicode(row: int, iid: str | None, name: str, text: str) -> None:
    if text.isascii():  # O(1) in CPython: the common case pays nothing
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ItemsError(
            row,
            iid,
            name,
            f"contains an invalid character (a lone surrogate "
            f"{text[exc.start]!r} at position {exc.start}); the source text is corrupt: "
            "re-export it as valid UTF-8",
        ) from None


def _text(row: int, iid: str | None, name: str, value: Any, opts: _Options, *, what: str = "text") -> str:
    if isinstance(value, str) and type(value) is not str:
        value = str(value)  # numpy.str_ and other str subclasses: plain str out
    if not isinstance(value, str):
        if value is MISSING:
            raise ItemsError(row, iid, name, f"{what} is missing; give every item this field or drop the row")
        if _blank(value):
            raise ItemsError(row, iid, name, f"{what} is missing (NaN/None); fill it in or drop the row")
        if opts.coerce_text and isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
            value = json.dumps(value.item() if isinstance(value, np.generic) else value)
        else:
            hint = (
                "; pass coerce_text=True to use its JSON text"
                if isinstance(value, (bool, int, float))
                else ""
            )
            raise ItemsError(
                row,
                iid,
                name,
                f"{what} must be a string, got {type(value).__name__} "
                f"({_preview(value)}); convert it to text{hint}",
            )
    if not value:
        if not opts.allow_empty:
            raise ItemsError(
                row, iid, name, f"{what} is empty and allow_empty=False; fill it in or drop the row"
            )
        if what == "text":
            opts.empty_rows.append(row)
    if len(value) > MAX_TEXT_CHARS:
        raise ItemsError(
            row,
            iid,
            name,
            f"{what} is {len(value):,} characters; the limit is "
            f"{MAX_TEXT_CHARS:,}; truncate it (and say so in the prompt) or drop the item",
        )
    _check_unicode(row, iid, name, value)
    return value


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _ident(row: int, iid: str | None, name: str, value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        raise ItemsError(row, iid, name, f"must be a string or an integer, got {value!r}")
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)) and not math.isnan(value) and float(value).is_integer():
        return str(int(value))  # an integer id column that pandas stored as float
    if _blank(value):
        raise ItemsError(row, iid, name, "is missing; give every row an id, or omit the id column")
    if not isinstance(value, str):
        raise ItemsError(row, iid, name, f"must be a string or an integer, got {type(value).__name__}")
    if not value.strip():
        raise ItemsError(row, iid, name, "is empty; give every row an id, or omit the id column")
    if len(value) > MAX_ID_CHARS:
        raise ItemsError(row, iid, name, f"is {len(value)} characters; the limit is {MAX_ID_CHARS}")
    _check_unicode(row, iid, name, value)
    return value


def _model(row: int, iid: str | None, name: str, value: Any) -> str | None:
    if _blank(value) or value == "":
        return None
    if not isinstance(value, str):
        raise ItemsError(row, iid, name, f"model name must be a string, got {type(value).__name__}")
    if len(value) > MAX_ID_CHARS:
        raise ItemsError(row, iid, name, f"model name is {len(value)} characters; limit {MAX_ID_CHARS}")
    _check_unicode(row, iid, name, value)
    return value


def _seq(value: Any) -> list[Any] | None:
    """A list-like cell as a list (numpy arrays come from Parquet list columns); None when not list-like."""
    if isinstance(value, list):
        return value
    if isinstance(value, (tuple, np.ndarray)):
        return list(value)
    return None


def _structured(row: int, iid: str | None, name: str, value: Any, opts: _Options) -> Any:
    """CSV cells hold lists/dicts as JSON text; decode them for fields that must be structured."""
    if opts.csv and isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise ItemsError(
                row, iid, name, f"is not valid JSON ({exc.msg}); write lists as JSON in CSV cells"
            ) from exc
    return value


def _chat(
    row: int, iid: str | None, name: str, value: Any, opts: _Options, *, prompt: bool = True
) -> list[dict[str, str]]:
    messages = _seq(_structured(row, iid, name, value, opts))
    if messages is None:
        raise ItemsError(
            row, iid, name, f"must be a list of {{role, content}} messages, got {type(value).__name__}"
        )
    if not messages:
        raise ItemsError(row, iid, name, "is an empty conversation; it needs at least one message")
    out = []
    for k, msg in enumerate(messages):
        where = f"{name}[{k}]"
        if not isinstance(msg, Mapping):
            raise ItemsError(
                row,
                iid,
                where,
                f"a message must be a dict with 'role' and 'content', got {type(msg).__name__}",
            )
        if "role" in msg or "content" in msg:
            role, content = msg.get("role", MISSING), msg.get("content", MISSING)
        elif "from" in msg:
            role, content = msg.get("from"), msg.get("value", MISSING)
            role = _SHAREGPT_ROLES.get(role, role) if isinstance(role, str) else role
        else:
            raise ItemsError(row, iid, where, f"a message needs 'role' and 'content'; got keys {sorted(msg)}")
        if not isinstance(role, str) or role not in ROLES:
            raise ItemsError(
                row,
                iid,
                f"{where}.role",
                f"role must be one of {list(ROLES)}, got {_preview(None if role is MISSING else role)}",
            )
        if not isinstance(content, str):
            raise ItemsError(
                row,
                iid,
                f"{where}.content",
                f"content must be a string, got "
                f"{'nothing' if content is MISSING else type(content).__name__}; multi-part "
                "content is not supported, join the text parts",
            )
        opts_empty = _Options(allow_empty=True, coerce_text=False, csv=False)  # empty system turns are fine
        out.append(
            {
                "role": role,
                "content": _text(row, iid, f"{where}.content", content, opts_empty, what="content"),
            }
        )
    if prompt and not opts.allow_empty and not _has_user_text(out):
        raise ItemsError(row, iid, name, "the conversation has no user message with text")
    return out


def _is_blank_text(text: str) -> bool:
    """True when a text shows nothing: only whitespace and invisible format characters (zero-width space,
    joiners, word joiner, byte order mark, direction marks: Unicode category Cf)."""
    if text.isascii():
        return not text.strip()
    return all(c.isspace() or unicodedata.category(c) == "Cf" for c in text)


_BLANK_PROMPT = (
    "prompt is blank (only spaces or invisible characters such as U+200B); fill it in or drop the row"
)


def _has_user_text(chat: list[dict[str, str]]) -> bool:
    return any(not _is_blank_text(m["content"]) for m in chat if m["role"] == "user")


def _prompt(row: int, iid: str | None, name: str, value: Any, opts: _Options) -> str | list[dict[str, str]]:
    if isinstance(value, (list, tuple, np.ndarray)):
        return _chat(row, iid, name, value, opts)
    text = _text(row, iid, name, value, _Options(opts.allow_empty, False, opts.csv), what="prompt")
    if not opts.allow_empty and _is_blank_text(text):
        raise ItemsError(row, iid, name, _BLANK_PROMPT)
    return text


def _join_prompt(
    row: int, iid: str | None, names: Sequence[str], values: Sequence[Any], opts: _Options
) -> str:
    parts = []
    for name, value in zip(names, values, strict=True):
        if _blank(value) or value == "":
            continue
        parts.append(_text(row, iid, name, value, opts, what="prompt"))
    text = "\n\n".join(parts)
    if not opts.allow_empty and _is_blank_text(text):
        raise ItemsError(row, iid, names[0], f"{_BLANK_PROMPT} (columns {list(names)})")
    if len(text) > MAX_TEXT_CHARS:
        raise ItemsError(
            row, iid, names[0], f"prompt is {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}"
        )
    return text


def _collapse(chat: list[dict[str, str]]) -> str | list[dict[str, str]]:
    """A derived chat that is a single user message is just a text prompt."""
    if len(chat) == 1 and chat[0]["role"] == "user":
        return chat[0]["content"]
    return chat


def _check_response_ids(row: int, iid: str | None, resp: list[dict[str, Any]], name: str) -> None:
    if len(resp) < 2:
        raise ItemsError(
            row,
            iid,
            name,
            f"has {len(resp)} response(s); an item needs at least 2 to compare; "
            "drop the row or add responses",
        )
    seen: set[str] = set()
    for r in resp:
        if r["response_id"] in seen:
            raise ItemsError(
                row,
                iid,
                name,
                f"response id {r['response_id']!r} appears twice in this item; "
                "response ids must be unique within an item",
            )
        seen.add(r["response_id"])


def _gold(row: int, iid: str | None, value: Any, resp: list[dict[str, Any]], opts: _Options) -> Any:
    value = _structured(row, iid, "gold", value, opts)
    if _blank(value):
        return None
    ids = [r["response_id"] for r in resp]
    if isinstance(value, str):  # a winner id (or "tie") for a pair
        if len(ids) != 2:
            raise ItemsError(
                row,
                iid,
                "gold",
                "a single id as gold only works for pairs; give tie groups "
                f"best to worst, e.g. [[{ids[0]!r}], [{ids[1]!r}, ...]]",
            )
        if value == "tie":
            value = [ids]
        elif value in ids:
            value = [[value], [i for i in ids if i != value]]
    groups = _seq(value)
    if groups is None:
        raise ItemsError(
            row,
            iid,
            "gold",
            f"must be tie groups best to worst, e.g. [[{ids[0]!r}], [{ids[1]!r}]]; got {_preview(value)}",
        )
    groups = [_seq(g) if _seq(g) is not None else g for g in groups]
    try:
        return normalise_ranking("gold", groups, ids)
    except LabelError as exc:
        raise ItemsError(
            row,
            iid,
            "gold",
            f"{exc.problem}; gold is tie groups best to worst of this item's response ids {ids}",
        ) from None


# ---------------------------------------------------------------------------------------------------------
# Shapes


@dataclass
class _Built:
    prompts: list[Any]
    responses: list[list[dict[str, Any]]]
    ids: list[str | None]  # None: derive from content
    gold: list[Any] | None
    extra: dict[str, list[Any]] = field(default_factory=dict)  # derived metadata columns

    def rows(self, keep: list[int]) -> _Built:
        return _Built(
            [self.prompts[k] for k in keep],
            [self.responses[k] for k in keep],
            [self.ids[k] for k in keep],
            None if self.gold is None else [self.gold[k] for k in keep],
            {name: [values[k] for k in keep] for name, values in self.extra.items()},
        )


@dataclass
class _Plan:
    shape: str
    prompt_cols: list[str]
    id_col: str | None
    response_cols: list[str]
    model_cols: list[str]
    used: set[str]
    prompt_guessed: bool = False  # the prompt column was auto-detected, not named by prompt=
    auto: dict[str, str] = field(
        default_factory=dict
    )  # column picked automatically -> the argument to choose

    def build(self, table: Table, opts: _Options) -> _Built:
        builder = {
            "wide": _build_wide,
            "list": _build_list,
            "trl": _build_trl,
            "arena": _build_arena,
            "ultrafeedback": _build_list,
        }[self.shape]
        return builder(self, table, opts)


def _plan(
    table: Table,
    *,
    prompt: str | Sequence[str] | None,
    responses: str | Sequence[str] | None,
    item_id: str | None,
    models: str | Sequence[str] | Mapping[str, str] | None,
    format: str,
) -> _Plan:
    cols = table.columns
    if table.n == 0:
        raise ItemsError(None, None, "source", "the source has no rows; there is nothing to label")
    if item_id is not None:
        _need(cols, item_id, "item_id=")
        id_col: str | None = item_id
    else:
        id_col = next((c for c in ID_COLUMNS if c in cols), None)
    shape = _detect_shape(cols, responses) if format == "auto" else format
    required = _REQUIRED_COLUMNS.get(shape, ())
    for name in required:
        _need(cols, name, f"format={shape!r} needs columns {list(required)}")
    if isinstance(models, Mapping):
        response_cols, _ = _SHAPE_PLANNERS[shape](cols, responses, None)
        model_cols = _mapped_models(table, shape, response_cols, models)
    else:
        response_cols, model_cols = _SHAPE_PLANNERS[shape](cols, responses, models)
    for name in model_cols:
        if not name.startswith("models["):  # constants from a models= mapping
            _need(cols, name, "a model column")
    prompt_cols = _prompt_columns(cols, prompt, shape)
    if id_col is not None and id_col in response_cols + prompt_cols:
        id_col = None
    used = {*prompt_cols, *response_cols, *model_cols}
    if id_col is not None:
        used.add(id_col)
    plan = _Plan(shape, prompt_cols, id_col, response_cols, model_cols, used, prompt_guessed=prompt is None)
    plan.auto = _auto_columns(plan, item_id is None, prompt is None, models is None)
    return plan


def _auto_columns(plan: _Plan, ids: bool, prompts: bool, models: bool) -> dict[str, str]:
    """Which id, prompt and model columns load_items picked by itself, and the argument that chooses instead
    (for the errors). Response columns are not listed: a bad value there is about the value."""
    auto: dict[str, str] = {}
    if ids and plan.id_col is not None:
        auto[plan.id_col] = "item_id='<a column of unique ids>'"
    if prompts:
        auto.update(dict.fromkeys(plan.prompt_cols, "prompt='<column>'"))
    if models:
        auto.update(dict.fromkeys(plan.model_cols, "models=[...] or models={response column: model column}"))
    return auto


def _mapped_models(
    table: Table, shape: str, response_cols: list[str], models: Mapping[str, str]
) -> list[str]:
    """models={response column: model column or model name} -> one model column per response column (a
    model name becomes a constant column named ``models['<response column>']``; a value that is a response
    column's name is a model name too)."""
    if shape in ("list", "ultrafeedback"):
        raise ItemsError(
            None,
            None,
            "models",
            f"models= as a mapping needs one column per response; format {shape!r} keeps all responses in "
            "one column (give models='<column of model-name lists>', or the names inside each response)",
        )
    unknown = [k for k in models if k not in response_cols]
    if unknown:
        raise ItemsError(
            None,
            None,
            "models",
            f"models= maps {unknown}, which are not response columns; the response columns are "
            f"{response_cols}",
        )
    out = []
    for col in response_cols:
        value = models.get(col)
        # a response column is never a model column: {"bart": "bart"} names the model, it does not make every
        # response text its own model name
        if isinstance(value, str) and value in table.columns and value not in response_cols:
            out.append(value)
            continue
        if value is not None and (
            not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_CHARS
        ):
            raise ItemsError(
                None, None, "models", f"models[{col!r}] must be a column name or a model name, got {value!r}"
            )
        name = f"models[{col!r}]"
        table.put(name, [value] * table.n)
        out.append(name)
    return out


def _need(cols: Sequence[str], name: str, why: str) -> None:
    if name not in cols:
        raise ItemsError(None, None, name, f"no such column ({why}); the source has columns {cols}")


_ColumnArg = str | Sequence[str] | None  # what responses=/models= may name
# Each planner: (columns, responses=, models=) -> (response columns, model columns), for one shape.
_Planner = Callable[[Sequence[str], _ColumnArg, _ColumnArg], tuple[list[str], list[str]]]


def _has_all(*names: str) -> Callable[[Sequence[str]], bool]:
    return lambda cols: all(n in cols for n in names)


# Shape detection for format="auto" when responses= does not decide it: the first match wins, so the
# specific shapes (whose column names could also look like wide or list columns) come first.
_SHAPE_DETECTORS: tuple[tuple[str, Callable[[Sequence[str]], bool]], ...] = (
    ("arena", _has_all("conversation_a", "conversation_b")),
    ("trl", _has_all("chosen", "rejected")),
    ("ultrafeedback", _has_all("completions")),
    ("list", _has_all("responses")),
    ("wide", lambda cols: bool(_wide_columns(cols))),
)
_REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "trl": ("chosen", "rejected"),
    "arena": ("conversation_a", "conversation_b"),
    "ultrafeedback": ("completions",),
}


def _detect_shape(cols: Sequence[str], responses: _ColumnArg) -> str:
    if isinstance(responses, str):
        return "list"
    if responses is not None:
        return "wide"
    shape = next((name for name, matches in _SHAPE_DETECTORS if matches(cols)), None)
    if shape is None:
        raise ItemsError(
            None,
            None,
            "responses",
            f"cannot tell where the responses are in columns "
            f"{cols}; name them with responses=[...] (wide columns) or responses='col' (a "
            "list column), or use a known shape: response1..N, responses, chosen/rejected, "
            "conversation_a/conversation_b, instruction/completions",
        )
    return shape


def _plan_wide(cols: Sequence[str], responses: _ColumnArg, models: _ColumnArg) -> tuple[list[str], list[str]]:
    if isinstance(responses, str):
        raise ItemsError(None, None, "responses", "wide format needs responses=[list of column names]")
    response_cols = list(responses) if responses is not None else _wide_columns(cols)
    if not response_cols:
        raise ItemsError(
            None,
            None,
            "responses",
            f"format='wide' found no response columns in {cols}; pass responses=[...]",
        )
    for name in response_cols:
        _need(cols, name, "a response column")
    if len(set(response_cols)) != len(response_cols):
        raise ItemsError(
            None,
            None,
            "responses",
            f"responses={response_cols} names a column twice; the "
            "column names are the response ids and must be unique",
        )
    if len(response_cols) < 2:
        raise ItemsError(
            None,
            None,
            response_cols[0],
            "only one response column; an item needs at least 2 responses to compare",
        )
    if models is None:
        return response_cols, _auto_model_columns(response_cols, cols)
    if isinstance(models, str) or len(models) != len(response_cols):
        raise ItemsError(
            None,
            None,
            "models",
            f"give one model column per response column ({len(response_cols)}), in the same order",
        )
    return response_cols, list(models)


def _plan_list(cols: Sequence[str], responses: _ColumnArg, models: _ColumnArg) -> tuple[list[str], list[str]]:
    response_cols = [responses if isinstance(responses, str) else "responses"]
    _need(cols, response_cols[0], "the list column of responses")
    if models is None:
        return response_cols, []
    if not isinstance(models, str):
        raise ItemsError(
            None,
            None,
            "models",
            "for a list column of responses, models= names one column holding a list of model names",
        )
    return response_cols, [models]


def _plan_ultrafeedback(
    cols: Sequence[str], responses: _ColumnArg, models: _ColumnArg
) -> tuple[list[str], list[str]]:
    # the model names sit inside each completion
    return ["completions"], []


def _plan_trl(cols: Sequence[str], responses: _ColumnArg, models: _ColumnArg) -> tuple[list[str], list[str]]:
    response_cols = ["chosen", "rejected"]
    if models is not None:
        if isinstance(models, str) or len(models) != 2:
            raise ItemsError(
                None, None, "models", "for chosen/rejected, models=[chosen_model_col, rejected_model_col]"
            )
        return response_cols, list(models)
    if "chosen_model" in cols and "rejected_model" in cols:
        return response_cols, ["chosen_model", "rejected_model"]
    return response_cols, []


def _plan_arena(
    cols: Sequence[str], responses: _ColumnArg, models: _ColumnArg
) -> tuple[list[str], list[str]]:
    response_cols = ["conversation_a", "conversation_b"]
    if models is not None:
        if isinstance(models, str) or len(models) != 2:
            raise ItemsError(None, None, "models", "for arena, models=[model_a_col, model_b_col]")
        return response_cols, list(models)
    model_cols = [c for c in ("model_a", "model_b") if c in cols]
    return response_cols, model_cols if len(model_cols) == 2 else []


_SHAPE_PLANNERS: dict[str, _Planner] = {
    "wide": _plan_wide,
    "list": _plan_list,
    "ultrafeedback": _plan_ultrafeedback,
    "trl": _plan_trl,
    "arena": _plan_arena,
}


def _prompt_columns(cols: Sequence[str], prompt: str | Sequence[str] | None, shape: str) -> list[str]:
    if prompt is not None:
        prompt_cols = [prompt] if isinstance(prompt, str) else list(prompt)
        if not prompt_cols:
            raise ItemsError(None, None, "prompt", "prompt=[] names no column")
        for name in prompt_cols:
            _need(cols, name, "prompt=")
        return prompt_cols
    if shape == "arena":
        return []  # derived from the conversations
    if "instruction" in cols and "input" in cols and "prompt" not in cols:
        return ["instruction", "input"]
    found = next((c for c in PROMPT_COLUMNS if c in cols), None)
    if found is not None:
        return [found]
    if shape == "trl":
        return []  # HH transcripts or message lists carry the prompt
    raise ItemsError(
        None,
        None,
        "prompt",
        f"no prompt column in {cols}; name it with prompt='col' (looked for {list(PROMPT_COLUMNS)})",
    )


def _wide_columns(cols: Sequence[str]) -> list[str]:
    found = [(m.group(1).lower(), _wide_suffix(m), c) for c in cols if (m := _WIDE_RE.match(c))]
    if not found:
        return []
    # One family only: response1/response2, not response1 + output_a, nor response1 + response_a.
    stem, digits = found[0][0], found[0][1].isdigit()
    family = [(s, c) for st, s, c in found if st == stem and s.isdigit() == digits]

    def key(item: tuple[str, str]) -> tuple[int, int | str]:
        return (0, int(item[0])) if item[0].isdigit() else (1, item[0])

    return [c for _, c in sorted(family, key=key)]


def _wide_suffix(m: re.Match[str]) -> str:
    return (m.group(2) or m.group(3)).lower()


def _auto_model_columns(response_cols: Sequence[str], cols: Sequence[str]) -> list[str]:
    out = []
    for name in response_cols:
        m = _WIDE_RE.match(name)
        if m is None:
            return []
        s = _wide_suffix(m)
        names = (f"model_{s}", f"model{s}", f"model {s}", f"{name}_model", f"generator_{s}", f"generator{s}")
        found = next((c for c in names if c in cols), None)
        if found is None:
            return []
        out.append(found)
    return out


def _ids_and_prompts(plan: _Plan, table: Table, opts: _Options) -> tuple[list[str | None], list[Any]]:
    n = table.n
    if plan.id_col is not None:
        values = table.col(plan.id_col)
        name = plan.id_col
        ids: list[str | None] = [
            v
            if type(v) is str and len(v) <= MAX_ID_CHARS and v.isascii() and v.strip()
            else _long_id(v)
            if isinstance(v, str) and len(v) > MAX_ID_CHARS
            else _ident(i, None, name, v)
            for i, v in enumerate(values)
        ]
    else:
        ids = [None] * n
    prompts: list[Any] = [None] * n
    if len(plan.prompt_cols) == 1:
        name = plan.prompt_cols[0]
        values = table.col(name)
        prompts = [
            v
            if type(v) is str and len(v) <= MAX_TEXT_CHARS and v.isascii() and v.strip()
            else _prompt(i, ids[i], name, v, opts)
            for i, v in enumerate(values)
        ]
    elif plan.prompt_cols:
        cols = [table.col(c) for c in plan.prompt_cols]
        prompts = [_join_prompt(i, ids[i], plan.prompt_cols, [c[i] for c in cols], opts) for i in range(n)]
    return ids, prompts


def _gold_column(
    table: Table, built_responses: list[list[dict[str, Any]]], ids: list[str | None], opts: _Options
) -> list[Any] | None:
    if "gold" not in table.columns:
        return None
    values = table.col("gold")
    return [_gold(i, ids[i], values[i], built_responses[i], opts) for i in range(table.n)]


def _build_wide(plan: _Plan, table: Table, opts: _Options) -> _Built:
    ids, prompts = _ids_and_prompts(plan, table, opts)
    n = table.n
    texts = [_text_column(c, table.col(c), ids, opts) for c in plan.response_cols]
    if plan.model_cols:
        mods = [_model_column(c, table.col(c), ids) for c in plan.model_cols]
    else:
        mods = [[None] * n for _ in plan.response_cols]
    # Column by column, then transposed: flat loops, ~3x faster than a nested per-row comprehension.
    per_column = [
        [{"response_id": rid, "text": t, "model": m} for t, m in zip(ts, ms, strict=True)]
        for rid, ts, ms in zip(plan.response_cols, texts, mods, strict=True)
    ]
    out: list[list[dict[str, Any]]] = list(map(list, zip(*per_column, strict=True)))
    return _Built(prompts, out, ids, _gold_column(table, out, ids, opts))


def _text_column(name: str, values: list[Any], ids: list[str | None], opts: _Options) -> list[str]:
    """Check a whole column of response texts; the common case (a short-enough ASCII str) costs one test."""
    out = values
    for i, v in enumerate(values):
        if type(v) is str and v and len(v) <= MAX_TEXT_CHARS and v.isascii():
            continue
        checked = _text(i, ids[i], name, v, opts)
        if checked is not v:
            if out is values:
                out = list(values)
            out[i] = checked
    return out


def _model_column(name: str, values: list[Any], ids: list[str | None]) -> list[str | None]:
    """Check a whole column of model names: a few distinct names, each checked once (row by row only when one
    of them is not a plain name, or a value is unhashable)."""
    try:
        distinct = set(values)
    except TypeError:
        distinct = {None}
    if all(type(v) is str and v and len(v) <= MAX_ID_CHARS and v.isascii() for v in distinct):
        return values
    out = values
    for i, v in enumerate(values):
        if type(v) is str and v and len(v) <= MAX_ID_CHARS and v.isascii():
            continue
        checked = _model(i, ids[i], name, v)
        if checked is not v:
            if out is values:
                out = list(values)
            out[i] = checked
    return out


def _build_list(plan: _Plan, table: Table, opts: _Options) -> _Built:
    ids, prompts = _ids_and_prompts(plan, table, opts)
    name = plan.response_cols[0]
    cells = table.col(name)
    model_cells = table.col(plan.model_cols[0]) if plan.model_cols else None
    out: list[list[dict[str, Any]]] = []
    meta: list[Any] = []
    any_meta = False
    for i in range(table.n):
        iid = ids[i]
        items = _seq(_structured(i, iid, name, cells[i], opts))
        if items is None:
            raise ItemsError(i, iid, name, f"must be a list of responses, got {type(cells[i]).__name__}")
        models_i = None
        if model_cells is not None:
            models_i = _seq(_structured(i, iid, plan.model_cols[0], model_cells[i], opts))
            if models_i is None or len(models_i) != len(items):
                raise ItemsError(
                    i,
                    iid,
                    plan.model_cols[0],
                    f"must be a list of {len(items)} model names, one per response",
                )
        fast = _fast_responses(items) if models_i is None else None
        extras: dict[str, dict[str, Any]] = {}
        if fast is not None:
            resp = fast
        else:
            resp, extras = _list_responses(i, iid, name, items, models_i, opts)
        _check_response_ids(i, iid, resp, name)
        out.append(resp)
        meta.append(extras or None)
        any_meta = any_meta or bool(extras)
    built = _Built(prompts, out, ids, _gold_column(table, out, ids, opts))
    if any_meta:
        built.extra["response_meta"] = meta
    return built


def _fast_responses(items: list[Any]) -> list[dict[str, Any]] | None:
    """The common cases of a list cell (plain ASCII strings, or already-normalised dicts) without per-field
    calls; None sends the cell through the full checks in :func:`_list_responses`."""
    out: list[dict[str, Any]] = []
    kind = type(items[0]) if items else None
    for k, e in enumerate(items):
        if type(e) is not kind:  # mixed shapes get the full check (and its error)
            return None
        if kind is str:
            if not e or len(e) > MAX_TEXT_CHARS or not e.isascii():
                return None
            out.append({"response_id": f"r{k + 1}", "text": e, "model": None})
            continue
        if type(e) is not dict or len(e) != 3:
            return None
        rid, text, model = e.get("response_id"), e.get("text"), e.get("model", MISSING)
        if (
            type(rid) is not str
            or not rid.strip()
            or len(rid) > MAX_ID_CHARS
            or not rid.isascii()
            or type(text) is not str
            or not text
            or len(text) > MAX_TEXT_CHARS
            or not text.isascii()
        ):
            return None
        if model is not None and (
            type(model) is not str or not model or len(model) > MAX_ID_CHARS or not model.isascii()
        ):
            return None
        out.append({"response_id": rid, "text": text, "model": model})
    return out


def _list_responses(
    row: int, iid: str | None, name: str, items: list[Any], models_i: list[Any] | None, opts: _Options
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    resp: list[dict[str, Any]] = []
    extras: dict[str, dict[str, Any]] = {}
    kind = None
    for k, entry in enumerate(items):
        where = f"{name}[{k}]"
        this = "str" if isinstance(entry, str) else "dict" if isinstance(entry, Mapping) else None
        if this is None:
            if _blank(entry):
                raise ItemsError(row, iid, where, "response is missing (None/NaN); fill it in or remove it")
            raise ItemsError(
                row,
                iid,
                where,
                f"a response must be a string or a dict with 'text', got "
                f"{type(entry).__name__} ({_preview(entry)})",
            )
        if kind is not None and this != kind:
            raise ItemsError(
                row, iid, where, "mixes strings and dicts in one list; use one shape for all responses"
            )
        kind = this
        rid = f"r{k + 1}"
        model = _model(row, iid, f"{where}.model", models_i[k]) if models_i is not None else None
        if isinstance(entry, str):
            text = _text(row, iid, where, entry, opts)
        else:
            key = next((t for t in _TEXT_KEYS if t in entry), None)
            if key is None:
                raise ItemsError(
                    row,
                    iid,
                    where,
                    f"a response dict needs its text under one of "
                    f"{list(_TEXT_KEYS)}; got keys {sorted(entry)}",
                )
            text = _text(row, iid, f"{where}.{key}", entry[key], opts)
            id_key = "response_id" if "response_id" in entry else "id" if "id" in entry else None
            if id_key is not None and not _blank(entry[id_key]):
                rid = _ident(row, iid, f"{where}.{id_key}", entry[id_key])
            if model is None:
                mkey = "model" if "model" in entry else "model_name" if "model_name" in entry else None
                model = _model(row, iid, f"{where}.{mkey}", entry[mkey]) if mkey is not None else None
            rest = {
                k2: v
                for k2, v in entry.items()
                if k2 not in (key, id_key, "model", "model_name", "response_id")
            }
            if rest:
                extras[rid] = rest
        resp.append({"response_id": rid, "text": text, "model": model})
    return resp, extras


def _split_pair(
    row: int,
    iid: str | None,
    names: tuple[str, str],
    a: list[dict[str, str]],
    b: list[dict[str, str]],
    base: list[dict[str, str]],
) -> tuple[list[dict[str, str]], str, str]:
    """Two conversations -> (prompt chat, text_a, text_b): shared turns are the prompt, the rest replies."""
    k = 0
    while k < min(len(a), len(b)) - 1 and a[k] == b[k]:
        k += 1
    # Datasets like UltraFeedback-binarized repeat the prompt inside chosen/rejected: don't double it.
    chat = a[:k] if base and a[: len(base)] == base and k >= len(base) else base + a[:k]
    if not chat:
        raise ItemsError(
            row,
            iid,
            names[0],
            f"{names[0]} and {names[1]} share no prompt turns; give a prompt column (prompt=...)",
        )
    if chat[-1]["role"] == "assistant" or not _has_user_text(chat):
        raise ItemsError(
            row,
            iid,
            names[0],
            "the shared conversation has no user turn to answer (it "
            "ends with an assistant turn or has no user text); check the conversation data",
        )
    return chat, _reply_text(row, iid, names[0], a[k:]), _reply_text(row, iid, names[1], b[k:])


def _reply_text(row: int, iid: str | None, name: str, rest: list[dict[str, str]]) -> str:
    if rest[0]["role"] != "assistant" or rest[-1]["role"] != "assistant":
        raise ItemsError(
            row,
            iid,
            name,
            "the response part of the conversation must start and end with an "
            f"assistant turn; got roles {[m['role'] for m in rest]}",
        )
    if len(rest) == 1:
        return rest[0]["content"]
    # Diverging multi-turn battles: each side's own later turns, as a transcript.
    return "\n\n".join(f"**{m['role']}:**\n\n{m['content']}" for m in rest)


def _is_hh(value: Any) -> bool:
    return (
        isinstance(value, str)
        and value.startswith((_HH_HUMAN, _HH_HUMAN.lstrip("\n")))
        and (_HH_ASSISTANT in value)
    )


def _parse_hh_pair(row: int, iid: str | None, chosen: str, rejected: str) -> tuple[str, str, str]:
    """Split two Anthropic-HH transcripts into (the shared conversation, chosen reply, rejected reply).

    The prompt is the longest common prefix of the two that ends at an "\\n\\nAssistant:" turn boundary
    following a human turn, so a reply that itself contains "\\n\\nHuman:" / "\\n\\nAssistant:" text still
    parses (splitting each side at its last "Assistant:" would make them answer different prompts)."""
    for name, text in (("chosen", chosen), ("rejected", rejected)):
        if not text.startswith((_HH_HUMAN, _HH_HUMAN.lstrip("\n"))) or _HH_ASSISTANT not in text:
            raise ItemsError(
                row,
                iid,
                name,
                "is plain text and there is no prompt column; pass prompt='col', or "
                "give HH transcripts ('\\n\\nHuman: ...\\n\\nAssistant: ...') or message lists",
            )
    common = _common_prefix(chosen, rejected)
    cut = chosen.rfind(_HH_ASSISTANT, 0, common)
    while cut > 0 and _last_hh_role(chosen[:cut]) != "Human":
        cut = chosen.rfind(_HH_ASSISTANT, 0, cut)
    if cut < 0:
        raise ItemsError(
            row,
            iid,
            "rejected",
            "chosen and rejected share no '\\n\\nHuman: ...\\n\\nAssistant:' opening, so they do not "
            "answer the same prompt; check the pair",
        )
    start = cut + len(_HH_ASSISTANT)
    return chosen[:cut], _hh_reply(chosen[start:]), _hh_reply(rejected[start:])


def _common_prefix(a: str, b: str) -> int:
    """The length of the longest common prefix of two strings (by halving: C-speed slice compares)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _last_hh_role(prefix: str) -> str | None:
    roles = _HH_SPLIT.findall(prefix if prefix.startswith("\n\n") else "\n\n" + prefix)
    return roles[-1] if roles else None


def _hh_reply(reply: str) -> str:
    return reply[1:] if reply.startswith(" ") else reply


def _hh_chat(row: int, iid: str | None, name: str, prefix: str) -> list[dict[str, str]]:
    parts = _HH_SPLIT.split(prefix if prefix.startswith("\n\n") else "\n\n" + prefix)
    chat = []
    for k in range(1, len(parts) - 1, 2):
        content = parts[k + 1]
        chat.append(
            {
                "role": "user" if parts[k] == "Human" else "assistant",
                "content": content[1:] if content.startswith(" ") else content,
            }
        )
    if not chat or parts[0].strip():
        raise ItemsError(row, iid, name, "the HH transcript does not start with '\\n\\nHuman:'; check it")
    return chat


def _swap(a: str, b: str) -> bool:
    """Stable pseudo-random order for a chosen/rejected pair, so the id 'r1' does not mean 'chosen'."""
    digest = hashlib.sha1(f"{len(a)}:{a}{b}".encode("utf-8", "surrogatepass"), usedforsecurity=False).digest()
    return bool(digest[0] & 1)


def _build_trl(plan: _Plan, table: Table, opts: _Options) -> _Built:
    ids, prompts = _ids_and_prompts(plan, table, opts)
    chosen, rejected = table.col("chosen"), table.col("rejected")
    mods = [table.col(c) for c in plan.model_cols] if plan.model_cols else None
    out: list[list[dict[str, Any]]] = []
    gold: list[Any] = []
    for i in range(table.n):
        iid = ids[i]
        c_val = _structured(i, iid, "chosen", chosen[i], opts)
        r_val = _structured(i, iid, "rejected", rejected[i], opts)
        c_list, r_list = _seq(c_val), _seq(r_val)
        if (c_list is None) != (r_list is None):
            raise ItemsError(
                i,
                iid,
                "rejected" if c_list is None else "chosen",
                "chosen and rejected must both be texts or both be message lists",
            )
        if c_list is not None and r_list is not None:
            a = _chat(i, iid, "chosen", c_list, opts, prompt=False)
            b = _chat(i, iid, "rejected", r_list, opts, prompt=False)
            given = prompts[i]
            base = given if isinstance(given, list) else [{"role": "user", "content": given}] if given else []
            chat, c_text, r_text = _split_pair(i, iid, ("chosen", "rejected"), a, b, base)
            # An explicit prompt stays as given when the pair adds no shared turns of its own.
            prompts[i] = given if given is not None and chat == base else _collapse(chat)
        elif plan.prompt_cols and not (plan.prompt_guessed and _is_hh(c_val) and _is_hh(r_val)):
            c_text, r_text = c_val, r_val
        else:  # HH transcripts carry their own prompt (and win over a guessed prompt column)
            c_text = _text(i, iid, "chosen", c_val, opts)
            r_text = _text(i, iid, "rejected", r_val, opts)
            c_prefix, c_text, r_text = _parse_hh_pair(i, iid, c_text, r_text)
            prompts[i] = _collapse(_hh_chat(i, iid, "chosen", c_prefix))
        c_text = _text(i, iid, "chosen", c_text, opts)
        r_text = _text(i, iid, "rejected", r_text, opts)
        c_model = _model(i, iid, plan.model_cols[0], mods[0][i]) if mods is not None else None
        r_model = _model(i, iid, plan.model_cols[1], mods[1][i]) if mods is not None else None
        first, second = ("r2", "r1") if _swap(c_text, r_text) else ("r1", "r2")
        resp = sorted(
            [
                {"response_id": first, "text": c_text, "model": c_model},
                {"response_id": second, "text": r_text, "model": r_model},
            ],
            key=lambda r: str(r["response_id"]),
        )
        out.append(resp)
        gold.append([[first], [second]])
    return _Built(prompts, out, ids, gold)


def _build_arena(plan: _Plan, table: Table, opts: _Options) -> _Built:
    ids, prompts = _ids_and_prompts(plan, table, opts)
    conv_a, conv_b = table.col("conversation_a"), table.col("conversation_b")
    mods = [table.col(c) for c in plan.model_cols] if plan.model_cols else None
    out: list[list[dict[str, Any]]] = []
    for i in range(table.n):
        iid = ids[i]
        a = _chat(i, iid, "conversation_a", conv_a[i], opts, prompt=False)
        b = _chat(i, iid, "conversation_b", conv_b[i], opts, prompt=False)
        chat, text_a, text_b = _split_pair(i, iid, ("conversation_a", "conversation_b"), a, b, [])
        if not plan.prompt_cols:
            prompts[i] = _collapse(chat)
        resp = [
            {
                "response_id": "r1",
                "text": _text(i, iid, "conversation_a", text_a, opts),
                "model": _model(i, iid, plan.model_cols[0], mods[0][i]) if mods is not None else None,
            },
            {
                "response_id": "r2",
                "text": _text(i, iid, "conversation_b", text_b, opts),
                "model": _model(i, iid, plan.model_cols[1], mods[1][i]) if mods is not None else None,
            },
        ]
        out.append(resp)
    return _Built(prompts, out, ids, _gold_column(table, out, ids, opts))


# ---------------------------------------------------------------------------------------------------------
# Assembly


def _long_id(value: str) -> str:
    """An id for a value over the id length cap (e.g. item_id='instruction'): stable, 21 characters."""
    return (
        "sha1-" + hashlib.sha1(value.encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()[:16]
    )


def _id_usable(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip()) and len(value) <= MAX_ID_CHARS
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, np.integer)):
        return True
    return isinstance(value, (float, np.floating)) and not math.isnan(value) and float(value).is_integer()


def _plainly_unique(values: list[Any]) -> bool:
    """The common case, checked at C speed: all non-blank strings within the cap (or all ints), no repeats."""
    kinds = set(map(type, values))
    if kinds == {str}:
        ok = max(map(len, values)) <= MAX_ID_CHARS and all(map(str.strip, values))
    else:
        ok = kinds == {int}
    return ok and len(set(values)) == len(values)


def _id_key(value: Any) -> Any:
    return str(int(value)) if isinstance(value, (int, float, np.integer, np.floating)) else value


def _settle_ids(plan: _Plan, table: Table) -> list[str]:
    """An id column picked automatically that cannot serve as the item id (repeated, missing or over-long
    values) is not used: for battles (model columns) its values joined with the models when that is unique,
    else ids derived from the content. A named id column with over-long values gets those hashed.
    Returns the warnings to give."""
    col = plan.id_col
    if col is None:
        return []
    values = table.col(col)
    if col not in plan.auto:
        long = sum(1 for v in values if isinstance(v, str) and len(v) > MAX_ID_CHARS)
        if not long:
            return []
        return [
            f"{long} value(s) of the id column {col!r} are longer than {MAX_ID_CHARS} characters; their item "
            "ids are 'sha1-' + 16 hex digits of the value (the column is not kept: it is the item id)"
        ]
    if _plainly_unique(values):
        return []
    unusable = sum(not _id_usable(v) for v in values)
    repeats = 0 if unusable else table.n - len({_id_key(v) for v in values})
    if not unusable and not repeats:
        return []
    why = (
        f"{repeats} row(s) repeat an earlier value"
        if repeats
        else f"{unusable} value(s) are missing, blank, not integers/strings or over {MAX_ID_CHARS} characters"
    )
    plan.used.discard(col)
    plan.auto.pop(col)
    plan.id_col = None
    combined = _combined_ids(plan, table, col, values) if not unusable else None
    fix = f"pass item_id='<a column of unique ids>' to choose; {col!r} stays a metadata column"
    if combined is not None:
        name = ":".join([col, *plan.model_cols])
        table.put(name, combined)
        plan.id_col = name
        return [
            f"the id column {col!r} was picked automatically but is not unique ({why}); item ids are "
            f"{name!r} joined with ':' instead (each battle of a question is its own item); {fix}"
        ]
    return [
        f"the id column {col!r} was picked automatically but cannot be the item id ({why}); item ids are "
        f"derived from each item's content instead (stable_item_id); {fix}"
    ]


def _combined_ids(plan: _Plan, table: Table, col: str, values: list[Any]) -> list[str] | None:
    if not plan.model_cols:
        return None
    models = [table.col(c) for c in plan.model_cols]
    out = [
        ":".join([_id_key(v), *(m[i] if isinstance(m[i], str) else "" for m in models)])
        for i, v in enumerate(values)
    ]
    if len(set(out)) != len(out) or any(len(x) > MAX_ID_CHARS for x in out):
        return None
    return out


def _build_rows(plan: _Plan, table: Table, opts: _Options) -> tuple[pd.DataFrame | None, list[ItemsError]]:
    """Build every row; when some rows are bad, find them all (row by row) and build the others.

    Returns (the items of the good rows or None when there are none, one error per bad row in row order)."""
    try:
        built = plan.build(table, opts)
        rows = list(range(table.n))
        bad: list[ItemsError] = []
    except ItemsError as exc:
        if exc.row is None:
            raise
        rows, bad = _sort_rows(plan, table, opts)
        if not rows:
            return None, bad
        table = table.rows(rows)
        opts.empty_rows.clear()
        built = plan.build(table, opts)
    ids, dupes = _final_ids(plan, built, rows)
    if dupes:
        drop = {e.row for e in dupes}
        keep = [k for k, row in enumerate(rows) if row not in drop]
        ids = [ids[k] for k in keep]
        position = {k: j for j, k in enumerate(keep)}
        opts.empty_rows[:] = [position[k] for k in opts.empty_rows if k in position]
        built = built.rows(keep)
        table = table.rows(keep)
        bad = sorted(bad + dupes, key=lambda e: e.row or 0)
    return _assemble(table, plan, built, ids), bad


_CHUNK = 256  # rows built at once while looking for the bad ones


def _sort_rows(plan: _Plan, table: Table, opts: _Options) -> tuple[list[int], list[ItemsError]]:
    good: list[int] = []
    bad: list[ItemsError] = []
    for start in range(0, table.n, _CHUNK):
        chunk = list(range(start, min(start + _CHUNK, table.n)))
        try:
            plan.build(table.rows(chunk, frame=False), opts)
            good += chunk
            continue
        except ItemsError as exc:
            if exc.row is None:
                raise
        for i in chunk:
            try:
                plan.build(table.rows([i], frame=False), opts)
                good.append(i)
            except ItemsError as exc:
                if exc.row is None:
                    raise
                bad.append(ItemsError(i, exc.item_id, exc.field, exc.problem))
    return good, bad


def _annotated(plan: _Plan, error: ItemsError) -> ItemsError:
    """Say so when the error is about a column load_items picked by itself, and how to choose."""
    column = re.split(r"[\[.]", error.field, maxsplit=1)[0]
    how = plan.auto.get(column) or plan.auto.get(error.field)
    if how is None:
        return error
    note = f" (column {column!r} was picked automatically; choose with {how})"
    return ItemsError(error.row, error.item_id, error.field, error.problem + note)


def _final_ids(plan: _Plan, built: _Built, rows: list[int]) -> tuple[list[str], list[ItemsError]]:
    """The item ids (given or derived), and an error for each row whose id repeats an earlier row's."""
    if None not in built.ids and len(set(built.ids)) == len(built.ids):  # the common case, at C speed
        return list(built.ids), []  # type: ignore[arg-type]
    ids: list[str] = []
    dupes: list[ItemsError] = []
    seen: dict[str, int] = {}
    for k, given in enumerate(built.ids):
        iid = given if given is not None else stable_item_id(built.prompts[k], built.responses[k])
        if iid in seen:
            if given is not None:
                problem = (
                    f"item id {iid!r} is also the id of row {seen[iid]}; item ids must be unique: fix or "
                    "drop one of them"
                )
            else:
                problem = (
                    f"this row has the same prompt and responses as row {seen[iid]} (so the same derived "
                    "id); drop the duplicate (df.drop_duplicates) or give an id column (item_id='col')"
                )
            dupes.append(ItemsError(rows[k], iid, plan.id_col or "item_id", problem))
        else:
            seen[iid] = rows[k]
        ids.append(iid)
    return ids, dupes


def _assemble(table: Table, plan: _Plan, built: _Built, ids: list[str]) -> pd.DataFrame:
    n = table.n
    # prompt is object dtype as given (str prompts and chats side by side): no str-dtype inference to undo
    data: dict[str, Any] = {
        "item_id": ids,
        "prompt": pd.Series(_objects(built.prompts), dtype=object, copy=False),
        "responses": _objects(built.responses),
    }
    if built.gold is not None:
        data["gold"] = _objects(built.gold)
    meta_cols = [c for c in table.columns if c not in plan.used and c != "gold"]
    if table.frame is not None and len(table.frame) == n:
        meta = table.frame[meta_cols].reset_index(drop=True).copy()
    else:
        meta = pd.DataFrame(
            {
                c: [None if v is MISSING else v for v in table.col(c)] if table.gaps else table.col(c)
                for c in meta_cols
            },
            index=range(n),
        )
    for name, values in built.extra.items():
        meta[name] = values
    renames = {c: f"source_{c}" for c in meta.columns if c in RESERVED}
    if renames:
        meta = meta.rename(columns=renames)
    out = pd.DataFrame(data)
    return pd.concat([out, meta], axis=1) if len(meta.columns) else out


def _objects(values: list[Any]) -> np.ndarray:
    """A list as a 1-d object array, element for element (np.array would turn lists into more dimensions)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out
