"""Answering a question asked in another language than the coverage's (NEWSBOT_MULTILINGUAL).

Words cannot match across languages, so the evidence sentences are ranked as usual (the learned ranker) for what
can match: the question's names, under the names the coverage uses (`aliases`: "Італія" is "Italy"), count as
covered terms, and the kind of answer asked for (an amount, a date, a place) is told by the question words of each
language. So do an institution's name translated ("Верховна Рада": "Parliament", `aliases.institutions_in`) and
the coverage's words that the question's words are cognates of ("Parlamento": "parliament", `cognates`). The rest
of the question's words are stood in for by the multilingual embedder's similarity between the question and each
sentence (e5 places "Що пообіцяла Італія?" near "Italy approved a €140 million package"), which raises a
sentence's coverage (`with_names`). A question about something the coverage never mentions is still declined:
for certain when the coverage lacks a name we can map (a country, a big city, a number, a code), and when only a
word no list maps is missing ("Бундестагу"), unless a sentence is close enough to the question to answer it
without the cognates' help (a false friend could).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from bot.answer.aliases import institutions_in, is_mapped, names_of, skeleton, transliterated
from bot.answer.cognates import CognateIndex, CognateRule
from bot.answer.extractive import entity_found
from bot.answer.features import FEATURES, Candidate, candidates
from bot.answer.models import ScoredSentence
from bot.answer.question import Question, is_question_word
from bot.answer.ranker import RankerConfig, RankerModel, rank, scored_sentences
from bot.answer.sentence_vectors import Similarity
from vectorstore.analysis import capitals_of, detect_language, normal_word, stopwords, terms, words_of
from vectorstore.models import Passage

# A name's word shorter than this is found only as a whole word, not as the start of one: other languages' names
# of a place hold codes and romanised syllables ("LIS", "li si ben" for Lisbon) that start "list" and "like".
MIN_PREFIX_CHARS = 4
_QUESTION_WORD = re.compile(r"[^\W\d_]+")


def passage_language(passage: Passage) -> str:
    """Stored at ingest; detected now for chunks stored before newsbot recorded it."""
    return passage.chunk.language or detect_language(passage.chunk.text)


def foreign_passages(question: str, passages: Sequence[Passage]) -> list[Passage]:
    """The passages in another language than the question's."""
    language = detect_language(question)
    return [p for p in passages if passage_language(p) != language]


class EvidenceWords:
    """The words of the evidence, and their skeletons (two transliterations of a name compare equal there); with a
    `cognates` rule, also the words a question's words are cognates of."""

    def __init__(self, passages: Sequence[Passage], cognates: CognateRule | None = None) -> None:
        self.words: set[str] = set()
        self.capitals: set[str] = set()
        self._passages: Counter[str] = Counter()  # word -> passages holding it
        for p in passages:
            held: set[str] = set()
            for text in (p.chunk.title, p.chunk.text):
                held |= words_of(text)
                self.capitals |= capitals_of(text)
            self.words |= held
            self._passages.update(held)
        self.skeletons = {skeleton(w) for w in self.words}
        self._cognates = CognateIndex(self.words, cognates) if cognates else None

    def cognate_of(self, word: str) -> str | None:
        """The evidence's word that the word is a cognate of ("parliament" for "Parlamento"), the closest first;
        never for a name we can map (a country, a city) or a number: what those are called is known."""
        if self._cognates is None or is_mapped(word) or any(c.isdigit() for c in word) or word.isupper():
            return None
        found = self._cognates.cognates(word)
        return found[0] if found else None

    def has(self, word: str) -> bool:
        """Whether the evidence holds the word whole; a short one in capitals ("US" for "США") only in capitals."""
        if word.isupper() and len(word.replace(".", "")) < MIN_PREFIX_CHARS:
            return normal_word(word) in self.capitals
        return word.lower() in self.words

    def name_for(self, word: str) -> str | None:
        """The name under which the evidence names what the word names ("Італія": "Italy"), or None."""
        names = [tuple(name.split()) for name in names_of(word)]
        held = [n for n in names if all(self.has(w) for w in n)]
        if held:  # the name most passages use: coverage in several languages holds "Ukraine" and "Ucraina"
            return " ".join(max(held, key=lambda n: min(self._passages[w.lower()] for w in n)))
        for parts in names:  # allowing inflection, then other transliterations
            if any(len(w) < MIN_PREFIX_CHARS and not self.has(w) for w in parts):
                continue
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


def _names_of_group(
    group: Sequence[str], evidence: EvidenceWords, institutions: Mapping[str, Sequence[str]]
) -> list[str | None]:
    """Each word's name in the evidence, a name of several words ("Stati Uniti") found whole first; a word of an
    institution's name (`institutions`, by `aliases.institutions_in`) by the first of its English names the
    evidence holds; else the evidence's word it is a cognate of ("Parlamento": "parliament")."""
    whole = evidence.name_for(" ".join(group)) if len(group) > 1 else None
    if whole:
        return [whole] * len(group)
    return [_institution_name(institutions.get(w, ()), evidence) or evidence.name_for(w) or evidence.cognate_of(w)
            for w in group]  # fmt: skip


def _institution_name(english: Sequence[str], evidence: EvidenceWords) -> str | None:
    return next((found for name in english if (found := evidence.name_for(name))), None)


def missing_entities(
    entities: Sequence[Sequence[str]],
    passages: Sequence[Passage],
    across: bool,
    language: str,
    cognates: CognateRule | None = None,
    text: str = "",
) -> MissingEntities:
    """The entities that the evidence names under none of their names; `across` (the question, in `language`, is
    in another language than some of the evidence) tells the certain from the unmapped, else every one is
    certain; across, a word the evidence holds a cognate of (`cognates`), or a word of an institution's name in
    the question's `text` that the evidence names in English, is there."""
    evidence = EvidenceWords(passages, cognates if across else None)
    institutions = institutions_in(text) if across else {}
    certain: list[str] = []
    unmapped: list[str] = []
    for group in entities:
        if across:
            group = _joined_numbers(group)
        names = _names_of_group(group, evidence, institutions) if across else [evidence.name_for(w) for w in group]
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
    institutions = institutions_in(question.text)
    names = [_names_of_group(g, evidence, institutions) for g in entities]
    groups = tuple(
        tuple(dict.fromkeys(part for w, n in zip(g, ns, strict=True) for part in (n or w).split()))
        for g, ns in zip(entities, names, strict=True)
    )
    cognates = _cognates_of_words(question, evidence, {w for g in entities for w in g})
    found = " ".join(dict.fromkeys([*(n for ns in names for n in ns if n), *cognates]))
    named = list(dict.fromkeys(terms(found)))
    return replace(
        question, text=f"{question.text} {found}".strip(), terms=tuple(named), expansions={t: () for t in named},
        entities=groups, context_terms=(),
    )  # fmt: skip


def _cognates_of_words(question: Question, evidence: EvidenceWords, names: set[str]) -> list[str]:
    """The evidence's words that the question's content words outside its names are cognates of ("ucraino":
    "Ukrainian", "номінацій": "nominations")."""
    language = detect_language(question.text)
    words = (w for w in dict.fromkeys(_QUESTION_WORD.findall(question.text)) if w not in names)
    content = (w for w in words if w.lower() not in stopwords(language) and not is_question_word(w))
    return [c for c in map(evidence.cognate_of, content) if c]


def names_share(question: Question, asked: Question) -> float:
    """The share of the question's content words that are names the evidence uses: how much of the question
    the bridged terms stand for (the similarity stands for the rest)."""
    content = terms(question.text, detect_language(question.text))
    return min(1.0, len(asked.terms) / len(content)) if content else 0.0


def with_names(similar: float, named: float, share: float) -> float:
    """A sentence's coverage of the question: its similarity to it, raised towards its coverage of the question's
    names (`named`) in the share of the question they are. Names only add: a sentence naming none of them
    ("Russian strikes" for "Росія") is as close to the question as its similarity says."""
    return similar + share * max(0.0, named - similar)


_COVERAGE = FEATURES.index("coverage")


def with_coverage(candidate: Candidate, value: float) -> Candidate:
    """The candidate with its coverage of the question (the field and the feature) set to `value`."""
    features = (*candidate.features[:_COVERAGE], value, *candidate.features[_COVERAGE + 1 :])
    return replace(candidate, coverage=value, features=features)


def ranked_sentences(
    question: Question,
    passages: Sequence[Passage],
    foreign: Sequence[Passage],
    idf: Callable[[str], float],
    similarity: Similarity,
    ranker_similarity: Similarity,
    floor: float,
    model: RankerModel,
    config: RankerConfig,
    cognates: CognateRule | None = None,
) -> list[ScoredSentence]:
    """The evidence sentences ranked by the learned ranker, best first. A sentence of the question's language is
    a candidate as in `ranker.candidate_sentences`; one of the `foreign` passages is a candidate of the question as
    the evidence's words see it (`bridged`), its coverage the similarity of the sentence to the question
    (`similarity`, the embedder's own: 0 at `floor`, 1 at 1) raised by the question's names and the words its
    words are cognates of (`cognates`) that the sentence holds (`with_names`). The ranker reads the similarity on
    its own embedder's scale (`ranker_similarity`)."""
    foreign_ids = {p.chunk.id for p in foreign}
    asked = bridged(question, EvidenceWords(foreign, cognates))
    found = candidates(asked, passages, idf, ranker_similarity)
    across = [c for c in found if c.passage.chunk.id in foreign_ids]
    if across:
        share = names_share(question, asked)
        similar = similarity([c.text for c in across])  # asked again: the sentence vectors are at hand
        across = [
            with_coverage(c, with_names(max(0.0, (value - floor) / (1.0 - floor)), c.coverage, share))
            for c, value in zip(across, similar, strict=True)
        ]
    own: list[Candidate] = []
    if len(foreign_ids) < len(passages):  # coverage in the question's language too: read with its own words
        found = candidates(question, passages, idf, ranker_similarity)
        own = [c for c in found if c.passage.chunk.id not in foreign_ids]
    voters = replace(asked, terms=tuple(dict.fromkeys((*asked.terms, *question.terms))), expansions=question.expansions)
    return scored_sentences(rank(voters, [*own, *across], idf, model, config))
