"""Benchmark: load_items on 100,000 items x 4 responses x ~1 KB, from a DataFrame, a Parquet and a JSONL file.

Run: .venv/bin/python benchmarks/bench_load_items.py [--items N] [--repeat R] [--before REF] [--write]
Prints the median (and min/max) wall time of R runs for each source, the time to derive ids by hashing
when the source has no id column, and the floor for each file type (just reading it: pd.read_parquet,
json.loads per line).
--before REF (e.g. main) also times load_items as it is at git REF (its items.py, loaded beside this one),
run for run alternating with the current code on the same files, so both see the same machine load.
--write also writes the table to benchmarks/results/load_items.md.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import random
import statistics
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from rank_widget import load_items

MODELS = ("atlas-7b", "borealis-70b", "cirrus-mini", "delta-chat")


def make_frame(n: int, n_resp: int = 4, chars: int = 1000, seed: int = 0) -> pd.DataFrame:
    rng = random.Random(seed)
    # A pool of ~1 KB texts, each made unique per use by a numeric prefix (so every response differs).
    alphabet = string.ascii_letters + "      .,\n"
    pool = ["".join(rng.choice(alphabet) for _ in range(chars)) for _ in range(256)]
    data: dict[str, list[object]] = {
        "item_id": [f"it-{i:06d}" for i in range(n)],
        "prompt": [f"Question {i}: {pool[i % 256][:200]}" for i in range(n)],
    }
    for k in range(n_resp):
        data[f"response{k + 1}"] = [f"{i}-{k} {pool[(i * 7 + k) % 256]}" for i in range(n)]
        data[f"model_{k + 1}"] = [MODELS[(i + k) % len(MODELS)] for i in range(n)]
    data["category"] = [("coding", "math", "writing", "advice")[i % 4] for i in range(n)]
    return pd.DataFrame(data)


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def report(name: str, times: list[float]) -> str:
    line = f"| {name} | {statistics.median(times):.3f} | {min(times):.3f} | {max(times):.3f} | {len(times)} |"
    print(line, flush=True)
    return line


def machine() -> str:
    with open("/proc/cpuinfo", encoding="utf-8") as fh:
        cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), "?")
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{now}; nproc {os.cpu_count()}; CPU {cpu}; Python {platform.python_version()}; "
        f"pandas {pd.__version__}; load average at start {load}"
    )


def load_items_at(ref: str) -> Callable[..., pd.DataFrame]:
    """load_items as it is at git `ref`: its items.py (and item_sources.py, where the ref has one) loaded as
    sibling modules of the current package, so the rest of the package is today's."""
    root = Path(__file__).resolve().parent.parent

    def source_at(path: str) -> str | None:
        shown = subprocess.run(
            ["git", "-C", str(root), "show", f"{ref}:src/rank_widget/{path}"], capture_output=True, text=True
        )
        return shown.stdout if shown.returncode == 0 else None

    def load(name: str, source: str) -> Any:
        tmp = Path(tempfile.mkdtemp()) / f"{name}.py"
        tmp.write_text(source, encoding="utf-8")
        spec = importlib.util.spec_from_file_location(f"rank_widget.{name}", tmp)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[f"rank_widget.{name}"] = module
        spec.loader.exec_module(module)
        return module

    items = source_at("items.py")
    assert items is not None, f"no src/rank_widget/items.py at {ref}"
    sources = source_at("item_sources.py")
    if sources is not None:
        load("_item_sources_before", sources)
        items = items.replace("from .item_sources import", "from ._item_sources_before import")
    return load("_items_before", items).load_items  # type: ignore[no-any-return]


def wall_and_cpu(fn: Callable[[], object]) -> tuple[float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def side_by_side(name: str, before: Callable[[], object], after: Callable[[], object], repeat: int) -> str:
    """Alternate before/after runs; one table row with both medians, wall and CPU (CPU time is what this
    process used: less disturbed than wall time when other jobs share the 2 cores)."""
    tb: list[tuple[float, float]] = []
    ta: list[tuple[float, float]] = []
    for _ in range(repeat):
        tb.append(wall_and_cpu(before))
        ta.append(wall_and_cpu(after))
    wb, cb = statistics.median(t[0] for t in tb), statistics.median(t[1] for t in tb)
    wa, ca = statistics.median(t[0] for t in ta), statistics.median(t[1] for t in ta)
    line = (
        f"| {name} | {wb:.3f} / {cb:.3f} (min wall {min(t[0] for t in tb):.3f}) | {wa:.3f} / {ca:.3f} "
        f"(min wall {min(t[0] for t in ta):.3f}) | {wb / wa:.2f}x / {cb / ca:.2f}x | {repeat} |"
    )
    print(line, flush=True)
    return line


def read_jsonl_orjson(path: Path) -> list[object]:
    """The parser load_items uses, alone: what parsing costs before any check or the frame."""
    with path.open("rb") as fh:
        return [orjson.loads(line) for line in fh]


def read_jsonl(path: Path) -> list[object]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="write benchmarks/results/load_items.md")
    parser.add_argument("--before", default=None, help="git ref to time side by side (e.g. main)")
    parser.add_argument("--only-files", action="store_true", help="with --before: the file sources only")
    args = parser.parse_args()
    if args.before:
        compare(args)
        return
    n, repeat = args.items, args.repeat
    info = machine()
    print(info)

    t0 = time.perf_counter()
    frame = make_frame(n)
    text_mb = sum(frame[f"response{k}"].str.len().sum() for k in range(1, 5)) / 1e6
    print(
        f"generated {n:,} items x 4 responses ({text_mb:.0f} MB of response text) in "
        f"{time.perf_counter() - t0:.1f} s"
    )
    lines = ["| source | median s | min s | max s | runs |", "|---|---|---|---|---|"]
    print("\n".join(lines))
    lines.append(report("DataFrame (wide, item_id column)", timed(lambda: load_items(frame), repeat)))
    no_ids = frame.drop(columns=["item_id"])
    lines.append(report("DataFrame (wide, ids derived by sha1)", timed(lambda: load_items(no_ids), repeat)))
    items = load_items(frame)
    lines.append(
        report("DataFrame (normalised items, list column)", timed(lambda: load_items(items), repeat))
    )
    few = max(3, repeat // 2)
    with tempfile.TemporaryDirectory() as tmp:
        parquet = Path(tmp) / "items.parquet"
        frame.to_parquet(parquet)
        size = parquet.stat().st_size / 1e6
        lines.append(
            report(f"Parquet file ({size:.0f} MB): load_items", timed(lambda: load_items(parquet), few))
        )
        lines.append(
            report(
                "Parquet file: pd.read_parquet alone (floor)", timed(lambda: pd.read_parquet(parquet), few)
            )
        )
        jsonl = Path(tmp) / "items.jsonl"
        with jsonl.open("w", encoding="utf-8") as fh:
            for rec in frame.to_dict("records"):
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        size = jsonl.stat().st_size / 1e6
        lines.append(report(f"JSONL file ({size:.0f} MB): load_items", timed(lambda: load_items(jsonl), few)))
        lines.append(
            report("JSONL file: json.loads per line alone (floor)", timed(lambda: read_jsonl(jsonl), few))
        )
        lines.append(
            report(
                "JSONL file: orjson.loads per line alone (floor)",
                timed(lambda: read_jsonl_orjson(jsonl), few),
            )
        )
    if args.write:
        out = Path(__file__).parent / "results" / "load_items.md"
        out.parent.mkdir(exist_ok=True)
        body = [
            "# load_items: measured results",
            "",
            f"Produced by `.venv/bin/python benchmarks/bench_load_items.py --items {n} --repeat {repeat} "
            "--write`.",
            "",
            f"Machine: {info}.",
            "",
            f"Data: {n:,} generated items x 4 responses x ~1 KB ({text_mb:.0f} MB of response text): wide "
            "columns `response1..4` + `model_1..4`, a `prompt` (~200 chars), an `item_id` and a `category`. "
            "Wall time of the whole call (read + validate + normalise). Budget: well under 2 s from a "
            "DataFrame. DataFrame rows: median of the runs; file rows: median of max(3, repeat // 2) runs.",
            "",
            *lines,
            "",
            "Reading the table: the DataFrame rows are the budgeted case. Deriving ids (no id column) adds "
            "one sha1 over every item's text (~1 KB x 4 here). The file rows include parsing; their floor "
            "rows show what parsing alone costs, so the difference is load_items' own work. The machine is "
            "shared: other jobs ran during the measurement (see the load average above, on 2 cores), so "
            "these are upper bounds; min is the least-disturbed run.",
            "",
        ]
        out.write_text("\n".join(body), encoding="utf-8")
        print(f"wrote {out}")


def compare(args: argparse.Namespace) -> None:
    n, repeat, ref = args.items, args.repeat, args.before
    info = machine()
    print(info)
    before = load_items_at(ref)
    frame = make_frame(n)
    head = [
        f"| source | before ({ref}): median wall / CPU s | after: median wall / CPU s | speed-up wall / CPU "
        "| runs |",
        "|---|---|---|---|---|",
    ]
    print("\n".join(head))
    lines = list(head)
    if not args.only_files:
        lines.append(
            side_by_side(
                "DataFrame (wide, item_id column)",
                lambda: before(frame),
                lambda: load_items(frame),
                repeat,
            )
        )
    with tempfile.TemporaryDirectory() as tmp:
        jsonl = Path(tmp) / "items.jsonl"
        with jsonl.open("w", encoding="utf-8") as fh:
            for rec in frame.to_dict("records"):
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        size = jsonl.stat().st_size / 1e6
        lines.append(
            side_by_side(
                f"JSONL file ({size:.0f} MB)", lambda: before(jsonl), lambda: load_items(jsonl), repeat
            )
        )
        if not args.only_files:
            parquet = Path(tmp) / "items.parquet"
            frame.to_parquet(parquet)
            lines.append(
                side_by_side("Parquet file", lambda: before(parquet), lambda: load_items(parquet), repeat)
            )
        floor = timed(lambda: read_jsonl(jsonl), max(3, repeat // 2))
        print(f"JSONL floor, json.loads per line alone: median {statistics.median(floor):.3f} s")
        fast_floor = timed(lambda: read_jsonl_orjson(jsonl), max(3, repeat // 2))
        print(f"JSONL floor, orjson.loads per line alone: median {statistics.median(fast_floor):.3f} s")
    if args.write:
        out = Path(__file__).parent / "results" / "load_items_before_after.md"
        title = [""] if out.exists() else [f"# load_items before ({ref}) and after, side by side", ""]
        only = " --only-files" if args.only_files else ""
        body = [
            *title,
            f"## Run of {info.split(';')[0]}",
            "",
            f"Produced by `.venv/bin/python benchmarks/bench_load_items.py --before {ref}{only} --items {n} "
            f"--repeat {repeat} --write`: each source timed alternately with load_items at {ref} and now, "
            "in the same process and on the same files.",
            "",
            f"Machine: {info}.",
            "",
            *lines,
            "",
            f"JSONL floors, parsing alone (no checks, no frame): json.loads per line median "
            f"{statistics.median(floor):.3f} s, orjson.loads per line median "
            f"{statistics.median(fast_floor):.3f} s.",
            "",
        ]
        with out.open("a", encoding="utf-8") as fh:
            fh.write("\n".join(body) + "\n")
        print(f"appended to {out}")


if __name__ == "__main__":
    main()
