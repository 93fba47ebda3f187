"""Quality analysis of labels: metric primitives and the reports built on them (design §6).

Imported lazily: names map to the module that defines them.
"""

from __future__ import annotations

import importlib
import sys
import types
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
    "agreement": "agreement",
    "annotator_report": "annotators",
    "position_bias": "annotators",
    "intransitive_triads": "consistency",
    "leaderboard": "models",
    "judge_agreement": "models",
    "disagreement_scores": "agreement",
    "agreement_matrix": "agreement",
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


class _Package(types.ModuleType):
    """Keeps ``agreement`` the exported function: importing the submodule of the same name (as
    ``from rank_widget.quality import disagreement_scores`` or AuditWidget do) makes the import system set
    the submodule as this package's attribute, which would shadow the function for later imports."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _EXPORTS.get(name) == name:
            return  # the submodule stays in sys.modules; the attribute resolves to the function
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
