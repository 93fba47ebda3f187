"""The bundled sample dataset: 41 preference items written for this project (design §2, ``data/``).

Coding, math, writing, advice and safety-sensitive requests, each with 2-4 responses of deliberately different
quality (one clearly wrong, one subtly wrong, one good...), by four fictional models (``atlas-7b``,
``borealis-70b``, ``cirrus-mini``, ``delta-chat``). Most items are pairs (the default pairwise task);
some have 3-4 responses for ranking; five carry a ``gold`` ranking for attention checks; five prompts are
multi-turn chats; one response is ~8.6 KB long. Responses use markdown, fenced code, tables and LaTeX
(``$...$``, ``$$...$$``), and one item mixes English and Arabic.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

from .items import load_items

SAMPLE_FILE = "sample_items.jsonl"


SAMPLE_KINDS = ("all", "pairs", "sets")


def sample_items(kind: str = "all") -> pd.DataFrame:
    """The sample dataset as a normalised items DataFrame (see :func:`rank_widget.load_items`).

    Columns: ``item_id``, ``prompt``, ``responses``, ``gold`` (None for most items), ``category``.
    ``kind``: ``"all"`` (41 items: 31 pairs and 10 sets of 3-4 responses), ``"pairs"`` (the 31 pairs, for
    a pairwise session with no warning about left-out items) or ``"sets"`` (the 10 sets, for
    ``task="ranking"``).
    """
    if kind not in SAMPLE_KINDS:
        choices = ", ".join(map(repr, SAMPLE_KINDS))
        raise ValueError(f"sample_items(kind={kind!r}): kind must be one of {choices}")
    resource = resources.files("rank_widget") / "data" / SAMPLE_FILE  # 3.10: joinpath takes one part
    with resources.as_file(resource) as path:
        items = load_items(path)
    if kind == "all":
        return items
    pairs = items["responses"].map(len) == 2
    return items[pairs if kind == "pairs" else ~pairs].reset_index(drop=True)
