"""The sentence tests the learned ranker reads as features (`features.py`: an entity of the question found, the
share of them named, the kind of thing asked for held), and the answer made from its scores: choosing the answer's
sentences (`select`, its parameters in `SelectionConfig`) and citing them (`compose`). The answer is made only of
article sentences, so every sentence is grounded in the source it cites by construction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from bot.answer.models import Answer, AnswerSentence, Citation, Evidence, ScoredSentence
from bot.answer.places import KINDS, places_in
from bot.answer.question import Question
from vectorstore.analysis import (
    ABBREVIATIONS,
    MONTH_NAMES,
    WEEKDAY_NAMES,
    normal_word,
    words_of,
)
from vectorstore.models import Passage

_AMOUNT = re.compile(
    r"[$€£¥₴]\s?\d|\d[\d,.]*\s?(%|percent|million|billion|trillion|thousand|bn|mn)\b|\b\d{2,}\b", re.IGNORECASE
)
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


# An entity of the question named in a sentence's passage but not in the sentence counts at this share of one named
# in it. Set by hand with the first engine; the learned ranker's model was trained on it (`entity_share`).
PASSAGE_ENTITY_CREDIT = 0.25


def entity_share(question: Question, words: AbstractSet[str], passage_words: AbstractSet[str]) -> float:
    """Share of the question's entities in the sentence (full credit) or its passage (`PASSAGE_ENTITY_CREDIT`):
    the answer to "What did Canada do?" names Canada, or stands right next to where Canada is named."""
    if not question.entities:
        return 0.0
    credit = 0.0
    for group in question.entities:
        if entity_found(group, words):
            credit += 1.0
        elif entity_found(group, passage_words):
            credit += PASSAGE_ENTITY_CREDIT
    return credit / len(question.entities)


@dataclass(frozen=True)
class SelectionConfig:
    """How `select` chooses the answer's sentences from the ranker's, documented here."""

    # A sentence joins the lead when its score, the ranker's probability (with any continuation credit), is at
    # least this share of the lead's. Chosen by scripts/tune_selection.py on the training questions (RealTime QA
    # 2023, SQuAD's training pages, hybrid evidence): the highest ratio whose answer hit is within a point of the
    # best ratio's; for the ranking trees 0.782 against 0.785 at 0.2 and below, 0.756 at 0.6 (the first engine's
    # hand-set ratio, on its own scores; the pointwise trees': 0.726 against 0.733, 0.699).
    min_ratio: float = 0.3
    # Credit, added to its score, for the sentence right after the lead in its article (it reads as the lead's
    # continuation), which may then join without naming the question's subject. Set by hand with the first engine;
    # for the learned ranker 0 to 0.5 gave training answer hit within 0.001 (scripts/tune_selection.py).
    continuation: float = 0.15
    # The most characters between the lead's end and the next sentence's start for it to count as the continuation
    # (the space or line break between two sentences).
    continuation_gap: int = 3
    # Two sentences are near-duplicates, of which one stays, when more than this share of the stems of the one with
    # fewer are in the other. Set by hand with the first engine.
    twin_overlap: float = 0.7


SELECTION = SelectionConfig()


def _similar(a: frozenset[str], b: frozenset[str], overlap: float) -> bool:
    if not a or not b:
        return False
    return len(a & b) / min(len(a), len(b)) > overlap


def select(
    scored: Sequence[ScoredSentence], max_sentences: int, config: SelectionConfig = SELECTION
) -> list[ScoredSentence]:
    """The best sentence, then the next ones nearly as good that add something new and either name the
    question's subject themselves, cover the question as fully as the best, directly continue it or hold the
    evidence's consensus. Of two near-duplicates the one holding the kind of answer asked for stays: "A
    17-year-old is the youngest…" rather than "That is the age of the youngest…" for "How old is he?"."""
    if not scored:
        return []
    best = scored[0]
    chosen = [best]
    for candidate in sorted(scored[1:], key=lambda c: c.score + _continuation(c, best, config), reverse=True):
        if len(chosen) >= max_sentences:
            break
        follows = _continuation(candidate, best, config)
        if candidate.score + follows < config.min_ratio * best.score or candidate.coverage <= 0:
            continue
        # The sentence with the word the evidence agrees on most may be the answer itself ("Twitter is
        # considering…") without repeating the question's subject.
        # A sentence that restates the question at least as fully as the lead is about the same thing, even when
        # it names the subject differently ("A 17-year-old has become the youngest person to fly…").
        if not (
            candidate.names_subject or follows or candidate.consensus >= 1.0 or candidate.coverage >= best.coverage
        ):
            continue
        twin = next((i for i, c in enumerate(chosen) if _similar(candidate.stems, c.stems, config.twin_overlap)), None)
        if twin is None:
            chosen.append(candidate)
        elif candidate.typed and not chosen[twin].typed:
            chosen[twin] = candidate
    return chosen


def _continuation(candidate: ScoredSentence, lead: ScoredSentence, config: SelectionConfig) -> float:
    """Credit for the sentence right after the lead in the same article: it reads as its continuation."""
    this, first = candidate.evidence, lead.evidence
    follows = this.article_id == first.article_id and 0 <= this.start - first.end <= config.continuation_gap
    return config.continuation if follows else 0.0


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
