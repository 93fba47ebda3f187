"""Labelling guidelines: one text, or versions that take effect at given items of the queue.

A session's guidelines are a schedule of versions. Each item is labelled under the version in force at its
queue position; the version is recorded on every label (``guideline_version``). When the version changes
between items, the view shows what changed and the labeler must acknowledge it before submitting again.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_GUIDELINES_CHARS = 1_000_000
MAX_CHANGES_LINES = 60
_LIST_MARKER = re.compile(r"^(?:[-*+]|\d+[.)])\s+")


@dataclass(frozen=True)
class GuidelineVersion:
    version: str | None
    markdown: str
    start: int  # first queue position where this version is in force
    changes: str | None  # markdown: what changed since the previous version (None for the first)
    requalify: bool = False  # this version asks everyone to pass the qualification again (issue 11)


class Guidelines:
    """The guideline schedule of a session, looked up by queue position."""

    def __init__(self, versions: Sequence[GuidelineVersion]) -> None:
        self.versions = tuple(versions)
        self._starts = [v.start for v in self.versions]

    @property
    def first_version(self) -> str | None:
        return self.versions[0].version if self.versions else None

    def at(self, position: int) -> GuidelineVersion | None:
        """The version in force at queue position ``position`` (None when the session has no guidelines)."""
        if not self.versions:
            return None
        return self.versions[max(0, bisect.bisect_right(self._starts, position) - 1)]

    def version_at(self, position: int) -> str | None:
        found = self.at(position)
        return found.version if found else None

    def needs_ack(self, version: str | None) -> bool:
        """A version other than the first one is a change the labeler must acknowledge before submitting."""
        return version is not None and len(self.versions) > 1 and version != self.first_version

    def known(self, version: Any) -> bool:
        return any(v.version == version for v in self.versions)

    def requalifying(self) -> list[str]:
        """Versions marked ``requalify=True``: annotators must pass the session's qualification again."""
        return [v.version for v in self.versions if v.requalify and v.version is not None]

    def payload(self, position: int) -> dict[str, Any]:
        """The ``guidelines`` trait value for the item at ``position`` (docs/protocol.md)."""
        found = self.at(position)
        if found is None:
            return {"version": None, "markdown": "", "changes": None}
        return {"version": found.version, "markdown": found.markdown, "changes": found.changes}


def parse_guidelines(value: Any, resolve_item: Callable[[Any], int]) -> Guidelines:
    """Normalise the ``guidelines=`` argument of RankWidget.

    Accepts None, a markdown string, ``{"version": .., "markdown": ..}``, or a list of such dicts each with
    ``from_item`` (a queue position or an item id; ``resolve_item`` maps it to a position). The first version
    applies from the first item. A version may carry its own ``changes`` markdown; otherwise the changes are
    computed as a line diff against the previous version.
    """
    if value is None:
        return Guidelines(())
    if isinstance(value, str):
        return Guidelines((GuidelineVersion(None, _check_markdown(value, "guidelines"), 0, None),))
    if isinstance(value, Mapping):
        entry = _parse_entry(value, "guidelines", allow_from=False)
        return Guidelines((GuidelineVersion(entry[0], entry[1], 0, None, _requalify(value, "guidelines")),))
    if not isinstance(value, (list, tuple)) or not value:
        raise TypeError(
            "guidelines must be None, a markdown string, {'version': ..., 'markdown': ...}, or a "
            f"non-empty list of {{'version', 'markdown', 'from_item'}} dicts; got {type(value).__name__}"
        )
    parsed: list[tuple[str, str, int, str | None]] = []
    requalify: list[bool] = []
    for i, raw in enumerate(value):
        where = f"guidelines[{i}]"
        if not isinstance(raw, Mapping):
            raise TypeError(f"{where} must be a dict with 'version', 'markdown' and 'from_item'")
        version, markdown, changes = _parse_entry(raw, where, allow_from=True)
        if version is None:
            raise ValueError(f"{where}: field 'version' is required when guidelines are a list of versions")
        if i == 0:
            start = 0
            if raw.get("from_item", 0) not in (0, None) and resolve_item(raw["from_item"]) != 0:
                raise ValueError(f"{where}: the first version must start at the first item (from_item 0)")
        else:
            if "from_item" not in raw:
                raise ValueError(f"{where}: field 'from_item' is required (a queue position or an item id)")
            start = resolve_item(raw["from_item"])
            if start <= parsed[-1][2]:
                raise ValueError(
                    f"{where}: from_item {raw['from_item']!r} (position {start}) must come after the "
                    f"previous version's start (position {parsed[-1][2]}); list versions in queue order"
                )
        if any(p[0] == version for p in parsed):
            raise ValueError(f"{where}: version {version!r} is listed twice")
        parsed.append((version, markdown, start, changes))
        requalify.append(_requalify(raw, where))
    versions = []
    for i, (version, markdown, start, changes) in enumerate(parsed):
        if i and changes is None:
            changes = describe_changes(parsed[i - 1][0], parsed[i - 1][1], version, markdown)
        versions.append(GuidelineVersion(version, markdown, start, changes if i else None, requalify[i]))
    return Guidelines(versions)


def _parse_entry(
    raw: Mapping[str, Any], where: str, *, allow_from: bool
) -> tuple[str | None, str, str | None]:
    allowed = {"version", "markdown", "changes", "requalify"} | ({"from_item"} if allow_from else set())
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ValueError(f"{where}: unknown field {unknown[0]!r}; allowed fields: {sorted(allowed)}")
    version = raw.get("version")
    if version is not None:
        if isinstance(version, bool) or not isinstance(version, (str, int)):
            raise TypeError(f"{where}: field 'version' must be a string, got {type(version).__name__}")
        version = str(version)
        if not version or len(version) > 256:
            raise ValueError(f"{where}: field 'version' must be 1..256 characters")
    if "markdown" not in raw:
        raise ValueError(f"{where}: field 'markdown' is required")
    markdown = _check_markdown(raw["markdown"], f"{where}.markdown")
    changes = raw.get("changes")
    if changes is not None:
        changes = _check_markdown(changes, f"{where}.changes")
    return version, markdown, changes


def _requalify(raw: Mapping[str, Any], where: str) -> bool:
    value = raw.get("requalify", False)
    if not isinstance(value, bool):
        raise TypeError(f"{where}: field 'requalify' must be True or False, got {value!r}")
    if value and raw.get("version") is None:
        raise ValueError(
            f"{where}: field 'requalify' needs a 'version' (re-qualification is asked once per version)"
        )
    return value


def _check_markdown(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{where} must be a markdown string, got {type(value).__name__}")
    if len(value) > MAX_GUIDELINES_CHARS:
        raise ValueError(f"{where} is {len(value)} characters; the limit is {MAX_GUIDELINES_CHARS}")
    return value


def describe_changes(old_version: str, old: str, new_version: str, new: str) -> str:
    """Markdown listing the lines added and removed between two guideline versions."""
    added: list[str] = []
    removed: list[str] = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0):
        if line.startswith(("+++", "---", "@@")):
            continue
        text = _LIST_MARKER.sub("", line[1:].strip())
        if not text:
            continue
        (added if line.startswith("+") else removed).append(text)
    if not added and not removed:
        return f"Version {new_version} replaces {old_version}; the text is unchanged apart from whitespace."
    out = [f"Changes from version {old_version} to {new_version}:", ""]
    shown = 0
    for sign, lines in (("Added", added), ("Removed", removed)):
        for text in lines:
            if shown == MAX_CHANGES_LINES:
                out.append(
                    f"- … and {len(added) + len(removed) - shown} more changed lines (read the full text)"
                )
                return "\n".join(out)
            out.append(f"- **{sign}:** {text}")
            shown += 1
    return "\n".join(out)
