"""Remappable hotkeys of the labeling widget: ``RankWidget(..., keymap={"submit": "Enter", "skip": "s"})``.

A key is a single character (``"s"``, ``"?"``, ``"["``; a capital letter is Shift+letter) or a named key
(``Enter``, ``Backspace``, ``Delete``, ``Home``, ``End``, ``PageUp``, ``PageDown``, ``Insert``, ``F1`` ...
``F12``), after optional modifiers ``Ctrl+``, ``Alt+``, ``Shift+`` (named keys only) and ``Meta+`` (or
``Cmd+``), e.g. ``"Ctrl+Enter"``. An action takes one key or a list of keys; the actions not given keep their
default keys. Keys with a fixed meaning (Esc, Tab, Space, the digits 1-9, the arrow keys) cannot be bound, and
two actions cannot share a key. docs/labeling.md lists the actions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Action -> default keys (js/src/keymap.ts DEFAULT_KEYMAP is the same table).
DEFAULT_KEYMAP: dict[str, tuple[str, ...]] = {
    "submit": ("Enter",),
    "skip": ("s",),
    "back": ("Backspace", "["),
    "forward": ("]",),
    "rationale": ("r",),
    "flags": ("f",),
    "guidelines": ("g",),
    "diff": ("d",),
    "help": ("?",),
    "rate": ("v",),
    "tie": ("t",),
    "untie": ("u",),
    "unrank": ("0", "Delete"),
    "undo": ("z", "Ctrl+z", "Meta+z"),  # undo the last submit or skip (a withdrawn revision; history.py)
    "history": ("h",),  # the session's history panel
}

NAMED_KEYS = frozenset(
    {"Enter", "Backspace", "Delete", "Home", "End", "PageUp", "PageDown", "Insert"}
    | {f"F{i}" for i in range(1, 13)}
)
MODIFIERS = ("Ctrl", "Alt", "Shift", "Meta")
# Keys whose meaning is fixed: leaving the widget / a box, moving between controls, pressing a button, the
# verdict, rank and rating digits, the arrow keys (pairwise steps, ranking selection and Alt+arrow moves).
RESERVED = frozenset(
    {"Escape", "Esc", "Tab", "Space", " "}
    | {str(d) for d in range(1, 10)}
    | {"ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"}
)


def normalize_key(action: str, spec: object) -> str:
    """The canonical form of one key (modifiers in the order Ctrl, Alt, Shift, Meta), or a ValueError."""
    if not isinstance(spec, str) or not spec:
        raise ValueError(
            f"keymap[{action!r}]: a key must be a non-empty string such as 's' or 'Ctrl+Enter', got {spec!r}"
        )
    parts = spec.split("+")
    # "+" itself, and a trailing "+" after modifiers ("Ctrl++"), name the plus key.
    if spec.endswith("+"):
        parts = [*spec[:-1].split("+")[:-1], "+"] if spec != "+" else ["+"]
    *mods, key = parts
    seen: set[str] = set()
    for m in mods:
        m2 = {"Cmd": "Meta", "Control": "Ctrl", "Option": "Alt"}.get(m, m)
        if m2 not in MODIFIERS or m2 in seen:
            raise ValueError(
                f"keymap[{action!r}]: {spec!r} has an unknown or repeated modifier {m!r}; "
                f"use {', '.join(MODIFIERS)} (or Cmd), e.g. 'Ctrl+Enter'"
            )
        seen.add(m2)
    if key in RESERVED:
        raise ValueError(
            f"keymap[{action!r}]: {spec!r} cannot be bound: Esc, Tab, Space, the digits 1-9 and the arrows "
            "keys have a fixed meaning in the widget"
        )
    if len(key) == 1:
        if "Shift" in seen:
            raise ValueError(
                f"keymap[{action!r}]: write the shifted character itself instead of {spec!r} "
                "(e.g. 'S' for Shift+s, '?' for Shift+/)"
            )
        if not key.isprintable() or key.isspace():
            raise ValueError(f"keymap[{action!r}]: {spec!r} is not a printable key")
    elif key not in NAMED_KEYS:
        raise ValueError(
            f"keymap[{action!r}]: unknown key {key!r} in {spec!r}; use one character or one of "
            f"{', '.join(sorted(NAMED_KEYS))}"
        )
    return "+".join([*(m for m in MODIFIERS if m in seen), key])


def resolve_keymap(keymap: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """The active keymap (defaults overridden by ``keymap``), validated; a ValueError names the problem."""
    if keymap is None:
        keymap = {}
    if not isinstance(keymap, Mapping):
        raise TypeError(f"keymap must be a dict of action -> key(s), got {type(keymap).__name__}")
    out = {action: list(keys) for action, keys in DEFAULT_KEYMAP.items()}
    for action, keys in keymap.items():
        if action not in DEFAULT_KEYMAP:
            raise ValueError(
                f"keymap: unknown action {action!r}; the actions are {', '.join(DEFAULT_KEYMAP)}"
            )
        specs = [keys] if isinstance(keys, str) else keys
        if not isinstance(specs, (list, tuple)) or not specs:
            raise ValueError(f"keymap[{action!r}]: give a key or a non-empty list of keys, got {keys!r}")
        out[action] = list(dict.fromkeys(normalize_key(action, s) for s in specs))
    owner: dict[str, str] = {}
    for action, keys in out.items():
        for k in keys:
            other = owner.get(k)
            if other is not None:
                given = action if action in keymap else other
                raise ValueError(
                    f"keymap: {k!r} is bound to both {other!r} and {action!r}; "
                    f"give {given!r} another key (or rebind {other if given == action else action!r} too)"
                )
            owner[k] = action
    return out
