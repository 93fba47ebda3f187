"""Label Studio in and out: items -> Label Studio tasks (JSON), Label Studio's export -> the label schema.

Two labeling templates are supported, the two Label Studio ships for comparisons:

- **Pairwise** (``<Pairwise name="pw" toName="text1,text2"/>``, Label Studio's "Pairwise Classification"
  template, https://labelstud.io/templates/pairwise_comparison): a result
  ``{"type": "pairwise", "value": {"selected": "left" | "right"}}`` (HumanSignal/label-studio-frontend,
  ``src/tags/control/Pairwise.js``: ``createResult({}, {selected}, ...)``). ``left`` is the first name in
  ``toName`` (``text1``: the item's first response).
- **Ranker** (``<List name="responses" value="$responses"/><Ranker name="rank" toName="responses"/>``,
  https://labelstud.io/tags/ranker.html): a result
  ``{"type": "ranker", "value": {"ranker": {column: [ids]}}}``; one column is an order best -> worst,
  several columns (``<Bucket>``s) are tie groups in the order the export lists them (a ``"_"`` column, the
  items left in the list, is ignored).

``to_label_studio_tasks(items)`` writes the tasks these templates read (``PAIRWISE_CONFIG``,
``RANKER_CONFIG``); ``from_label_studio(export)`` reads Label Studio's JSON export (a list of tasks with
``annotations``; https://labelstud.io/guide/task_format.html) back into labels. A cancelled annotation (the
annotator pressed Skip) is a label with ``status="skipped"``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from . import label_import as li
from .schema import LabelError, coerce_labels, empty_labels, validate_label

__all__ = ["PAIRWISE_CONFIG", "RANKER_CONFIG", "from_label_studio", "to_label_studio_tasks"]

PAIRWISE_CONFIG = """<View>
  <Header value="$prompt"/>
  <Pairwise name="pw" toName="text1,text2"/>
  <Text name="text1" value="$text1"/>
  <Text name="text2" value="$text2"/>
  <TextArea name="rationale" toName="text1" placeholder="Why? (optional)"/>
</View>"""

RANKER_CONFIG = """<View>
  <Header value="$prompt"/>
  <List name="responses" value="$responses" title="Responses, best first"/>
  <Ranker name="rank" toName="responses"/>
  <TextArea name="rationale" toName="responses" placeholder="Why? (optional)"/>
</View>"""


def _as_list(value: Any) -> Any:
    if hasattr(value, "tolist") and not isinstance(value, (str, list)):
        return value.tolist()
    return value


def _prompt_text(prompt: Any) -> str:
    prompt = _as_list(prompt)
    if isinstance(prompt, list):
        return "\n\n".join(f"{m['role']}: {m['content']}" for m in prompt)
    return str(prompt)


def to_label_studio_tasks(
    items: pd.DataFrame, *, template: str = "auto", path: str | os.PathLike[str] | None = None
) -> list[dict[str, Any]]:
    """Items -> Label Studio tasks (a JSON-ready list), for ``PAIRWISE_CONFIG`` or ``RANKER_CONFIG``.

    ``template="auto"``: pairwise for items with exactly 2 responses, ranker otherwise; ``"pairwise"`` /
    ``"ranker"`` force one. Each task's ``data`` holds ``item_id``, ``prompt`` (text; a chat as
    ``role: content`` paragraphs), and ``text1``/``text2`` with ``response_ids`` (pairwise) or ``responses``,
    a list of ``{"id": response_id, "title": "Response k", "body": text}`` (ranker). Models are not included
    (the annotators stay blind to them); ``from_label_studio`` maps the answers back by ``item_id``.
    With ``path``, also writes the list as JSON (Label Studio's "Import" accepts the file as is).
    """
    if template not in ("auto", "pairwise", "ranker"):
        raise ValueError(f"template must be 'auto', 'pairwise' or 'ranker', got {template!r}")
    for col in ("item_id", "prompt", "responses"):
        if col not in items.columns:
            raise ValueError(f"items has no {col!r} column; build items with rank_widget.load_items")
    tasks = []
    for row, (iid, prompt, responses) in enumerate(
        zip(items["item_id"].tolist(), items["prompt"].tolist(), items["responses"].tolist(), strict=True)
    ):
        resp = [dict(r) for r in _as_list(responses)]
        kind = template if template != "auto" else ("pairwise" if len(resp) == 2 else "ranker")
        data: dict[str, Any] = {"item_id": str(iid), "prompt": _prompt_text(prompt)}
        if kind == "pairwise":
            if len(resp) != 2:
                raise LabelError(
                    f"items row {row} (item {iid!r})",
                    "responses",
                    f"the pairwise template shows 2, got {len(resp)}",
                )
            data.update(text1=resp[0]["text"], text2=resp[1]["text"])
            data["response_ids"] = [str(resp[0]["response_id"]), str(resp[1]["response_id"])]
        else:
            data["responses"] = [
                {"id": str(r["response_id"]), "title": f"Response {k + 1}", "body": r["text"]}
                for k, r in enumerate(resp)
            ]
        tasks.append({"data": data})
    if path is not None:
        Path(path).write_text(json.dumps(tasks, ensure_ascii=False, indent=1), encoding="utf-8")
    return tasks


def _load_export(export: Any) -> list[dict[str, Any]]:
    if isinstance(export, (str, os.PathLike)) and not str(export).lstrip().startswith("["):
        export = json.loads(Path(export).read_text(encoding="utf-8"))
    elif isinstance(export, str):
        export = json.loads(export)
    if not isinstance(export, list) or not all(isinstance(t, Mapping) for t in export):
        raise ValueError("a Label Studio export is a JSON list of tasks (Export -> JSON in Label Studio)")
    return [dict(t) for t in export]


def _annotator(annotation: Mapping[str, Any]) -> str:
    who = annotation.get("completed_by")
    if isinstance(who, Mapping):  # some exports expand the user
        who = who.get("email") or who.get("id")
    return f"ls-{who}" if who is not None else "ls-unknown"


def _response_ids(data: Mapping[str, Any], items: Mapping[str, list[str]] | None, where: str) -> list[str]:
    iid = str(data.get("item_id", ""))
    if items is not None:
        if iid not in items:
            raise LabelError(where, "data.item_id", f"item {iid!r} is not in items")
        return items[iid]
    if "response_ids" in data:
        return [str(r) for r in data["response_ids"]]
    if "responses" in data:
        return [str(r["id"]) for r in data["responses"]]
    raise LabelError(where, "data", "the task has no response_ids / responses; pass items=")


def _verdict(results: Sequence[Mapping[str, Any]], ids: list[str], where: str) -> dict[str, Any]:
    """The label fields one annotation's results give (ranking or winner, rationale)."""
    out: dict[str, Any] = {}
    notes: list[str] = []
    for res in results:
        kind, value = res.get("type"), res.get("value") or {}
        if kind == "pairwise":
            side = value.get("selected")
            if side not in ("left", "right") or len(ids) != 2:
                raise LabelError(
                    where, "pairwise", f"selected must be 'left' or 'right' for 2 responses, got {side!r}"
                )
            out["winner"] = ids[0] if side == "left" else ids[1]
        elif kind == "ranker":
            columns = {k: list(v) for k, v in (value.get("ranker") or {}).items() if k != "_"}
            if len(columns) == 1:
                out["ranking"] = [[str(r)] for r in next(iter(columns.values()))]
            else:
                out["ranking"] = [[str(r) for r in group] for group in columns.values() if group]
        elif kind == "textarea":
            notes.extend(str(t) for t in value.get("text") or [])
    if notes:
        out["rationale"] = "\n".join(notes)
    return out


def from_label_studio(
    export: Any,
    *,
    items: pd.DataFrame | None = None,
    source: str = "import",
    guideline_version: str | None = None,
    errors: str = "raise",
) -> pd.DataFrame:
    """Label Studio's JSON export (a path, JSON text, or the parsed list) -> the canonical labels DataFrame.

    Reads the annotations of ``PAIRWISE_CONFIG`` / ``RANKER_CONFIG`` tasks (``to_label_studio_tasks``):
    the item is ``data.item_id``, the annotator ``"ls-<completed_by>"``, the time ``updated_at`` (else
    ``created_at``), ``active_ms`` Label Studio's ``lead_time`` (seconds), the rationale any ``TextArea``
    text, the display order the task's response order (Label Studio does not shuffle). ``items=`` (the
    items the tasks came from) checks every item and response id. A cancelled annotation (Skip) is a
    ``status="skipped"`` label. Each label is checked with ``schema.validate_label``; bad annotations are
    handled as ``import_labels``' ``errors=``: ``"raise"`` (default) lists every one (row = the task's
    position in the export; the reason names the task and annotation ids) and imports nothing, ``"skip"``
    leaves them out with a warning, ``"collect"`` also lists them (``rejected_rows(labels)``). Label
    ids are ``"ls-"`` + a hash of the task and annotation ids, so importing the same export twice into a
    store adds nothing.
    """
    if errors not in li.ERROR_MODES:
        raise ValueError(f"errors must be one of {li.ERROR_MODES}, got {errors!r}")
    tasks = _load_export(export)
    catalogue = None
    if items is not None:
        catalogue = {
            str(i): [str(r["response_id"]) for r in _as_list(resp)]
            for i, resp in zip(items["item_id"].tolist(), items["responses"].tolist(), strict=True)
        }
    records = []
    problems = li.Problems()
    task_items: list[str | None] = []
    for t, task in enumerate(tasks):
        data = task.get("data") or {}
        task_items.append(str(data["item_id"]) if "item_id" in data else None)
        for a, ann in enumerate(task.get("annotations") or []):
            where = f"task {task.get('id', t)!r} annotation {ann.get('id', a)!r}"
            try:
                ids = _response_ids(data, catalogue, where)
                records.append(_record(task, t, ann, a, ids, where, source, guideline_version))
            except LabelError as exc:
                problems.add(t, exc.field, f"{where}: {exc.problem}")
    labels = coerce_labels(pd.DataFrame.from_records(records)) if records else empty_labels()
    return li.finish(labels, problems, task_items, errors, what="from_label_studio")


def _record(
    task: Mapping[str, Any],
    t: int,
    ann: Mapping[str, Any],
    a: int,
    ids: list[str],
    where: str,
    source: str,
    guideline_version: str | None,
) -> dict[str, Any]:
    data = task.get("data") or {}
    key = json.dumps([task.get("id", t), ann.get("id", a), str(data.get("item_id"))])
    rec: dict[str, Any] = {
        "label_id": "ls-" + hashlib.sha1(key.encode()).hexdigest()[:20],
        "item_id": str(data.get("item_id", "")),
        "annotator": _annotator(ann),
        "task": "pairwise" if "response_ids" in data and len(ids) == 2 else "ranking",
        "status": "skipped" if ann.get("was_cancelled") else "submitted",
        "source": source,
        "guideline_version": guideline_version,
        "display_order": list(ids),
        "submitted_at": ann.get("updated_at") or ann.get("created_at"),
        "revision": 1,
    }
    lead = ann.get("lead_time")
    if isinstance(lead, (int, float)) and lead >= 0:
        rec["active_ms"] = round(lead * 1000)
    if rec["status"] == "submitted":
        rec.update(_verdict(ann.get("result") or [], ids, where))
    try:
        return validate_label(rec, response_ids=ids)
    except LabelError as exc:
        raise LabelError(where, exc.field, exc.problem) from exc
