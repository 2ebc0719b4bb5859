"""Fit `bot/answer/similarity_scales.json`: another embedder's question-sentence cosine mapped onto the scale of the
embedder the learned ranker was trained on (issue 18).

The ranker's `similarity` feature is MiniLM's cosine; multilingual-e5-small's crowd into 0.7-0.9, so its raw
values would mislead the trees, and retraining them on e5's similarities costs over an hour of embedding. Instead,
for a fixed sample of training questions (RealTime QA 2023 pools and SQuAD's training pages, chosen and searched as
`scripts/train_ranker.py` does, BM25 evidence: no store), every candidate sentence of each question's evidence is
embedded by both embedders as the engine embeds it (the question by `embed_query`, the sentences by `encode`), and
the quantiles of each embedder's cosines over all question-sentence pairs are matched: the map is monotone
(np.interp over the two quantile arrays at run time, `bot/answer/ranker.py` `SimilarityScale`), so it changes no
order within a question, only where each value falls on the trees' splits. The report says how well each embedder's
similarity alone ranks a question's answer sentence first (the map cannot change that), and how closely the mapped
values follow MiniLM's pair by pair.

    python scripts/fit_similarity_scale.py    # from the repository's root; --help for the options
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from bot.answer import ranker
from bot.answer.features import candidates
from bot.answer.question import analyse
from bot.eval_pool import evenly, select_pool
from bot.evaluation import QAItem, contains_answer, load_questions
from vectorstore.embedder import Embedder, load_embedder

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_ranker  # noqa: E402  (the training script's sampling and evidence, shared)

QUANTILES = 101  # every percentile: the map is piecewise linear between them
NEWS_YEAR = "2023"  # the ranker's training year: never its validation (2024) nor the test sets (2022, seed)
POOL_ARTICLES = 3  # train_ranker's default pools


@dataclass(frozen=True)
class Pairs:
    """One question's candidate sentences (texts) and which hold its answer."""

    kind: str  # "news" or "squad"
    question: str
    sentences: list[str]
    labels: list[int]


def sample_pairs(news: int, squad: int) -> list[Pairs]:
    """The questions' evidence sentences: `news` RealTime QA 2023 questions spread over the year and `squad`
    answerable SQuAD questions of the training pages, with BM25's evidence as of each question's date."""
    shared = train_ranker.SHARED
    items, records = select_pool(
        load_questions(shared / f"eval/realtimeqa_{NEWS_YEAR}.qa.jsonl"),
        shared / f"corpora/realtimeqa_{NEWS_YEAR}.corpus.jsonl",
        POOL_ARTICLES,
        news,
    )
    out = _pairs(items, records, "news")
    squad_items = train_ranker.squad_split(load_questions(shared / "eval/squad2_dev_half.qa.jsonl"))["train"]
    squad_records = train_ranker.read_jsonl(shared / "corpora/squad2_dev_half.corpus.jsonl")
    out += _pairs(evenly([i for i in squad_items if i.answerable], squad), squad_records, "squad")
    return out


def _pairs(items: list[QAItem], records: list[dict[str, Any]], name: str) -> list[Pairs]:
    out = []
    for item, passages, idf in train_ranker.bm25_evidence(items, records, name):
        texts: list[str] = []

        def record(sentences: Sequence[str], into: list[str] = texts) -> list[float]:
            into.extend(sentences)  # the engine's candidate sentences, as it would ask for their similarity
            return [0.0] * len(sentences)

        cands = candidates(analyse(item.question), passages, idf, record)
        if cands:
            out.append(Pairs(name, item.question, texts, [int(contains_answer(t, item.answers)) for t in texts]))
    return out


def cosines(embedder: Embedder, sample: list[Pairs]) -> list[np.ndarray]:
    """Per question, each sentence's cosine to it by `embedder`, as the training script computes it (each distinct
    sentence embedded once)."""
    vectors = train_ranker.TrainingVectors(embedder)
    return [np.array(vectors.similarity(p.question)(p.sentences)) for p in sample]


def top1(sample: list[Pairs], scores: list[np.ndarray]) -> dict[str, float]:
    """Per kind of question, the share of those with an answer sentence whose most similar sentence holds it."""
    out = {}
    for kind in dict.fromkeys(p.kind for p in sample):
        answered = [(p, s) for p, s in zip(sample, scores, strict=True) if p.kind == kind and any(p.labels)]
        out[kind] = round(sum(p.labels[int(np.argmax(s))] for p, s in answered) / max(1, len(answered)), 3)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--news", type=int, default=60, help="RealTime QA 2023 questions (fewer are kept: pools)")
    p.add_argument("--squad", type=int, default=60, help="answerable SQuAD questions of the training pages")
    p.add_argument("--out", type=Path, default=ranker.SCALES_PATH)
    args = p.parse_args(argv)
    sample = sample_pairs(args.news, args.squad)
    target = load_embedder()  # the ranker's (train_ranker.default_vectors)
    if target.name != ranker.load_model().embedder:
        raise SystemExit(f"the ranker was trained on {ranker.load_model().embedder}'s similarities, not {target.name}")
    source = load_embedder(multilingual=True)
    print(f"{len(sample)} questions, {sum(len(s.sentences) for s in sample)} pairs", file=sys.stderr, flush=True)
    theirs, ours = cosines(source, sample), cosines(target, sample)
    x, y = np.concatenate(theirs), np.concatenate(ours)
    levels = np.linspace(0.0, 1.0, QUANTILES)
    fitted = ranker.SimilarityScale(
        source.name, target.name, tuple(np.quantile(x, levels).tolist()), tuple(np.quantile(y, levels).tolist())
    )
    mapped = fitted.map(x)
    report = {
        "questions_with_an_answer_sentence": {
            kind: sum(1 for s in sample if s.kind == kind and any(s.labels)) for kind in ("news", "squad")
        },
        "top1_by_similarity_alone": {
            target.name: top1(sample, ours),
            f"{source.name} (mapped: the same order)": top1(sample, theirs),
        },
        "spearman_pairs": round(float(spearmanr(x, y).statistic), 3),
        "mean_abs_difference_mapped": round(float(np.abs(mapped - y).mean()), 3),
        "mean_abs_difference_raw": round(float(np.abs(x - y).mean()), 3),
    }
    metadata = {
        "fitted": datetime.date.today().isoformat(),
        "script": "scripts/fit_similarity_scale.py",
        "data": f"realtimeqa_{NEWS_YEAR}: {args.news} questions asked (pools of their first {POOL_ARTICLES} "
        f"retrieved articles, as scripts/train_ranker.py samples them), {args.squad} answerable SQuAD 2.0 dev-half "
        "questions of the training pages (train_ranker.squad_split); BM25's evidence as of each question's date, "
        "every candidate sentence (bot.answer.features.candidates)",
        "questions": len(sample),
        "pairs": int(len(x)),
        "sentences": len({t for s in sample for t in s.sentences}),
        "quantiles": QUANTILES,
        "report": report,
    }
    scale = ranker.SimilarityScale(fitted.embedder, fitted.onto, fitted.source, fitted.target, metadata)
    write_scales(args.out, {scale.embedder: scale.to_json()})
    json.dump(report, sys.stdout, indent=1)
    print()
    return 0


def write_scales(path: Path, scales: dict[str, dict[str, Any]]) -> None:
    """The scales file, other embedders' entries kept; each quantile array on one line."""
    doc = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    doc.update(scales)
    text = re.sub(r"\[[-0-9.e,\s]+\]", lambda m: " ".join(m.group().split()), json.dumps(doc, indent=1))
    path.write_text(text.replace("[ ", "[").replace(" ]", "]") + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
