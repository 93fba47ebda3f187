"""Quality analysis of labels: metric primitives and the reports built on them (design §6).

Imported lazily: names map to the module that defines them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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
    "judge_report": "judges",
    "disagreement_scores": "interrater",
    "agreement_matrix": "interrater",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    # The same names as _EXPORTS plus `plots` (tests/unit/test_public_api.py checks), for type checkers and
    # editors only: without them every name is `Any` behind __getattr__. `X as X` marks a re-export.
    from . import plots as plots
    from .annotators import annotator_report as annotator_report
    from .annotators import position_bias as position_bias
    from .consistency import intransitive_triads as intransitive_triads
    from .interrater import agreement as agreement
    from .interrater import agreement_matrix as agreement_matrix
    from .interrater import disagreement_scores as disagreement_scores
    from .judges import judge_report as judge_report
    from .metrics import bradley_terry as bradley_terry
    from .metrics import bradley_terry_bootstrap as bradley_terry_bootstrap
    from .metrics import cohen_kappa as cohen_kappa
    from .metrics import fleiss_kappa as fleiss_kappa
    from .metrics import kendall_tau_b as kendall_tau_b
    from .metrics import kendall_w as kendall_w
    from .metrics import krippendorff_alpha as krippendorff_alpha
    from .metrics import plackett_luce as plackett_luce
    from .models import judge_agreement as judge_agreement
    from .models import leaderboard as leaderboard


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
