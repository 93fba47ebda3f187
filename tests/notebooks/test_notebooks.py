"""Every notebook in notebooks/ runs top to bottom without an error (nbclient, the venv's python3 kernel).

Each notebook runs in a fresh tmp copy of notebooks/ (its cwd), so the stores and files it writes land there,
never in the checkout. New notebooks are picked up by the glob; an empty glob is a failure, not a skip.
The python3 kernelspec's argv starts with "python", which jupyter_client replaces by this process's
interpreter: run pytest with the venv's python and the kernel is the venv's (rank_widget installed editable).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = REPO / "notebooks"
RESULTS = REPO / "test-results" / "notebooks"
CELL_TIMEOUT_S = 300
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))

pytestmark = pytest.mark.notebooks


@pytest.mark.parametrize(
    "notebook",
    NOTEBOOKS or [pytest.param(None, id="no-notebooks-found")],
    ids=lambda p: p.name if isinstance(p, Path) else str(p),
)
def test_notebook_runs(notebook: Path | None, tmp_path: Path) -> None:
    if notebook is None:
        pytest.fail(f"no notebooks in {NOTEBOOK_DIR}: the glob notebooks/*.ipynb must find at least one")
    work = tmp_path / "notebooks"
    # copy the whole folder: a notebook may read a sibling file; stores left by hand runs are not copied
    skip = shutil.ignore_patterns(".ipynb_checkpoints", "*.sqlite", "*.db")
    shutil.copytree(NOTEBOOK_DIR, work, ignore=skip)
    nb = nbformat.read(work / notebook.name, as_version=4)
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    assert kernel == "python3", f"{notebook.name}: metadata.kernelspec.name is {kernel!r}; make it 'python3'"
    client = NotebookClient(
        nb, timeout=CELL_TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": str(work)}}
    )
    try:
        client.execute()
    except CellExecutionError as exc:
        RESULTS.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, RESULTS / f"FAILED-{notebook.name}")
        pytest.fail(f"{notebook.name} failed (executed copy in test-results/notebooks/):\n{exc}")
    # allow_errors is off, so any error output would have raised; check anyway that none slipped through
    errors = [
        f"cell {i}: {o.get('ename')}: {o.get('evalue')}"
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for o in cell.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert errors == [], f"{notebook.name}: {errors}"
    # Nothing on stderr either: a notebook must not open with a warning (issue 14: the quickstart showed a
    # pink UserWarning with a temp path).
    stderr = [
        f"cell {i}: {o.get('text', '')[:300]}"
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for o in cell.get("outputs", [])
        if o.get("output_type") == "stream" and o.get("name") == "stderr"
    ]
    assert stderr == [], f"{notebook.name} wrote to stderr: {stderr}"
    executed = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    assert all(c.get("execution_count") for c in executed), f"{notebook.name}: some code cells did not run"
