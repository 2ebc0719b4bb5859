"""Train the sentence ranker (`bot/answer/ranker_model.json`) on RealTime QA 2023 and SQuAD 2.0; validate on 2024
and on SQuAD pages of their own.

News-quiz questions paraphrase several outlets' coverage; SQuAD's restate one paragraph of a Wikipedia page. Trained
on either alone, the ranker loses on the other (2023 alone: SQuAD's best sentence first for 52% of questions, where
the old hand-set scorer had 69%), so both train it. SQuAD is split by page: the pages of the first 2,000 questions
of the dev half are `newsbot eval`'s test set and never seen here; of the other ten, every third (in order of first
appearance) validates and the rest train. Each RealTime QA question's pool is its first three retrieved articles
(`bot/eval_pool.py`), chunked as ingest chunks them; a set's articles make one in-memory BM25 index, searched as of
each question's date for the engine's eight evidence passages: no embedding (a hybrid store of a year's pools takes
hours to build on the shared 2-core machine). With `--stores DIR` the evidence is instead the engine's own hybrid
retrieval over real stores of each set's articles, embedded once (a sample of 200 2023 questions: 9,581 chunks,
8.5 min); the shipped ranker is BM25's (the hybrid-trained one answered the seed set's Italy question wrong: README).
Each sentence's similarity to the question is the default embedder's (MiniLM, `vectorstore.embedder.load_embedder`),
as the engine computes it: the question embedded as retrieval embeds it (`embed_query`), the sentences in batches
(`encode`); `--vectors FILE` keeps the vectors across runs (the decline's training reads the same sentences).
Every sentence of the evidence passages is a row, labelled by whether it holds the question's
answer (case- and quote-folded); each question weighs the same within its set, the news questions `NEWS_SHARE` of
the whole.

Two boosted tree models (fixed seeds, one thread: the same data give the same trees; only `metadata.trained`
changes). The first, scikit-learn's HistGradientBoostingClassifier on the features, gives each sentence a
probability of holding the answer, from which the consensus shares are computed. The second, on the features and
the consensus share, is trained for what the answer needs, which sentence of a question's candidates leads:
LightGBM's `lambdarank` with the question as the group. Top-1 (the answer sentence first) in four-fold
cross-validation over the training questions, news / SQuAD: pointwise 0.453 / 0.784, ranked 0.449 / 0.811. On
validation (2024's 60 questions / SQuAD's 400), one draw of the hybrid evidence: the shipped pointwise model 0.383
/ 0.675, retrained 0.367 / 0.675, ranked 0.417 / 0.718; the ranked model trained on another draw (retrieval is not
bit-for-bit), the one shipped, 0.367 / 0.710. Its scores are not probabilities, and the answer's selection
(`SelectionConfig.min_ratio`) and the decline read them as such, so a logistic calibration of the score,
fitted on the training rows with their weights, is folded into its leaf values and baseline: the exported trees
give calibrated log-odds, and the run time is unchanged.

    python scripts/train_ranker.py            # from the repository's root; --help for the options
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import lightgbm
import numpy as np
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from bot.answer import forest, ranker
from bot.answer.engine import EngineConfig
from bot.answer.features import CONSENSUS, Candidate, candidates, matrix
from bot.answer.question import Question, analyse
from bot.eval_pool import evenly, select_pool, write_pool
from bot.evaluation import QAItem, contains_answer, load_questions
from bot.settings import Settings
from ingest.chunking import chunk_article
from vectorstore.lexical import LexicalIndex
from vectorstore.models import Article, Passage

if TYPE_CHECKING:
    from bot.answer.sentence_vectors import Similarity
    from vectorstore.embedder import Embedder

SHARED = Path("../shared")
REGULARISATION_C = 1.0  # the decline model's logistic regression (scripts/train_decline.py)
SQUAD_TEST_QUESTIONS = 2000  # `newsbot eval ... --limit 2000`: their pages never train nor validate
# Of the training weight; 0.5 lost 2024's validation questions (top 1 0.365 -> 0.320). With the ranking trees, 0.8
# and 0.85: validation 0.383 / 0.708 and 0.383 / 0.693, cross-validation 0.463 / 0.795 and 0.470 / 0.796 (news /
# SQuAD), against 0.417 / 0.718 and 0.449 / 0.811 at 0.7.
NEWS_SHARE = 0.7
# Small trees, many leaves' worth of data each: chosen on validation (2024 and SQuAD's validation pages).
TREES = {
    "max_iter": 200,
    "learning_rate": 0.05,
    "max_leaf_nodes": 7,
    "min_samples_leaf": 100,
    "l2_regularization": 1.0,
    "random_state": 0,
}
# The second model's ranking trees (LightGBM), the first's sizes: chosen on validation top-1 (2024 `--sample 60`,
# SQuAD's validation pages, one draw of the hybrid evidence: 100 rounds 0.383 / 0.700, 400 0.400 / 0.733, 15 leaves
# of 50 0.367 / 0.723, `lambdarank_truncation_level` 5 0.350 / 0.713, `rank_xendcg` 0.383 / 0.705, against
# 0.417 / 0.718 here) and four-fold cross-validation on the training questions (news / SQuAD: 400 rounds 0.459 /
# 0.809, `rank_xendcg` 0.441 / 0.805, against 0.449 / 0.811 here; 2024's 60 questions move by three between draws).
RANKING = {
    "objective": "lambdarank",
    "num_leaves": 7,
    "min_data_in_leaf": 100,
    "learning_rate": 0.05,
    "lambda_l2": 1.0,
    "seed": 0,
    "deterministic": True,
    "num_threads": 1,
    "force_row_wise": True,
    "verbose": -1,
}
RANKING_ROUNDS = 200
HEAD = ranker.RankerConfig().consensus_head
MIN_SOURCES = ranker.RankerConfig().consensus_min_sources


@dataclass
class Group:
    """One question: its candidates and their labels."""

    item: QAItem
    question: Question
    cands: list[Candidate]
    labels: list[int]
    idf: dict[str, float]


Evidence = Iterator[tuple[QAItem, list[Passage], Callable[[str], float]]]


class TrainingVectors:
    """The embedder's vectors of questions and sentences, computed as the engine computes them (the question by
    `embed_query`, as retrieval embeds it; sentences by `encode`, in batches, as `SentenceVectors` does), each
    text once, and kept in a file across runs when given one (embedding is most of a training run's time)."""

    def __init__(self, embedder: Embedder, path: Path | None = None) -> None:
        self.embedder = embedder
        self.path = path
        self.questions: dict[str, np.ndarray] = {}
        self.sentences: dict[str, np.ndarray] = {}
        self.dirty = False
        if path is not None and path.exists():
            with np.load(path, allow_pickle=False) as data:
                for kind in ("questions", "sentences"):
                    texts, vectors = data[f"{kind}_texts"], data[f"{kind}_vectors"]
                    getattr(self, kind).update(zip(texts.tolist(), vectors, strict=True))

    def similarity(self, question: str) -> Similarity:
        """Each text's cosine similarity to the question."""
        if question not in self.questions:
            self.questions[question] = np.asarray(self.embedder.embed_query(question), dtype=np.float32)
            self.dirty = True
        asked = self.questions[question]

        def similar(texts: Sequence[str]) -> list[float]:
            todo = [t for t in dict.fromkeys(texts) if t not in self.sentences]
            if todo:
                self.sentences.update(zip(todo, np.asarray(self.embedder.encode(todo), dtype=np.float32), strict=True))
                self.dirty = True
            return [float(self.sentences[t] @ asked) for t in texts]

        return similar

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        arrays = {}
        for kind in ("questions", "sentences"):
            kept: dict[str, np.ndarray] = getattr(self, kind)
            arrays[f"{kind}_texts"] = np.array(list(kept), dtype=str)
            arrays[f"{kind}_vectors"] = np.array(list(kept.values()), dtype=np.float32).reshape(len(kept), -1)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(self.path, **arrays)
        self.dirty = False


def default_vectors(path: Path | None = None) -> TrainingVectors:
    """The default embedder (the one the engine's stores use unless configured otherwise), loaded offline."""
    from vectorstore.embedder import load_embedder

    return TrainingVectors(load_embedder(), path)


def evidence(
    items: list[QAItem],
    records: list[dict[str, Any]],
    name: str,
    stores: Path | None = None,
    embedder: Embedder | None = None,
) -> Evidence:
    """Each question with its evidence passages as of its date in the articles given: BM25's, or with `stores`
    the engine's own hybrid retrieval's (`hybrid_evidence`, with `embedder` if one is loaded already)."""
    if stores is not None:
        yield from hybrid_evidence(items, records, stores / store_name(name, records), embedder)
        return
    yield from bm25_evidence(items, records, name)


def store_name(name: str, records: list[dict[str, Any]]) -> str:
    """A store per set of articles: the same articles find the same store (and are not embedded again)."""
    digest = hashlib.sha256("\n".join(sorted(r["id"] for r in records)).encode()).hexdigest()[:10]
    return f"{name}.{len(records)}.{digest}"


def hybrid_evidence(
    items: list[QAItem], records: list[dict[str, Any]], data_dir: Path, embedder: Embedder | None = None
) -> Evidence:
    """The engine's evidence: the articles ingested (embedded with the default embedder, once: ingest is
    incremental) into a real store of their own, searched by the engine's retriever as `newsbot eval` asks, so the
    features (the passages' fused ranks, the lead's log-odds) are distributed as they are at answering time."""
    from bot.runtime import Runtime  # loads the embedder's stack: only on this path

    runtime = Runtime(Settings(_env_file=None, data_dir=data_dir))
    if embedder is not None:  # one already loaded (the tests')
        runtime.__dict__["embedder"] = embedder
    report = runtime.ingest([str(write_pool(records, data_dir / "pool.jsonl"))])
    print(f"{data_dir.name}: {report.summary()}", file=sys.stderr, flush=True)
    runtime.retriever.refresh()
    k = EngineConfig().evidence_passages
    for item in items:
        passages = runtime.retriever.retrieve(item.question, k=k, filters=item.filters(True)).passages
        yield item, passages, runtime.retriever.term_idf()


def bm25_evidence(items: list[QAItem], records: list[dict[str, Any]], name: str) -> Evidence:
    """BM25 over the articles, in memory (no embedding): the evidence the shipped model was first trained on."""
    settings = Settings(_env_file=None)
    chunks = [
        c
        for r in records
        for c in chunk_article(
            Article(
                id=r["id"],
                title=r.get("title") or "",
                text=r["text"],
                url=r.get("url"),
                date=(r.get("date") or "")[:10] or None,
                source=r.get("source"),
            ),
            "v1",
            settings.chunk_chars,
            settings.chunk_overlap_chars,
        )
    ]
    index = LexicalIndex.build(chunks, name)
    for item in items:
        hits = index.search(item.question, EngineConfig().evidence_passages, item.filters(True))
        yield item, [Passage(chunk, score, lexical_rank=i) for i, (chunk, score) in enumerate(hits)], index.idf


def extract(
    questions: Path, corpus: Path, sample: int, per_question: int, stores: Path | None, vectors: TrainingVectors
) -> list[Group]:
    items, records = select_pool(load_questions(questions), corpus, per_question, sample)
    return groups_of(items, records, questions.stem, stores, vectors)


def squad_page(item: QAItem) -> str:
    """The Wikipedia page of a SQuAD question (its paragraph id less the paragraph number)."""
    return (item.doc_id or "").rsplit("_", 1)[0]


def squad_split(items: list[QAItem]) -> dict[str, list[QAItem]]:
    """SQuAD 2.0 dev half's questions by page: "test" (the pages of the first 2,000 questions, which `newsbot eval`
    measures), "validation" (every third of the other pages) and "train" (the rest)."""
    test_pages = {squad_page(i) for i in items[:SQUAD_TEST_QUESTIONS]}
    others = [p for p in dict.fromkeys(squad_page(i) for i in items) if p not in test_pages]
    valid_pages = set(others[2::3])
    split: dict[str, list[QAItem]] = {"train": [], "validation": [], "test": []}
    for item in items:
        page = squad_page(item)
        split["test" if page in test_pages else "validation" if page in valid_pages else "train"].append(item)
    return split


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def squad_groups(part: str, n: int, stores: Path | None, vectors: TrainingVectors) -> list[Group]:
    """N answerable SQuAD questions of one side of the split, spread over it (the whole dev half searched)."""
    items = squad_split(load_questions(SHARED / "eval/squad2_dev_half.qa.jsonl"))[part]
    records = read_jsonl(SHARED / "corpora/squad2_dev_half.corpus.jsonl")
    return groups_of(evenly([i for i in items if i.answerable], n), records, "squad", stores, vectors)


def groups_of(
    items: list[QAItem], records: list[dict[str, Any]], name: str, stores: Path | None, vectors: TrainingVectors
) -> list[Group]:
    groups = []
    for item, passages, idf in evidence(items, records, name, stores, vectors.embedder):
        question = analyse(item.question)
        cands = candidates(question, passages, idf, vectors.similarity(item.question))
        labels = [int(contains_answer(c.text, item.answers)) for c in cands]
        groups.append(Group(item, question, cands, labels, {s: idf(s) for c in cands for s in c.stems}))
    return groups


def fit(x: np.ndarray, y: np.ndarray, names: tuple[str, ...]) -> ranker.LinearModel:
    """Standardise, fit a logistic regression, and fold the scaling back into the coefficients (the runtime needs
    no scaler). The decline model's."""
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=REGULARISATION_C, max_iter=2000).fit((x - mean) / scale, y)
    w = model.coef_[0] / scale
    return ranker.LinearModel(names, tuple(float(v) for v in w), float(model.intercept_[0] - (w * mean).sum()))


def fit_trees(x: np.ndarray, y: np.ndarray, weights: np.ndarray, names: tuple[str, ...]) -> dict[str, Any]:
    """Boosted trees, exported as `bot/answer/forest.py` reads them."""
    return forest.export(HistGradientBoostingClassifier(**TREES).fit(x, y, sample_weight=weights), names)


def fit_ranking(
    x: np.ndarray, y: np.ndarray, weights: np.ndarray, sizes: Sequence[int], names: tuple[str, ...]
) -> dict[str, Any]:
    """Ranking trees over groups of `sizes` consecutive rows (a question's candidates), exported as
    `bot/answer/forest.py` reads them with a logistic calibration of their score folded in (`calibrated`)."""
    data = lightgbm.Dataset(x, y, weight=weights, group=list(sizes), free_raw_data=False)
    booster = lightgbm.train(RANKING, data, num_boost_round=RANKING_ROUNDS)
    doc = forest.export_lightgbm(booster.dump_model(), names)
    scores = forest.Forest.from_json(doc).logits(x)
    calibration = LogisticRegression(C=1e6, max_iter=1000).fit(scores[:, None], y, sample_weight=weights)
    return forest.calibrated(doc, float(calibration.coef_[0][0]), float(calibration.intercept_[0]))


def question_weights(groups: list[Group]) -> np.ndarray:
    """Per row: each question weighs the same within its kind, news `NEWS_SHARE` of the whole (mean 1)."""
    news = sum(1 for g in groups if g.item.retrieved_ids)
    other = len(groups) - news
    w = []
    for g in groups:
        share = NEWS_SHARE / news if g.item.retrieved_ids else (1 - NEWS_SHARE) / other
        w += [share / max(1, len(g.cands))] * len(g.cands)
    out = np.array(w)
    return out / out.mean()


def base_matrix(groups: list[Group]) -> tuple[np.ndarray, np.ndarray]:
    x = np.vstack([matrix(g.cands) for g in groups])
    return x, np.array([v for g in groups for v in g.labels])


def full_matrix(groups: list[Group], base: ranker.Forest) -> np.ndarray:
    rows = []
    for g in groups:
        x = matrix(g.cands)
        probs = [ranker.sigmoid(z) for z in base.logits(x)]
        shares = ranker.consensus_shares(g.question, g.cands, probs, g.idf.__getitem__, HEAD, MIN_SOURCES)
        rows.append(np.column_stack([x, shares]))
    return np.vstack(rows)


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
    return {
        "questions": len(groups),
        "sentences": int(len(y)),
        "positives": int(y.sum()),
        "top1": round(top1 / len(groups), 3),
        "top3": round(top3 / len(groups), 3),
        "auc": round(float(roc_auc_score(y, scores)), 3) if 0 < y.sum() < len(y) else None,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train-year", default="2023")
    p.add_argument("--train-sample", type=int, default=800, help="RealTime QA questions (fewer are kept: pools)")
    p.add_argument("--valid-year", default="2024")
    p.add_argument("--valid-sample", type=int, default=200)
    p.add_argument("--pool-articles", type=int, default=3)
    p.add_argument("--squad", type=int, default=800, help="answerable SQuAD training questions")
    p.add_argument("--squad-valid", type=int, default=400, help="answerable SQuAD validation questions")
    p.add_argument("--out", type=Path, default=ranker.MODEL_PATH)
    p.add_argument(
        "--stores",
        type=Path,
        help="evidence by the engine's hybrid retriever over real stores of each set's articles kept here "
        "(embedded on the first run: ~10-40 chunks/s), not by BM25 in memory",
    )
    p.add_argument("--vectors", type=Path, help="keep the questions' and sentences' vectors in this .npz across runs")
    args = p.parse_args(argv)
    vectors = default_vectors(args.vectors)

    def load(year: str, sample: int) -> list[Group]:
        return extract(
            SHARED / f"eval/realtimeqa_{year}.qa.jsonl",
            SHARED / f"corpora/realtimeqa_{year}.corpus.jsonl",
            sample,
            args.pool_articles,
            args.stores,
            vectors,
        )

    news = load(args.train_year, args.train_sample)
    train = news + squad_groups("train", args.squad, args.stores, vectors)
    sets = {
        "train": train,
        "validation": load(args.valid_year, args.valid_sample),
        "validation_squad": squad_groups("validation", args.squad_valid, args.stores, vectors),
    }
    vectors.save()
    retrieval = "the engine's hybrid retrieval over a store of" if args.stores else "BM25 over"
    xb, y = base_matrix(train)
    weights = question_weights(train)
    base_doc = fit_trees(xb, y, weights, ranker.ROW_FEATURES)
    base = ranker.Forest.from_json(base_doc)
    sizes = [len(g.cands) for g in train]
    full_doc = fit_ranking(full_matrix(train, base), y, weights, sizes, (*ranker.ROW_FEATURES, CONSENSUS))
    full = ranker.Forest.from_json(full_doc)
    report = {name: metrics(groups, full.logits(full_matrix(groups, base))) for name, groups in sets.items()}
    metadata = {
        "trained": datetime.date.today().isoformat(),
        "script": "scripts/train_ranker.py",
        "train": f"realtimeqa_{args.train_year}: {len(news)} questions kept of {args.train_sample} spread over the "
        f"year, each asked on its date ({retrieval} the pools of their first {args.pool_articles} "
        f"retrieved articles), {NEWS_SHARE} of the weight; {args.squad} answerable SQuAD 2.0 dev-half questions of "
        "the training pages (squad_split)",
        "validation": f"realtimeqa_{args.valid_year}, likewise {args.valid_sample} questions; {args.squad_valid} "
        "answerable SQuAD questions of the validation pages",
        "label": "the sentence contains the question's answer (case- and quote-folded)",
        "embedder": vectors.embedder.name,
        "model": f"base: scikit-learn {sklearn.__version__} HistGradientBoostingClassifier({TREES}); full: "
        f"LightGBM {lightgbm.__version__} train({RANKING}, rounds={RANKING_ROUNDS}), the question as the group, its "
        "score calibrated to log-odds by a logistic regression on the training rows (folded into the trees)",
        "metrics": report,
    }
    write_model(args.out, {"base": base_doc, "full": full_doc, "metadata": metadata}, report)
    return 0


def standardised_weights(model: ranker.LinearModel, x: np.ndarray) -> dict[str, float]:
    """Each weight times its feature's spread over the training rows `x`: what carries the model, comparably."""
    spread = x.std(axis=0)
    return {n: round(w * sd, 3) for n, w, sd in zip(model.features, model.weights, spread, strict=True)}


def write_model(path: Path, doc: dict[str, Any], report: dict[str, Any]) -> None:
    """The model file (compact JSON: thousands of tree nodes), and the report on stdout."""
    path.write_text(json.dumps(doc, separators=(",", ":")) + "\n", encoding="utf-8")
    json.dump(report, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    sys.exit(main())
