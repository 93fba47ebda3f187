"""run_judge with fake judges: verdicts stored as labels, both orders, concurrency, retries, time-outs,
junk replies, bad arguments, and resume after a hard crash on a real SQLite file (no verdict asked twice, none
lost).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import rank_widget as rw
from factories import make_items
from rank_widget.judges import SWAPPED, JudgeCall, annotator_of
from rank_widget.store import open_store
from rank_widget.store.notes import read_notes


def longer_wins(prompt: Any, responses: list[str]) -> str:
    """Prefers the longer response (A on equal length): an MT-Bench-style reply."""
    return "[[A]]" if len(responses[0]) >= len(responses[1]) else "[[B]]"


def items_(n: int = 6) -> pd.DataFrame:
    return make_items(n, text=lambda i, j: "x" * (5 + 3 * j + (i % 2) * 10 * (1 - j)))


def test_verdicts_are_labels_in_both_orders_with_the_raw_reply(tmp_path: Path) -> None:
    items = items_(6)
    with open_store(tmp_path / "s.sqlite") as store:
        run = rw.run_judge(items, longer_wins, name="len", store=store, progress=False)
        assert run.summary["asked"] == 12 and run.summary["parsed"] == 12
        cur = store.current()
        assert set(cur["source"]) == {"judge"}
        assert set(cur["annotator"]) == {"len", "len" + SWAPPED}
        for _iid, g in cur.groupby("item_id"):
            orders = [tuple(o) for o in g["display_order"]]
            assert orders[0] == orders[1][::-1]  # the same pair, shown both ways
            assert set(g["rationale"]) <= {"[[A]]", "[[B]]"}
            assert g["winner"].nunique() == 1  # this judge has no position bias: the same winner
        notes = read_notes(store, "judge_call")
        assert len(notes) == 12 and set(notes["status"]) == {"parsed"}
        assert all(n["attempts"] == 1 for n in notes["data"])
    # the labels round-trip the reports: judge_agreement sees the judge as an annotator
    assert len(run.labels) == 12


def test_one_order_is_a_seeded_shuffle_and_names_are_checked() -> None:
    items = items_(40)
    run = rw.run_judge(items, longer_wins, name="one", both_orders=False, progress=False)
    assert len(run.labels) == 40 and set(run.labels["annotator"]) == {"one"}
    firsts = [o[0] for o in run.labels["display_order"]]
    assert 10 < firsts.count("r1") < 30  # not always the items' own order
    again = rw.run_judge(items, longer_wins, name="one", both_orders=False, progress=False)
    assert list(again.labels["display_order"]) == list(run.labels["display_order"])


def test_tokens_and_cost_are_recorded_when_the_judge_returns_them() -> None:
    def judge(prompt: Any, responses: list[str]) -> dict[str, Any]:
        return {"text": "[[B]]", "prompt_tokens": 120, "completion_tokens": 7, "cost": 0.001}

    run = rw.run_judge(items_(3), judge, name="priced", progress=False)
    assert run.summary["tokens_in"] == 6 * 120 and run.summary["tokens_out"] == 6 * 7
    assert run.summary["cost"] == pytest.approx(0.006)


def test_async_judge_runs_concurrently_within_the_bound() -> None:
    live = 0
    peak = 0

    async def judge(prompt: Any, responses: list[str]) -> str:
        nonlocal live, peak
        live += 1
        peak = max(peak, live)
        await asyncio.sleep(0.02)
        live -= 1
        return "[[C]]"

    run = rw.run_judge(items_(20), judge, name="async", concurrency=5, progress=False)
    assert run.summary["parsed"] == 40 and peak == 5  # 5 calls overlapped, never more
    assert (run.labels["winner"] == "tie").all() and (run.labels["strength"] == 0).all()


def test_sync_judge_runs_on_threads_within_the_bound() -> None:
    lock = threading.Lock()
    live = 0
    peak = 0

    def judge(prompt: Any, responses: list[str]) -> str:
        nonlocal live, peak
        with lock:
            live += 1
            peak = max(peak, live)
        time.sleep(0.02)
        with lock:
            live -= 1
        return "[[A]]"

    run = rw.run_judge(items_(12), judge, name="sync", concurrency=4, progress=False)
    assert run.summary["parsed"] == 24 and peak == 4


def test_flaky_judge_is_retried_with_back_off_and_failures_are_recorded(tmp_path: Path) -> None:
    tries: dict[tuple[str, int], int] = {}
    lock = threading.Lock()

    def flaky(prompt: Any, responses: list[str], call: JudgeCall) -> str:
        key = (call.item_id, call.order)
        with lock:
            tries[key] = tries.get(key, 0) + 1
            n = tries[key]
        assert n == call.attempt
        if call.item_id == "it000":
            raise ConnectionError("rate limited")  # always
        if n < 3:
            raise ConnectionError("try again")
        return "[[A]]"

    with open_store(tmp_path / "s.sqlite") as store:
        t0 = time.perf_counter()
        run = rw.run_judge(
            items_(4), flaky, name="flaky", store=store, retries=3, backoff=0.01, progress=False
        )
        assert time.perf_counter() - t0 >= 0.01  # it waited between attempts
        s = run.summary
        assert (s["parsed"], s["failed"], s["unparsed"]) == (6, 2, 0)
        failed = run.calls[run.calls["status"] == "failed"]
        assert set(failed["item_id"]) == {"it000"} and (failed["attempts"] == 4).all()
        assert "ConnectionError: rate limited" in failed["error"].iloc[0]
        assert (run.calls.loc[run.calls["status"] == "parsed", "attempts"] == 3).all()
        # the failure is in the store, and no label was made for it
        notes = read_notes(store, "judge_call")
        assert sorted(notes.loc[notes["status"] == "failed", "item_id"]) == ["it000", "it000"]
        assert "it000" not in set(store.current()["item_id"])
        # the next run asks only the failed calls again
        again = rw.run_judge(items_(4), longer_wins, name="flaky", store=store, progress=False)
        assert again.summary["asked"] == 2 and again.summary["resumed"] == 6
        notes = read_notes(store, "judge_call")
        assert set(notes["status"]) == {"parsed"} and len(notes) == 8


def test_slow_judge_times_out_and_a_raising_or_junk_judge_is_recorded() -> None:
    def slow(prompt: Any, responses: list[str]) -> str:
        time.sleep(2.0)
        return "[[A]]"

    t0 = time.perf_counter()
    run = rw.run_judge(items_(2), slow, name="slow", timeout=0.1, retries=1, backoff=0.0, progress=False)
    assert time.perf_counter() - t0 < 1.9  # the hung threads (2 s each) do not hold the run
    assert run.summary["failed"] == 4 and run.summary["parsed"] == 0
    assert run.calls["error"].str.contains("timed out after 0.1 s").all()

    junk = rw.run_judge(items_(2), lambda p, r: 42, name="junk", progress=False)
    assert junk.summary["unparsed"] == 4
    lab = junk.labels
    assert (lab["status"] == "skipped").all() and all(f == ["unparsed"] for f in lab["flags"])
    assert (lab["rationale"] == "42").all()
    assert "text or a dict" in junk.calls["problem"].iloc[0]


def test_unparsable_reply_is_stored_with_its_text_never_guessed(tmp_path: Path) -> None:
    def judge(prompt: Any, responses: list[str]) -> str:
        return "Both are fine I guess. [[A]] or maybe [[B]]"

    with open_store(tmp_path / "s.sqlite") as store:
        run = rw.run_judge(items_(1), judge, name="vague", store=store, parser="mt-bench", progress=False)
        assert run.summary["unparsed"] == 2
        cur = store.current()
        assert (cur["status"] == "skipped").all() and (cur["winner"].isna()).all()
        assert (cur["rationale"] == "Both are fine I guess. [[A]] or maybe [[B]]").all()
        assert cur["flag_note"].str.contains("conflicting").all()
        # stored as answered: not asked again
        assert rw.run_judge(items_(1), judge, name="vague", store=store, progress=False).summary["asked"] == 0


def test_long_replies_are_cut_in_the_label_and_kept_whole_in_the_note(tmp_path: Path) -> None:
    reply = "reasoning " * 3000 + "[[B]]"
    with open_store(tmp_path / "s.sqlite") as store:
        run = rw.run_judge(items_(1), lambda p, r: reply, name="long", store=store, progress=False)
        assert run.summary["parsed"] == 2
        cur = store.current()
        assert (cur["rationale"].str.len() <= 10_000).all() and cur["rationale"].str.contains("cut at").all()
        notes = read_notes(store, "judge_call")
        assert notes["data"].iloc[0]["raw"] == reply


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"judge": "gpt"}, "judge must be a function"),
        ({"name": ""}, "name must be"),
        ({"name": "x [swapped]"}, "must not end with"),
        ({"concurrency": 0}, "concurrency"),
        ({"retries": -1}, "retries"),
        ({"timeout": 0}, "timeout must be > 0"),
        ({"parser": "nope"}, "parser must be one of"),
    ],
)
def test_bad_arguments_are_clear_errors(kwargs: dict[str, Any], error: str) -> None:
    args: dict[str, Any] = {"judge": longer_wins, "name": "j", "progress": False, **kwargs}
    with pytest.raises((ValueError, TypeError), match=error):
        rw.run_judge(items_(1), **args)


def test_runs_inside_a_running_event_loop() -> None:
    async def cell() -> Any:  # a Jupyter cell runs inside the kernel's event loop
        return rw.run_judge(items_(2), longer_wins, name="nb", progress=False)

    # A thread of its own: in one pytest process with the e2e layer, Playwright's sync API keeps an event loop
    # running in the main thread, where asyncio.run() would refuse to start.
    out: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: out.update(result=asyncio.run(cell())))
    thread.start()
    thread.join(timeout=120)
    assert out["result"].summary["parsed"] == 4


CRASHING = textwrap.dedent(
    """
    import os, sys, threading
    sys.path.insert(0, {tests!r})
    from factories import make_items
    import rank_widget as rw
    from rank_widget.store import open_store

    items = make_items(30)
    lock = threading.Lock()
    seen = 0

    def judge(prompt, responses, call):
        global seen
        with lock:
            seen += 1
            n = seen
            with open({asked!r}, "a") as f:
                f.write(f"{{call.item_id}} {{call.order}}\\n")
        if n == 25:
            os._exit(9)  # a hard crash mid-run: no cleanup, calls in flight lost
        return "[[A]]" if (call.order + len(call.item_id)) % 2 else "[[B]]"

    store = open_store({db!r})
    rw.run_judge(items, judge, name="crashy", store=store, concurrency=4, progress=False)
    """
)


def test_resume_after_a_hard_crash_asks_nothing_twice_and_loses_nothing(tmp_path: Path) -> None:
    db, asked = tmp_path / "judge.sqlite", tmp_path / "asked.txt"
    script = CRASHING.format(tests=str(Path(__file__).parents[1]), asked=str(asked), db=str(db))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 9, proc.stderr
    with open_store(db) as store:
        before = store.current()
        stored = set(zip(before["item_id"], before["annotator"], strict=True))
        assert 15 <= len(stored) < 25  # some verdicts made it, the rest were in flight or never asked
        again: list[tuple[str, str]] = []
        lock = threading.Lock()

        def judge(prompt: Any, responses: list[str], call: JudgeCall) -> str:
            with lock:
                again.append((call.item_id, annotator_of("crashy", call.order)))
            return "[[A]]"

        run = rw.run_judge(make_items(30), judge, name="crashy", store=store, progress=False)
        assert not set(again) & stored  # nothing already stored was asked again
        assert len(again) == len(set(again)) == 60 - len(stored)
        assert run.summary["resumed"] == len(stored)
        after = store.current()
        assert len(after) == 60 and (after["revision"] == 1).all()  # every verdict once, none lost
