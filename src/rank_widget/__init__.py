"""rank_widget: preference labeling of AI model outputs in Jupyter.

The public API is imported lazily, so ``import rank_widget`` stays fast and a labeler's kernel does not pay
for the plotting or database stacks until they are used.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "load_items": "items",
    "sample_items": "sample",
    "LabelError": "schema",
    "LabelRules": "schema",
    "current_labels": "schema",
    "pairs": "schema",
    "ratings_long": "schema",
    "COLUMNS": "schema",
    "import_labels": "formats",
    "to_trl": "formats",
    "write_labels": "formats",
    "read_labels": "formats",
    "open_store": "store",
    "RankWidget": "widget",
    "AuditWidget": "audit",
    "TeamMonitor": "team",
}
_SUBMODULES = ("quality", "simulate", "schema", "items", "formats", "store")

__all__ = sorted([*_EXPORTS, *_SUBMODULES, "__version__"])


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module = importlib.import_module(f"rank_widget.{_EXPORTS[name]}")
        value = getattr(module, name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"rank_widget.{name}")
    raise AttributeError(f"module 'rank_widget' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
