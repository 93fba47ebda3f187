"""The harness itself: JupyterLab starts, a notebook runs, an anywidget renders, the kernel is reachable.

If this fails, the widget tests' failures are about the environment (server, Chromium, labextensions), not
about rank_widget.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from .harness import Lab, foreign_requests, open_notebook, page_log, run_all, write_notebook

pytestmark = pytest.mark.e2e

# A minimal anywidget: proves anywidget's labextension loads and comms work both ways.
PROBE = '''
import anywidget, traitlets
class Probe(anywidget.AnyWidget):
    _esm = """
    export default { render({ model, el }) {
      const b = document.createElement("button");
      b.className = "probe"; b.textContent = "clicks: " + model.get("n");
      b.onclick = () => { model.set("n", model.get("n") + 1); model.save_changes(); };
      model.on("change:n", () => { b.textContent = "clicks: " + model.get("n"); });
      el.appendChild(b);
    } };
    """
    n = traitlets.Int(0).tag(sync=True)
p = Probe()
p
'''


def test_anywidget_round_trip(page: Page, lab: Lab) -> None:
    write_notebook(lab.root / "harness.ipynb", [PROBE])
    open_notebook(page, lab, "harness.ipynb")
    run_all(page)
    button = page.locator("button.probe")
    button.wait_for(timeout=60_000)
    for _ in range(3):
        button.click()
    page.wait_for_function("document.querySelector('button.probe').textContent === 'clicks: 3'")
    kernel = lab.kernel("harness.ipynb")
    try:
        # the browser's clicks reached the kernel: Python's state is the truth
        assert kernel.json("p.n") == 3
        kernel.run("p.n = 10")
        page.wait_for_function("document.querySelector('button.probe').textContent === 'clicks: 10'")
    finally:
        kernel.close()
        lab.shutdown_session("harness.ipynb")
    log = page_log(page)
    assert not log.page_errors, log.page_errors
    # nothing left the machine: every request went to the JupyterLab server
    assert foreign_requests(log, lab) == []
