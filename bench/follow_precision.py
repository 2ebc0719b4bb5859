"""Precision of matching new articles to followed topics, on a labelled set of our own.

    .venv/bin/python -m bench.follow_precision ../shared/corpora/realtimeqa_2022gold.corpus.jsonl

`bench/data/follow_labels.jsonl` holds ten followed topics, each with articles of the RealTime QA corpus (by
id; the texts stay in ../shared) labelled relevant (a follower would want to be told) or not (the same names,
place or subject in another story: Musk's SpaceX, the Platinum Jubilee, the 2026 World Cup, Hurricane Fiona…).
Every labelled article is also paired with the other topics, as not relevant unless labelled otherwise. Roundups
("5 things to know…") were left out as ambiguous.

The labelled articles are ingested into a fresh store (so IDF is theirs), each pair is scored by
`bot.follow.matching.score_pair`, exactly as an ingest scores a new article. The threshold is chosen on half of
the topics (the lowest score keeping precision >= 0.9 there, i.e. the most recall at that precision) and
reported on the other half, then the halves swap.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench import REPO as ROOT
from bot.follow.matching import MatchConfig, read_article, read_topic, score_pair
from bot.follow.queueing import new_articles
from bot.runtime import Runtime
from bot.settings import Settings

LABELS = ROOT / "bench" / "data" / "follow_labels.jsonl"
TARGET_PRECISION = 0.9


@dataclass(frozen=True)
class Pair:
    topic: str
    article_id: str
    relevant: bool
    score: float


def precision_recall(pairs: list[Pair], threshold: float) -> tuple[float, float, int]:
    flagged = [p for p in pairs if p.score >= threshold]
    hits = sum(p.relevant for p in flagged)
    relevant = sum(p.relevant for p in pairs)
    precision = hits / len(flagged) if flagged else 1.0
    return precision, hits / relevant if relevant else 0.0, len(flagged)


def choose_threshold(pairs: list[Pair]) -> float:
    """The lowest threshold whose precision (and every higher one's) is at least the target."""
    best = max(p.score for p in pairs) + 1e-6
    for threshold in sorted({p.score for p in pairs if p.score > 0}, reverse=True):
        if precision_recall(pairs, threshold)[0] < TARGET_PRECISION:
            break
        best = threshold
    return best


def score_all(corpus: Path, labels: list[dict[str, object]], store: Path | None) -> list[Pair]:
    wanted = {str(label["article_id"]) for label in labels}
    with tempfile.TemporaryDirectory() as tmp:
        records = tmp + "/labelled.jsonl"
        with open(corpus, encoding="utf-8") as src, open(records, "w", encoding="utf-8") as out:
            for line in src:
                if json.loads(line)["id"] in wanted:
                    out.write(line)
        runtime = Runtime(Settings(_env_file=None, data_dir=store or Path(tmp) / "data"))
        report = runtime.ingest([records])  # a kept store (--store) is not embedded again
        print(f"ingested: {report.summary()}", file=sys.stderr)
        articles = {a.id: a for a in new_articles(runtime.store, sorted(wanted), [])}
        idf = runtime.retriever.lexical.current().idf
        topics = sorted({str(label["topic"]) for label in labels})
        vectors = {t: np.asarray(runtime.embedder.embed_query(t), dtype=np.float32) for t in topics}
        relevant = {(str(label["topic"]), str(label["article_id"])): bool(label["relevant"]) for label in labels}
        pairs = []
        config = MatchConfig()
        readings = {article_id: read_article(article) for article_id, article in articles.items()}
        for topic in topics:
            reading = read_topic(topic, idf)
            for article_id, article in articles.items():
                sims = article.vectors @ vectors[topic]
                pair = score_pair(reading, article, readings[article_id], sims, idf, config)
                score = pair.score(config) if pair.dense >= config.dense_floor else 0.0
                pairs.append(Pair(topic, article_id, relevant.get((topic, article_id), False), score))
        return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="the RealTime QA corpus (JSON Lines) the labels' ids come from")
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--store", type=Path, help="keep the labelled articles' store here, to rerun without embedding")
    args = parser.parse_args()
    labels = [json.loads(line) for line in args.labels.read_text(encoding="utf-8").splitlines() if line.strip()]
    pairs = score_all(args.corpus, labels, args.store)
    topics = sorted({p.topic for p in pairs})
    halves = [set(topics[0::2]), set(topics[1::2])]
    for name, (calibrate, report) in {"A->B": (halves[0], halves[1]), "B->A": (halves[1], halves[0])}.items():
        on = [p for p in pairs if p.topic in calibrate]
        held = [p for p in pairs if p.topic in report]
        threshold = choose_threshold(on)
        p_on, r_on, _ = precision_recall(on, threshold)
        p, r, flagged = precision_recall(held, threshold)
        print(
            f"{name}: threshold {threshold:.3f} (calibration half: precision {p_on:.3f}, recall {r_on:.3f}); "
            f"held-out half: precision {p:.3f}, recall {r:.3f}, {flagged} flagged of {len(held)} pairs "
            f"({sum(x.relevant for x in held)} relevant)"
        )
    for threshold in (0.8, 0.9, 0.95, 1.0, 1.1, 1.2):
        p, r, flagged = precision_recall(pairs, threshold)
        print(f"all pairs at {threshold:.2f}: precision {p:.3f}, recall {r:.3f}, flagged {flagged} of {len(pairs)}")
    for pair in sorted(pairs, key=lambda x: -x.score):
        if pair.score >= 0.8 and not pair.relevant:
            print(f"  false positive at {pair.score:.2f}: {pair.topic} / {pair.article_id}")


if __name__ == "__main__":
    main()
