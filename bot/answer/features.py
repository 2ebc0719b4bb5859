"""What the sentence ranker sees of each candidate sentence: named features, no weights.

Every sentence of the evidence passages becomes one `Candidate` with a feature vector in the order of `FEATURES`;
how much each feature counts is learned (`bot/answer/ranker.py`, trained by `scripts/train_ranker.py`). The features
are what the first engine's hand-set scorer added up with literal weights (term coverage split by how a term is
matched, the question's entities, the kind of answer asked for, the rank of the article), plus where the sentence
stands in its article and how long it is, and the embedder's similarity of the question to the sentence (given as
a callable, `sentence_vectors.Similarity`, so this module embeds nothing). Pure functions: the engine and the
training script compute them the same way."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from bot.answer.extractive import entity_found, entity_share, type_match
from bot.answer.question import Question
from bot.answer.sentence_vectors import Similarity
from vectorstore.analysis import MIN_SENTENCE_WORDS, opens_with_pronoun, sentence_spans, terms, words_of
from vectorstore.models import Passage

MIN_WORDS = MIN_SENTENCE_WORDS  # shorter sentences are no answers (and ingest keeps no vector of them)
# Question terms borrowed from the previous question of a follow-up count at this share of their IDF: the
# follow-up's own words say what is asked. Follow-ups are absent from the training data, so this stays set.
CONTEXT_TERM_WEIGHT = 0.5
# How fully a term is covered by each kind of match (the hand-set credits the ranker was first built with).
COVERAGE_CREDIT = {"exact": 1.0, "related": 0.7, "nearby": 0.5, "": 0.0}

FEATURES: tuple[str, ...] = (
    # IDF-weighted share of the question's terms in the sentence, related words ("pledge" ~ "package") and the
    # neighbouring sentences counting at COVERAGE_CREDIT. Split into three features, related words were learned
    # at nearly nothing (news-quiz questions rarely use the verbs they relate), which lost "What did Italy pledge?".
    "coverage",
    # Cosine of the question's vector (retrieval's) and the sentence's, by the store's embedder (the model records
    # which): a news-quiz question paraphrases its answer sentence, which term coverage misses.
    "similarity",
    "entity_share",  # the question's entities named in the sentence (1) or its passage (1/4)
    "names_subject",  # every entity of the question named in the sentence itself
    "type_strong",  # holds an amount, a date, a place or a reason where the question asks for one
    "type_name",  # holds a name the question lacks, where it asks who or which
    "article_prior",  # 1 / (rank of the sentence's article in retrieval + 2)
    "passage_prior",  # 1 / (rank of the sentence's own passage in the evidence + 2): the fused rank, at no cost
    # log(distinct sources in the evidence): one Wikipedia page cut into paragraphs is one source; a news story
    # covered by several outlets is several. What the other features are worth differs between the two.
    "sources",
    "is_question",  # ends with "?": a question in the article is not an answer
    "restates_only",  # holds no word beyond the question's terms: says nothing new
    "position",  # log(1 + characters before it in its article / 100): news says the news first
    "length",  # log(words)
)
# Of the question's evidence as a whole, per sentence: a question worded like its paragraph (SQuAD) has a sentence
# covering nearly all of it, and there coverage decides; a news quiz's paraphrase has none, and the kind of answer
# and the coverage's agreement count for more. A tree model learns that interplay from these two.
GROUP_FEATURES: tuple[str, ...] = (
    "best_coverage",  # the highest coverage of any candidate
    "coverage_gap",  # how far below it this sentence's coverage is
)
CONSENSUS = "consensus"  # added by the ranker after a first pass: see `bot/answer/ranker.py`


def matrix(cands: Sequence[Candidate]) -> np.ndarray:
    """The candidates' rows over `FEATURES + GROUP_FEATURES`."""
    x = np.array([c.features for c in cands], dtype=float).reshape(-1, len(FEATURES))
    coverage = x[:, FEATURES.index("coverage")]
    best = coverage.max() if len(coverage) else 0.0
    return np.column_stack([x, np.full(len(coverage), best), best - coverage])


@dataclass(frozen=True)
class Candidate:
    """One sentence of the evidence with its features (in the order of `FEATURES`)."""

    passage: Passage
    article_rank: int
    start: int  # character offsets into the article
    end: int
    text: str
    stems: frozenset[str]
    coverage: float  # IDF-weighted share of the question's terms, related words and neighbours at a discount
    names_subject: bool
    typed: bool
    features: tuple[float, ...]


def term_match(question: Question, term: str, stems: frozenset[str], nearby: frozenset[str]) -> str:
    """How a sentence covers a question term: "exact", a "related" word ("pledge" ~ "package"), in the
    "nearby" sentences only, or not at all ("")."""
    if term in stems:
        return "exact"
    if any(e in stems for e in question.expansions.get(term, ())):
        return "related"
    return "nearby" if term in nearby else ""


def term_weights(question: Question, idf: Callable[[str], float]) -> dict[str, float]:
    """Each question term's weight in a sentence's coverage: its IDF; a share of that for a term a follow-up
    borrowed (`CONTEXT_TERM_WEIGHT`)."""
    weights = {t: idf(t) for t in question.terms}
    weights.update({t: CONTEXT_TERM_WEIGHT * idf(t) for t in question.context_terms})
    return weights


def coverage(question: Question, weights: dict[str, float], stems: frozenset[str], nearby: frozenset[str]) -> float:
    """The weighted share of the question's terms a sentence covers (at most 1), each at the `COVERAGE_CREDIT` of
    how it is matched (`term_match`); `weights` by `term_weights`."""
    total = sum(weights.values()) or 1.0
    share = dict.fromkeys(COVERAGE_CREDIT, 0.0)  # per kind of match, summed before crediting (as trained)
    for term, weight in weights.items():
        share[term_match(question, term, stems, nearby)] += weight / total
    return sum(COVERAGE_CREDIT[kind] * value for kind, value in share.items())


# Chunks kept split into sentences and stemmed, for following topics (bot/follow/matching.py: a new article is read
# for each followed topic that may match it, one article at a time, rarely over a few hundred chunks). About 15 kB
# each (measured on news chunks), so 15 MB at most.
CHUNK_CACHE_SIZE = 1024


@dataclass(frozen=True)
class ChunkSentences:
    """A chunk's sentences as coverage reads them: their offsets, their stems, and the chunk's words."""

    spans: tuple[tuple[int, int], ...]
    stems: tuple[frozenset[str], ...]
    words: frozenset[str]

    def nearby(self, i: int) -> frozenset[str]:
        """The stems of the sentences either side of sentence i, within the chunk."""
        return frozenset().union(*self.stems[max(0, i - 1) : i], *self.stems[i + 1 : i + 2])


@lru_cache(maxsize=CHUNK_CACHE_SIZE)
def stemmed_sentences(text: str) -> ChunkSentences:
    """A chunk's sentences split and stemmed, kept for the next topic that reads the chunk."""
    spans = tuple(sentence_spans(text))
    return ChunkSentences(spans, tuple(frozenset(terms(text[a:b])) for a, b in spans), frozenset(words_of(text)))


def source_of(passage: Passage) -> str:
    """What counts as one source: an article's title (a page's paragraphs share it; outlets word theirs apart)."""
    return passage.chunk.title.strip().casefold() or passage.chunk.article_id


def _prior(rank: int) -> float:
    return 1.0 / (rank + 2)


@dataclass(frozen=True)
class _Sentence:
    """A sentence of a passage, before its features: where it is and the stems around it."""

    passage_rank: int
    passage: Passage
    start: int  # offsets into the passage's text
    end: int
    stems: frozenset[str]
    nearby: frozenset[str]  # the stems of the sentences before and after it
    passage_words: set[str]
    # The words of the sentence before, where this one opens with a person pronoun ("He highlighted …"): whom the
    # question names there, this sentence is about too. Empty otherwise.
    antecedent: frozenset[str] = frozenset()

    @property
    def text(self) -> str:
        return self.passage.chunk.text[self.start : self.end]


def _sentences(passages: Sequence[Passage]) -> list[_Sentence]:
    """Every sentence of the passages of at least `MIN_WORDS` words, each once (chunks overlap)."""
    seen: set[tuple[str, int]] = set()
    out: list[_Sentence] = []
    split = [(p, sentence_spans(p.chunk.text)) for p in passages]
    ends = _sentence_ends(split)
    for passage_rank, (passage, spans) in enumerate(split):
        chunk = passage.chunk
        all_stems = [frozenset(terms(chunk.text[a:b])) for a, b in spans]
        passage_words = words_of(chunk.text)
        for i, (start, end) in enumerate(spans):
            key = (chunk.article_id, chunk.start + start)
            text = chunk.text[start:end]
            if key in seen or len(text.split()) < MIN_WORDS:
                continue
            seen.add(key)
            nearby = frozenset().union(*all_stems[max(0, i - 1) : i], *all_stems[i + 1 : i + 2])
            antecedent = frozenset(words_of(_before(ends, key))) if opens_with_pronoun(text) else frozenset()
            out.append(_Sentence(passage_rank, passage, start, end, all_stems[i], nearby, passage_words, antecedent))
    return out


# A sentence is "the one before" another when at most this many characters (a paragraph break) lie between them.
_ADJACENT_CHARS = 3


def _sentence_ends(split: Sequence[tuple[Passage, list[tuple[int, int]]]]) -> dict[tuple[str, int], str]:
    """Every sentence of the passages by where it ends, (article, offset in the article): the chunk a sentence is
    first read in may start with it, and an overlapping one holds the sentence before."""
    return {
        (p.chunk.article_id, p.chunk.start + end): p.chunk.text[start:end] for p, spans in split for start, end in spans
    }


def _before(ends: dict[tuple[str, int], str], key: tuple[str, int]) -> str:
    """The text of the sentence right before the one at `key` (article, offset), or "" where none is at hand."""
    article, at = key
    return next((ends[k] for gap in range(_ADJACENT_CHARS + 1) if (k := (article, at - gap)) in ends), "")


def candidates(
    question: Question, passages: Sequence[Passage], idf: Callable[[str], float], similarity: Similarity
) -> list[Candidate]:
    """Every sentence of the passages of at least `MIN_WORDS` words; overlapping chunks give each sentence once.
    `similarity` is asked once, for all of their texts.

    The article prior is the rank of the sentence's article (its best passage), not of its passage: within an
    article, what a sentence says decides, not which of its overlapping chunks ranked higher.
    """
    weights = term_weights(question, idf)
    sources = math.log(len({source_of(p) for p in passages}) or 1)
    question_words = words_of(question.text)
    name_kind = question.answer_type in ("person", "thing")
    article_rank: dict[str, int] = {}
    for passage in passages:
        article_rank.setdefault(passage.chunk.article_id, len(article_rank))
    sentences = _sentences(passages)
    similar = similarity([s.text for s in sentences]) if sentences else []
    out: list[Candidate] = []
    for sentence, similar_to in zip(sentences, similar, strict=True):
        chunk, text, stems = sentence.passage.chunk, sentence.text, sentence.stems
        # The question's entities this sentence names, itself or through its opening pronoun; the terms of those
        # it names only through the pronoun count as covered.
        sentence_words = words_of(text) | sentence.antecedent
        inherited = (
            frozenset(t for g in question.entities if entity_found(g, sentence.antecedent) for t in terms(" ".join(g)))
            if sentence.antecedent
            else frozenset()
        )
        covered = coverage(question, weights, stems | inherited, sentence.nearby)
        names_subject = all(entity_found(g, sentence_words) for g in question.entities)
        typed = type_match(question.answer_type, text, question_words)
        features = (
            covered,
            similar_to,
            entity_share(question, sentence_words, sentence.passage_words),
            float(names_subject and bool(question.entities)),
            float(typed and not name_kind),
            float(typed and name_kind),
            _prior(article_rank[chunk.article_id]),
            _prior(sentence.passage_rank),
            sources,
            float(text.rstrip().endswith("?")),
            float(not stems - set(weights)),
            math.log1p((chunk.start + sentence.start) / 100),
            math.log(len(text.split())),
        )
        out.append(
            Candidate(
                passage=sentence.passage,
                article_rank=article_rank[chunk.article_id],
                start=chunk.start + sentence.start,
                end=chunk.start + sentence.end,
                text=text,
                stems=stems,
                coverage=covered,
                names_subject=names_subject,
                typed=typed,
                features=features,
            )
        )
    return out
