"""TeamMonitor: a live view of a team labelling on a shared store, for the lead (issue 6, docs/team.md).

Plain HTML (no widget state to sync): ``snapshot()`` reads the store and returns DataFrames, ``_repr_html_``
renders them, and ``watch(interval)`` re-renders a notebook display handle from a background thread until
``stop()``.
"""

from __future__ import annotations

import html
import logging
import os
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd

from rank_widget.store import Store, access, assign, open_store

log = logging.getLogger(__name__)

ANNOTATOR_COLUMNS = (
    "annotator",
    "labelled",
    "skipped",
    "leased",
    "first_label",
    "last_label",
    "last_hour",
    "per_hour",
    "median_active_s",
    "gold_accuracy",
    "gold_recent_accuracy",
    "gold_alert",
)
DATASET_COLUMNS = (
    "dataset",
    "overlap",
    "items",
    "gold_items",
    "complete",
    "in_progress",
    "open",
    "labels",
    "leased",
)
PACE_WINDOW = timedelta(hours=1)


class TeamMonitor:
    """Per-annotator progress and pace, items complete / in progress, and agreement so far, on a store.

    ``TeamMonitor(store, dataset=None, items=None)``: ``store`` is a Store or anything ``open_store`` takes;
    ``dataset`` limits the view to one registered dataset (default: every label and dataset); ``items`` (a
    DataFrame with a ``gold`` column) adds each annotator's gold accuracy, also over their last
    ``gold_window`` gold items with ``gold_alert`` below ``gold_threshold``.
    """

    def __init__(
        self,
        store: Store | str | os.PathLike[str],
        *,
        dataset: str | None = None,
        items: pd.DataFrame | None = None,
        agreement: bool = True,
        gold_window: int = 20,
        gold_threshold: float = 0.7,
    ) -> None:
        self.store = open_store(store)
        self.gold_window = gold_window  # rolling gold accuracy over the last N gold items (issue 11)
        self.gold_threshold = gold_threshold
        self.dataset = dataset
        self.items = items
        self.agreement = agreement
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return f"TeamMonitor({self.store.url!r}, dataset={self.dataset!r})"

    # -- data ------------------------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Read the store now: ``{"time", "annotators", "datasets", "agreement"}`` (DataFrames but time)."""
        now = datetime.now(timezone.utc)
        ds = assign.datasets(self.store)
        if self.dataset is not None:
            if self.dataset not in set(ds["dataset"]):
                raise ValueError(
                    f"TeamMonitor: no team dataset {self.dataset!r} in {self.store.url}; "
                    f"registered: {sorted(ds['dataset'])}"
                )
            ds = ds[ds["dataset"] == self.dataset]
        labels = self.store.current()
        labels = labels[labels["source"].isin(assign.COUNTED_SOURCES)]
        status = {d: assign.item_status(self.store, d) for d in ds["dataset"]}
        if self.dataset is not None:
            labels = labels[labels["item_id"].isin(set(status[self.dataset]["item_id"]))]
        leases = (
            pd.concat([assign.leases(self.store, d) for d in ds["dataset"]], ignore_index=True)
            if len(ds)
            else pd.DataFrame(columns=["annotator"])
        )
        snap = {
            "time": now,
            "annotators": self._annotators(labels, leases, now),
            "datasets": _datasets(ds, status),
            "agreement": self._agreement(labels),
        }
        self._last = snap
        return snap

    def _annotators(self, labels: pd.DataFrame, leases: pd.DataFrame, now: datetime) -> pd.DataFrame:
        names = sorted(set(labels["annotator"]) | set(leases["annotator"]))
        sub = labels[labels["status"] == "submitted"]
        by = sub.groupby("annotator")
        first, last = by["submitted_at"].min(), by["submitted_at"].max()
        recent = sub[sub["submitted_at"] >= pd.Timestamp(now - PACE_WINDOW)].groupby("annotator").size()
        active = (
            pd.to_numeric(sub["active_ms"], errors="coerce").astype(float).groupby(sub["annotator"]).median()
            / 1000
        )
        skipped = labels[labels["status"] == "skipped"].groupby("annotator").size()
        done = by.size()
        held = leases.groupby("annotator").size() if len(leases) else pd.Series(dtype=int)
        gold, recent, alert = self._gold_accuracy(labels)
        rows = []
        for name in names:
            n = int(done.get(name, 0))
            t0, t1 = first.get(name), last.get(name)
            span = t1 - t0 if n > 1 and t0 is not None and t1 is not None else None
            hours = float(span.total_seconds()) / 3600 if span is not None else 0.0
            rows.append(
                {
                    "annotator": name,
                    "labelled": n,
                    "skipped": int(skipped.get(name, 0)),
                    "leased": int(held.get(name, 0)),
                    "first_label": t0,
                    "last_label": t1,
                    "last_hour": int(recent.get(name, 0)),
                    # Pace over the annotator's own span of work: breaks between sessions count against it.
                    "per_hour": (n - 1) / hours if hours > 0 else np.nan,
                    "median_active_s": float(active.get(name, np.nan)),
                    "gold_accuracy": float(gold.get(name, np.nan)),
                    "gold_recent_accuracy": float(recent.get(name, np.nan)),
                    "gold_alert": bool(alert.get(name, False)),
                }
            )
        return pd.DataFrame(rows, columns=list(ANNOTATOR_COLUMNS))

    def _gold_accuracy(self, labels: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
        """Gold accuracy overall and over the last ``gold_window`` gold items, and the alert below
        ``gold_threshold`` (calibration while labelling, docs/qualification.md)."""
        if self.items is None or "gold" not in self.items.columns or labels.empty:
            return pd.Series(dtype=float), pd.Series(dtype=float), pd.Series(dtype=bool)
        from rank_widget.quality import annotator_report

        report = annotator_report(
            labels, self.items, gold_window=self.gold_window, gold_threshold=self.gold_threshold
        ).set_index("annotator")
        return report["gold_accuracy"], report["gold_recent_accuracy"], report["gold_alert"]

    def _agreement(self, labels: pd.DataFrame) -> pd.DataFrame:
        if not self.agreement or labels["annotator"].nunique() < 2:
            return pd.DataFrame()
        from rank_widget.quality.interrater import agreement as agreement_table

        try:
            return agreement_table(labels, bootstrap=0, progress=False)
        except ValueError as exc:  # e.g. no item labelled by two annotators yet
            log.debug("TeamMonitor: no agreement yet: %s", exc)
            return pd.DataFrame()

    # -- display ---------------------------------------------------------------------------------------------

    def _repr_html_(self) -> str:
        try:
            snap = self.snapshot()
        except Exception as exc:  # a monitor cell must not die on a server hiccup: show it instead
            return (
                f"<div class='rw-team'><b>TeamMonitor</b>: could not read {html.escape(self.store.url)}: "
                f"{html.escape(f'{type(exc).__name__}: {exc}')}</div>"
            )
        return render(snap, self.store.url)

    def watch(self, interval: float = 10.0) -> TeamMonitor:
        """Show the monitor in the notebook and refresh it every ``interval`` seconds from a background thread
        (the kernel stays free) until ``stop()``."""
        if not interval > 0:
            raise ValueError(f"interval must be a positive number of seconds, got {interval!r}")
        from IPython.display import HTML, display

        self.stop()
        handle: Any = display(HTML(self._repr_html_()), display_id=True)
        self._stop = threading.Event()
        stop = self._stop

        def loop() -> None:
            while not stop.wait(interval):
                try:
                    handle.update(HTML(self._repr_html_()))
                except Exception:  # the display went away; keep the kernel quiet
                    log.exception("TeamMonitor: refresh failed")

        self._thread = threading.Thread(target=loop, name="rank_widget-TeamMonitor", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop ``watch`` refreshing."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def _datasets(ds: pd.DataFrame, status: dict[str, pd.DataFrame]) -> pd.DataFrame:
    rows = []
    for _, d in ds.iterrows():
        st = status[d["dataset"]]
        regular = st[~st["gold"]]
        rows.append(
            {
                "dataset": d["dataset"],
                "overlap": int(d["overlap"]),
                "items": len(regular),
                "gold_items": int(st["gold"].sum()),
                "complete": int((regular["state"] == "complete").sum()),
                "in_progress": int((regular["state"] == "in_progress").sum()),
                "open": int((regular["state"] == "open").sum()),
                "labels": int(st["done"].sum()),
                "leased": int(st["leased"].sum()),
            }
        )
    return pd.DataFrame(rows, columns=list(DATASET_COLUMNS))


def render(snap: dict[str, Any], where: str) -> str:
    """HTML for a snapshot (pandas escapes every cell)."""

    def table(df: pd.DataFrame, empty: str) -> str:
        if df.empty:
            return f"<p><i>{html.escape(empty)}</i></p>"
        return str(df.to_html(index=False, na_rep="", float_format=lambda x: f"{x:.3g}", border=0))

    agree = snap["agreement"]
    if not agree.empty and "metric" in agree.columns:
        agree = agree[[c for c in ("criterion", "metric", "value", "n_items") if c in agree.columns]]
    stamp = snap["time"].strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        "<div class='rw-team'>"
        f"<h4>Team progress — {html.escape(where)} <small>({stamp})</small></h4>"
        f"<h5>Datasets</h5>{table(snap['datasets'], 'no registered team dataset')}"
        f"<h5>Annotators</h5>{table(snap['annotators'], 'no labels yet')}"
        f"<h5>Agreement so far</h5>{table(agree, 'needs items labelled by 2+ annotators')}"
        "</div>"
    )


# -- the labeller's side: RankWidget(..., overlap=k) ---------------------------------------------------------

TEAM_BATCH = 10  # items leased to a widget at once: the current one plus prefetch, without hoarding
TEAM_REFILL_AT = 4  # lease the next items when fewer than this many are left after the current one
DEFAULT_DATASET = "default"


class TeamSession:
    """One annotator's batch from a team queue, as ``RankWidget(items, store=url, overlap=k)`` uses it.

    Registers the widget's items as ``dataset`` on first use (the ``gold`` column, when present, marks gold
    items), then leases the annotator's batch: leases they already hold (a re-opened notebook resumes them)
    topped up to ``batch`` with newly claimed items. ``renew()`` after each label keeps the rest of the batch
    leased while the annotator works, and ``more()`` leases the next items as the batch runs out; an
    abandoned batch expires and returns to the pool.
    """

    def __init__(
        self,
        store: Store,
        items: pd.DataFrame,
        annotator: str,
        *,
        overlap: int | None,
        dataset: str | None = None,
        batch: int = TEAM_BATCH,
        lease_seconds: float = assign.DEFAULT_LEASE_SECONDS,
    ) -> None:
        self.store = store
        self.annotator = annotator
        self.dataset = DEFAULT_DATASET if dataset is None else dataset
        self.lease_seconds = lease_seconds
        known = assign.datasets(store)
        row = known[known["dataset"] == self.dataset]
        if row.empty:
            if overlap is None:
                raise ValueError(
                    f"team dataset {self.dataset!r} is not registered in {store.url}; pass "
                    f"overlap=k to register these items with k annotators each"
                )
            try:
                store.register_items(
                    self.dataset, items["item_id"].tolist(), overlap=overlap, gold=_gold_ids(items)
                )
            except access.AccessDenied as exc:  # with team.setup only a lead registers (docs/team.md §2)
                raise access.AccessDenied(
                    f"team dataset {self.dataset!r} is not registered in {store.url} yet, and registering "
                    f"needs a lead: ask a lead to run store.register_items({self.dataset!r}, "
                    f"items['item_id'], overlap={overlap}) on this store, then re-run this cell"
                ) from exc
        elif overlap is not None and (registered := int(row["overlap"].tolist()[0])) != overlap:
            # The lead's registration wins: a labeller's notebook must not change the team's overlap.
            warnings.warn(
                f"team dataset {self.dataset!r} is registered with overlap={registered}; "
                f"overlap={overlap} is ignored",
                UserWarning,
                stacklevel=3,
            )
        wanted = self._wanted = set(items["item_id"])
        held = [i for i in assign.leases(store, self.dataset, annotator)["item_id"] if i in wanted]
        fresh = assign.claim(
            store, self.dataset, annotator, max(0, batch - len(held)), lease_seconds=lease_seconds
        )
        stray = [i for i in fresh if i not in wanted]
        for item in stray:  # registered by someone else's items table: not ours to show
            assign.release(store, self.dataset, annotator, item)
        self._claimed = [i for i in fresh if i in wanted]  # taken by this session (abandon releases them)
        self.item_ids = held + self._claimed
        if not self.item_ids:
            raise ValueError(
                f"nothing left for {annotator!r} in team dataset {self.dataset!r}: every item "
                f"has its labels or is leased to others (TeamMonitor(store) shows progress)"
            )

    def abandon(self) -> int:
        """Release the leases this session claimed (its widget's constructor failed): they go back to the pool
        at once instead of after the lease time. Leases it resumed from an earlier session are left alone."""
        return sum(assign.release(self.store, self.dataset, self.annotator, i) for i in self._claimed)

    def renew(self) -> int:
        """Extend the annotator's remaining leases in this dataset; returns how many."""
        return assign.renew(self.store, self.dataset, self.annotator, lease_seconds=self.lease_seconds)

    def more(self, n: int, queued: Callable[[str], int | None], fits: Callable[[str], bool]) -> list[str]:
        """Lease up to ``n`` further items for the widget's queue: not already ``queued`` (a lapsed lease that
        came back to the same annotator stays where it is), in the widget's items, and ``fits`` (the session's
        task); others are released at once."""
        got = []
        claimed = assign.claim(self.store, self.dataset, self.annotator, n, lease_seconds=self.lease_seconds)
        for item in claimed:
            if queued(item) is not None:
                continue
            if item in self._wanted and fits(item):
                got.append(item)
            else:
                assign.release(self.store, self.dataset, self.annotator, item)
        return got


def _gold_ids(items: pd.DataFrame) -> list[str]:
    if "gold" not in items.columns:
        return []
    has = items["gold"].map(lambda g: g is not None and not (isinstance(g, float) and np.isnan(g)))
    return items.loc[has, "item_id"].tolist()


# -- access control: one database role per person (docs/security.md) ---------------------------------------


def setup(
    admin_url: str,
    annotators: Iterable[str] = (),
    leads: Iterable[str] = (),
    adjudicators: Iterable[str] = (),
    *,
    passwords: Mapping[str, str] | None = None,
    echo: bool = True,
    max_claim: int = TEAM_BATCH,
    max_held: int = 2 * TEAM_BATCH,
) -> list[str]:
    """Set up access control on a PostgreSQL store: a LOGIN role per person, the group roles
    ``rw_annotator`` / ``rw_adjudicator`` / ``rw_lead``, grants, row-level security policies and the claim
    functions. Idempotent: run it again to add people. Prints each statement it runs (``echo``; passwords
    hidden) and returns them.

    ``admin_url``: a superuser (or the tables' owner) URL; the store's migrations run first. ``passwords``:
    person -> password to set (None: roles without a password, for the server's own authentication such as
    ``peer`` or client certificates). ``max_claim``: items per claim call (default the widget's batch);
    ``max_held``: active leases one person may hold in a dataset. Each person then opens the store with their
    own credentials (docs/team.md shows JupyterHub).
    """
    store = open_store(admin_url)
    try:
        return access.run_setup(
            store.db,
            annotators,
            leads,
            adjudicators,
            passwords=passwords,
            echo=echo,
            max_claim=max_claim,
            max_held=max_held,
        )
    finally:
        store.close()
