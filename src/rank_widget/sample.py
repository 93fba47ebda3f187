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


def sample_items() -> pd.DataFrame:
    """The sample dataset as a normalised items DataFrame (see :func:`rank_widget.load_items`).

    Columns: ``item_id``, ``prompt``, ``responses``, ``gold`` (None for most items), ``category``.
    """
    resource = resources.files("rank_widget") / "data" / SAMPLE_FILE  # 3.10: joinpath takes one part
    with resources.as_file(resource) as path:
        return load_items(path)
