"""What carries the shipped sentence ranker: permutation importance of each feature.

The trees have no coefficients to read, so each feature's column is shuffled across the rows of a question set
(the same seed for every feature) and the drop in top-1 (the first sentence holds the answer) and in AUC is
reported. A feature of the first model is shuffled before it, so the consensus it feeds moves too; the
consensus share is shuffled in the second model's input only. Sets: RealTime QA 2023 questions (training data)
and SQuAD's validation pages, with evidence by BM25 or with `--stores` the engine's hybrid retrieval, as in
scripts/train_ranker.py.

    python scripts/ranker_importance.py --stores var/trainstore --news 800 --vectors var/vectors.npz
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from train_ranker import HEAD, MIN_SOURCES, SHARED, Group, default_vectors, extract, metrics, squad_groups

from bot.answer import ranker
from bot.answer.features import CONSENSUS, matrix


def scores(groups: list[Group], model: ranker.RankerModel, shuffled: str | None, seed: int) -> np.ndarray:
    """The full model's log-odds of every row, with one feature's column shuffled across the set."""
    rows = [matrix(g.cands) for g in groups]
    x = np.vstack(rows)
    rng = np.random.default_rng(seed)
    if shuffled in ranker.ROW_FEATURES:
        j = ranker.ROW_FEATURES.index(shuffled)
        x[:, j] = rng.permutation(x[:, j])
    out, i = [], 0
    for g in groups:
        xg = x[i : i + len(g.cands)]
        i += len(g.cands)
        probs = [ranker.sigmoid(z) for z in model.base.logits(xg)]
        shares = ranker.consensus_shares(g.question, g.cands, probs, g.idf.__getitem__, HEAD, MIN_SOURCES)
        out.append(np.column_stack([xg, shares]))
    full = np.vstack(out)
    if shuffled == CONSENSUS:
        full[:, -1] = rng.permutation(full[:, -1])
    return model.full.logits(full)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--news", type=int, default=300, help="RealTime QA 2023 questions")
    p.add_argument("--squad", type=int, default=400, help="SQuAD validation-page questions")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--vectors", type=Path, help="the questions' and sentences' vectors (train_ranker.py --vectors)")
    p.add_argument("--stores", type=Path, help="hybrid evidence from the stores train_ranker.py --stores built")
    args = p.parse_args(argv)
    model = ranker.load_model()
    vectors = default_vectors(args.vectors)
    sets = {
        "realtimeqa_2023": extract(
            SHARED / "eval/realtimeqa_2023.qa.jsonl",
            SHARED / "corpora/realtimeqa_2023.corpus.jsonl",
            args.news,
            3,
            args.stores,
            vectors,
        ),
        "squad_validation": squad_groups("validation", args.squad, args.stores, vectors),
    }
    report: dict[str, Any] = {}
    for name, groups in sets.items():
        whole = metrics(groups, scores(groups, model, None, args.seed))
        drops = {}
        for feature in (*ranker.ROW_FEATURES, CONSENSUS):
            m = metrics(groups, scores(groups, model, feature, args.seed))
            drops[feature] = {"top1": round(whole["top1"] - m["top1"], 3), "auc": round(whole["auc"] - m["auc"], 3)}
        report[name] = {"model": whole, "drop_when_shuffled": dict(sorted(drops.items(), key=lambda d: -d[1]["auc"]))}
    json.dump(report, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
