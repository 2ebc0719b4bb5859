"""Answering a question asked in another language than the coverage's (NEWSBOT_MULTILINGUAL).

Words cannot match across languages, so the evidence sentences are scored as usual but for what the question's
words cover: there, the multilingual embedder's similarity between the question and each sentence stands in (e5
places "Що пообіцяла Італія?" near "Italy approved a €140 million package"). The question's entities are
looked for under their names in the coverage's language (`aliases`), so a question about something the coverage
never mentions is still declined.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from bot.answer import extractive
from bot.answer.aliases import names_of, skeleton
from bot.answer.extractive import ScoredSentence, entity_found
from bot.answer.question import Question
from vectorstore.analysis import detect_language, terms, words_of
from vectorstore.embedder import Embedder
from vectorstore.models import Passage


def passage_language(passage: Passage) -> str:
    """Stored at ingest; detected now for chunks stored before newsbot recorded it."""
    return passage.chunk.language or detect_language(passage.chunk.text)


def foreign_passages(question: str, passages: Sequence[Passage]) -> list[Passage]:
    """The passages in another language than the question's."""
    language = detect_language(question)
    return [p for p in passages if passage_language(p) != language]


class EvidenceWords:
    """The words of the evidence, and their skeletons (two transliterations of a name compare equal there)."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        self.words: set[str] = set()
        for p in passages:
            self.words |= words_of(p.chunk.title) | words_of(p.chunk.text)
        self.skeletons = {skeleton(w) for w in self.words}

    def name_for(self, word: str) -> str | None:
        """The name under which the evidence names what the word names ("Італія": "Italy"), or None."""
        names = [tuple(name.split()) for name in names_of(word)]
        exact = next((n for n in names if all(w.lower() in self.words for w in n)), None)
        if exact is not None:
            return " ".join(exact)
        for parts in names:  # allowing inflection, then other transliterations
            if entity_found(parts, self.words) or entity_found(tuple(map(skeleton, parts)), self.skeletons):
                return " ".join(parts)
        return None


def missing_entities(entities: Sequence[Sequence[str]], passages: Sequence[Passage]) -> list[str]:
    """The entities that the evidence names under none of their names."""
    evidence = EvidenceWords(passages)
    return [" ".join(g) for g in entities if not all(evidence.name_for(w) for w in g)]


def bridged(question: Question, evidence: EvidenceWords) -> Question:
    """The question as the evidence's words see it: its entities under the names the evidence uses, its terms
    those names' stems (its other words are in another language)."""
    groups = tuple(
        tuple(part for w in g for part in (evidence.name_for(w) or w).split()) for g in question.entities
    )
    named = list(dict.fromkeys(terms(" ".join(w for g in groups for w in g))))
    return replace(question, terms=tuple(named), expansions={t: () for t in named}, entities=groups, context_terms=())


def candidate_sentences(
    question: Question,
    passages: Sequence[Passage],
    foreign: Sequence[Passage],
    idf: Callable[[str], float],
    embedder: Embedder,
    similarity_floor: float,
) -> list[ScoredSentence]:
    """The evidence sentences scored as `extractive.candidate_sentences` scores them; in the `foreign` passages,
    the question's coverage is replaced by its similarity to the sentence: 0 at `similarity_floor` (what unrelated
    text scores), 1 at 1."""
    foreign_ids = {p.chunk.id for p in foreign}
    own = [p for p in passages if p.chunk.id not in foreign_ids]
    scored = extractive.candidate_sentences(question, own, idf) if own else []
    across = extractive.candidate_sentences(bridged(question, EvidenceWords(foreign)), foreign, idf)
    if across:
        asked = embedder.embed_query(question.text)
        vectors = embedder.encode([s.evidence.text for s in across])
        for sentence, vector in zip(across, vectors, strict=True):
            similarity = sum(a * b for a, b in zip(asked, vector, strict=True))
            coverage = max(0.0, (similarity - similarity_floor) / (1.0 - similarity_floor))
            scored.append(replace(sentence, coverage=coverage, score=sentence.score - sentence.coverage + coverage))
    return sorted(scored, key=lambda s: s.score, reverse=True)
