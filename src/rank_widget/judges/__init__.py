"""LLM judges as annotators: run a judge over items (``run_judge``) and parse its verdicts (``parsers``).

See docs/judges.md. The calibration report against people is ``rank_widget.quality.judges``; choosing the
next items for people is ``rank_widget.active``.
"""

from __future__ import annotations

from rank_widget.judges.parsers import PARSERS, Verdict, parse
from rank_widget.judges.run import SWAPPED, JudgeCall, JudgeRun, annotator_of, judge_name, run_judge

__all__ = [
    "PARSERS",
    "SWAPPED",
    "JudgeCall",
    "JudgeRun",
    "Verdict",
    "annotator_of",
    "judge_name",
    "parse",
    "run_judge",
]
