"""Train the decision to decline (`bot/answer/decline_model.json`) and choose its threshold on validation.

Rows are questions the engine would put to the ranker (those its hard rules let through), with the evidence BM25
finds for them (as in scripts/train_ranker.py); the label is whether the ranker's lead sentence holds a gold answer,
so a question the coverage does not answer (SQuAD 2.0's unanswerable ones; a RealTime QA question asked against
other days' coverage) is a 0 like a lead that misses. Train: SQuAD dev half, articles of even hash, and RealTime QA
2023 asked on its date and on a date three months earlier. Validation: SQuAD's other articles, RealTime QA 2024
likewise. The threshold is the highest probability at which the validation questions whose lead holds the answer are
still answered for a share of at least `--recall` (false declines of answers the ranker has); its precision is
stated.

    python scripts/train_decline.py           # after scripts/train_ranker.py (the features read its model)
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from sklearn.metrics import roc_auc_score
from train_ranker import article_parity, evidence, fit, standardised_weights, write_model

from bot.answer import decline
from bot.answer.engine import EngineConfig, missing_entities
from bot.answer.question import analyse, essential_entities
from bot.answer.ranker import candidate_sentences, load_model
from bot.eval_pool import evenly, select_pool
from bot.evaluation import QAItem, contains_answer, load_questions

SHARED = Path("../shared")
SHIFT_DAYS = 90  # "other days' coverage": the question asked this long before its date


def rows(
    items: list[QAItem], records: list[dict[str, Any]], name: str
) -> tuple[list[tuple[float, ...]], list[int]]:
    config, model = EngineConfig(), load_model()
    x, y = [], []
    for item, passages, idf in evidence(items, records, name):
        question = analyse(item.question)
        essential = essential_entities(question)
        found = 1 - len(missing_entities(essential, passages)) / len(essential) if essential else 1.0
        if not passages or not question.terms or found < config.min_entity_share:
            continue  # the hard rules decline it before the model is asked
        scored = candidate_sentences(question, passages, idf, model)
        if not scored:
            continue
        x.append(decline.question_features(scored, found))
        # Labelled by the lead's own hit (validation AUC 0.73); "the evidence holds an answer" gave 0.58: SQuAD's
        # adversarial unanswerable questions are worded like their paragraph.
        y.append(int(item.answerable and contains_answer(scored[0].evidence.text, item.answers)))
    return x, y


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def earlier(items: list[QAItem]) -> list[QAItem]:
    """Each question asked SHIFT_DAYS before its date: against other days' coverage."""
    out = []
    for item in items:
        if item.date:
            day = datetime.date.fromisoformat(item.date[:10]) - datetime.timedelta(days=SHIFT_DAYS)
            out.append(replace(item, id=item.id + "-earlier", date=day.isoformat()))
    return out


def squad_half(items: list[QAItem], parity: int, n: int) -> list[QAItem]:
    """SQuAD questions of the articles (Wikipedia pages) on one side of the split by article."""
    return evenly([i for i in items if article_parity(i) == parity], n)


def threshold_table(probs: np.ndarray, y: np.ndarray) -> list[dict[str, float]]:
    table = []
    for t in np.round(np.arange(0.02, 0.96, 0.02), 2):
        answered = probs >= t
        table.append({"threshold": float(t), "answered": round(float(answered.mean()), 3),
                      "precision": round(float(y[answered].mean()), 3) if answered.any() else 1.0,
                      "recall": round(float(answered[y == 1].mean()), 3) if y.any() else 0.0})
    return table


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--squad-questions", type=int, default=1000, help="per split")
    p.add_argument("--rtqa-samples", nargs=2, type=int, default=[300, 200])
    p.add_argument("--recall", type=float, default=0.9,
                   help="the share of the validation questions whose lead holds the answer that must be answered")
    p.add_argument("--out", type=Path, default=decline.MODEL_PATH)
    args = p.parse_args(argv)

    squad = load_questions(SHARED / "eval/squad2_dev_half.qa.jsonl")
    squad_corpus = read_jsonl(SHARED / "corpora/squad2_dev_half.corpus.jsonl")
    data: dict[str, tuple[list[tuple[float, ...]], list[int]]] = {}
    for split, parity, year, sample in (
        ("train", 0, "2023", args.rtqa_samples[0]),
        ("validation", 1, "2024", args.rtqa_samples[1]),
    ):
        rtqa, records = select_pool(load_questions(SHARED / f"eval/realtimeqa_{year}.qa.jsonl"),
                                    SHARED / f"corpora/realtimeqa_{year}.corpus.jsonl", 3, sample)
        sx, sy = rows(squad_half(squad, parity, args.squad_questions), squad_corpus, "squad")
        rx, ry = rows(rtqa + earlier(rtqa), records, year)
        data[split] = (sx + rx, sy + ry)
        data[f"{split}_squad"], data[f"{split}_rtqa"] = (sx, sy), (rx, ry)

    x, y = np.array(data["train"][0]), np.array(data["train"][1])
    model = fit(x, y, decline.QUESTION_FEATURES)
    dm = decline.DeclineModel(model, 0.5)

    def probs(name: str) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = data[name]
        return np.array([dm.probability(r) for r in xs]), np.array(ys)

    vp, vy = probs("validation")
    table = threshold_table(vp, vy)
    chosen = [r for r in table if r["recall"] >= args.recall][-1]
    report: dict[str, Any] = {"chosen": chosen, "recall_target": args.recall}
    for name in ("train", "validation", "validation_squad", "validation_rtqa"):
        ps, ys = probs(name)
        report[name] = {"questions": int(len(ys)), "lead_holds_answer": round(float(ys.mean()), 3),
                        "auc": round(float(roc_auc_score(ys, ps)), 3) if 0 < ys.sum() < len(ys) else None,
                        "at_threshold": threshold_table(ps, ys)[table.index(chosen)]}
    report["standardised_weights"] = standardised_weights(model, x)
    metadata = {
        "trained": datetime.date.today().isoformat(),
        "script": "scripts/train_decline.py",
        "train": f"SQuAD 2.0 dev half, articles of even title hash ({args.squad_questions} questions); "
                 f"realtimeqa_2023 ({args.rtqa_samples[0]} pooled) on their date and {SHIFT_DAYS} days before",
        "validation": f"the other SQuAD articles; realtimeqa_2024 ({args.rtqa_samples[1]}) likewise",
        "label": "the ranker's lead sentence holds a gold answer (0 for unanswerable questions)",
        "model": f"scikit-learn {sklearn.__version__} LogisticRegression(C=1.0), standardised (train_ranker.fit)",
        "threshold": f"highest answering at least {args.recall} of the validation questions whose lead holds the "
                     "answer (precision: metrics.chosen)",
        "metrics": report,
        "thresholds_validation": table,
    }
    write_model(args.out, {"model": model.to_json(), "threshold": chosen["threshold"], "metadata": metadata}, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
