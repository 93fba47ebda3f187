"""AuditWidget in a real JupyterLab: filter to disagreements, adjudicate two items through the view, and check
the store file (read with sqlite3) and the kernel's state."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page

from .harness import Lab, open_notebook, page_log, run_all, write_notebook
from .widget_driver import pair_items, sqlite_rows, wait_python, write_items

pytestmark = pytest.mark.e2e

ROOT = ".rw-root.rw-audit"


def audit_notebook(
    lab: Lab, name: str = "audit", *, n: int = 16, prefix: str = "au", read_only: bool = False
) -> None:
    """name.ipynb: n pair items, three careless annotators' labels in name.sqlite, an AuditWidget on it
    (``read_only``: the store closed, then opened with read_only=True for the audit)."""
    write_items(lab.root / f"{name}.items.jsonl", pair_items(n, prefix=prefix))
    reopen = f"store.close()\nstore = rw.open_store('{name}.sqlite', read_only=True)\n" if read_only else ""
    write_notebook(
        lab.root / f"{name}.ipynb",
        [
            "import rank_widget as rw\n"
            "from rank_widget.simulate import Annotator, simulate_labels\n"
            f"items = rw.load_items('{name}.items.jsonl')\n"
            "# three careless annotators: many items end up contested\n"
            "team = [Annotator(n, accuracy=0.55, flag_rate=0.1) for n in ('ann', 'bob', 'cat')]\n"
            f"store = rw.open_store('{name}.sqlite')\n"
            "_ = store.append_many(simulate_labels(items, team, seed=5).to_dict('records'))",
            f"{reopen}w = rw.AuditWidget(items, store, adjudicator='lead', page_size=5)\nw",
        ],
    )


def rank_in_view(page: Page) -> list[list[str]]:
    return list(
        page.eval_on_selector_all(
            f"{ROOT} .rw-audit-ranklist .rw-audit-group",
            "gs => gs.map(g => [...g.querySelectorAll('.rw-audit-rankitem')].map(e => e.dataset.responseId))",
        )
    )


def open_item(page: Page, item_id: str) -> None:
    """Click the item's row and wait until its detail is shown."""
    page.locator(f"{ROOT} .rw-audit-row[data-item-id={json.dumps(item_id)}]").click()
    page.wait_for_function(
        "id => { const c = document.querySelector('.rw-audit .rw-audit-dhead code');"
        " return c && c.textContent === id; }",
        arg=item_id,
        timeout=20_000,
    )


def adjudicate(page: Page, item_id: str, rationale: str, *, flip: bool) -> list[list[str]]:
    open_item(page, item_id)
    if flip:
        # break any tie, then move the last response to the top
        last = rank_in_view(page)[-1][-1]
        untie = page.locator(f"{ROOT} [aria-label={json.dumps('Untie ' + last)}]")
        if untie.is_enabled():
            untie.click()
        for _ in range(3):
            up = page.locator(f"{ROOT} [aria-label={json.dumps('Move ' + last + ' up')}]")
            up.click()
            if rank_in_view(page)[0] == [last]:
                break
    ranking = rank_in_view(page)
    page.locator(f"{ROOT} .rw-audit-rationale").fill(rationale)
    page.locator(f"{ROOT} .rw-audit-save").click()
    page.wait_for_function(
        "() => { const s = document.querySelector('.rw-audit .rw-audit-status');"
        " return s && s.dataset.kind === 'ok' && s.textContent.includes('saved'); }",
        timeout=20_000,
    )
    return ranking


def test_filter_to_disagreements_and_adjudicate_two_items(page: Page, lab: Lab) -> None:
    audit_notebook(lab)
    open_notebook(page, lab, "audit.ipynb")
    run_all(page)
    page.wait_for_selector(f"{ROOT} .rw-audit-row[data-item-id]", timeout=60_000)
    kernel = lab.kernel("audit.ipynb")
    try:
        before = sqlite_rows(lab.root / "audit.sqlite")
        assert before and {r["source"] for r in before} == {"simulation"}
        contested = kernel.json("int((w.table['disagreement'] > 0).sum())")
        assert contested >= 2, "the simulated team should disagree on at least two items"

        page.locator(f"{ROOT} select[data-filter='show']").select_option("disagreements")
        wait_python(kernel, "w.filters['show']", "disagreements")
        wait_python(kernel, "w.total", contested)
        assert kernel.json("bool((w.table['disagreement'] > 0).all())")
        page.wait_for_function(
            "n => document.querySelector('.rw-audit .rw-audit-summary').textContent.startsWith(n + ' item')",
            arg=contested,
            timeout=20_000,
        )
        shown = page.eval_on_selector_all(f"{ROOT} .rw-audit-row", "rs => rs.map(r => r.dataset.itemId)")
        expected = kernel.json("list(w.table['item_id'][:5])")
        assert shown == expected  # the page Python sent, most contested first

        first = adjudicate(page, shown[0], "Majority verdict confirmed after reading both.", flip=False)
        second = adjudicate(page, shown[1], "The minority was right: X is wrong for tuples.", flip=True)
        wait_python(kernel, "len(w.adjudications)", 2)

        after = sqlite_rows(lab.root / "audit.sqlite")
        assert after[: len(before)] == before  # nobody's label changed
        adj = [r for r in after if r["source"] == "adjudication"]
        assert [r["item_id"] for r in adj] == shown[:2]
        assert all(r["annotator"] == "lead" and r["revision"] == 1 and r["supersedes"] is None for r in adj)
        # the view ranks opaque ids (r1..rN in the item's order); the store has the real ones
        by_id = {
            it["item_id"]: [r["response_id"] for r in it["responses"]] for it in pair_items(16, prefix="au")
        }

        def real(item_id: str, ranking: list[list[str]]) -> list[list[str]]:
            return [[by_id[item_id][int(w[1:]) - 1] for w in g] for g in ranking]

        assert all(w in ("r1", "r2") for g in first + second for w in g)
        assert [r["ranking"] for r in adj] == [real(shown[0], first), real(shown[1], second)]
        assert adj[0]["rationale"] == "Majority verdict confirmed after reading both."
        # the list shows them adjudicated without a reload
        marks = page.eval_on_selector_all(
            f"{ROOT} .rw-audit-row .rw-audit-adj", "cs => cs.slice(0, 2).map(c => c.textContent)"
        )
        assert marks == ["yes", "yes"]

        # A comment on one annotator's label of the open item, through the view's form: stored as the lead's.
        which = page.locator(f"{ROOT} .rw-audit-comment-label")
        label_id = which.evaluate("s => s.options[s.options.length - 1].value")
        which.select_option(label_id)
        page.locator(f"{ROOT} .rw-audit-comment-text").fill("<b>Re-read guideline 3</b> before the next one.")
        page.locator(f"{ROOT} .rw-audit-comment-send").click()
        page.wait_for_function(
            "() => { const s = document.querySelector('.rw-audit .rw-audit-status');"
            " return s && s.dataset.kind === 'ok' && s.textContent.includes('Comment saved'); }",
            timeout=20_000,
        )
        stored = kernel.json(
            f"store.comments(label_id={label_id!r})[['label_id', 'text', 'author']].values.tolist()"
        )
        assert stored == [[label_id, "<b>Re-read guideline 3</b> before the next one.", "lead"]]
        assert page_log(page).page_errors == []
    finally:
        kernel.close()
        lab.shutdown_session("audit.ipynb")


def test_a_read_only_store_is_audited_and_an_adjudication_is_refused_in_the_view(
    page: Page, lab: Lab
) -> None:
    # a lead audits a store they may only read: the list and the item open as usual; Save is refused with
    # the reason shown in the view, and the store file is unchanged
    audit_notebook(lab, "audit_ro", n=8, prefix="ro", read_only=True)
    open_notebook(page, lab, "audit_ro.ipynb")
    run_all(page)
    page.wait_for_selector(f"{ROOT} .rw-audit-row[data-item-id]", timeout=60_000)
    kernel = lab.kernel("audit_ro.ipynb")
    try:
        before = sqlite_rows(lab.root / "audit_ro.sqlite")
        assert len(before) == 24 and kernel.json("store.read_only") is True
        open_item(page, page.eval_on_selector(f"{ROOT} .rw-audit-row", "r => r.dataset.itemId"))
        page.locator(f"{ROOT} .rw-audit-rationale").fill("Majority verdict confirmed.")
        page.locator(f"{ROOT} .rw-audit-save").click()
        page.wait_for_function(
            "() => { const s = document.querySelector('.rw-audit .rw-audit-status');"
            " return s && s.dataset.kind === 'error' && s.textContent.includes('read_only=True'); }",
            timeout=20_000,
        )
        status = page.inner_text(f"{ROOT} .rw-audit-status")
        assert (
            "opened with read_only=True, so it cannot be written" in status
            and "nothing was changed" in status
        )
        assert kernel.json("len(w.adjudications)") == 0
        assert sqlite_rows(lab.root / "audit_ro.sqlite") == before
        assert page_log(page).page_errors == []
    finally:
        kernel.close()
        lab.shutdown_session("audit_ro.ipynb")
