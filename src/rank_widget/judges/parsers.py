"""Verdict parsers: an LLM judge's reply -> which shown position won, and how strongly.

Every parser reads positions (0 = the response shown first, "A"), never response ids: ``run_judge`` maps them
through the order it showed. A parser never guesses: a reply with no verdict, or with two different verdicts
(e.g. a judge that echoes the list of choices), is *unparsed*; ``run_judge`` stores it as such, raw text kept.

Built-in formats (names for ``run_judge(parser=...)``):

- ``"mt-bench"``: MT-Bench / FastChat ``pair-v2``: ``[[A]]``, ``[[B]]``, ``[[C]]`` (tie). Winner only.
- ``"arena-hard"``: Arena-Hard-Auto's five levels ``[[A>>B]]``, ``[[A>B]]``, ``[[A=B]]``, ``[[B>A]]``,
  ``[[B>>A]]`` (also ``[[B<A]]``-style mirrors); ``>>`` is "significantly better" -> strength 3, ``>`` is
  "slightly better" -> strength 1, ``=`` a tie (strength 0).
- ``"alpaca-eval"``: AlpacaEval / LLMBar ``Output (a)`` / ``Output (b)``. Winner only; no tie.
- ``"pandalm"``: PandaLM's first line ``1``, ``2`` or ``Tie``, then the reason.
- ``"json"``: a JSON object (or the dict the judge returned) with ``winner`` ("A"/"B"/"tie", 1/2, or a
  0-based position under ``"position"``) and optional ``strength`` 0..3, or ``ranking``: a list best first of
  positions (letters "A", "B", ... or 1-based numbers), where an inner list is a tie group.
- ``"auto"`` (default): a dict reply -> ``"json"``; text -> the first of arena-hard, mt-bench, json that finds
  a verdict. AlpacaEval and PandaLM are never guessed (a bare "1" or "Output (a)" is too easily said in
  passing): name them.

A custom parser is a function ``(reply) -> verdict``: return ``"A"``/``"B"``/``"tie"`` (or 0/1), a tuple
``(winner, strength)``, a ranking of positions (``[[0], [1]]``), a ``Verdict``, or ``None`` for unparsable.
Whatever it raises is recorded as the reason the reply was not parsed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rank_widget.schema import MAX_STRENGTH

Ranking = tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class Verdict:
    """A parsed (or unparsed) judge reply, in shown positions (0 = first shown, "A").

    ``ranking``: tie groups of positions, best first (pairwise: ``((0,), (1,))`` A wins, ``((0, 1),)`` tie);
    None when unparsed. ``strength``: 0..3 as in the label schema, None when the format has none.
    ``problem``: why the reply was not parsed (None when it was).
    """

    ranking: Ranking | None
    strength: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.ranking is not None

    @property
    def tie(self) -> bool:
        return self.ranking is not None and len(self.ranking) == 1


def unparsed(problem: str) -> Verdict:
    return Verdict(None, None, problem)


def pairwise(winner: int | None, strength: int | None = None) -> Verdict:
    """A pairwise verdict: ``winner`` 0 (A) or 1 (B), or None for a tie."""
    if winner is None:
        return Verdict(((0, 1),), 0)
    return Verdict(((winner,), (1 - winner,)), strength)


Parser = Callable[[Any, int], Verdict]


def _text(reply: Any) -> str | None:
    return reply if isinstance(reply, str) else None


def _distinct(found: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(found))


def _one_of(found: Sequence[str], what: str) -> str | Verdict:
    """The single distinct verdict token found, or an unparsed Verdict (none, or conflicting ones)."""
    kinds = _distinct(found)
    if not kinds:
        return unparsed(f"no {what} verdict found")
    if len(kinds) > 1:
        return unparsed(f"conflicting {what} verdicts {kinds}: not guessed")
    return kinds[0]


def _need_pair(n: int, name: str) -> Verdict | None:
    if n != 2:
        return unparsed(f"the {name} format judges two responses; this item has {n}")
    return None


def _pair_text(reply: Any, n: int, name: str) -> str | Verdict:
    """The reply's text, or why the ``name`` format cannot read it (not text, or not two responses)."""
    text = _text(reply)
    if text is None:
        return unparsed(f"{name} parses text, got {type(reply).__name__}")
    return _need_pair(n, name) or text


# -- formats whose verdict is one regex token ----------------------------------------------------------------


@dataclass(frozen=True)
class _TokenFormat:
    """A pairwise format whose verdict is the regex's group 1; ``verdicts``: token -> winner (None: tie)."""

    name: str
    pattern: re.Pattern[str]
    verdicts: Mapping[str, int | None]
    what: str  # the tokens, as said in the "no verdict" messages
    first_line: bool = False  # only a first-line verdict counts (PandaLM), not one said anywhere


_MT_BENCH = re.compile(r"\[\[([ABC])\]\]")
_ALPACA = re.compile(r"Output \(([ab])\)")
_PANDALM = re.compile(r"^\s*(1|2|Tie)\s*(?:\n|$)")

_TOKEN_FORMATS: dict[str, _TokenFormat] = {
    f.name: f
    for f in (
        _TokenFormat("mt-bench", _MT_BENCH, {"A": 0, "B": 1, "C": None}, "[[A]]/[[B]]/[[C]]"),
        _TokenFormat("alpaca-eval", _ALPACA, {"a": 0, "b": 1}, "Output (a)/Output (b)"),
        _TokenFormat("pandalm", _PANDALM, {"1": 0, "2": 1, "Tie": None}, "1, 2 or Tie", first_line=True),
    )
}


def _token_parse(fmt: _TokenFormat, reply: Any, n: int) -> Verdict:
    text = _pair_text(reply, n, fmt.name)
    if isinstance(text, Verdict):
        return text
    if fmt.first_line:
        m = fmt.pattern.match(text)
        if not m:
            first = text.strip().split("\n", 1)[0][:40]
            return unparsed(f"the first line is {first!r}, not {fmt.what}")
        got: str | Verdict = m.group(1)
    else:
        got = _one_of(fmt.pattern.findall(text), fmt.what)
    if isinstance(got, Verdict):
        return got
    return pairwise(fmt.verdicts[got])


def parse_mt_bench(reply: Any, n: int = 2) -> Verdict:
    """FastChat ``pair-v2``: "[[A]]" if A is better, "[[B]]" if B is better, "[[C]]" for a tie."""
    return _token_parse(_TOKEN_FORMATS["mt-bench"], reply, n)


def parse_alpaca_eval(reply: Any, n: int = 2) -> Verdict:
    """AlpacaEval / LLMBar: the reply names ``Output (a)`` or ``Output (b)`` (no tie in this format)."""
    return _token_parse(_TOKEN_FORMATS["alpaca-eval"], reply, n)


def parse_pandalm(reply: Any, n: int = 2) -> Verdict:
    """PandaLM: the first line is ``1``, ``2`` or ``Tie``; a ``Reason:`` (and a reference answer) follow."""
    return _token_parse(_TOKEN_FORMATS["pandalm"], reply, n)


# -- Arena-Hard ----------------------------------------------------------------------------------------------

_ARENA = re.compile(r"\[\[([AB<>=]+)\]\]")
# verdict token -> (winner position or None for a tie, strength)
_ARENA_LEVELS: dict[str, tuple[int | None, int]] = {
    "A>>B": (0, 3),
    "A>B": (0, 1),
    "A=B": (None, 0),
    "B=A": (None, 0),
    "B>A": (1, 1),
    "B>>A": (1, 3),
    "B<<A": (0, 3),
    "B<A": (0, 1),
    "A<B": (1, 1),
    "A<<B": (1, 3),
}


def parse_arena_hard(reply: Any, n: int = 2) -> Verdict:
    """Arena-Hard-Auto: five labels [[A>>B]] ... [[B>>A]] (``>>`` significantly, ``>`` slightly better)."""
    text = _pair_text(reply, n, "arena-hard")
    if isinstance(text, Verdict):
        return text
    found = _ARENA.findall(text)
    unknown = [f for f in found if f not in _ARENA_LEVELS]
    if unknown:
        return unparsed(f"unknown arena-hard verdict [[{unknown[0]}]]")
    # "B<A" and "A>B" are one verdict said two ways
    got = _one_of([repr(_ARENA_LEVELS[f]) for f in found], "[[A>>B]]..[[B>>A]]")
    if isinstance(got, Verdict):
        return got
    winner, strength = _ARENA_LEVELS[found[0]]
    return pairwise(winner, strength) if winner is not None else pairwise(None)


# -- JSON ----------------------------------------------------------------------------------------------------

_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


def _json_object(reply: Any) -> Mapping[str, Any] | Verdict:
    if isinstance(reply, Mapping):
        return reply
    text = _text(reply)
    if text is None:
        return unparsed(f"json parses a dict or text, got {type(reply).__name__}")
    m = _JSON_OBJECT.search(text)
    if not m:
        return unparsed("no JSON object found")
    try:
        obj = json.loads(m.group(0))
    except ValueError as exc:
        return unparsed(f"invalid JSON: {exc}")
    if not isinstance(obj, dict):
        return unparsed("the JSON is not an object")
    return obj


def _position(value: Any, n: int) -> int | None:
    """A shown position from "A".."Z" (or "a"), 1-based 1..n (int or "1"), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and 1 <= value <= n:
        return value - 1
    if isinstance(value, str):
        v = value.strip().strip("[]()").strip()
        if v.isdigit() and 1 <= int(v) <= n:
            return int(v) - 1
        if len(v) == 1 and v.isalpha() and ord(v.upper()) - 65 < n:
            return ord(v.upper()) - 65
        low = v.lower()
        for prefix in ("assistant ", "response ", "output "):
            if low.startswith(prefix):
                return _position(v[len(prefix) :], n)
    return None


def _json_ranking(value: Any, n: int) -> Verdict:
    if not isinstance(value, list) or not value:
        return unparsed("'ranking' must be a non-empty list, best first")
    groups: list[tuple[int, ...]] = []
    for g in value:
        members = g if isinstance(g, list) else [g]
        pos = [_position(m, n) for m in members]
        if not members or any(p is None for p in pos):
            return unparsed(f"'ranking' entry {g!r} is not a position (A, B, ... or 1..{n})")
        groups.append(tuple(p for p in pos if p is not None))
    flat = [p for g in groups for p in g]
    if sorted(flat) != list(range(n)):
        return unparsed(f"'ranking' must place each of the {n} responses exactly once, got {value!r}")
    return Verdict(tuple(groups), 0 if len(groups) == 1 and n == 2 else None)


def _json_strength(obj: Mapping[str, Any]) -> int | Verdict | None:
    s = obj.get("strength")
    if s is None:
        return None
    if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s <= MAX_STRENGTH:
        return unparsed(f"'strength' must be an integer 0..{MAX_STRENGTH}, got {s!r}")
    return s


def parse_json(reply: Any, n: int = 2) -> Verdict:
    """A JSON object (in the text, or the dict returned) with ``winner`` or ``ranking``."""
    obj = _json_object(reply)
    if isinstance(obj, Verdict):
        return obj
    if "ranking" in obj:
        return _json_ranking(obj["ranking"], n)
    if "winner" not in obj:
        return unparsed("the JSON has neither 'winner' nor 'ranking'")
    bad = _need_pair(n, "json 'winner'")
    if bad:
        return bad
    w = obj["winner"]
    strength = _json_strength(obj)
    if isinstance(strength, Verdict):
        return strength
    if isinstance(w, str) and w.strip().lower() in ("tie", "c", "[[c]]", "equal", "draw"):
        if strength not in (None, 0):
            return unparsed(f"a tie with strength {strength}")
        return pairwise(None)
    pos = _position(w, n)
    if pos is None:
        return unparsed(f"'winner' {w!r} is not A, B, 1, 2 or tie")
    if strength == 0:
        return unparsed(f"winner {w!r} with strength 0 (a tie)")
    return pairwise(pos, strength)


# -- auto and custom -----------------------------------------------------------------------------------------


def parse_auto(reply: Any, n: int = 2) -> Verdict:
    """dict -> json; text -> arena-hard, then mt-bench, then json (the first format present decides)."""
    if isinstance(reply, Mapping):
        return parse_json(reply, n)
    text = _text(reply)
    if text is None:
        return unparsed(f"a judge reply must be text or a dict, got {type(reply).__name__}")
    if any(set(t) & set("<>=") for t in _ARENA.findall(text)):
        return parse_arena_hard(text, n)
    if _MT_BENCH.search(text):
        return parse_mt_bench(text, n)
    if _JSON_OBJECT.search(text):
        return parse_json(text, n)
    return unparsed("no verdict in a known format ([[A>>B]], [[A]], JSON); pass parser= for other formats")


PARSERS: dict[str, Parser] = {
    "auto": parse_auto,
    "mt-bench": parse_mt_bench,
    "arena-hard": parse_arena_hard,
    "alpaca-eval": parse_alpaca_eval,
    "pandalm": parse_pandalm,
    "json": parse_json,
}


def _coerce(value: Any, n: int) -> Verdict:
    """A custom parser's return value as a Verdict (see the module docstring)."""
    if isinstance(value, Verdict):
        return value
    if value is None:
        return unparsed("the custom parser returned None")
    strength: Any = None
    if isinstance(value, tuple) and len(value) == 2 and not isinstance(value[0], (list, tuple)):
        value, strength = value
    if isinstance(value, list):  # 0-based positions (or letters), best first; inner lists are tie groups

        def letter(p: Any) -> Any:
            return chr(65 + p) if isinstance(p, int) and not isinstance(p, bool) and 0 <= p < 26 else p

        return _json_ranking([[letter(p) for p in g] if isinstance(g, list) else letter(g) for g in value], n)
    if isinstance(value, str) and value.strip().lower() == "tie":
        return pairwise(None)
    if n != 2:
        return unparsed(f"the custom parser returned a winner {value!r} for an item with {n} responses")
    pos = value if isinstance(value, int) and not isinstance(value, bool) and value in (0, 1) else None
    pos = _position(value, n) if pos is None and isinstance(value, str) else pos
    if pos is None:
        return unparsed(f"the custom parser returned {value!r}: not 'A', 'B', 0, 1, 'tie' or a ranking")
    if strength is not None and (
        isinstance(strength, bool) or not isinstance(strength, int) or not 1 <= strength <= MAX_STRENGTH
    ):
        return unparsed(f"the custom parser returned strength {strength!r}; a win has strength 1..3")
    return pairwise(pos, strength)


def resolve(parser: str | Callable[..., Any]) -> Parser:
    """A parser name or a custom function -> ``(reply, n_responses) -> Verdict`` that never raises."""
    if isinstance(parser, str):
        if parser not in PARSERS:
            raise ValueError(f"parser must be one of {sorted(PARSERS)} or a function, got {parser!r}")
        return PARSERS[parser]
    if not callable(parser):
        raise TypeError(f"parser must be a name or a function, got {type(parser).__name__}")

    def custom(reply: Any, n: int) -> Verdict:
        try:
            return _coerce(parser(reply), n)
        except Exception as exc:  # a user function's failure is recorded, not raised
            return unparsed(f"the custom parser raised {type(exc).__name__}: {exc}")

    return custom


def parse(reply: Any, parser: str | Callable[..., Any] = "auto", n: int = 2) -> Verdict:
    """Parse one reply (``parser`` a name in ``PARSERS`` or a function) for an item with ``n`` responses."""
    return resolve(parser)(reply, n)
