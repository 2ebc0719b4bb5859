"""Which new articles match which followed topics, scored the way answers are.

Cost is proportional to the new articles: the followed topics are one matrix, the new articles' chunk vectors
(read back from the store, not embedded again) another, and one product gives every topic's similarity to
every chunk. Only the pairs above a dense floor are then read as the engine reads evidence: the topic's key
entities must be in the article (a follower of "Italy's aid to Ukraine" is not told of an Italian football
result), and its best sentence is scored by the IDF-weighted coverage of the topic's terms. The pair's score
is the dense similarity plus that coverage; the threshold (NEWSBOT_FOLLOW_THRESHOLD) was chosen on a labelled
set (bench/follow_precision.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from bot.answer.engine import EngineConfig, missing_entities
from bot.answer.extractive import candidate_sentences
from bot.answer.question import Question, analyse, essential_entities
from bot.follow.models import Match
from bot.follow.store import TopicMatrix
from vectorstore.models import Chunk, Passage


@dataclass(frozen=True)
class MatchConfig:
    # Below this cosine similarity between a topic and an article's closest chunk, a pair is not read further:
    # on the labelled set no relevant pair scored under 0.3, and the floor keeps the lexical reading to a few
    # pairs per article at 10k topics.
    dense_floor: float = 0.3
    coverage_weight: float = 1.0  # the best sentence's coverage of the topic's terms, added to the similarity
    # The engine's rule for a question's key entities (names, numbers): this share must be in the evidence.
    min_entity_share: float = EngineConfig.min_entity_share


@dataclass(frozen=True)
class NewArticle:
    """An article just added or updated, with its live chunks and their stored vectors (one row per chunk)."""

    id: str
    chunks: tuple[Chunk, ...]
    vectors: npt.NDArray[np.float32]
    updated: bool = False


@dataclass(frozen=True)
class PairScore:
    dense: float
    coverage: float
    entities_found: bool
    sentence: str
    start: int
    end: int

    def score(self, config: MatchConfig) -> float:
        return self.dense + config.coverage_weight * self.coverage if self.entities_found else 0.0


@lru_cache(maxsize=4096)
def _analysed(text: str) -> Question:
    return analyse(text)


def score_pair(
    topic: str,
    article: NewArticle,
    similarities: npt.NDArray[np.float32],
    idf: Callable[[str], float],
    config: MatchConfig,
) -> PairScore:
    """How well an article matches a topic, given the topic's similarity to each of its chunks."""
    dense = float(similarities.max()) if len(similarities) else 0.0
    order = np.argsort(-similarities)
    passages = [Passage(chunk=article.chunks[i], score=float(similarities[i])) for i in order]
    question = _analysed(topic)
    essential = essential_entities(question)
    found = True
    if essential:
        missing = missing_entities(essential, passages)
        found = 1 - len(missing) / len(essential) >= config.min_entity_share
    scored = candidate_sentences(question, passages, idf) if question.terms else []
    if not scored:
        return PairScore(dense, 0.0, found, "", 0, 0)
    best = scored[0]
    return PairScore(dense, best.coverage, found, best.evidence.text, best.evidence.start, best.evidence.end)


def match_articles(
    topics: TopicMatrix,
    articles: Sequence[NewArticle],
    idf: Callable[[str], float],
    threshold: float,
    config: MatchConfig | None = None,
) -> list[Match]:
    """The matches of new articles against every followed topic: per (user, article) the best topic only."""
    config = config or MatchConfig()
    if not len(topics) or not articles:
        return []
    best: dict[tuple[int, str], Match] = {}
    for article in articles:
        if not article.chunks:
            continue
        sims = topics.vectors @ article.vectors.T  # topics x chunks
        closest = sims.max(axis=1)
        scored: dict[str, PairScore] = {}  # the same text followed by many users is read once
        for row in np.nonzero(closest >= config.dense_floor)[0]:
            text = topics.texts[row]
            if text not in scored:
                scored[text] = score_pair(text, article, sims[row], idf, config)
            pair = scored[text]
            score = pair.score(config)
            if score < threshold or not pair.sentence:
                continue
            user = int(topics.user_ids[row])
            key = (user, article.id)
            if key in best and best[key].score >= score:
                continue
            first = article.chunks[0]
            best[key] = Match(
                topic_id=int(topics.ids[row]),
                user_id=user,
                chat_id=int(topics.chat_ids[row]),
                article_id=article.id,
                title=first.title,
                url=first.url,
                date=first.date,
                source=first.source,
                sentence=pair.sentence,
                start=pair.start,
                end=pair.end,
                score=score,
                updated=article.updated,
            )
    return list(best.values())
