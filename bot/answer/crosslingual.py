"""Answering a question asked in another language than the coverage's (NEWSBOT_MULTILINGUAL).

Words cannot match across languages, so the evidence sentences are scored as usual for what can match: the
question's names, under the names the coverage uses (`aliases`: "Італія" is "Italy"), count as covered terms,
and the kind of answer asked for (an amount, a date, a place) is told by the question words of each language.
The rest of the question's words are stood in for by the multilingual embedder's similarity between the question
and each sentence (e5 places "Що пообіцяла Італія?" near "Italy approved a €140 million package"). A question
about something the coverage never mentions is still declined: for certain when the coverage lacks a name we can
map (a country, a big city, a number, a code), and when only a word no list maps is missing ("Parlamento" for the
coverage's "Parliament"), unless a sentence is close enough to the question to answer it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from bot.answer import extractive
from bot.answer.aliases import is_mapped, names_of, skeleton, transliterated
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


@dataclass(frozen=True)
class MissingEntities:
    """The question's entities the evidence names under none of their names."""

    certain: tuple[str, ...]  # holding a name we can map: a country, month or big city, a number, a code
    unmapped: tuple[str, ...]  # only words no list maps, which may be common nouns ("Parlamento", "Верховної Ради")


def mapped_with_certainty(group: Sequence[str], language: str) -> tuple[bool, ...]:
    """Per word of an entity of a question in `language`, whether we know what the coverage calls it: a name in
    CLDR or GeoNames, a number, a code in the Latin script ("G7", "NFL"), or, in a question not in English, a
    name of English words kept as written ("Champions League"). Any other word is as often part of a name that
    the coverage translates ("Parlamento", "Casa Bianca", "Верховної Ради"), and a code in another script an
    abbreviation ("ППО": air defence)."""
    english = language != "en" and english_name(group)
    return tuple(
        english or is_mapped(w) or any(c.isdigit() for c in w) or (w.isupper() and transliterated(w) == w)
        for w in group
    )


def english_name(group: Sequence[str]) -> bool:
    """Whether a name is of two or more words, each an English word (lemminflect's lexicon knows it): in an
    Italian or Ukrainian question it is an English name quoted, which English coverage writes the same. One word
    proves little ("Camera", "Premier" and "Papa" are Italian words too)."""
    import lemminflect  # loads its tables on first use (~0.5 s), so only when a question needs them

    return len(group) > 1 and all(w.isascii() and lemminflect.getAllLemmas(w.lower()) for w in group)


def _joined_numbers(group: Sequence[str]) -> tuple[str, ...]:
    """ "21 000" as one number: a question split it at the space that groups its thousands."""
    out: list[str] = []
    for word in group:
        if out and out[-1].isdigit() and len(out[-1]) <= 3 and word.isdigit() and len(word) == 3:
            out[-1] += word
        else:
            out.append(word)
    return tuple(out)


def _names_of_group(group: Sequence[str], evidence: EvidenceWords) -> list[str | None]:
    """Each word's name in the evidence, a name of several words ("Stati Uniti") found whole first."""
    whole = evidence.name_for(" ".join(group)) if len(group) > 1 else None
    return [whole] * len(group) if whole else [evidence.name_for(w) for w in group]


def missing_entities(
    entities: Sequence[Sequence[str]], passages: Sequence[Passage], across: bool, language: str
) -> MissingEntities:
    """The entities that the evidence names under none of their names; `across` (the question, in `language`, is
    in another language than some of the evidence) tells the certain from the unmapped, else every one is
    certain."""
    evidence = EvidenceWords(passages)
    certain: list[str] = []
    unmapped: list[str] = []
    for group in entities:
        if across:
            group = _joined_numbers(group)
        names = _names_of_group(group, evidence) if across else [evidence.name_for(w) for w in group]
        missing = [name is None for name in names]
        if not any(missing):
            continue
        sure = mapped_with_certainty(group, language) if across else (True,) * len(group)
        (certain if any(m and s for m, s in zip(missing, sure, strict=True)) else unmapped).append(" ".join(group))
    return MissingEntities(tuple(certain), tuple(unmapped))


def bridged(question: Question, evidence: EvidenceWords) -> Question:
    """The question as the evidence's words see it: its entities under the names the evidence uses, its terms
    the stems of those names (its other words are in another language, and left to the similarity); its text
    also holds those names, so a place or a name the question asks about is not taken for the answer."""
    entities = [_joined_numbers(g) for g in question.entities]
    names = [_names_of_group(g, evidence) for g in entities]
    groups = tuple(
        tuple(dict.fromkeys(part for w, n in zip(g, ns, strict=True) for part in (n or w).split()))
        for g, ns in zip(entities, names, strict=True)
    )
    found = " ".join(dict.fromkeys(n for ns in names for n in ns if n))
    named = list(dict.fromkeys(terms(found)))
    return replace(
        question, text=f"{question.text} {found}".strip(), terms=tuple(named), expansions={t: () for t in named},
        entities=groups, context_terms=(),
    )  # fmt: skip


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
