"""notebooks/annotate.ipynb (the annotator page, docs/annotator-page.md) refuses a store that keeps nothing on
disk: run in a real kernel with RANK_WIDGET_STORE set to each in-memory spelling, its cell fails with the
page's message and no widget is made. (The page itself, served by Voilà, is tests/e2e/test_annotator_page.py.)
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

import factories
from rank_widget.store import open_store

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "annotate.ipynb"

pytestmark = pytest.mark.notebooks


def _run(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    show: str = "'durable', w.config['durable'], 'annotator', w.annotator, 'n', w.progress['total']",
    **env: str,
) -> nbformat.NotebookNode:
    for key in (
        "RANK_WIDGET_ITEMS",
        "RANK_WIDGET_STORE",
        "RANK_WIDGET_TASK",
        "RANK_WIDGET_ANNOTATOR",
        "RANK_WIDGET_DATASET",
        "RANK_WIDGET_QUALIFICATION",
    ):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)  # the kernel nbclient starts inherits this process's environment
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(f"print({show})"))
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    return nb


@pytest.mark.parametrize("store", [":memory:", " ", "sqlite://", "sqlite:///:memory:"])
def test_the_page_refuses_an_in_memory_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: str
) -> None:
    with pytest.raises(CellExecutionError, match="RANK_WIDGET_STORE must be a SQLite file"):
        _run(tmp_path, monkeypatch, RANK_WIDGET_STORE=store)
    assert not list(tmp_path.glob("*.sqlite"))


def test_the_page_opens_on_a_file_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "team.sqlite"
    nb = _run(tmp_path, monkeypatch, RANK_WIDGET_STORE=str(store), RANK_WIDGET_ANNOTATOR="ann-1")
    out = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.get("output_type") == "stream")
    assert out.strip() == "durable True annotator ann-1 n 31", out  # the sample's 31 pairs
    assert store.exists()


def test_the_page_serves_a_team_queue_behind_its_qualification(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # RANK_WIDGET_DATASET: the lead's team queue; the dataset requires a qualification, so a new annotator's
    # page serves the qualification items first (no gold or explanation in the items it holds)
    prod = factories.make_items(4, prefix="p", gold=None)
    (tmp_path / "prod.jsonl").write_text(prod.to_json(orient="records", lines=True), encoding="utf-8")
    store = tmp_path / "team.sqlite"
    with open_store(store) as s:
        s.register_qualification("q-v1", factories.make_items(2, prefix="q"), pass_mark=1.0)
        s.register_items("prod", prod["item_id"].tolist(), overlap=2)
        s.require_qualification("prod", "q-v1")
    nb = _run(
        tmp_path,
        monkeypatch,
        "w._queue.ids, w.training['name'], w.training['total'], 'gold' in w.items.columns",
        RANK_WIDGET_ITEMS="prod.jsonl",
        RANK_WIDGET_STORE=str(store),
        RANK_WIDGET_ANNOTATOR="ann-1",
        RANK_WIDGET_DATASET="prod",
    )
    out = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.get("output_type") == "stream")
    assert out.strip() == "['q000', 'q001'] q-v1 2 False", out
