"""Auditing labels (docs/audit.md): ``AuditWidget`` over a pure per-item index and the adjudication checks.

- ``index``: the per-item table (most contested first), filters, paging, search and the view's payloads.
- ``adjudication``: an ``adjudicate`` message or call -> a label record; a ``requeue`` message -> its
  arguments.
- ``widget``: ``AuditWidget``, traitlets and message dispatch only.
"""

from __future__ import annotations

from .._protocol import MAX_MESSAGE_BYTES, Rejected
from .adjudication import adjudication_record, adjudication_request
from .index import (
    FILTERS,
    ITEM_COLUMNS,
    ITEM_FILTERS,
    LABEL_FILTERS,
    MAX_OPTIONS,
    MAX_SEARCH_CHARS,
    MAX_SNIPPET,
    NO_VERSION,
    SHOW,
    AuditIndex,
    majority_ranking,
    prompt_text,
)
from .widget import MAX_PAGE_SIZE, AuditWidget

__all__ = [
    "FILTERS",
    "ITEM_COLUMNS",
    "ITEM_FILTERS",
    "LABEL_FILTERS",
    "MAX_MESSAGE_BYTES",
    "MAX_OPTIONS",
    "MAX_PAGE_SIZE",
    "MAX_SEARCH_CHARS",
    "MAX_SNIPPET",
    "NO_VERSION",
    "SHOW",
    "AuditIndex",
    "AuditWidget",
    "Rejected",
    "adjudication_record",
    "adjudication_request",
    "majority_ranking",
    "prompt_text",
]
