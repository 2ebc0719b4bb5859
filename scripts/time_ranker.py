"""How long the sentence ranker takes per question: the features of the evidence sentences, then the model.

Retrieval runs once per question, outside the timing (its question vector is what the similarity reuses); each
step is timed `--repeat` times and the best kept (the least disturbed by the other processes of a shared machine).
The question-sentence similarity is timed apart: cold (no sentence embedded yet: every candidate sentence embedded
in one batch), read from the store (a new question's sentences, their vectors kept at ingest and read in one
`get`: `vectorstore/sentences.py`; a store ingested without them falls back to cold, and the share found is
printed) and warm (every sentence's vector kept in memory, as when the story's passages come back). Prints p50 /
p95 in milliseconds.

    python scripts/time_ranker.py --store var/evalstore/rtqa2024 --questions ../shared/eval/realtimeqa_2024.qa.jsonl

With --server the store is served by a `chroma run` on 127.0.0.1 (its Chroma directory, the lexical index read as
before), so the read from the store crosses HTTP as in server mode; --skip-cold leaves out the cold embedding,
which no store changes.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from bot.answer.engine import EngineConfig
from bot.answer.features import candidates
from bot.answer.question import analyse
from bot.answer.ranker import load_model, rank
from bot.answer.sentence_vectors import SentenceVectors, kept_sentence_ids
from bot.evaluation import load_questions
from bot.runtime import Runtime
from bot.settings import Settings
from vectorstore.server_process import start_chroma_server
from vectorstore.store import Filters


def best_ms(step: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    return min(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--store", type=Path, required=True)
    p.add_argument("--questions", type=Path, required=True)
    p.add_argument("--limit", type=int, default=60)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--server", action="store_true", help="serve the store by `chroma run` and read it over HTTP")
    p.add_argument("--skip-cold", action="store_true", help="do not time embedding every sentence cold")
    args = p.parse_args()
    server = start_chroma_server(Settings(data_dir=args.store, _env_file=None).store_path) if args.server else None
    try:
        run(args, server.url if server else None)
    finally:
        if server is not None:
            server.stop()


def run(args: argparse.Namespace, chroma_url: str | None) -> None:
    runtime = Runtime(Settings(data_dir=args.store, chroma_url=chroma_url, _env_file=None), create_store=False)
    retriever, model = runtime.retriever, load_model()
    idf = retriever.lexical.current().idf
    config = EngineConfig()
    warm = SentenceVectors(retriever.embedder, config.sentence_vectors)
    features_ms, cold_ms, kept_ms, warm_ms, model_ms, sentences = [], [], [], [], [], []
    found, asked_for, largest_gap = 0, 0, 0.0

    def none(texts: object) -> list[float]:
        return [0.0] * len(texts)  # type: ignore[arg-type]

    for item in load_questions(args.questions, limit=args.limit):
        retrieval = retriever.retrieve(item.question, k=config.evidence_passages, filters=Filters(date_to=item.date))
        passages, asked = retrieval.passages, retrieval.query_vector
        assert asked is not None
        question = analyse(item.question)
        cands = candidates(question, passages, idf, warm.to(asked))
        texts = [c.text for c in cands]

        def cold() -> list[float]:
            return SentenceVectors(retriever.embedder, config.sentence_vectors).similarities(asked, texts)  # noqa: B023

        def kept() -> list[float]:
            fresh = SentenceVectors(retriever.embedder, config.sentence_vectors, retriever.store.sentence_vectors)
            return fresh.similarities(asked, texts, passages)  # noqa: B023

        features_ms.append(best_ms(lambda: candidates(question, passages, idf, none), args.repeat))  # noqa: B023
        if not args.skip_cold:
            cold_ms.append(best_ms(cold, args.repeat))
        kept_ms.append(best_ms(kept, args.repeat))
        ids = kept_sentence_ids(passages, set(texts))
        found += len({ids[i] for i in retriever.store.sentence_vectors(list(ids))})
        asked_for += len(set(texts))
        largest_gap = max(largest_gap, *(abs(a - b) for a, b in zip(cold(), kept(), strict=True)))
        warm_ms.append(best_ms(lambda: warm.similarities(asked, texts), args.repeat))  # noqa: B023
        model_ms.append(best_ms(lambda: rank(question, cands, idf, model), args.repeat))  # noqa: B023
        sentences.append(len(cands))

    def pct(xs: list[float], q: int) -> float:
        return statistics.quantiles(xs, n=100)[q - 1] if len(xs) > 1 else xs[0]

    print(f"{len(sentences)} questions, {statistics.median(sentences):.0f} candidate sentences (median)")
    print(f"kept in the store: {found} of {asked_for} distinct candidate sentences")
    # Ingest encodes in other batches than a question does, so float rounding may differ in the last digits.
    print(f"largest difference of a similarity read from the store and one embedded now: {largest_gap:.2e}")
    steps = (
        ("features but the similarity", features_ms),
        ("similarity, cold", cold_ms),
        ("similarity, read from the store", kept_ms),
        ("similarity, warm", warm_ms),
        ("model", model_ms),
    )
    for name, xs in steps:
        if not xs:
            continue
        print(f"{name}: p50 {pct(xs, 50):.2f} ms, p95 {pct(xs, 95):.2f} ms")


if __name__ == "__main__":
    main()
