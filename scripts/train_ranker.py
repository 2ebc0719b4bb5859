"""Train the sentence ranker (`bot/answer/ranker_model.json`) on RealTime QA 2023, validate on 2024.

Each question's pool is its first three retrieved articles (`bot/eval_pool.py`), chunked as ingest chunks them; the
pools of a year's sampled questions make one in-memory BM25 index, searched as of each question's date for the
engine's eight evidence passages. No embedding: building the hybrid store of a year's pools took hours on the shared
2-core machine, so the dense retriever's rank is not a feature (the engine's article ranking is hybrid; the sentence
features do not depend on it). Every sentence of the evidence passages is a row, labelled by whether it holds the
question's answer (case- and quote-folded). Two logistic regressions (scikit-learn, standardised features, L2): the
first on the features, the second with the consensus share its probabilities give. Deterministic (lbfgs): the same
data give the same coefficients; only `metadata.trained` changes.

    python scripts/train_ranker.py            # from the repository's root; --help for the options
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from bot.answer import ranker
from bot.answer.engine import EngineConfig
from bot.answer.features import CONSENSUS, FEATURES, Candidate, candidates
from bot.answer.question import Question, analyse
from bot.eval_pool import evenly, select_pool
from bot.evaluation import QAItem, contains_answer, load_questions
from bot.settings import Settings
from ingest.chunking import chunk_article
from vectorstore.lexical import LexicalIndex
from vectorstore.models import Article, Passage

SHARED = Path("../shared")
REGULARISATION_C = 1.0
HEAD = ranker.RankerConfig().consensus_head


@dataclass
class Group:
    """One question: its candidates and their labels."""

    item: QAItem
    question: Question
    cands: list[Candidate]
    labels: list[int]
    idf: dict[str, float]


def evidence(
    items: list[QAItem], records: list[dict[str, Any]], name: str
) -> Iterator[tuple[QAItem, list[Passage], Callable[[str], float]]]:
    """Each question with the evidence passages BM25 finds for it, as of its date, in the articles given."""
    settings = Settings(_env_file=None)
    chunks = [
        c
        for r in records
        for c in chunk_article(
            Article(id=r["id"], title=r.get("title") or "", text=r["text"], url=r.get("url"),
                    date=(r.get("date") or "")[:10] or None, source=r.get("source")),
            "v1", settings.chunk_chars, settings.chunk_overlap_chars,
        )
    ]
    index = LexicalIndex.build(chunks, name)
    for item in items:
        hits = index.search(item.question, EngineConfig().evidence_passages, item.filters(True))
        yield item, [Passage(chunk, score, lexical_rank=i) for i, (chunk, score) in enumerate(hits)], index.idf


def extract(questions: Path, corpus: Path, sample: int, per_question: int) -> list[Group]:
    items, records = select_pool(load_questions(questions), corpus, per_question, sample)
    return groups_of(items, records, questions.stem)


def squad_train_half(n: int) -> list[Group]:
    """SQuAD 2.0 dev half's answerable questions on the articles of even title hash (the decline model validates on
    the others): questions worded like their paragraph, which news quizzes rarely are."""
    with open(SHARED / "corpora/squad2_dev_half.corpus.jsonl", encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh if line.strip()]
    items = [i for i in load_questions(SHARED / "eval/squad2_dev_half.qa.jsonl") if i.answerable]
    return groups_of(evenly([i for i in items if article_parity(i) == 0], n), records, "squad")


def article_parity(item: QAItem) -> int:
    """0 or 1 by a hash of the SQuAD question's Wikipedia page: the split by article."""
    return hashlib.sha256((item.doc_id or "").rsplit("_", 1)[0].encode()).digest()[0] % 2


def groups_of(items: list[QAItem], records: list[dict[str, Any]], name: str) -> list[Group]:
    groups = []
    for item, passages, idf in evidence(items, records, name):
        question = analyse(item.question)
        cands = candidates(question, passages, idf)
        labels = [int(contains_answer(c.text, item.answers)) for c in cands]
        groups.append(Group(item, question, cands, labels, {s: idf(s) for c in cands for s in c.stems}))
    return groups


def fit(x: np.ndarray, y: np.ndarray, names: tuple[str, ...]) -> ranker.LinearModel:
    """Standardise, fit, and fold the scaling back into the coefficients (the runtime needs no scaler)."""
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=REGULARISATION_C, max_iter=2000).fit((x - mean) / scale, y)
    w = model.coef_[0] / scale
    return ranker.LinearModel(names, tuple(float(v) for v in w), float(model.intercept_[0] - (w * mean).sum()))


def base_matrix(groups: list[Group]) -> tuple[np.ndarray, np.ndarray]:
    x = np.array([c.features for g in groups for c in g.cands], dtype=float)
    return x.reshape(-1, len(FEATURES)), np.array([v for g in groups for v in g.labels])


def full_matrix(groups: list[Group], base: ranker.LinearModel) -> np.ndarray:
    rows = []
    for g in groups:
        probs = [ranker.sigmoid(base.logit(c.features)) for c in g.cands]
        shares = ranker.consensus_shares(g.question, g.cands, probs, g.idf.__getitem__, HEAD)
        rows += [(*c.features, s) for c, s in zip(g.cands, shares, strict=True)]
    return np.array(rows, dtype=float).reshape(-1, len(FEATURES) + 1)


def metrics(groups: list[Group], scores: np.ndarray) -> dict[str, Any]:
    """Top-1 / top-3 sentence holds the answer (over every question), and the rows' AUC."""
    top1 = top3 = i = 0
    for g in groups:
        s = scores[i : i + len(g.cands)]
        order = np.argsort(-s, kind="stable")
        top1 += bool(len(order)) and g.labels[order[0]] == 1
        top3 += any(g.labels[j] for j in order[:3])
        i += len(g.cands)
    y = np.array([v for g in groups for v in g.labels])
    return {"questions": len(groups), "sentences": int(len(y)), "positives": int(y.sum()),
            "top1": round(top1 / len(groups), 3), "top3": round(top3 / len(groups), 3),
            "auc": round(float(roc_auc_score(y, scores)), 3) if 0 < y.sum() < len(y) else None}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train-year", default="2023")
    p.add_argument("--train-sample", type=int, default=300)
    p.add_argument("--valid-year", default="2024")
    p.add_argument("--valid-sample", type=int, default=200)
    p.add_argument("--pool-articles", type=int, default=3)
    p.add_argument("--squad", type=int, default=0, help="SQuAD questions added to the training data (0: none)")
    p.add_argument("--out", type=Path, default=ranker.MODEL_PATH)
    args = p.parse_args(argv)

    def load(year: str, sample: int) -> list[Group]:
        return extract(SHARED / f"eval/realtimeqa_{year}.qa.jsonl",
                       SHARED / f"corpora/realtimeqa_{year}.corpus.jsonl", sample, args.pool_articles)

    train = load(args.train_year, args.train_sample) + (squad_train_half(args.squad) if args.squad else [])
    valid = load(args.valid_year, args.valid_sample)
    xb, y = base_matrix(train)
    base = fit(xb, y, FEATURES)
    full = fit(full_matrix(train, base), y, (*FEATURES, CONSENSUS))
    report: dict[str, Any] = {}
    for name, groups in (("train", train), ("validation", valid)):
        xf = full_matrix(groups, base)
        model_scores = xf @ np.array(full.weights) + full.intercept
        report[name] = metrics(groups, model_scores)
    report["standardised_weights"] = standardised_weights(full, full_matrix(train, base))
    metadata = {
        "trained": datetime.date.today().isoformat(),
        "script": "scripts/train_ranker.py",
        "train": f"realtimeqa_{args.train_year}: {args.train_sample} questions spread over the year, each asked "
                 f"on its date (BM25 over the pools of their first {args.pool_articles} retrieved articles); "
                 f"{args.squad} answerable SQuAD 2.0 dev-half questions of the articles of even title hash",
        "validation": f"realtimeqa_{args.valid_year}, likewise {args.valid_sample} questions",
        "label": "the sentence contains the question's answer (case- and quote-folded)",
        "model": f"scikit-learn {sklearn.__version__} LogisticRegression(C={REGULARISATION_C}), standardised",
        "metrics": report,
    }
    write_model(args.out, {"base": base.to_json(), "full": full.to_json(), "metadata": metadata}, report)
    return 0


def standardised_weights(model: ranker.LinearModel, x: np.ndarray) -> dict[str, float]:
    """Each weight times its feature's spread over the training rows `x`: what carries the model, comparably."""
    spread = x.std(axis=0)
    return {n: round(w * sd, 3) for n, w, sd in zip(model.features, model.weights, spread, strict=True)}


def write_model(path: Path, doc: dict[str, Any], report: dict[str, Any]) -> None:
    """The model file (indented JSON, diffable), and the report on stdout."""
    path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    json.dump(report, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    sys.exit(main())
