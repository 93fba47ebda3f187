"""What RankWidget and AuditWidget share: the message envelope and its dispatch, the front-end files, and the
argument helpers both take (docs/protocol.md, docs/audit.md).

Every message from the view goes through ``MessageDispatch.handle_message``: buffers and non-objects are
refused, the JSON-encoded message may be at most ``MAX_MESSAGE_BYTES`` (one size rule for both widgets), the
``type`` picks a handler from the widget's table, and a ``Rejected`` from anywhere below becomes a ``reject``
reply. Nothing escapes into the kernel's comm handler. The module is private to the package; its names are the
package's internal API.
"""

from __future__ import annotations

import difflib
import getpass
import json
import logging
import os
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from . import schema

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 256 * 1024
STATIC = Path(__file__).parent / "static"
STATIC_JS = STATIC / "widget.js"
STATIC_CSS = STATIC / "widget.css"


class Rejected(ValueError):
    """A message the widget refuses; ``field`` names what was wrong, ``message`` says what to do."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


# -- the envelope -------------------------------------------------------------------------------------------


def message_size(content: Any) -> int:
    """Bytes of the message as JSON (what crossed the wire), or raises Rejected when it is not JSON data."""
    try:
        return len(json.dumps(content, ensure_ascii=False, allow_nan=False).encode("utf-8", "surrogatepass"))
    except (TypeError, ValueError) as exc:
        raise Rejected("message", f"is not plain JSON data ({exc}); reload the widget") from exc


def check_message(content: Any, buffers: Sequence[Any] | None, *, shorten: str) -> Mapping[str, Any]:
    """The checks every message passes before its handler sees it: no binary buffers, a JSON object, at most
    ``MAX_MESSAGE_BYTES`` encoded. ``shorten`` names what the user can shorten when it is too large."""
    if buffers:
        raise Rejected("message", "binary buffers are not accepted")
    if not isinstance(content, Mapping):
        raise Rejected("message", f"must be an object, got {type(content).__name__}")
    size = message_size(content)
    if size > MAX_MESSAGE_BYTES:
        raise Rejected("message", f"is {size} bytes; the limit is {MAX_MESSAGE_BYTES}: shorten {shorten}")
    return content


def check_fields(
    content: Mapping[str, Any], allowed: Collection[str], *, article: str = "a", cap: int | None = None
) -> None:
    """Refuse a field the message type does not have (``cap`` truncates the echoed field name)."""
    unknown = sorted(set(content) - set(allowed) - {"type"})
    if unknown:
        name = str(unknown[0])
        what = f"{article} {content.get('type')} message"
        raise Rejected(name[:cap] if cap else name, f"is not a field of {what}")


@dataclass(frozen=True)
class Envelope:
    """Who a reply goes to: the message's ``type``, ``client_id`` and ``item_id`` when they are strings."""

    kind: Any
    client_id: str | None
    item_id: str | None

    @classmethod
    def of(cls, content: Any, *, client_id_cap: int | None = None) -> Envelope:
        if not isinstance(content, Mapping):
            return cls(None, None, None)
        cid, iid = content.get("client_id"), content.get("item_id")
        if not isinstance(cid, str) or (client_id_cap is not None and len(cid) > client_id_cap):
            cid = None
        return cls(content.get("type"), cid, iid if isinstance(iid, str) else None)


Handler = Callable[[Mapping[str, Any]], str | None]


class MessageDispatch:
    """Mixin for a widget whose view sends typed messages: a table of ``type`` -> handler, ack/reject replies.

    A handler takes the message and returns the ``detail`` of an ``ack`` reply, or None when it replies itself
    (RankWidget's submit acks only after the store committed) or the message gets no ack. It raises
    ``Rejected`` to refuse the message; any other exception is logged and answered with a ``reject`` too.
    The widget supplies ``send`` (anywidget) and ``_record`` (its history).
    """

    SHORTEN: ClassVar[str] = "the text"  # what to shorten when a message is too large
    CLIENT_ID_CAP: ClassVar[int | None] = None  # longer client ids are not echoed back

    send: Callable[..., None]

    def _message_handlers(self) -> Mapping[str, Handler]:
        raise NotImplementedError

    def _record(self, env: Envelope, outcome: str, detail: str) -> None:
        """Note a handled message in the widget's history (outcome: ack, reject or error)."""
        raise NotImplementedError

    def _failure_message(self, exc: Exception) -> str:
        return f"failed ({type(exc).__name__}: {exc}); try again"

    def _replies_to(self, env: Envelope) -> bool:
        """Whether a refused message gets a ``reject`` reply (else it is only recorded)."""
        return True

    def _reply_context(self, env: Envelope) -> dict[str, Any]:
        """Fields of every reply after ``type`` and ``client_id``."""
        return {}

    def _on_custom_msg(self, _widget: Any, content: Any, buffers: Any = None) -> None:
        self.handle_message(content, buffers)

    # -- state updates from the view -----------------------------------------------------------------------

    # Synced traits the view may set with an ``update`` message (each must be validated by a traitlets
    # ``@validate``). Neither widget's view sets any: it talks in messages. Everything else is refused.
    VIEW_SETTABLE: ClassVar[frozenset[str]] = frozenset()
    send_state: Callable[..., None]
    keys: list[str]

    def set_state(self, sync_data: Any) -> None:
        """ipywidgets applies the view's ``update`` messages here. Python owns the state: keys not in
        ``VIEW_SETTABLE`` are refused (nothing changes, the refusal goes to the history, and the view gets
        Python's value back); the others pass the traits' validators or are refused the same way."""
        env = Envelope("update", None, None)
        if not isinstance(sync_data, Mapping):
            self._record(env, "reject", f"state must be an object, got {type(sync_data).__name__}")
            return
        names = [str(k)[:40] for k in sync_data]
        refused = [n for n in names if n not in self.VIEW_SETTABLE]
        allowed = {k: v for k, v in sync_data.items() if k in self.VIEW_SETTABLE}
        if allowed:
            try:
                super().set_state(allowed)  # type: ignore[misc]
            except Exception as exc:  # a validator refused it: nothing was set
                refused += list(allowed)
                self._record(env, "reject", f"{type(exc).__name__}: {str(exc)[:200]}")
        if refused:
            self._record(env, "reject", f"{refused[:10]} cannot be set from the view")
            restore = [k for k in sync_data if k in self.keys and isinstance(k, str)]
            if restore:
                try:  # the view's copy back to Python's value
                    self.send_state(sorted(set(restore)))
                except Exception:
                    log.exception("%s: could not restore the view's state", type(self).__name__)

    def handle_message(self, content: Any, buffers: Sequence[Any] | None = None) -> None:
        """Handle one message from the view; the browser's messages arrive here.

        Public so tests and headless notebooks can send exactly what the browser would. Never raises: a bad
        message changes nothing and is answered with a ``reject`` (or only recorded, see ``_replies_to``).
        """
        env = Envelope(None, None, None)
        try:
            env = Envelope.of(content, client_id_cap=self.CLIENT_ID_CAP)
            try:
                message = check_message(content, buffers, shorten=self.SHORTEN)
                kind = env.kind
                handler = self._message_handlers().get(kind) if isinstance(kind, str) else None
                if handler is None:
                    raise Rejected("type", f"unknown message type {str(kind)[:40]!r}")
                detail = handler(message)
                if detail is not None:
                    self._ack(env, detail)
            except Rejected as exc:
                self._reject(env, exc.field, exc.message)
        except Exception as exc:  # never let an error escape into the kernel's comm handler
            name = type(self).__name__
            log.exception("%s: error handling a message", name)
            try:
                self._record(env, "error", f"{type(exc).__name__}: {exc}")
                self._reject(env, "message", self._failure_message(exc))
            except Exception:
                log.exception("%s: could not report the error to the view", name)

    def _ack(self, env: Envelope, detail: str) -> None:
        self._record(env, "ack", detail)
        if env.client_id is not None:
            self.send(
                {"type": "ack", "client_id": env.client_id, **self._reply_context(env), "detail": detail}
            )

    def _reject(self, env: Envelope, field: str, message: str) -> None:
        self._record(env, "reject", f"{field}: {message}")
        if self._replies_to(env):
            reply = {"type": "reject", "client_id": env.client_id, **self._reply_context(env)}
            self.send({**reply, "field": field, "message": message})


# -- replayed ids -------------------------------------------------------------------------------------------

# What makes two labels the same label: a replayed id must carry all of these unchanged to be acknowledged.
REPLAY_FIELDS = (
    "item_id",
    "annotator",
    "source",
    "status",
    "winner",
    "strength",
    "ranking",
    "ratings",
    "rationale",
    "flags",
    "flag_note",
    "display_order",
    "guideline_version",
)


def _plain(value: Any) -> Any:
    """A stored or validated field as plain comparable data (numpy arrays, NA and numpy numbers unified)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or type(value).__name__ == "ndarray":
        return [_plain(v) for v in value]
    if value is None or value is pd.NA:
        return None
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, (str, bytes)):
        value = item()  # numpy scalar
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        if value.is_integer():
            return int(value)
    return value


def replay_mismatch(stored: pd.DataFrame, label: Mapping[str, Any]) -> str | None:
    """For a ``label_id`` the store already had: None when ``stored`` (the item's labels by the same
    annotator and source) holds exactly this label (a replay), else the first field that differs."""
    rows = stored[stored["label_id"] == label["label_id"]]
    if rows.empty:
        return "item_id"  # the id belongs to another item, annotator or source
    row = rows.iloc[-1]
    for name in REPLAY_FIELDS:
        if _plain(row.get(name)) != _plain(label.get(name)):
            return name
    return None


def replay_rejection(client_id: str, field: str) -> Rejected:
    return Rejected(
        "client_id",
        f"{client_id[:80]!r} is already the id of a different label (its {field} differs); nothing was "
        "stored: reload the widget",
    )


# -- response ids on the wire ----------------------------------------------------------------------------


def wire_ids(display_order: Sequence[str]) -> dict[str, str]:
    """Real response id -> the id the view gets: ``r1..rN`` by position on screen, so neither the source's ids
    (often model names, in the wide shape) nor the source order (e.g. ``chosen`` first) reach the browser."""
    return {rid: f"r{k + 1}" for k, rid in enumerate(display_order)}


def map_ids(value: Any, ids: Mapping[str, str]) -> Any:
    """Response ids in a label field mapped (a ranking's groups, a display order, ratings' keys, a winner);
    ``tie`` stays; an id outside ``ids`` becomes ``?`` (the other side's ids never pass through)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value if value == "tie" else ids.get(value, "?")
    if isinstance(value, Mapping):
        return {ids.get(str(k), "?"): v for k, v in value.items()}
    if isinstance(value, (list, tuple)) or type(value).__name__ == "ndarray":
        return [map_ids(v, ids) for v in value]
    return value


ID_FIELDS = ("ranking", "winner", "ratings", "display_order")


def map_label_ids(label: Mapping[str, Any], ids: Mapping[str, str]) -> dict[str, Any]:
    """A label (or prefill) with the response ids in ``ID_FIELDS`` mapped through ``ids``."""
    out = dict(label)
    for name in ID_FIELDS:
        if name in out:
            out[name] = map_ids(out[name], ids)
    return out


def scrub_ids(text: str, ids: Mapping[str, str]) -> str:
    """A message about a label with every quoted real response id replaced by its wire id (one pass)."""
    if not ids:
        return text
    quoted = {repr(real): repr(wire) for real, wire in ids.items()}
    pattern = "|".join(re.escape(q) for q in sorted(quoted, key=len, reverse=True))
    return re.sub(pattern, lambda m: quoted[m.group(0)], text)


def wire_outcome(text: Any, ids: Mapping[str, str]) -> Any:
    """An outcome (a pairwise winner id, ``tie``, or a ranking's text ``'r2 > r1 = r3'``) in wire ids."""
    if not isinstance(text, str) or text == "tie":
        return text
    if text in ids:
        return ids[text]
    groups = [sorted(ids.get(t, "?") for t in g.split(" = ")) for g in text.split(" > ")]
    return " > ".join(" = ".join(g) for g in groups)


# -- the front end ------------------------------------------------------------------------------------------


class StaticAssetsMissing(RuntimeError):
    """The built front end (static/widget.js, widget.css) is not there."""


def static_or_none(path: Path) -> Path | None:
    return path if path.exists() else None


def ensure_static(cls: type) -> None:
    """Raise StaticAssetsMissing when the front end is not built; load it when it was built after import."""
    for key, path in (("_esm", STATIC_JS), ("_css", STATIC_CSS)):
        if not path.exists():
            raise StaticAssetsMissing(
                f"the {cls.__name__} front end is not built ({path} is missing). From a source checkout run "
                "`pip install -e .` (which builds it) or `cd js && npm install && npm run build`."
            )
        if cls.__dict__.get(key) is None:
            # Missing when the class was made (anywidget turns a path into file contents only then); the
            # source as a string is anywidget's other public form of _esm/_css.
            setattr(cls, key, path.read_text(encoding="utf-8"))


# -- arguments both widgets take ----------------------------------------------------------------------------


def resolve_annotator(value: str | None, identity: str | None = None) -> str:
    """The labeler's (or adjudicator's) name: given, else JUPYTERHUB_USER, else the OS user.

    ``identity``: the store's database role when it has access control (``Store.identity``): then it is the
    name, and a different one is refused (docs/security.md)."""
    if identity is not None:
        if value is not None and (not isinstance(value, str) or value.strip() != identity):
            raise PermissionError(
                f"annotator {value!r} is not who this store knows you as: you are connected as {identity!r}, "
                f"and on a store with access control your labels carry your database role's name; drop "
                f"annotator= (it defaults to {identity!r}), or open the store with that person's own "
                f"credentials (docs/security.md)"
            )
        value = identity
    if value is None:
        value = os.environ.get("JUPYTERHUB_USER") or ""
        if not value:
            try:
                value = getpass.getuser()
            except Exception:  # no user database entry (some containers)
                value = "anonymous"
    if not isinstance(value, str):
        raise TypeError(f"annotator must be a string, got {type(value).__name__}")
    value = value.strip()
    if not value or len(value) > schema.MAX_ID_CHARS:
        raise ValueError(f"annotator must be 1..{schema.MAX_ID_CHARS} characters, got {value!r}")
    return value


def did_you_mean(name: str, options: Sequence[str]) -> str | None:
    """The closest option to a misspelt name, if one is close."""
    close = difflib.get_close_matches(name, options, n=1)
    return close[0] if close else None


def unknown_kwarg_message(widget: str, unknown: Mapping[str, Any], options: Sequence[str]) -> str:
    """The TypeError text for misspelt keyword arguments: the first one, the likely meant one, all options."""
    name = sorted(unknown)[0]
    close = did_you_mean(name, options)
    hint = f" Did you mean {close!r}?" if close else ""
    return f"{widget} got an unexpected keyword argument {name!r}.{hint} Valid options: {', '.join(options)}"


def items_frame(items: Any) -> pd.DataFrame:
    """An items DataFrame: a normalised one is used as is (no per-item work); anything else goes through
    load_items."""
    if isinstance(items, pd.DataFrame) and {"item_id", "prompt", "responses"} <= set(items.columns):
        if items.empty:
            raise ValueError("items is empty; there is nothing to label")
        first = items["responses"].iat[0]
        if (
            isinstance(first, (list, tuple))
            and first
            and isinstance(first[0], Mapping)
            and "response_id" in first[0]
            and "text" in first[0]
        ):
            return items.reset_index(drop=True) if not isinstance(items.index, pd.RangeIndex) else items
    from .items import load_items

    out = load_items(items)
    if out.empty:
        raise ValueError("items is empty; there is nothing to label")
    return out
