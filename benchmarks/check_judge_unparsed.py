"""Check: judge_agreement's unparsed policies on the real PandaLM files against the published figure.

    .venv/bin/python benchmarks/check_judge_unparsed.py [DATA_DIR]

DATA_DIR (default /work/shared/data/realworld) holds WeOpenML/PandaLM's ``testset-v1.json`` and
``gpt-3.5-turbo-testset-v1.json`` (saved as pandalm-testset-v1.json / pandalm-gpt35-judgments-v1.json; see
that folder's SOURCES.md; the files are not part of this repository). Prints GPT-3.5 vs the human majority
under each policy: ``"tie"`` 71.07 % (its 25 unparseable verdicts counted as ties), ``"exclude"`` (what
import_labels + judge_agreement silently did before) 71.56 % on 974 items, ``"wrong"`` 69.77 %. The PandaLM
paper's (Wang et al. 2023, arXiv:2306.05087) accuracy table could not be opened on this machine, so these are
not claimed to reproduce a published figure.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import pandas as pd

import rank_widget as rw
from rank_widget.quality import judge_agreement, position_bias

CODING = {0: "tie", 1: "response1", 2: "response2"}


def main() -> None:
    data = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/realworld")
    test = pd.DataFrame(json.loads((data / "pandalm-testset-v1.json").read_text()))
    gpt = pd.DataFrame(json.loads((data / "pandalm-gpt35-judgments-v1.json").read_text()))
    humans = rw.import_labels(
        test, item_id="idx", annotators=["annotator1", "annotator2", "annotator3"], coding=CODING
    )
    judge = rw.import_labels(
        gpt, item_id="idx", annotators={"gpt_result": "gpt-3.5"}, coding=CODING, unknown="skip"
    )
    print(f"unparsed verdicts: {judge.attrs['unparsed']}")
    labels = pd.concat([humans, judge], ignore_index=True)
    print("policy   units  unparsed  percent  kappa")
    for policy in ("wrong", "tie", "exclude"):
        row = judge_agreement(labels, judge="gpt-3.5", unparsed=policy).iloc[0]
        print(
            f"{policy:8} {row['n_units']:5d}  {row['n_unparsed']:8d}  {100 * row['percent']:6.2f}%  "
            f"{row['cohen_kappa']:.4f}"
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pb = position_bias(labels)
    print(f"position_bias: order_randomised={bool(pb['order_randomised'].any())}, warnings={len(caught)}")


if __name__ == "__main__":
    main()
