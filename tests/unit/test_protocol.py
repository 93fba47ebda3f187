"""The protocol layer both widgets share (_protocol.py): one rejection type, one envelope check with one size
rule, handler-table dispatch with ack/reject replies, the front-end files and the shared argument helpers.

The size rule is checked through both widgets' real entry point (``handle_message``) with the same messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import anywidget
import pandas as pd
import pytest

from rank_widget import _protocol, audit, submission
from rank_widget._protocol import (
    MAX_MESSAGE_BYTES,
    Envelope,
    Handler,
    MessageDispatch,
    Rejected,
    StaticAssetsMissing,
    check_fields,
    check_message,
    ensure_static,
    items_frame,
    message_size,
    resolve_annotator,
    static_or_none,
    unknown_kwarg_message,
)
from rank_widget.audit import AuditWidget
from rank_widget.store import open_store
from rank_widget.widget import RankWidget


def items(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": [f"it{i}" for i in range(n)],
            "prompt": [f"Question {i}?" for i in range(n)],
            "responses": [
                [{"response_id": "r1", "text": f"a{i}"}, {"response_id": "r2", "text": f"b{i}"}]
                for i in range(n)
            ],
        }
    )


class Replies:
    """Everything a widget sent, captured instead of the comm."""

    def __init__(self, w: Any) -> None:
        self.sent: list[dict[str, Any]] = []
        w.send = lambda msg, buffers=None: self.sent.append(msg)


# -- one rejection type, one envelope ------------------------------------------------------------------------


def test_one_rejection_type_for_both_widgets() -> None:
    assert submission.Rejected is Rejected and audit.Rejected is Rejected
    exc = Rejected("ranking", "rank every response")
    assert isinstance(exc, ValueError)
    assert (exc.field, exc.message, str(exc)) == (
        "ranking",
        "rank every response",
        "ranking: rank every response",
    )


def test_message_size_is_bytes_of_the_json() -> None:
    assert message_size({"a": "x"}) == len('{"a": "x"}')
    assert message_size({"a": "é"}) == len('{"a": "é"}'.encode())  # bytes, not characters
    for not_json in ({"a": float("nan")}, {"a": object()}, {"a": {1, 2}}):
        with pytest.raises(Rejected) as err:
            message_size(not_json)
        assert err.value.field == "message" and "plain JSON" in err.value.message


def test_check_message() -> None:
    ok = {"type": "x", "text": "a" * 100}
    assert check_message(ok, None, shorten="the text") is ok
    assert check_message(ok, [], shorten="the text") is ok  # an empty buffer list is no buffer
    cases: list[tuple[Any, Any, str]] = [
        (ok, [b"\x00"], "binary buffers"),
        ("submit", None, "must be an object, got str"),
        (["x"], None, "must be an object, got list"),
        ({"text": "a" * MAX_MESSAGE_BYTES}, None, f"the limit is {MAX_MESSAGE_BYTES}: shorten the text"),
    ]
    for content, buffers, words in cases:
        with pytest.raises(Rejected) as err:
            check_message(content, buffers, shorten="the text")
        assert err.value.field == "message" and words in err.value.message


def test_check_fields() -> None:
    check_fields({"type": "navigate", "to": 1}, {"to"})
    with pytest.raises(Rejected, match="is not a field of a navigate message") as err:
        check_fields({"type": "navigate", "to": 1, "client_id": "c"}, {"to"})
    assert err.value.field == "client_id"
    with pytest.raises(Rejected, match="of an ack_guidelines message"):
        check_fields({"type": "ack_guidelines", "v": 1}, {"version"}, article="an")
    with pytest.raises(Rejected) as err:
        check_fields({"type": "open", "y" * 99: 1}, {"item_id"}, cap=40)
    assert err.value.field == "y" * 40


def test_envelope_of_a_message() -> None:
    assert Envelope.of("nope") == Envelope(None, None, None)
    assert Envelope.of({"type": "submit", "client_id": "c1", "item_id": 3}) == Envelope("submit", "c1", None)
    assert Envelope.of({"type": "open", "client_id": "c" * 200}, client_id_cap=128).client_id is None


# -- dispatch ------------------------------------------------------------------------------------------------


class Echo(MessageDispatch):
    """The smallest widget: a handler table, a history and a captured send."""

    SHORTEN = "the words"

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.history: list[tuple[Any, str, str]] = []
        self.quiet = False

    def send(self, msg: dict[str, Any], buffers: Any = None) -> None:
        self.sent.append(msg)

    def _message_handlers(self) -> Mapping[str, Handler]:
        return {"echo": self._echo, "silent": lambda c: None, "boom": self._boom}

    def _echo(self, content: Mapping[str, Any]) -> str:
        check_fields(content, {"client_id", "words"})
        if not isinstance(content.get("words"), str):
            raise Rejected("words", "must be text")
        return str(content["words"])

    def _boom(self, content: Mapping[str, Any]) -> str:
        raise KeyError("broken")

    def _record(self, env: Envelope, outcome: str, detail: str) -> None:
        self.history.append((env.kind, outcome, detail))

    def _replies_to(self, env: Envelope) -> bool:
        return not self.quiet

    def _reply_context(self, env: Envelope) -> dict[str, Any]:
        return {"of": env.kind}


def test_dispatch_acks_rejects_and_never_raises() -> None:
    w = Echo()
    w.handle_message({"type": "echo", "client_id": "c1", "words": "hi"})
    assert w.sent[-1] == {"type": "ack", "client_id": "c1", "of": "echo", "detail": "hi"}
    w.handle_message({"type": "echo", "words": "no id"})  # recorded, but an ack needs someone to go to
    assert len(w.sent) == 1 and w.history[-1] == ("echo", "ack", "no id")
    w.handle_message({"type": "silent", "client_id": "c2"})  # the handler replies itself, or not at all
    assert len(w.sent) == 1
    w.handle_message({"type": "echo", "client_id": "c3", "words": 5})
    assert w.sent[-1] == {
        "type": "reject",
        "client_id": "c3",
        "of": "echo",
        "field": "words",
        "message": "must be text",
    }
    w.handle_message({"type": "dance", "client_id": "c4"})
    assert w.sent[-1]["field"] == "type" and "'dance'" in w.sent[-1]["message"]
    w.handle_message({"type": ["unhashable"], "client_id": "c5"})
    assert w.sent[-1]["field"] == "type"
    w.handle_message({"type": "echo", "client_id": "c6", "words": "hi"}, [b"\x00"])
    assert w.sent[-1]["field"] == "message" and "buffers" in w.sent[-1]["message"]
    w.handle_message({"type": "echo", "client_id": "c7", "words": "w" * MAX_MESSAGE_BYTES})
    assert w.sent[-1]["field"] == "message" and "shorten the words" in w.sent[-1]["message"]
    w.handle_message({"type": "boom", "client_id": "c8"})
    assert w.sent[-1]["type"] == "reject" and "KeyError" in w.sent[-1]["message"]
    assert [h[1] for h in w.history[-2:]] == ["error", "reject"]
    w.quiet = True
    n = len(w.sent)
    w.handle_message({"type": "echo", "client_id": "c9"})
    assert len(w.sent) == n and w.history[-1][1] == "reject"  # only recorded


def test_dispatch_survives_a_failing_send() -> None:
    w = Echo()

    def broken(msg: dict[str, Any], buffers: Any = None) -> None:
        raise RuntimeError("comm closed")

    w.send = broken  # type: ignore[method-assign]
    w.handle_message({"type": "echo", "client_id": "c1", "words": 3})  # must not raise
    assert ("echo", "error", "RuntimeError: comm closed") in w.history


# -- one size rule, applied identically to both widgets ------------------------------------------------------


@pytest.fixture
def both(tmp_path: Path) -> dict[str, Any]:
    t0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
    with open_store(tmp_path / "labels.sqlite") as s:
        s.append_many(
            [
                {
                    "label_id": f"l{i}",
                    "item_id": "it0",
                    "annotator": who,
                    "task": "pairwise",
                    "winner": "r1",
                    "ranking": [["r1"], ["r2"]],
                    "strength": 1,
                    "display_order": ["r1", "r2"],
                    "submitted_at": t0 + timedelta(minutes=i),
                    "source": "import",
                }
                for i, who in enumerate(["ann", "bob"])
            ]
        )
    return {
        "submit": RankWidget(items(), annotator="a"),
        "filter": AuditWidget(items(), tmp_path / "labels.sqlite", adjudicator="lead"),
    }


def padded(kind: str, total_bytes: int) -> dict[str, Any]:
    """A message of ``kind`` whose JSON is exactly ``total_bytes`` long, made so by an unknown field."""
    content: dict[str, Any] = {"type": kind, "client_id": "client-0001", "padding": ""}
    content["padding"] = "é" * ((total_bytes - message_size(content)) // 2)
    content["padding"] += "p" * (total_bytes - message_size(content))
    assert message_size(content) == total_bytes
    return content


def test_the_size_rule_is_the_same_for_both_widgets(both: dict[str, Any]) -> None:
    for kind, w in both.items():
        replies = Replies(w)
        w.handle_message(padded(kind, MAX_MESSAGE_BYTES))  # at the limit: past the size check
        assert replies.sent[-1]["type"] == "reject" and replies.sent[-1]["field"] == "padding", kind
        w.handle_message(padded(kind, MAX_MESSAGE_BYTES + 1))  # one byte over
        reply = replies.sent[-1]
        assert reply["type"] == "reject" and reply["field"] == "message", kind
        assert (
            f"is {MAX_MESSAGE_BYTES + 1} bytes; the limit is {MAX_MESSAGE_BYTES}: shorten "
            in reply["message"]
        )
        assert reply["client_id"] == "client-0001"
        # fewer characters than the limit, more bytes: bytes count
        w.handle_message(
            {"type": kind, "client_id": "client-0002", "text": "é" * (MAX_MESSAGE_BYTES // 2 + 10)}
        )
        assert replies.sent[-1]["field"] == "message", kind


def test_both_widgets_answer_in_their_own_reply_shape(both: dict[str, Any]) -> None:
    rank, aud = Replies(both["submit"]), Replies(both["filter"])
    both["submit"].handle_message({"type": "dance", "client_id": "c-1", "item_id": "it0"})
    assert rank.sent[-1] == {
        "type": "reject",
        "client_id": "c-1",
        "item_id": "it0",
        "field": "type",
        "message": "unknown message type 'dance'",
    }
    both["filter"].handle_message({"type": "dance", "client_id": "c-1"})
    assert aud.sent[-1] == {
        "type": "reject",
        "client_id": "c-1",
        "of": "dance",
        "field": "type",
        "message": "unknown message type 'dance'",
    }
    both["filter"].handle_message({"type": "page", "client_id": "c-2", "page": 0})
    assert aud.sent[-1] == {"type": "ack", "client_id": "c-2", "of": "page", "detail": "page 0"}
    n = len(rank.sent)
    both["submit"].handle_message({"type": "navigate", "to": "x"})  # RankWidget: logged, not answered
    assert len(rank.sent) == n and both["submit"].history["event"].iloc[-1] == "reject"


# -- front end and arguments -------------------------------------------------------------------------------


def test_a_missing_front_end_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(_protocol, "STATIC_CSS", tmp_path / "widget.css")
    with pytest.raises(StaticAssetsMissing, match=r"AuditWidget front end is not built.*npm run build"):
        AuditWidget(items(), pd.DataFrame())
    assert static_or_none(tmp_path / "widget.css") is None


def test_a_front_end_built_after_import_is_picked_up(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    class Late(anywidget.AnyWidget):
        _esm = static_or_none(tmp_path / "widget.js")  # not built yet
        _css = static_or_none(tmp_path / "widget.css")

    assert Late._esm is None
    (tmp_path / "widget.js").write_text("export default { render() {} };\n", encoding="utf-8")
    (tmp_path / "widget.css").write_text(".x { color: red; }\n", encoding="utf-8")
    monkeypatch.setattr(_protocol, "STATIC_JS", tmp_path / "widget.js")
    monkeypatch.setattr(_protocol, "STATIC_CSS", tmp_path / "widget.css")
    ensure_static(Late)
    w = Late()
    assert w._esm == "export default { render() {} };\n" and w._css == ".x { color: red; }\n"


def test_annotator_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_annotator("  alice ") == "alice"
    monkeypatch.setenv("JUPYTERHUB_USER", "hub-user")
    assert resolve_annotator(None) == "hub-user"
    with pytest.raises(TypeError, match="annotator must be a string"):
        resolve_annotator(7)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"annotator must be 1\.\."):
        resolve_annotator("   ")


def test_unknown_keyword_hint_for_both_widgets() -> None:
    text = unknown_kwarg_message("W", {"shufle": 1, "zzz": 2}, ("shuffle", "seed"))
    assert text == (
        "W got an unexpected keyword argument 'shufle'. Did you mean 'shuffle'? Valid options: shuffle, seed"
    )
    assert "Did you mean" not in unknown_kwarg_message("W", {"zzz": 1}, ("shuffle",))
    with pytest.raises(
        TypeError, match=r"RankWidget got an unexpected keyword argument 'anotator'.*'annotator'"
    ):
        RankWidget(items(), anotator="a")
    with pytest.raises(
        TypeError, match=r"AuditWidget got an unexpected keyword argument 'page_sze'.*'page_size'"
    ):
        AuditWidget(items(), pd.DataFrame(), page_sze=3)


def test_items_frame() -> None:
    frame = items().set_index("item_id", drop=False)
    out = items_frame(frame)
    assert isinstance(out.index, pd.RangeIndex) and list(out["item_id"]) == ["it0", "it1", "it2"]
    plain = items()
    assert items_frame(plain) is plain  # a normalised frame is used as is
    assert list(items_frame([{"prompt": "q", "response_a": "x", "response_b": "y"}])["prompt"]) == ["q"]
    with pytest.raises(ValueError, match="empty"):
        items_frame(items().iloc[0:0])
