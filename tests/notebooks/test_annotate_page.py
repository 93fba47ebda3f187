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

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "annotate.ipynb"

pytestmark = pytest.mark.notebooks


def _run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> nbformat.NotebookNode:
    for key in ("RANK_WIDGET_ITEMS", "RANK_WIDGET_STORE", "RANK_WIDGET_TASK", "RANK_WIDGET_ANNOTATOR"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)  # the kernel nbclient starts inherits this process's environment
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "print('durable', w.config['durable'], 'annotator', w.annotator, 'n', w.progress['total'])"
        )
    )
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
