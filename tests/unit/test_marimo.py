"""Issue 14, finding 9: in marimo, cells that depend on the widget never re-ran after a submit.

marimo re-runs the cells that read ``mo.ui.anywidget(w)`` when the *browser* changes a synced trait (an
``update`` comm message; ``marimo/_runtime/kernel_request_handlers.py`` hands its state to
``set_ui_element_value``, which calls the element's ``_convert_value``). The view talks to Python with
custom messages, which marimo does not watch; so after each ack it bumps the ``stored`` trait, and Python
keeps its own count whatever the browser proposes. Here: the wrapped widget's ``.value`` changes on each
submit, and the update marimo forwards cannot set the count to anything but the truth.
"""

from __future__ import annotations

import os

import pytest
from test_widget import Harness

from factories import make_items
from rank_widget.widget import RankWidget

if os.environ.get("CI"):
    import marimo as mo  # the dev extra installs it: CI must run this test
else:
    mo = pytest.importorskip("marimo", reason="marimo is in the dev extra (pip install -e '.[dev]')")


def test_marimo_value_changes_on_each_submit() -> None:
    h = Harness(RankWidget(make_items(3), annotator="ann", seed=1))
    el = mo.ui.anywidget(h.w)
    before = el.value
    assert before["stored"] == 0 and before["progress"]["done"] == 0

    assert h.send(h.submit_msg(0))["type"] == "ack"  # type: ignore[index]
    after = el.value
    assert after != before
    assert after["stored"] == 1 and after["progress"]["done"] == 1 and after["position"] == 1

    # The view's bump after the ack, as marimo hands it to the element: the count stays Python's.
    el._convert_value({"stored": 2})
    assert h.w.stored == 1 and el.value["stored"] == 1
    el._convert_value({"stored": -5})
    assert h.w.stored == 1

    # A skip and a re-label count too (each is a stored label).
    h.send(h.submit_msg(1, status="skipped", winner=None, strength=None))
    h.send(h.submit_msg(0, rationale="on second thought"))
    assert el.value["stored"] == 3 and h.w.stored == 3


def test_stored_is_pythons_alone_without_marimo() -> None:
    h = Harness(RankWidget(make_items(2), annotator="ann", seed=1))
    h.w.set_state({"stored": 40})  # what a browser `update` does in JupyterLab: allowed, Python's count kept
    assert h.w.stored == 0
    assert "reject" not in set(h.w.history["event"])  # the view's bump is not a refused update
    h.w.set_state({"stored": "many"})  # not an int: refused and recorded
    assert h.w.stored == 0 and "reject" in set(h.w.history["event"])
    h.send(h.submit_msg(0))
    assert h.w.stored == 1
