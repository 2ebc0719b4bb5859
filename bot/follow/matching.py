"""Which new articles match which followed topics, by the answer engine's tests of evidence.

Cost is proportional to the new articles: the followed topics are one matrix, the new articles' chunk vectors
(read back from the store, not embedded again) another, and one product gives every topic's similarity to
every chunk. Only the pairs above a dense floor are then read as the engine reads evidence: the topic's key
entities must be in the article (a follower of "Italy's aid to Ukraine" is not told of an Italian football
result), and its best sentence is the one covering most of the topic's IDF-weighted terms, as the learned ranker's
`coverage` feature reads them (`bot.answer.features`). The pair's score is the dense similarity plus that
coverage; the threshold (NEWSBOT_FOLLOW_THRESHOLD) was chosen on a labelled set (bench/follow_precision.py).

At 10k followers most of the work is shared, and none of it drops a match: a text followed by many users is one
distinct topic, analysed once per batch and scored once per article, its score fanned out to its followers; an
article's sentences are split and stemmed once per batch; and a pair whose score cannot reach the threshold even
with its best-covering sentence (an exact bound: coverage is at most that sentence's), or whose article lacks the
topic's names, is dropped before every sentence of the article is read, which only the pairs that may match pay for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bot.answer.engine import EngineConfig
from bot.answer.extractive import entity_found
from bot.answer.features import MIN_WORDS, coverage, stemmed_sentences, term_weights
from bot.answer.question import Question, analyse, essential_entities
from bot.follow.models import Match
from bot.follow.store import TopicMatrix
from vectorstore.analysis import QUESTION_WORDS, words_of
from vectorstore.models import Chunk

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MatchConfig:
    # Below this cosine similarity between a topic and an article's closest chunk, a pair is not read further:
    # on the labelled set no relevant pair scored under 0.3. At 10k followers (3,009 distinct topics) about 260
    # per article pass it, and the bounds leave about 4 for the full reading (bench/follow.py).
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


def topic_entities(question: Question) -> tuple[tuple[str, ...], ...]:
    """The names a matching article must hold: a question's key entities, and a topic's capitalised first word.
    A topic is often a headline ("Uvalde school shooting", "Monkeypox outbreak"), whose first word the question
    rules cannot tell from any sentence's first word; requiring it is what keeps the Oxford school shooting from
    the followers of Uvalde's."""
    groups = essential_entities(question)
    words = question.text.split()
    first = words[0].strip(".,:;!?\"“”'’") if words else ""
    named = any(first in group for group in groups)
    if first.isalpha() and first[:1].isupper() and first.lower() not in QUESTION_WORDS and not named:
        groups = ((first,), *groups)
    return groups


@dataclass(frozen=True)
class TopicReading:
    """A topic text as matching reads it, once per batch however many users follow it."""

    question: Question
    essential: tuple[tuple[str, ...], ...]  # the names a matching article must hold (`topic_entities`)
    weights: dict[str, float]  # its terms' weights in a sentence's coverage
    stems: frozenset[str]  # its terms and their related words: a sentence with none of them near covers nothing


def read_topic(text: str, idf: Callable[[str], float]) -> TopicReading:
    question = analyse(text)
    related = (e for expansions in question.expansions.values() for e in expansions)
    stems = frozenset((*question.terms, *question.context_terms, *related))
    return TopicReading(question, topic_entities(question), term_weights(question, idf), stems)


@dataclass(frozen=True)
class ArticleReading:
    """What matching reads of a new article for every topic, read once per batch."""

    words: frozenset[str]  # every word of its titles and texts: where a topic's names are looked for
    stems: frozenset[str]  # every stem of its sentences
    # Each sentence of each chunk as its stems and its neighbours' in the chunk, what a sentence's coverage reads.
    sentences: tuple[tuple[frozenset[str], frozenset[str]], ...]


def read_article(article: NewArticle) -> ArticleReading:
    words: set[str] = set()
    sentences: list[tuple[frozenset[str], frozenset[str]]] = []
    for chunk in article.chunks:
        read = stemmed_sentences(chunk.text)
        words |= words_of(chunk.title) | read.words
        sentences.extend((own, read.nearby(i)) for i, own in enumerate(read.stems))
    return ArticleReading(frozenset(words), frozenset().union(*(own for own, _ in sentences)), tuple(sentences))


def entities_found(topic: TopicReading, article: ArticleReading, config: MatchConfig) -> bool:
    """Whether enough of the topic's names are in the article (the engine's rule for a question's entities)."""
    if not topic.essential:
        return True
    missing = sum(not entity_found(group, article.words) for group in topic.essential)
    return 1 - missing / len(topic.essential) >= config.min_entity_share


def coverage_bounds(topic: TopicReading, article: ArticleReading) -> Iterator[float]:
    """Upper bounds on the coverage of the article's best sentence for the topic, cheapest first: the article's
    stems as one sentence (which covers every term at least as well as any of its sentences), then the best
    sentence's among those holding or beside a topic term (`score_pair` reads the same sentences less the short ones;
    any other covers nothing)."""
    question = topic.question
    if not question.terms:
        yield 0.0
        return
    yield coverage(question, topic.weights, article.stems, frozenset())
    near_topic = (s for s in article.sentences if not (topic.stems.isdisjoint(s[0]) and topic.stems.isdisjoint(s[1])))
    yield max((coverage(question, topic.weights, own, near) for own, near in near_topic), default=0.0)


def score_pair(
    topic: TopicReading,
    article: NewArticle,
    reading: ArticleReading,
    similarities: npt.NDArray[np.float32],
    idf: Callable[[str], float],
    config: MatchConfig,
) -> PairScore:
    """How well an article matches a topic, given the topic's similarity to each of its chunks."""
    dense = float(similarities.max()) if len(similarities) else 0.0
    found = entities_found(topic, reading, config)
    question = topic.question
    if not question.terms:
        return PairScore(dense, 0.0, found, "", 0, 0)
    best: tuple[float, Chunk, int, int] | None = None  # (coverage, chunk, start, end) of the best sentence so far
    for i in np.argsort(-similarities, kind="stable"):  # of equal coverage, the sentence of the closest chunk
        chunk = article.chunks[i]
        read = stemmed_sentences(chunk.text)
        for j, (start, end) in enumerate(read.spans):
            if len(chunk.text[start:end].split()) < MIN_WORDS:
                continue
            covered = coverage(question, topic.weights, read.stems[j], read.nearby(j))
            if best is None or covered > best[0]:
                best = (covered, chunk, start, end)
    if best is None:
        return PairScore(dense, 0.0, found, "", 0, 0)
    covered, chunk, start, end = best
    return PairScore(dense, covered, found, chunk.text[start:end], chunk.start + start, chunk.start + end)


@dataclass(frozen=True)
class DistinctTopics:
    """The topic matrix's distinct (text, vector) pairs, one row each, with the matrix rows that follow each."""

    texts: list[str]
    vectors: npt.NDArray[np.float32]
    rows: list[list[int]]


def distinct_topics(topics: TopicMatrix) -> DistinctTopics:
    index: dict[tuple[str, bytes], int] = {}
    rows: list[list[int]] = []
    for row, text in enumerate(topics.texts):
        key = (text, topics.vectors[row].tobytes())
        if key not in index:
            index[key] = len(rows)
            rows.append([])
        rows[index[key]].append(row)
    firsts = [r[0] for r in rows]
    return DistinctTopics([topics.texts[r] for r in firsts], topics.vectors[firsts], rows)


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
    distinct = distinct_topics(topics)
    readings: dict[int, TopicReading] = {}  # read on first use: only topics close to some new article
    best: dict[tuple[int, str], Match] = {}
    close = read = 0  # pairs above the floor, and those read in full
    for article in articles:
        if not article.chunks:
            continue
        reading = read_article(article)
        sims = distinct.vectors @ article.vectors.T  # distinct topics x chunks
        closest = sims.max(axis=1)
        hits: list[tuple[int, float, PairScore]] = []  # (topic matrix row, score, pair)
        candidates = np.nonzero(closest >= config.dense_floor)[0]
        close += len(candidates)
        for d in map(int, candidates):
            if d not in readings:
                readings[d] = read_topic(distinct.texts[d], idf)
            topic = readings[d]
            dense = float(closest[d])
            bounds = coverage_bounds(topic, reading)
            if dense + config.coverage_weight * next(bounds) < threshold:
                continue  # cannot reach the threshold, even if one sentence held every term the article holds
            if threshold > 0 and not entities_found(topic, reading, config):
                continue  # a pair without the topic's names scores 0
            if dense + config.coverage_weight * next(bounds) < threshold:
                continue  # cannot reach the threshold, even with the sentence that covers the topic best
            pair = score_pair(topic, article, reading, sims[d], idf, config)
            read += 1
            score = pair.score(config)
            if score >= threshold and pair.sentence:
                hits.extend((row, score, pair) for row in distinct.rows[d])
        for row, score, pair in sorted(hits, key=lambda h: h[0]):  # in topic order: of equals, the first topic
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
    log.info(
        "matching: %d articles, %d topics (%d distinct texts), %d pairs above the similarity floor, %d read in full",
        len(articles), len(topics), len(distinct.texts), close, read,
    )  # fmt: skip
    return list(best.values())
