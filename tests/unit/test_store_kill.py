"""A writer killed with SIGKILL at random moments loses no acknowledged label and leaves a sound file.

Child processes append labels in a loop and print each label_id only AFTER ``append`` returned (the "ack" the
widget would send). The parent kills them at random moments (start-up, open, mid-append, mid-commit),
round after round on the same file, three writers at a time, then checks every acked label is stored exactly
once, revision chains have no gaps, and SQLite's integrity check passes.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd

from rank_widget.schema import current_labels
from rank_widget.store import open_store

ROUNDS = 10
WRITERS = 3  # per round, writing to the same file at once (30 kills in all)

_CHILD = """
import sys
from rank_widget.store import open_store

path, tag = sys.argv[1], sys.argv[2]
store = open_store(path, busy_timeout=30)
i = 0
while True:
    label_id = f"{tag}-{i}"
    store.append({
        "label_id": label_id, "item_id": f"item{i % 7}", "annotator": "ann", "task": "pairwise",
        "winner": "r1" if i % 3 else "tie", "strength": 2 if i % 3 else 0, "display_order": ["r2", "r1"],
        "rationale": "x" * (i % 50), "submitted_at": "2026-11-28T10:00:00+00:00",
    }, response_ids=["r1", "r2"])
    sys.stdout.write(label_id + "\\n")  # the ack: only after append returned
    sys.stdout.flush()
    i += 1
"""


def _read_acks(proc: subprocess.Popen[str], acks: list[str], first: threading.Event) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.endswith("\n"):  # a line cut by the kill was never fully acknowledged
            acks.append(line.strip())
            first.set()


def test_sigkilled_writers_lose_no_acknowledged_label(tmp_path: Path) -> None:
    path = tmp_path / "killed.sqlite"
    rng = random.Random(20261128)
    acked: list[str] = []
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for rnd in range(ROUNDS):
        procs = []
        for w in range(WRITERS):
            proc = subprocess.Popen(
                [sys.executable, "-c", _CHILD, str(path), f"r{rnd}w{w}"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            acks: list[str] = []
            first = threading.Event()
            reader = threading.Thread(target=_read_acks, args=(proc, acks, first), daemon=True)
            reader.start()
            procs.append((proc, acks, first, reader))
        for proc, _acks, first, _reader in procs:
            if rnd % 3 == 0:
                # Any moment from spawn on: start-up, open/migration, or the first appends.
                time.sleep(rng.uniform(0.0, 0.8))
            else:
                assert first.wait(timeout=20), proc.stderr.read() if proc.stderr else "no output"
                time.sleep(rng.uniform(0.0, 0.25))
            proc.send_signal(signal.SIGKILL)
        for proc, acks, _first, reader in procs:
            proc.wait(timeout=10)
            reader.join(timeout=10)
            assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
            if proc.stderr:
                proc.stderr.close()
            acked.extend(acks)

    assert len(acked) > 50, "the writers should have acknowledged plenty of labels before being killed"
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        con.close()
    with open_store(path) as store:
        df = store.labels()
        current = store.current()
    pd.testing.assert_frame_equal(current, current_labels(df))  # the `latest` table agrees with the rows
    ids = df["label_id"].tolist()
    assert len(ids) == len(set(ids)), "a label was stored twice"
    missing = set(acked) - set(ids)
    assert not missing, f"acknowledged labels lost: {sorted(missing)[:10]}"
    # Unacked rows may exist (killed between commit and print); revision chains must still be whole.
    for _key, group in df.groupby(["item_id", "annotator", "source"]):
        revs = group["revision"].tolist()
        assert revs == list(range(1, len(revs) + 1))
        assert group["supersedes"].tolist()[1:] == group["label_id"].tolist()[:-1]
