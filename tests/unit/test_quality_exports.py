"""``from rank_widget.quality import agreement`` is the function whatever was imported before it."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "before",
    [
        "from rank_widget.quality import disagreement_scores",
        "import rank_widget.quality.interrater",
        "from rank_widget.quality.interrater import agreement_matrix",
    ],
)
def test_agreement_export_is_not_shadowed_by_its_submodule(before: str) -> None:
    # A fresh interpreter: in this one, other tests have imported the submodule already.
    code = f"{before}\nfrom rank_widget.quality import agreement\nprint(type(agreement).__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "function", out.stderr
