"""Issue 14, finding 7 (honest state): the view is told whether the store keeps labels on disk, and a finished
queue resumes with every item counted so the view can show "All done"."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_widget import Harness

from factories import make_items
from rank_widget.store import open_store
from rank_widget.widget import RankWidget


def test_in_memory_store_is_not_durable() -> None:
    assert RankWidget(make_items(2)).config["durable"] is False
    assert RankWidget(make_items(2), store=":memory:").config["durable"] is False
    assert RankWidget(make_items(2), store=open_store(":memory:")).config["durable"] is False


def test_sqlite_file_store_is_durable(tmp_path: Path) -> None:
    assert RankWidget(make_items(2), store=tmp_path / "l.sqlite").config["durable"] is True
    assert RankWidget(make_items(2), store=f"sqlite:///{tmp_path / 'm.sqlite'}").config["durable"] is True


@pytest.mark.postgres
def test_postgres_store_is_durable(pg_url: str) -> None:
    assert RankWidget(make_items(2), store=pg_url).config["durable"] is True


def test_resumed_finished_queue_counts_every_item(tmp_path: Path) -> None:
    """What the view decides "All done" from: every item labelled or skipped, position at the last item."""
    path = tmp_path / "l.sqlite"
    h = Harness(RankWidget(make_items(3), annotator="ann", store=path, seed=1))
    for i in range(3):
        extra = {"status": "skipped", "winner": None, "strength": None} if i == 1 else {}
        reply = h.send(h.submit_msg(i, **extra))
        assert reply is not None and reply["type"] == "ack", reply
    again = RankWidget(make_items(3), annotator="ann", store=path, seed=1)
    p = again.progress
    assert (p["done"], p["skipped"], p["total"]) == (2, 1, 3)
    assert again.position == 2  # the view shows "All done" from these (js/tests/widget_honest_state.test.ts)
