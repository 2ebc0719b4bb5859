"""The default answerer: score the sentences of the retrieved passages, choose the ones that answer the question,
verbatim, and cite them. The default scorer is hand-set (IDF-weighted share of the question's terms, the kind of
thing asked for, the rank of the passage, the rare word the best sentences agree on: redundancy, as in AskMSR);
the learned ranker (`bot/answer/ranker.py`, NEWSBOT_LEARNED_RANKER) reads the same sentence-level tests as named
features. The answer is made only of article sentences, so every sentence is grounded in the source it cites by
construction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from functools import lru_cache

from bot.answer.models import Answer, AnswerSentence, Citation, Evidence, ScoredSentence
from bot.answer.places import KINDS, places_in
from bot.answer.question import Question
from vectorstore.analysis import (
    ABBREVIATIONS,
    MIN_SENTENCE_WORDS,
    MONTH_NAMES,
    WEEKDAY_NAMES,
    normal_word,
    sentence_spans,
    terms,
    words_of,
)
from vectorstore.models import Passage

_AMOUNT = re.compile(r"[$€£¥₴]\s?\d|\d[\d,.]*\s?(%|percent|million|billion|trillion|thousand|bn|mn)\b|\b\d{2,}\b",
                     re.IGNORECASE)
_DATE = re.compile(
    r"\b(19|20)\d{2}\b|\b(" + "|".join((*MONTH_NAMES, *WEEKDAY_NAMES, "yesterday", "today", "tomorrow")) + r")\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:\s+[A-Z][a-z’'-]+)+")
_IN_NAME = re.compile(r"\b(?:in|at)\s+([A-Z][a-z]{2,})\b")
_REASON = re.compile(r"\b(because|due to|as a result|amid|after|since|so that|in order to|caused by)\b", re.I)
# The chunker cuts a run-on sentence at the last whitespace of each window (`ingest.chunking`), so its pieces are
# long; a short line without a stop is a headline or a list item, complete as it is.
RUN_ON_PIECE_CHARS = 200
_SENTENCE_END = re.compile(r"[.!?…:;][\"'”’»)\]]*\s*$")


# "The EU's leaders": the entity is "EU" (straight apostrophes stay in the question's words; curly ones split).
_POSSESSIVE = re.compile(r"(?<=\w)['’]s$")
_APOSTROPHE = re.compile(r"['’]")


def entity_found(group: Sequence[str], words: AbstractSet[str]) -> bool:
    """Every word of an entity appears, allowing inflection, demonyms ("Italy" ~ "Italian") and spelled-out
    abbreviations ("G7" ~ "Group of Seven")."""
    for word in group:
        w = _POSSESSIVE.sub("", normal_word(word))
        if w in words or (w in ABBREVIATIONS and all(a in words for a in ABBREVIATIONS[w])):
            continue
        if "-" in w and all(entity_found((part,), words) for part in w.split("-") if part):
            continue
        if w[:1].isdigit():
            return False
        stem = w[: max(4, len(w) - 2)] if len(w) > 4 else w
        # A question's elisions are split ("D'Olier Street" asks about "Olier Street"), the evidence's are not.
        if not any(x.startswith(stem) or _APOSTROPHE.split(x)[-1].startswith(stem) for x in words):
            return False
    return True


def _names_something_new(sentence: str, question_words: set[str]) -> bool:
    """A name or a quoted title the question does not already contain: what "which show" asks for."""
    names = [m.group() for m in _NAME.finditer(sentence)]
    names += [w for w in re.findall(r"(?<=\s)[A-Z][\w’'.-]+", sentence)]
    names += re.findall(r"[“\"]([^”\"]{2,60})[”\"]", sentence)
    return any(not words_of(n) <= question_words for n in names)


def type_match(answer_type: str, sentence: str, question_words: set[str]) -> bool:
    """Whether the sentence holds the kind of thing asked for: an amount, a date, a place of the kind asked
    (a state for "which state"), a reason, or a name the question lacks."""
    if answer_type == "amount":
        return bool(_AMOUNT.search(sentence))
    if answer_type == "date":
        return bool(_DATE.search(sentence))
    if answer_type == "place" or answer_type in KINDS:
        kinds = KINDS if answer_type == "place" else (answer_type,)
        if any(not words_of(p) <= question_words for p in places_in(sentence, kinds)):
            return True
        # A town too small for the gazetteer, where any place is asked for: "…to be held in Davos".
        return answer_type == "place" and any(w.lower() not in question_words for w in _IN_NAME.findall(sentence))
    if answer_type in ("person", "thing"):
        return _names_something_new(sentence, question_words)
    if answer_type == "reason":
        return bool(_REASON.search(sentence))
    return False


def entity_share(question: Question, words: AbstractSet[str], passage_words: AbstractSet[str]) -> float:
    """Share of the question's entities in the sentence (full credit) or its passage (a quarter): the
    answer to "What did Canada do?" names Canada, or stands right next to where Canada is named."""
    if not question.entities:
        return 0.0
    credit = 0.0
    for group in question.entities:
        if entity_found(group, words):
            credit += 1.0
        elif entity_found(group, passage_words):
            credit += 0.25
    return credit / len(question.entities)


# ---- the hand-set scorer: the default until the learned ranker (bot/answer/ranker.py) matches it everywhere ----
# Measured on RealTime QA: answer hit was flat for weights 0.3 to 0.6 and for the top 10 to 40 sentences voting.
_CONSENSUS_WEIGHT = 0.3
# How much holding the kind of answer asked for counts. An amount, a date or a place is strong evidence; a name
# the question lacks is weak, as nearly every sentence names someone. Names at 0.1 rather than 0.25: SQuAD answer
# hit 0.809 -> 0.826 (held-out questions 0.855 -> 0.865), citation precision up, RealTime QA unchanged.
_TYPE_WEIGHT = {"person": 0.1, "thing": 0.1}


def term_credit(question: Question, stems: frozenset[str], nearby: frozenset[str]) -> dict[str, float]:
    """How well a sentence covers each question term: in it (1), a related word in it (0.7), in the
    neighbouring sentences only (0.5)."""
    credit: dict[str, float] = {}
    for term in (*question.terms, *question.context_terms):
        related = sum(1 for e in question.expansions.get(term, ()) if e in stems)
        if term in stems:
            credit[term] = 1.0
        elif related:
            credit[term] = 0.85 if related > 1 else 0.7
        elif term in nearby:
            credit[term] = 0.5
        else:
            credit[term] = 0.0
    return credit


def term_weights(question: Question, idf: Callable[[str], float]) -> dict[str, float]:
    """Each question term's weight in a sentence's coverage: its IDF, half that for a term a follow-up borrowed."""
    weights = {t: idf(t) for t in question.terms}
    weights.update({t: 0.5 * idf(t) for t in question.context_terms})
    return weights


def coverage_of(question: Question, weights: dict[str, float], stems: frozenset[str], nearby: frozenset[str]) -> float:
    """The share of the question's weighted terms a sentence covers (at most 1)."""
    total = sum(weights.values()) or 1.0
    credit = term_credit(question, stems, nearby)
    return sum(weights[t] * c for t, c in credit.items()) / total


# Chunks kept split into sentences and stemmed: a new article is read for each followed topic that may match it
# (one article at a time, rarely over a few hundred chunks), and an answer's passages are often the previous
# question's. About 15 kB each (measured on news chunks), so 15 MB at most.
CHUNK_CACHE_SIZE = 1024


@dataclass(frozen=True)
class ChunkSentences:
    """A chunk's sentences as the scorer reads them: their offsets, their stems, and the chunk's words."""

    spans: tuple[tuple[int, int], ...]
    stems: tuple[frozenset[str], ...]
    words: frozenset[str]

    def nearby(self, i: int) -> frozenset[str]:
        """The stems of the sentences either side of sentence i, within the chunk."""
        return frozenset().union(*self.stems[max(0, i - 1) : i], *self.stems[i + 1 : i + 2])


@lru_cache(maxsize=CHUNK_CACHE_SIZE)
def chunk_sentences(text: str) -> ChunkSentences:
    spans = tuple(sentence_spans(text))
    return ChunkSentences(spans, tuple(frozenset(terms(text[a:b])) for a, b in spans), frozenset(words_of(text)))


def candidate_sentences(
    question: Question, passages: Sequence[Passage], idf: Callable[[str], float]
) -> list[ScoredSentence]:
    """Every sentence of the passages, scored, the evidence's consensus included, best first."""
    return with_consensus(question, sentence_scores(question, passages, idf), idf)


def sentence_scores(
    question: Question, passages: Sequence[Passage], idf: Callable[[str], float]
) -> list[ScoredSentence]:
    """Every sentence of the passages, scored on its own (before the consensus); overlapping chunks contribute
    each sentence once."""
    weights = term_weights(question, idf)
    question_words = words_of(question.text)
    # A follow-up ("And what did Canada do?") is about its entity and nothing else, so the answer must name it.
    # In a standalone question the entities often describe the answer instead ("Which Ivy League school…" is
    # answered by "Dartmouth College announced…"); a heavy weight there picked sentences that only repeat
    # them: 0.6 rather than 0.1 cost 5 points of answer hit on RealTime QA and 1 on SQuAD.
    entity_weight = 0.6 if question.context_terms else 0.1
    seen: set[tuple[str, int]] = set()
    out: list[ScoredSentence] = []
    # The prior is the rank of the sentence's article (its best passage), not of its passage: within an
    # article, what a sentence says decides, not which of its overlapping chunks ranked higher.
    article_rank: dict[str, int] = {}
    for passage in passages:
        article_rank.setdefault(passage.chunk.article_id, len(article_rank))
    for passage in passages:
        chunk = passage.chunk
        rank = article_rank[chunk.article_id]
        sentences = chunk_sentences(chunk.text)
        for i, (start, end) in enumerate(sentences.spans):
            key = (chunk.article_id, chunk.start + start)
            if key in seen:
                continue
            seen.add(key)
            text = chunk.text[start:end]
            if len(text.split()) < MIN_SENTENCE_WORDS:
                continue
            stems = sentences.stems[i]
            coverage = coverage_of(question, weights, stems, sentences.nearby(i))
            sentence_words = words_of(text)
            entities = entity_share(question, sentence_words, sentences.words)
            names_subject = all(entity_found(g, sentence_words) for g in question.entities)
            novelty = 1.0 if stems - set(weights) else 0.0  # a sentence that only repeats the question says nothing
            bonus = 1.0 if type_match(question.answer_type, text, question_words) else 0.0
            score = (
                coverage
                + entity_weight * entities
                + _TYPE_WEIGHT.get(question.answer_type, 0.25) * bonus
                + 1.0 / (rank + 2)
                - (0.5 if text.rstrip().endswith("?") else 0.0)
                - (0.0 if novelty else 1.0)
            )
            evidence = Evidence(
                article_id=chunk.article_id,
                text=text,
                start=chunk.start + start,
                end=chunk.start + end,
                score=score,
            )
            out.append(ScoredSentence(evidence, rank, coverage, score, stems, names_subject, typed=bool(bonus)))
    return out


def with_consensus(
    question: Question, scored: Sequence[ScoredSentence], idf: Callable[[str], float], head: int = 20
) -> list[ScoredSentence]:
    """Credit the sentences that hold what the best sentences agree on beyond the question's own words.

    The answer to "Which platform is considering charging for verified accounts?" is the word the coverage
    keeps repeating around those terms ("Twitter"), while the sentence that best restates the question may not
    name it. A word's vote is the best score of a top sentence holding it in each article, summed over the
    articles (agreement across the coverage, not one article repeating its own subject), times its rarity.
    """
    ranked = sorted(scored, key=lambda s: s.score, reverse=True)
    asked = {*question.terms, *question.context_terms}
    asked.update(e for related in question.expansions.values() for e in related)
    beyond = [s.stems - asked for s in ranked]  # what each sentence says that the question does not
    best: dict[tuple[str, str], float] = {}  # (word, article): the best score of a sentence holding it
    for s, words in zip(ranked[:head], beyond, strict=False):
        for stem in words:
            key = (stem, s.evidence.article_id)
            best[key] = max(best.get(key, 0.0), s.score)
    votes: dict[str, float] = {}
    for (stem, _), score in best.items():
        votes[stem] = votes.get(stem, 0.0) + max(0.0, score) * idf(stem)
    top = max(votes.values(), default=0.0)
    if top <= 0:
        return ranked
    out = []
    for s, words in zip(ranked, beyond, strict=True):
        share = max((votes.get(stem, 0.0) for stem in words), default=0.0) / top
        out.append(replace(s, score=s.score + _CONSENSUS_WEIGHT * share, consensus=share))
    out.sort(key=lambda s: s.score, reverse=True)
    return out


def _similar(a: frozenset[str], b: frozenset[str]) -> bool:
    if not a or not b:
        return False
    return len(a & b) / min(len(a), len(b)) > 0.7


def select(
    scored: Sequence[ScoredSentence], max_sentences: int, min_ratio: float = 0.6, continuation: float = 0.15
) -> list[ScoredSentence]:
    """The best sentence, then the next ones nearly as good that add something new and either name the
    question's subject themselves, cover the question as fully as the best, directly continue it or hold the
    evidence's consensus. Of two near-duplicates the one holding the kind of answer asked for stays: "A
    17-year-old is the youngest…" rather than "That is the age of the youngest…" for "How old is he?"."""
    if not scored:
        return []
    best = scored[0]
    chosen = [best]
    for candidate in sorted(scored[1:], key=lambda c: c.score + _continuation(c, best, continuation), reverse=True):
        if len(chosen) >= max_sentences:
            break
        follows = _continuation(candidate, best, continuation)
        if candidate.score + follows < min_ratio * best.score or candidate.coverage <= 0:
            continue
        # The sentence with the word the evidence agrees on most may be the answer itself ("Twitter is
        # considering…") without repeating the question's subject.
        # A sentence that restates the question at least as fully as the lead is about the same thing, even when
        # it names the subject differently ("A 17-year-old has become the youngest person to fly…").
        if not (
            candidate.names_subject
            or follows
            or candidate.consensus >= 1.0
            or candidate.coverage >= best.coverage
        ):
            continue
        twin = next((i for i, c in enumerate(chosen) if _similar(candidate.stems, c.stems)), None)
        if twin is None:
            chosen.append(candidate)
        elif candidate.typed and not chosen[twin].typed:
            chosen[twin] = candidate
    return chosen


def _continuation(candidate: ScoredSentence, lead: ScoredSentence, credit: float) -> float:
    """Credit for the sentence right after the lead in the same article: it reads as its continuation."""
    this, first = candidate.evidence, lead.evidence
    return credit if this.article_id == first.article_id and 0 <= this.start - first.end <= 3 else 0.0


def is_run_on_piece(sentence: str) -> bool:
    """Whether a sentence is a piece the chunker cut from a sentence too long for one chunk (a run-on list, a
    table row): long, and ending without a stop. It ends at a word boundary, and the answer shows it goes on."""
    return len(sentence) >= RUN_ON_PIECE_CHARS and not _SENTENCE_END.search(sentence)


def compose(question: str, chosen: Sequence[ScoredSentence], passages: Sequence[Passage]) -> Answer:
    """Order by article (best first) and position, number one source per article, cite each sentence."""
    # The best sentence leads; its neighbours from the same article follow in reading order.
    order: dict[str, int] = {}
    for s in chosen:
        order.setdefault(s.evidence.article_id, len(order))
    lead = chosen[0].evidence
    ordered = sorted(
        chosen,
        key=lambda s: (order[s.evidence.article_id], s.evidence.start < lead.start, s.evidence.start),
    )
    meta = {p.chunk.article_id: p.chunk for p in passages}
    spans: dict[str, list[Evidence]] = {}
    for s in ordered:
        spans.setdefault(s.evidence.article_id, []).append(s.evidence)
    citations: list[Citation] = []
    number: dict[str, int] = {}
    for article_id, evidences in spans.items():
        number[article_id] = len(citations) + 1
        start, end = min(e.start for e in evidences), max(e.end for e in evidences)
        quote = " … ".join(e.text for e in evidences)
        citations.append(Citation.from_chunk(meta[article_id], number[article_id], start, end, quote))
    sentences = tuple(
        AnswerSentence(s.evidence.text, (number[s.evidence.article_id],), continues=is_run_on_piece(s.evidence.text))
        for s in ordered
    )
    return Answer(question=question, sentences=sentences, citations=tuple(citations))
