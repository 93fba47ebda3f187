"""Quality analysis of labels: metric primitives and the reports built on them (design §6).

Imported lazily: names map to the module that defines them.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    # primitives (metrics.py)
    "cohen_kappa": "metrics",
    "fleiss_kappa": "metrics",
    "krippendorff_alpha": "metrics",
    "kendall_w": "metrics",
    "kendall_tau_b": "metrics",
    "bradley_terry": "metrics",
    "bradley_terry_bootstrap": "metrics",
    "plackett_luce": "metrics",
    # reports
    "agreement": "interrater",
    "annotator_report": "annotators",
    "position_bias": "annotators",
    "intransitive_triads": "consistency",
    "leaderboard": "models",
    "judge_agreement": "models",
    "disagreement_scores": "interrater",
    "agreement_matrix": "interrater",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module = importlib.import_module(f"rank_widget.quality.{_EXPORTS[name]}")
        value = getattr(module, name)
        globals()[name] = value
        return value
    if name == "plots":
        return importlib.import_module("rank_widget.quality.plots")
    raise AttributeError(f"module 'rank_widget.quality' has no attribute {name!r}")


def __dir__() -> list[str]:
    return [*__all__, "plots"]
