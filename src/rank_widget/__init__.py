"""rank_widget: preference labeling of AI model outputs in Jupyter.

The public API is imported lazily, so ``import rank_widget`` stays fast and a labeler's kernel does not pay
for the plotting or database stacks until they are used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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
    "rejected_rows": "schema",
    "import_labels": "formats",
    "to_trl": "formats",
    "write_labels": "formats",
    "read_labels": "formats",
    "to_hf_dataset": "hf",
    "to_label_studio_tasks": "label_studio",
    "from_label_studio": "label_studio",
    "open_store": "store",
    "RankWidget": "widget",
    "AuditWidget": "audit",
    "TeamMonitor": "team",
    "run_judge": "judges",
    "next_items": "active",
    "ActiveQueue": "active",
    "refresh_team_queue": "active",
}
_SUBMODULES = ("quality", "simulate", "schema", "items", "formats", "store", "judges")

__all__ = sorted([*_EXPORTS, *_SUBMODULES, "__version__"])

if TYPE_CHECKING:
    # The same names as _EXPORTS and _SUBMODULES (tests/unit/test_public_api.py checks), for type checkers and
    # editors only: without them every public name is `Any` behind __getattr__. `X as X` marks a re-export.
    from . import formats as formats
    from . import items as items
    from . import judges as judges
    from . import quality as quality
    from . import schema as schema
    from . import simulate as simulate
    from . import store as store
    from .active import ActiveQueue as ActiveQueue
    from .active import next_items as next_items
    from .active import refresh_team_queue as refresh_team_queue
    from .audit import AuditWidget as AuditWidget
    from .formats import import_labels as import_labels
    from .formats import read_labels as read_labels
    from .formats import to_trl as to_trl
    from .formats import write_labels as write_labels
    from .hf import to_hf_dataset as to_hf_dataset
    from .items import load_items as load_items
    from .judges import run_judge as run_judge
    from .label_studio import from_label_studio as from_label_studio
    from .label_studio import to_label_studio_tasks as to_label_studio_tasks
    from .sample import sample_items as sample_items
    from .schema import COLUMNS as COLUMNS
    from .schema import LabelError as LabelError
    from .schema import LabelRules as LabelRules
    from .schema import current_labels as current_labels
    from .schema import pairs as pairs
    from .schema import ratings_long as ratings_long
    from .schema import rejected_rows as rejected_rows
    from .store import open_store as open_store
    from .team import TeamMonitor as TeamMonitor
    from .widget import RankWidget as RankWidget


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
