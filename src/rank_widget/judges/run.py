"""Run an LLM judge over items: bounded concurrency, retries with back-off, a per-call timeout, a progress
bar, and resume from the store (docs/judges.md).

The judge is the user's callable, sync or async: ``judge(prompt, responses)`` gets the item's prompt (text or
a chat) and the response texts in the order shown, and returns the reply as text, or a dict. A dict may carry
the reply under ``"text"`` (or ``"content"``/``"reply"``) with ``tokens_in``/``prompt_tokens``,
``tokens_out``/``completion_tokens`` and ``cost``; without a text key the dict itself is the reply (parsed as
JSON). A judge that also accepts a ``call`` keyword gets a ``JudgeCall`` (item id, response ids, order,
attempt). No network client is bundled: any API or local model works.

Every verdict is a label: ``source="judge"``, the judge's name as the annotator (the reversed order of
``both_orders=True`` as ``"<name> [swapped]"``: the store keeps one current label per item x annotator), the
order shown as ``display_order``, the raw reply as the ``rationale`` (the full reply, tokens, cost, latency
and attempts in the store's ``judge_call`` note). An unparsable reply is a skipped label flagged
``unparsed`` with its raw text; a call that failed on every attempt is a ``failed`` note and no label, so the
next run asks it again. Label ids are a hash of (name, item, order): a verdict already in the store is never
asked again.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import inspect
import json
import math
import random
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from rank_widget.judges.parsers import Verdict, resolve
from rank_widget.schema import MAX_ID_CHARS, MAX_RATIONALE_CHARS, TIE, labels_frame, validate_label

SWAPPED = " [swapped]"
UNPARSED_FLAG = "unparsed"
TEXT_KEYS = ("text", "content", "reply")
_TOKENS_IN = ("tokens_in", "prompt_tokens", "input_tokens")
_TOKENS_OUT = ("tokens_out", "completion_tokens", "output_tokens")

CALL_COLUMNS = (
    "label_id",
    "item_id",
    "annotator",
    "order",
    "display_order",
    "status",
    "winner",
    "strength",
    "problem",
    "attempts",
    "latency_s",
    "tokens_in",
    "tokens_out",
    "cost",
    "error",
    "raw",
)


@dataclass(frozen=True)
class JudgeCall:
    """What a judge callable may ask for (keyword ``call``): which item, which responses, which attempt."""

    item_id: str
    response_ids: tuple[str, ...]
    order: int  # 0: the first order asked; 1: its reverse (both_orders=True)
    attempt: int  # 1-based


@dataclass
class JudgeRun:
    """What ``run_judge`` did: this run's calls, and every label of the judge (earlier ones included)."""

    name: str
    labels: pd.DataFrame
    calls: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        s = self.summary
        return (
            f"JudgeRun({self.name!r}: {s.get('asked', 0)} asked, {s.get('resumed', 0)} already stored, "
            f"{s.get('parsed', 0)} parsed, {s.get('unparsed', 0)} unparsed, {s.get('failed', 0)} failed, "
            f"{s.get('seconds', 0.0):.1f} s)"
        )


def annotator_of(name: str, order: int) -> str:
    """The annotator name a judge's verdicts in order 0 / 1 are stored under."""
    return name if order == 0 else name + SWAPPED


def judge_name(annotator: str) -> str:
    """The judge behind an annotator name (``"gpt [swapped]"`` -> ``"gpt"``)."""
    return annotator[: -len(SWAPPED)] if annotator.endswith(SWAPPED) else annotator


def label_id_of(name: str, item_id: str, order: int) -> str:
    digest = hashlib.sha1(json.dumps(["judge", name, item_id, order]).encode("utf-8")).hexdigest()[:24]
    return f"judge-{digest}"


def first_order(name: str, item_id: str, response_ids: Sequence[str], seed: int) -> list[str]:
    """The order a judge sees an item in first: a seeded shuffle per (seed, name, item), so a judge asked in
    one order only has no position confounded with the items' response order."""
    key = hashlib.sha1(json.dumps([seed, name, item_id]).encode("utf-8")).digest()
    order = list(response_ids)
    random.Random(int.from_bytes(key[:8], "big")).shuffle(order)
    return order


@dataclass(frozen=True)
class _Task:
    label_id: str
    item_id: str
    annotator: str
    order_index: int
    prompt: Any
    shown: tuple[str, ...]  # response ids in the order shown
    texts: tuple[str, ...]


def _tasks(items: pd.DataFrame, name: str, both_orders: bool, seed: int) -> list[_Task]:
    missing = [c for c in ("item_id", "prompt", "responses") if c not in items.columns]
    if missing:
        raise ValueError(f"run_judge: items has no {missing[0]!r} column; load items with rw.load_items")
    out: list[_Task] = []
    for row, (iid, prompt, responses) in enumerate(
        zip(items["item_id"], items["prompt"], items["responses"], strict=True)
    ):
        resp = list(responses) if responses is not None else []
        if len(resp) < 2:
            raise ValueError(f"run_judge: items row {row} (item {iid!r}): field 'responses' has fewer than 2")
        texts = {str(r["response_id"]): str(r["text"]) for r in resp}
        order = first_order(name, str(iid), list(texts), seed)
        orders = [order, order[::-1]] if both_orders else [order]
        for k, shown in enumerate(orders):
            out.append(
                _Task(
                    label_id_of(name, str(iid), k),
                    str(iid),
                    annotator_of(name, k),
                    k,
                    prompt,
                    tuple(shown),
                    tuple(texts[r] for r in shown),
                )
            )
    return out


def _number(reply: Mapping[str, Any], keys: Sequence[str]) -> float | None:
    for k in keys:
        v = reply.get(k)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            return float(v)
    return None


def _split_reply(reply: Any) -> tuple[Any, str, dict[str, float | None]]:
    """(what the parser reads, the raw text kept, usage)."""
    usage: dict[str, float | None] = {"tokens_in": None, "tokens_out": None, "cost": None}
    if isinstance(reply, Mapping):
        usage = {
            "tokens_in": _number(reply, _TOKENS_IN),
            "tokens_out": _number(reply, _TOKENS_OUT),
            "cost": _number(reply, ("cost",)),
        }
        for k in TEXT_KEYS:
            if isinstance(reply.get(k), str):
                return reply[k], reply[k], usage
        return dict(reply), json.dumps(dict(reply), ensure_ascii=False, default=str), usage
    if isinstance(reply, str):
        return reply, reply, usage
    return reply, repr(reply)[:2000], usage


def _clean(text: str) -> str:
    """A reply as storable text: NULs and unpaired surrogates replaced, capped at the rationale limit."""
    text = text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
    if len(text) > MAX_RATIONALE_CHARS:
        keep = MAX_RATIONALE_CHARS - 100
        text = text[:keep] + f"\n[... reply cut at {keep} of {len(text)} characters; full text in the note]"
    return text


def _label(task: _Task, verdict: Verdict, raw: str, started: datetime, latency_s: float) -> dict[str, Any]:
    pair = len(task.shown) == 2
    record: dict[str, Any] = {
        "label_id": task.label_id,
        "item_id": task.item_id,
        "annotator": task.annotator,
        "task": "pairwise" if pair else "ranking",
        "rationale": _clean(raw),
        "display_order": list(task.shown),
        "started_at": started,
        "submitted_at": datetime.now(timezone.utc),
        "active_ms": round(latency_s * 1000),
        "source": "judge",
    }
    if verdict.ranking is None:
        record.update(status="skipped", flags=[UNPARSED_FLAG], flag_note=(verdict.problem or "")[:2000])
        return record
    ranking = [[task.shown[p] for p in group] for group in verdict.ranking]
    record["status"] = "submitted"
    record["ranking"] = ranking
    if pair:
        record["winner"] = TIE if len(ranking) == 1 else ranking[0][0]
        record["strength"] = 0 if len(ranking) == 1 else verdict.strength
    return record


class _Runner:
    """One run: the tasks still to ask, the judge, and what came back."""

    def __init__(
        self,
        judge: Callable[..., Any],
        parser: Callable[[Any, int], Verdict],
        *,
        store: Any,
        concurrency: int,
        retries: int,
        timeout: float,
        backoff: float,
        progress: Any,
    ) -> None:
        self.judge = judge
        self.parser = parser
        self.store = store
        self.concurrency = concurrency
        self.retries = retries
        self.timeout = timeout
        self.backoff = backoff
        self.progress = progress
        self.is_async = inspect.iscoroutinefunction(judge) or inspect.iscoroutinefunction(
            getattr(judge, "__call__", None)  # noqa: B004 - an object with an async __call__
        )
        self.wants_call = _accepts_call(judge)
        self.calls: list[dict[str, Any]] = []
        self.labels: list[dict[str, Any]] = []

    async def _invoke(self, task: _Task, attempt: int) -> Any:
        args: tuple[Any, ...] = (task.prompt, list(task.texts))
        kwargs = (
            {"call": JudgeCall(task.item_id, task.shown, task.order_index, attempt)}
            if self.wants_call
            else {}
        )
        if self.is_async:
            result: Any = self.judge(*args, **kwargs)
            return await asyncio.wait_for(result, self.timeout)
        # A sync judge runs on its own daemon thread: a hung call times out here and frees its slot (the
        # thread itself cannot be killed; it ends when the judge returns).
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()

        def work() -> None:
            value: Any = None
            error: BaseException | None = None
            try:
                value = self.judge(*args, **kwargs)
            except BaseException as exc:
                error = exc
            with contextlib.suppress(RuntimeError):  # the run ended (this call timed out), its loop closed
                loop.call_soon_threadsafe(_settle, fut, value, error)

        threading.Thread(target=work, name="rank_widget-judge", daemon=True).start()
        return await asyncio.wait_for(fut, self.timeout)

    async def ask(self, task: _Task, slots: asyncio.Semaphore) -> None:
        async with slots:
            errors: list[str] = []
            for attempt in range(1, self.retries + 2):
                started = datetime.now(timezone.utc)
                t0 = time.perf_counter()
                try:
                    reply = await self._invoke(task, attempt)
                except asyncio.TimeoutError:
                    errors.append(f"attempt {attempt}: timed out after {self.timeout:g} s")
                except Exception as exc:
                    errors.append(f"attempt {attempt}: {type(exc).__name__}: {str(exc)[:300]}")
                else:
                    self._done(task, reply, attempt, started, time.perf_counter() - t0, errors)
                    return
                if attempt <= self.retries:
                    await asyncio.sleep(self.backoff * 2 ** (attempt - 1) * (0.5 + random.random() / 2))
            self._failed(task, errors)

    def _done(
        self, task: _Task, reply: Any, attempts: int, started: datetime, latency: float, errors: list[str]
    ) -> None:
        parse_me, raw, usage = _split_reply(reply)
        verdict = self.parser(parse_me, len(task.shown))
        record = _label(task, verdict, raw, started, latency)
        status = "parsed" if verdict.ok else "unparsed"
        call = {
            "label_id": task.label_id,
            "item_id": task.item_id,
            "annotator": task.annotator,
            "order": task.order_index,
            "display_order": list(task.shown),
            "status": status,
            "winner": record.get("winner"),
            "strength": record.get("strength"),
            "problem": verdict.problem,
            "attempts": attempts,
            "latency_s": latency,
            **usage,
            "error": "; ".join(errors) or None,
            "raw": raw,
        }
        if self.store is not None:
            from rank_widget.store.notes import write_notes

            write_notes(self.store, [_note(call)])  # the note first: a crash before the label re-asks
            self.store.append(record, response_ids=sorted(task.shown))
        self.labels.append(validate_label(record, response_ids=sorted(task.shown)))
        self.calls.append(call)
        self.progress.update(1)
        self._postfix()

    def _failed(self, task: _Task, errors: list[str]) -> None:
        call = {
            "label_id": task.label_id,
            "item_id": task.item_id,
            "annotator": task.annotator,
            "order": task.order_index,
            "display_order": list(task.shown),
            "status": "failed",
            "winner": None,
            "strength": None,
            "problem": None,
            "attempts": len(errors),
            "latency_s": None,
            "tokens_in": None,
            "tokens_out": None,
            "cost": None,
            "error": "; ".join(errors),
            "raw": None,
        }
        if self.store is not None:
            from rank_widget.store.notes import write_notes

            write_notes(self.store, [_note(call)])
        self.calls.append(call)
        self.progress.update(1)
        self._postfix()

    def _postfix(self) -> None:
        bad = {s: sum(c["status"] == s for c in self.calls) for s in ("unparsed", "failed")}
        if any(bad.values()):
            self.progress.set_postfix(bad, refresh=False)

    async def run(self, tasks: list[_Task]) -> None:
        slots = asyncio.Semaphore(self.concurrency)
        await asyncio.gather(*(self.ask(t, slots) for t in tasks))


def _settle(fut: asyncio.Future[Any], value: Any, exc: BaseException | None) -> None:
    if fut.done():  # timed out and cancelled already
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(value)


def _accepts_call(judge: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(judge).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "call" or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def _note(call: Mapping[str, Any]) -> dict[str, Any]:
    data = {k: call[k] for k in CALL_COLUMNS if k not in ("label_id", "item_id", "annotator", "status")}
    return {
        "label_id": call["label_id"],
        "kind": "judge_call",
        "item_id": call["item_id"],
        "annotator": call["annotator"],
        "status": call["status"],
        "data": data,
    }


def _check_args(
    judge: Any, name: Any, concurrency: Any, retries: Any, timeout: Any, backoff: Any, items: Any
) -> None:
    if not callable(judge):
        raise TypeError(f"run_judge: judge must be a function (sync or async), got {type(judge).__name__}")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_ID_CHARS - len(SWAPPED):
        raise ValueError(
            f"run_judge: name must be a non-empty string of at most 240 characters, got {name!r}"
        )
    if name.endswith(SWAPPED):
        raise ValueError(f"run_judge: name must not end with {SWAPPED!r}: that marks the reversed order")
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"run_judge: concurrency must be an integer >= 1, got {concurrency!r}")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"run_judge: retries must be an integer >= 0, got {retries!r}")
    for label, value in (("timeout", timeout), ("backoff", backoff)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            raise ValueError(f"run_judge: {label} must be a number of seconds >= 0, got {value!r}")
    if timeout == 0:
        raise ValueError("run_judge: timeout must be > 0 seconds")
    if not isinstance(items, pd.DataFrame):
        raise TypeError(f"run_judge: items must be a DataFrame (rw.load_items), got {type(items).__name__}")


def _stored_ids(store: Any, name: str) -> set[str]:
    if store is None:
        return set()
    ids: set[str] = set()
    for k in (0, 1):
        cur = store.current(annotator_of(name, k))
        ids |= set(cur.loc[cur["source"] == "judge", "label_id"])
    return ids


def _run_coroutine(make: Callable[[], Awaitable[None]]) -> None:
    """Run a coroutine to completion, also from inside a running event loop (a Jupyter cell): then on a
    private loop in a helper thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(make())  # type: ignore[arg-type]
        return
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="rank_widget-judges") as pool:
        pool.submit(asyncio.run, make()).result()  # type: ignore[arg-type]


def run_judge(
    items: pd.DataFrame,
    judge: Callable[..., Any],
    *,
    name: str,
    store: Any = None,
    concurrency: int = 8,
    retries: int = 3,
    timeout: float = 60,
    both_orders: bool = True,
    parser: str | Callable[..., Any] = "auto",
    seed: int = 0,
    backoff: float = 1.0,
    progress: bool = True,
) -> JudgeRun:
    """Ask an LLM judge about every item; store each verdict as a label (``source="judge"``).

    - ``judge``: ``judge(prompt, responses)`` (sync or async) -> text or dict; see the module docstring.
    - ``name``: the judge's name, its annotator name in the labels. A new prompt or model: a new name.
    - ``store``: verdicts are stored as they arrive, and a verdict already stored under this name is not asked
      again (resume after a crash or a kernel restart). Without a store, nothing is kept but the result.
    - ``concurrency`` calls at a time; each call gets ``timeout`` seconds and up to ``retries`` more attempts
      after an exception or a time-out, waiting ``backoff * 2**(attempt-1)`` seconds (jittered) between them.
    - ``both_orders``: ask each item in a seeded random order and in its reverse (stored under
      ``"<name> [swapped]"``); else the seeded random order only.
    - ``parser``: a name in ``rank_widget.judges.PARSERS`` or a function (``rank_widget.judges.parsers``).

    Returns a ``JudgeRun``: ``labels`` (every label of this judge, this run's and stored earlier ones),
    ``calls`` (one row per call made now: status parsed / unparsed / failed, attempts, latency, tokens, cost,
    error, raw reply) and ``summary`` (counts, tokens, cost, seconds).
    """
    _check_args(judge, name, concurrency, retries, timeout, backoff, items)
    parse = resolve(parser)
    tasks = _tasks(items, name, both_orders, seed)
    done = _stored_ids(store, name)
    todo = [t for t in tasks if t.label_id not in done]
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    with tqdm(total=len(todo), desc=f"judge {name}", unit="call", disable=not progress) as bar:
        runner = _Runner(
            judge,
            parse,
            store=store,
            concurrency=concurrency,
            retries=retries,
            timeout=float(timeout),
            backoff=float(backoff),
            progress=bar,
        )
        if todo:
            _run_coroutine(lambda: runner.run(todo))
    seconds = time.perf_counter() - t0
    calls = pd.DataFrame(runner.calls, columns=list(CALL_COLUMNS))
    if store is not None:
        all_labels = pd.concat([store.current(annotator_of(name, k)) for k in (0, 1)], ignore_index=True)
        labels = all_labels[all_labels["source"] == "judge"].reset_index(drop=True)
    else:
        labels = labels_frame(runner.labels)
    status = calls["status"]
    summary = {
        "tasks": len(tasks),
        "resumed": len(tasks) - len(todo),
        "asked": len(todo),
        "parsed": int((status == "parsed").sum()),
        "unparsed": int((status == "unparsed").sum()),
        "failed": int((status == "failed").sum()),
        "attempts": int(calls["attempts"].sum()) if len(calls) else 0,
        "tokens_in": float(pd.to_numeric(calls["tokens_in"]).sum()) if len(calls) else 0.0,
        "tokens_out": float(pd.to_numeric(calls["tokens_out"]).sum()) if len(calls) else 0.0,
        "cost": float(pd.to_numeric(calls["cost"]).sum()) if len(calls) else 0.0,
        "seconds": seconds,
        "calls_per_second": len(todo) / seconds if seconds > 0 else math.nan,
    }
    return JudgeRun(name, labels, calls, summary)
