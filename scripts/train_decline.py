"""Train the decision to decline (`bot/answer/decline_model.json`) and choose its threshold on validation.

Rows are questions the engine would put to the ranker (those its hard rules let through), with their evidence as
scripts/train_ranker.py finds it (the shipped model: `--stores`, the engine's own hybrid retrieval, whose fused
evidence moves the lead's log-odds; BM25's put the threshold at 7% false declines on validation, 12% in the
evaluation); the label is whether the ranker's lead sentence holds a gold answer,
so a question the coverage does not answer (SQuAD 2.0's unanswerable ones; a RealTime QA question asked against
other days' coverage) is a 0 like a lead that misses. Train: SQuAD dev half's training pages
(`train_ranker.squad_split`: never the pages of the 2,000 questions `newsbot eval` measures), and RealTime QA 2023
asked on its date and on a date three months earlier. Validation: SQuAD's validation pages, RealTime QA 2024
likewise. The threshold is the highest probability at which at most `--max-false-declines` of the answerable SQuAD
validation questions are declined (the hard rules' declines included); the share of unanswerable ones it declines,
and the same on 2024, are stated. The features read the ranker's scores and the question's words against the lead
(`bot.answer.decline.question_features`), so a new ranker needs only this command run again.

    python scripts/train_decline.py --stores var/trainstore --rtqa-samples 200 60   # after scripts/train_ranker.py
"""

from __future__ import annotations

import argparse
import datetime
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from sklearn.metrics import roc_auc_score
from train_ranker import (
    TrainingVectors,
    default_vectors,
    evidence,
    fit,
    read_jsonl,
    squad_split,
    standardised_weights,
    write_model,
)

from bot.answer import decline
from bot.answer.engine import EngineConfig, missing_entities
from bot.answer.question import analyse, essential_entities
from bot.answer.ranker import candidate_sentences, load_model
from bot.eval_pool import evenly, select_pool
from bot.evaluation import QAItem, contains_answer, load_questions

SHARED = Path("../shared")
SHIFT_DAYS = 90  # "other days' coverage": the question asked this long before its date


@dataclass(frozen=True)
class Row:
    """One question as the decline model meets it: its features (None: a hard rule declined it first)."""

    features: tuple[float, ...] | None
    label: int  # the lead sentence holds a gold answer
    answerable: bool


def rows(
    items: list[QAItem], records: list[dict[str, Any]], name: str, stores: Path | None, vectors: TrainingVectors
) -> list[Row]:
    config, model = EngineConfig(), load_model()
    out = []
    for item, passages, idf in evidence(items, records, name, stores, vectors.embedder):
        question = analyse(item.question)
        essential = essential_entities(question)
        found = 1 - len(missing_entities(essential, passages)) / len(essential) if essential else 1.0
        similarity = vectors.similarity(item.question)
        scored = candidate_sentences(question, passages, idf, similarity, model) if question.terms else []
        if not passages or not scored or found < config.min_entity_share:
            out.append(Row(None, 0, item.answerable))  # the hard rules decline it before the model is asked
            continue
        # Labelled by the lead's own hit; "the evidence holds an answer" gave AUC 0.58 rather than 0.73: SQuAD's
        # adversarial unanswerable questions are worded like their paragraph.
        hit = int(item.answerable and contains_answer(scored[0].evidence.text, item.answers))
        out.append(Row(decline.question_features(question, scored, passages, idf, found), hit, item.answerable))
    return out


def earlier(items: list[QAItem]) -> list[QAItem]:
    """Each question asked SHIFT_DAYS before its date: against other days' coverage."""
    out = []
    for item in items:
        if item.date:
            day = datetime.date.fromisoformat(item.date[:10]) - datetime.timedelta(days=SHIFT_DAYS)
            out.append(replace(item, id=item.id + "-earlier", date=day.isoformat()))
    return out


def declines(rows: list[Row], probs: np.ndarray, threshold: float) -> dict[str, float]:
    """At a threshold: the shares of answerable questions declined (false) and of unanswerable ones (correct)."""
    declined = [r.features is None or p < threshold for r, p in zip(rows, probs, strict=True)]
    answerable = [d for r, d in zip(rows, declined, strict=True) if r.answerable]
    other = [d for r, d in zip(rows, declined, strict=True) if not r.answerable]
    return {
        "threshold": threshold,
        "false_declines": round(float(np.mean(answerable)), 3) if answerable else 0.0,
        "correct_declines": round(float(np.mean(other)), 3) if other else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # All of each split's questions (2,677 training, 1,231 validation): with the question's words as features, 1,000
    # per split left validation's correct declines at 0.48 where all give 0.49 at the same false declines.
    p.add_argument("--squad-questions", type=int, default=None, help="per split (default: all)")
    p.add_argument("--rtqa-samples", nargs=2, type=int, default=[300, 200])
    p.add_argument(
        "--max-false-declines",
        type=float,
        # One point below the goal (10% of answerable questions declined), for the evaluation's pages
        # being others than validation's.
        default=0.09,
        help="the share of the answerable SQuAD validation questions the threshold may decline",
    )
    p.add_argument("--out", type=Path, default=decline.MODEL_PATH)
    p.add_argument("--stores", type=Path, help="evidence by the engine's hybrid retriever (train_ranker.py --stores)")
    p.add_argument("--vectors", type=Path, help="the questions' and sentences' vectors (train_ranker.py --vectors)")
    args = p.parse_args(argv)
    vectors = default_vectors(args.vectors)

    squad = squad_split(load_questions(SHARED / "eval/squad2_dev_half.qa.jsonl"))
    squad_corpus = read_jsonl(SHARED / "corpora/squad2_dev_half.corpus.jsonl")
    data: dict[str, list[Row]] = {}
    for split, year, sample in (("train", "2023", args.rtqa_samples[0]), ("validation", "2024", args.rtqa_samples[1])):
        rtqa, records = select_pool(
            load_questions(SHARED / f"eval/realtimeqa_{year}.qa.jsonl"),
            SHARED / f"corpora/realtimeqa_{year}.corpus.jsonl",
            3,
            sample,
        )
        squad_items = evenly(squad[split], args.squad_questions)
        data[f"{split}_squad"] = rows(squad_items, squad_corpus, "squad", args.stores, vectors)
        data[f"{split}_rtqa"] = rows(rtqa + earlier(rtqa), records, f"realtimeqa_{year}.qa", args.stores, vectors)
    vectors.save()

    train = [r for r in data["train_squad"] + data["train_rtqa"] if r.features is not None]
    x = np.array([r.features for r in train])
    model = fit(x, np.array([r.label for r in train]), decline.QUESTION_FEATURES)
    dm = decline.DeclineModel(model, 0.5)

    def probs(name: str) -> np.ndarray:
        return np.array([dm.probability(r.features) if r.features is not None else 0.0 for r in data[name]])

    grid = [float(t) for t in np.round(np.arange(0.01, 0.96, 0.01), 2)]
    squad_valid = [declines(data["validation_squad"], probs("validation_squad"), t) for t in grid]
    chosen = [r for r in squad_valid if r["false_declines"] <= args.max_false_declines][-1]["threshold"]
    report: dict[str, Any] = {"threshold": chosen, "max_false_declines": args.max_false_declines}
    for name, found in data.items():
        ps = probs(name)
        asked = [(p, r.label) for p, r in zip(ps, found, strict=True) if r.features is not None]
        ys = [y for _, y in asked]
        report[name] = {
            "questions": len(found),
            "lead_holds_answer": round(float(np.mean(ys)), 3),
            "auc": round(float(roc_auc_score(ys, [p for p, _ in asked])), 3) if 0 < sum(ys) < len(ys) else None,
            "at_threshold": declines(found, ps, chosen),
        }
    report["standardised_weights"] = standardised_weights(model, x)
    metadata = {
        "trained": datetime.date.today().isoformat(),
        "script": "scripts/train_decline.py",
        "train": f"SQuAD 2.0 dev half, training pages (train_ranker.squad_split; {args.squad_questions or 'all'} "
        "questions); "
        f"realtimeqa_2023 ({args.rtqa_samples[0]} pooled) on their date and {SHIFT_DAYS} days before; evidence by "
        + ("the engine's hybrid retrieval over real stores" if args.stores else "BM25 in memory"),
        "validation": f"SQuAD's validation pages; realtimeqa_2024 ({args.rtqa_samples[1]}) likewise",
        "label": "the ranker's lead sentence holds a gold answer (0 for unanswerable questions)",
        "model": f"scikit-learn {sklearn.__version__} LogisticRegression(C=1.0), standardised (train_ranker.fit)",
        "threshold": f"highest declining at most {args.max_false_declines} of the answerable SQuAD validation "
        "questions, the hard rules' declines included",
        "metrics": report,
        "thresholds_validation_squad": squad_valid,
    }
    write_model(args.out, {"model": model.to_json(), "threshold": chosen, "metadata": metadata}, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
