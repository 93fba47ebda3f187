"""Verdict parsers on the reply shapes each format's published prompt asks for, and on malformed replies.

Sources of the formats (the prompts and the verdict patterns quoted in the tests below):
- MT-Bench: lm-sys/FastChat fastchat/llm_judge/data/judge_prompts.jsonl, "pair-v2": 'output your final verdict
  by strictly following this format: "[[A]]" if assistant A is better, "[[B]]" if assistant B is better, and
  "[[C]]" for a tie.'
- Arena-Hard: lmarena/arena-hard-auto config/judge_config.yaml: "1. Assistant A is significantly better:
  [[A>>B]] 2. Assistant A is slightly better: [[A>B]] 3. Tie, relatively the same: [[A=B]] 4. Assistant B is
  slightly better: [[B>A]] 5. Assistant B is significantly better: [[B>>A]]", 'Example output: "My final
  verdict is tie: [[A=B]]"', regex_pattern \\[\\[([AB<>=]+)\\]\\].
- AlpacaEval / LLMBar: 'You should answer using ONLY "Output (a)" or "Output (b)"' (ncsoft/offsetbias
  prompt/llmbar.py, output_pattern (?:^|\\n) ?Output \\(a\\)).
- PandaLM: ncsoft/offsetbias prompt/pandalm.py, output_pattern {1: r"^1\\n\\n", 2: r"^2\\n\\n", 3:
  r"^Tie\\n\\n"}: the first line is 1, 2 or Tie, then the reason.
"""

from __future__ import annotations

import pytest

from rank_widget.judges.parsers import PARSERS, Verdict, parse, resolve

A_WINS = ((0,), (1,))
B_WINS = ((1,), (0,))
TIE = ((0, 1),)

MT_BENCH_REPLY = (
    "Assistant A provides a correct derivation and explains each step, while Assistant B makes an "
    "arithmetic error in the second step.\n\nFinal verdict: [[A]]"
)


@pytest.mark.parametrize(
    ("reply", "ranking"),
    [
        (MT_BENCH_REPLY, A_WINS),
        ("Both are weak, but B at least answers the question. [[B]]", B_WINS),
        ("They are equally helpful. [[C]]", TIE),
        ("[[A]]", A_WINS),  # the no-explanation variant of the prompt
    ],
)
def test_mt_bench(reply: str, ranking: tuple[tuple[int, ...], ...]) -> None:
    v = parse(reply, "mt-bench")
    assert v.ok and v.ranking == ranking and v.strength in (None, 0)


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        ("I think assistant A is better.", "no [[A]]/[[B]]/[[C]] verdict"),
        # echoing the instructions names every verdict: FastChat would take "[[A]]" (the first it tests);
        # we do not guess
        ('Format: "[[A]]" if assistant A is better, "[[B]]" if B is better. [[B]]', "conflicting"),
        ("[A]", "no [[A]]"),
    ],
)
def test_mt_bench_malformed(reply: str, problem: str) -> None:
    v = parse(reply, "mt-bench")
    assert not v.ok and v.ranking is None and problem in (v.problem or "")


@pytest.mark.parametrize(
    ("reply", "ranking", "strength"),
    [
        ("My own answer: ... Assistant A is much better.\n\nMy final verdict is: [[A>>B]]", A_WINS, 3),
        ("My final verdict is Assistant A is slightly better: [[A>B]]", A_WINS, 1),
        ("My final verdict is tie: [[A=B]]", TIE, 0),  # the prompt's own example output
        ("My final verdict is: [[B>A]]", B_WINS, 1),
        ("My final verdict is: [[B>>A]]", B_WINS, 3),
        ("[[B<<A]]", A_WINS, 3),
    ],
)
def test_arena_hard_five_levels_map_onto_strength(
    reply: str, ranking: tuple[tuple[int, ...], ...], strength: int
) -> None:
    v = parse(reply, "arena-hard")
    assert v.ok and v.ranking == ranking and v.strength == strength
    assert parse(reply, "auto") == v  # auto recognises the five levels


@pytest.mark.parametrize(
    "reply",
    [
        "1. Assistant A is significantly better: [[A>>B]]\n2. ... [[B>>A]]",  # the choices echoed
        "My final verdict: A is better",
        "[[A>>>B]]",
    ],
)
def test_arena_hard_malformed(reply: str) -> None:
    assert not parse(reply, "arena-hard").ok


def test_arena_hard_same_verdict_twice_is_one_verdict() -> None:
    v = parse("[[A>B]] ... so again: [[A>B]] (that is, [[B<A]])", "arena-hard")
    assert v.ok and v.ranking == A_WINS and v.strength == 1


@pytest.mark.parametrize(("reply", "ranking"), [("Output (a)", A_WINS), ("Output (b)", B_WINS)])
def test_alpaca_eval(reply: str, ranking: tuple[tuple[int, ...], ...]) -> None:
    v = parse(reply, "alpaca-eval")
    assert v.ok and v.ranking == ranking and v.strength is None


@pytest.mark.parametrize("reply", ["Output (a) or Output (b)", "Output (c)", "Both are good", "output a"])
def test_alpaca_eval_malformed(reply: str) -> None:
    assert not parse(reply, "alpaca-eval").ok


PANDALM_REPLY = (
    "2\n\nReason: Response 2 is better because it follows the instruction and gives a complete answer.\n\n"
    "Reference: The capital of France is Paris."
)


@pytest.mark.parametrize(
    ("reply", "ranking"),
    [
        (PANDALM_REPLY, B_WINS),
        ("1\n\nReason: Response 1 is more accurate.", A_WINS),
        ("Tie\n\nReason: Both responses are correct.", TIE),
    ],
)
def test_pandalm(reply: str, ranking: tuple[tuple[int, ...], ...]) -> None:
    v = parse(reply, "pandalm")
    assert v.ok and v.ranking == ranking


@pytest.mark.parametrize("reply", ["Reason: 1 is better", "12\n\nReason:", "tie?\n", ""])
def test_pandalm_malformed(reply: str) -> None:
    assert not parse(reply, "pandalm").ok


@pytest.mark.parametrize(
    ("reply", "ranking", "strength"),
    [
        ('{"winner": "A", "strength": 3, "reason": "A is correct"}', A_WINS, 3),
        ('Here is my verdict:\n```json\n{"winner": "B"}\n```', B_WINS, None),
        ('{"winner": "tie"}', TIE, 0),
        ('{"winner": 2}', B_WINS, None),
        ({"winner": "Assistant A"}, A_WINS, None),
        ({"ranking": ["B", "A"]}, B_WINS, None),
        ({"ranking": [["A", "B"]]}, TIE, 0),
    ],
)
def test_json(reply: object, ranking: tuple[tuple[int, ...], ...], strength: int | None) -> None:
    v = parse(reply, "json")
    assert v.ok and v.ranking == ranking and v.strength == strength


def test_json_ranking_of_three() -> None:
    v = parse('{"ranking": ["C", ["A", "B"]]}', "json", n=3)
    assert v.ranking == ((2,), (0, 1))


@pytest.mark.parametrize(
    "reply",
    [
        '{"winner": "D"}',
        '{"winner": "A", "strength": 7}',
        '{"winner": "A", "strength": 0}',
        '{"verdict": "A"}',
        '{"winner": "A"',  # cut off
        '{"ranking": ["A", "A"]}',
        "no json here",
        ["A"],
    ],
)
def test_json_malformed(reply: object) -> None:
    v = parse(reply, "json")
    assert not v.ok and v.problem


def test_pairwise_formats_refuse_three_responses() -> None:
    for name in ("mt-bench", "arena-hard", "alpaca-eval", "pandalm"):
        v = parse("[[A]] [[A>B]] Output (a) 1", name, n=3)
        assert not v.ok and "two responses" in (v.problem or "")


def test_auto_never_guesses_bare_formats() -> None:
    assert not parse("Output (a)", "auto").ok
    assert not parse("1\n\nReason: ...", "auto").ok
    assert parse(MT_BENCH_REPLY, "auto").ranking == A_WINS
    assert parse('{"winner": "B"}', "auto").ranking == B_WINS
    assert not parse(42, "auto").ok


def test_custom_parser_shapes_and_failures() -> None:
    assert parse("x", lambda r: "A").ranking == A_WINS
    assert parse("x", lambda r: 1).ranking == B_WINS
    assert parse("x", lambda r: ("B", 3)) == Verdict(B_WINS, 3)
    assert parse("x", lambda r: "tie").ranking == TIE
    assert parse("x", lambda r: [[1], [0]]).ranking == B_WINS
    assert not parse("x", lambda r: None).ok
    assert not parse("x", lambda r: "maybe").ok
    assert not parse("x", lambda r: ("A", 9)).ok

    def boom(reply: object) -> str:
        raise RuntimeError("cannot read this")

    v = parse("x", boom)
    assert not v.ok and "RuntimeError: cannot read this" in (v.problem or "")


def test_unknown_parser_name_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="parser must be one of"):
        resolve("mtbench")
    with pytest.raises(TypeError):
        resolve(3)  # type: ignore[arg-type]
    assert set(PARSERS) == {"auto", "mt-bench", "arena-hard", "alpaca-eval", "pandalm", "json"}
