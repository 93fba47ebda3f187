"""Hugging Face ``datasets`` export: preference pairs as a ``datasets.Dataset`` in TRL's layout.

``datasets`` is an optional dependency (``pip install "rank_widget[hf]"``), imported only when called.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .formats import to_trl

__all__ = ["to_hf_dataset"]


def to_hf_dataset(labels: pd.DataFrame, items: pd.DataFrame, *, provenance: bool = True, **trl: Any) -> Any:
    """Labels + items -> a ``datasets.Dataset`` with TRL's preference columns ``prompt``, ``chosen``,
    ``rejected`` (standard text, or conversational when the prompts are chats), ready for TRL's
    ``DPOTrainer`` / ``RewardTrainer``.

    The pairs are ``to_trl(labels, items, **trl)`` (``tie_policy``, ``pairs``, ``aggregate``, ``seed``
    pass through); with ``provenance=True`` (default) its provenance columns (``item_id``, ``chosen_id``,
    ``n_votes``, ``agreement``, ``annotators``, ``label_ids``, ...) come along, with ``False`` only the three
    TRL columns. Raises ``ImportError`` naming the extra to install when ``datasets`` is missing.
    """
    try:
        import datasets
    except ImportError as exc:  # pragma: no cover - the dev environment has it
        raise ImportError('to_hf_dataset needs the datasets package: pip install "rank_widget[hf]"') from exc
    pairs = to_trl(labels, items, **trl)
    if not provenance:
        pairs = pairs[["prompt", "chosen", "rejected"]]
    return datasets.Dataset.from_pandas(pairs, preserve_index=False)
