"""Remappable hotkeys (issue 14): RankWidget(keymap=...) is validated and sent to the view in config."""

from __future__ import annotations

import pytest

from factories import make_items
from rank_widget import RankWidget
from rank_widget.keymap import DEFAULT_KEYMAP, normalize_key, resolve_keymap


def test_defaults_and_overrides() -> None:
    assert resolve_keymap(None) == {a: list(k) for a, k in DEFAULT_KEYMAP.items()}
    km = resolve_keymap({"submit": "Ctrl+Enter", "skip": ["x", "Cmd+s"], "help": "F1"})
    assert km["submit"] == ["Ctrl+Enter"]
    assert km["skip"] == ["x", "Meta+s"]
    assert km["help"] == ["F1"]
    assert km["back"] == ["Backspace", "["]  # not given: the default


def test_modifiers_are_canonical() -> None:
    assert normalize_key("submit", "Meta+Shift+Alt+Ctrl+Enter") == "Ctrl+Alt+Shift+Meta+Enter"
    assert normalize_key("help", "+") == "+"
    assert normalize_key("help", "Ctrl++") == "Ctrl++"


@pytest.mark.parametrize(
    ("keymap", "message"),
    [
        ({"sumbit": "x"}, "unknown action 'sumbit'"),
        ({"skip": "r"}, "'r' is bound to both 'skip' and 'rationale'"),
        ({"skip": "x", "back": "x"}, "'x' is bound to both 'skip' and 'back'"),
        ({"skip": "1"}, "fixed meaning"),
        ({"submit": "Escape"}, "fixed meaning"),
        ({"submit": "Tab"}, "fixed meaning"),
        ({"skip": "ArrowLeft"}, "fixed meaning"),
        ({"skip": "Shift+s"}, "'S' for Shift+s"),
        ({"skip": "Hyper+s"}, "unknown or repeated modifier 'Hyper'"),
        ({"skip": "Ctrl+Ctrl+s"}, "repeated modifier"),
        ({"skip": "Foo"}, "unknown key 'Foo'"),
        ({"skip": ""}, "non-empty string"),
        ({"skip": []}, "non-empty list"),
        ({"skip": 5}, "non-empty list"),
    ],
)
def test_bad_keymaps_are_refused(keymap: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("+", r"\+")):
        resolve_keymap(keymap)


def test_not_a_dict() -> None:
    with pytest.raises(TypeError, match="keymap must be a dict"):
        resolve_keymap(["submit"])  # type: ignore[arg-type]


def test_widget_sends_the_active_map_and_refuses_a_conflict() -> None:
    w = RankWidget(make_items(), annotator="alice", keymap={"submit": "Ctrl+Enter", "skip": "x"}, seed=1)
    try:
        assert w.config["keymap"]["submit"] == ["Ctrl+Enter"]
        assert w.config["keymap"]["skip"] == ["x"]
        assert w.config["keymap"]["rate"] == ["v"]
    finally:
        w.close()
    with pytest.raises(ValueError, match="'g' is bound to both 'skip' and 'guidelines'"):
        RankWidget(make_items(), annotator="alice", keymap={"skip": "g"})
