"""An empty model response (loaded as data by load_items, issue 10) shows as an explicit "empty response"
note in real JupyterLab, readable in Light and in Dark (secondary-text contrast, 3:1)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from .harness import RESULTS, Lab, page_log
from .test_theme import colours
from .widget_driver import start_widget, widget_notebook

pytestmark = pytest.mark.e2e


def test_empty_response_placeholder_in_light_and_dark(page: Page, lab: Lab) -> None:
    items = [
        {
            "item_id": f"em-{i}",
            "prompt": "Say something.",
            "responses": [
                {"response_id": "r1", "text": "", "model": "baseline"},  # the model really answered nothing
                {"response_id": "r2", "text": "Something.", "model": "candidate"},
            ],
        }
        for i in range(2)
    ]
    widget_notebook(lab, "empty.ipynb", items, 'annotator="erin", store="empty.sqlite", shuffle=False')
    kernel = start_widget(page, lab, "empty.ipynb")
    try:
        card = page.locator('.rw-root .rw-response[data-response-id="r1"]').first
        note = card.locator(".rw-empty-response")
        note.wait_for()
        assert note.inner_text() == "empty response"
        assert card.locator(".rw-chars").inner_text() == "0 chars"
        other = page.locator('.rw-root .rw-response[data-response-id="r2"]').first
        assert other.locator(".rw-empty-response").count() == 0
        RESULTS.mkdir(exist_ok=True)
        seen = {}
        for theme in ("light", "dark"):
            if theme == "dark":
                page.locator(".lm-MenuBar-itemLabel", has_text="Settings").first.click()
                page.locator(".lm-Menu-item", has=page.get_by_text("Theme", exact=True)).first.hover()
                page.locator(
                    ".lm-Menu-item", has=page.get_by_text("JupyterLab Dark", exact=True)
                ).first.click()
                page.wait_for_selector("body[data-jp-theme-light='false']", state="attached")
                page.wait_for_timeout(500)
            page.locator(".rw-root").first.screenshot(path=str(RESULTS / f"empty-response-{theme}.png"))
            found = colours(page, [".rw-empty-response"])
            assert len(found) == 1, found
            assert found[0]["contrast"] >= 3.0, found
            assert (
                page.evaluate(
                    "() => getComputedStyle(document.querySelector('.rw-empty-response')).fontStyle"
                )
                == "italic"
            )
            seen[theme] = found[0]
        assert seen["light"]["bg"] != seen["dark"]["bg"]  # follows the theme
        assert page_log(page).page_errors == []
    finally:
        kernel.close()
        lab.shutdown_session("empty.ipynb")
        lab.set_setting("@jupyterlab/apputils-extension:themes", {"theme": "JupyterLab Light"})
