"""The hand-set scorer: each sentence of the evidence scored by a weighted sum of the sentence tests `extractive`
defines (IDF-weighted share of the question's terms, the question's entities, the kind of thing asked for) and the
rank of its article, then credited for holding the rare word the best sentences agree on (redundancy, as in
AskMSR). Its weights are set by hand, each in `HandSetWeights` with how it was chosen.

It serves NEWSBOT_LEARNED_RANKER=false, stores of embedders with no similarity scale, and the cross-lingual path
(`crosslingual`); the learned ranker (`ranker.py`) reads the same tests as named features (`features.py`) and
learns their weights. Following topics no longer reads it (`bot/follow/matching.py` reads `features.coverage`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from bot.answer.extractive import entity_found, entity_share, type_match
from bot.answer.features import stemmed_sentences
from bot.answer.models import Evidence, ScoredSentence
from bot.answer.question import Question
from vectorstore.analysis import MIN_SENTENCE_WORDS, words_of
from vectorstore.models import Passage

# Kinds of answer that a name the question lacks satisfies (`type_match`), which nearly every sentence holds.
NAME_TYPES = ("person", "thing")


@dataclass(frozen=True)
class HandSetWeights:
    """The hand-set scorer's weights. A sentence's score is its coverage, plus its entity share times the entity
    weight, plus the type weight if it holds the kind of answer asked for, plus its article's prior, less the
    penalties; the consensus then adds its share times the consensus weight.

    The learned features keep the coverage credits and the borrowed terms' share as their own constants
    (`features.COVERAGE_CREDIT`, `features.CONTEXT_TERM_WEIGHT`, the same figures but for the credit of several
    related words): the shipped model was trained on those, so neither set changes with the other.
    """

    # How fully a sentence covers a question term; its coverage is the IDF-weighted mean over the question's terms
    # (at most 1). The term itself; two or more of its related words ("pledge" ~ "approved … package"), one of
    # them; or the term only in the neighbouring sentences of the chunk. Set by hand with the first engine.
    exact_credit: float = 1.0
    related_credit_several: float = 0.85
    related_credit: float = 0.7
    nearby_credit: float = 0.5
    # A term a follow-up borrowed from the previous question counts at this share of its IDF: the follow-up's own
    # words say what is asked. Set by hand with the first engine.
    context_term_weight: float = 0.5
    # Per share of the question's entities named (`extractive.entity_share`). A follow-up ("And what did Canada
    # do?") is about its entity and nothing else, so the answer must name it. In a standalone question the entities
    # often describe the answer instead ("Which Ivy League school…" is answered by "Dartmouth College
    # announced…"); a heavy weight there picked sentences that only repeat them: 0.6 rather than 0.1 cost 5 points
    # of answer hit on RealTime QA and 1 on SQuAD.
    follow_up_entity_weight: float = 0.6
    entity_weight: float = 0.1
    # How much holding the kind of answer asked for counts. An amount, a date, a place or a reason is strong
    # evidence; a name the question lacks (`NAME_TYPES`) is weak, as nearly every sentence names someone. Names at
    # 0.1 rather than 0.25: SQuAD answer hit 0.809 -> 0.826 (held-out questions 0.855 -> 0.865), citation
    # precision up, RealTime QA unchanged.
    type_weight: float = 0.25
    name_type_weight: float = 0.1
    # The prior of the sentence's article rank r (its best passage's, from 0): article_prior / (r + prior_offset).
    # At 1 rather than 0.3, with headlines made citable, answer hit on RealTime QA's gold articles plus 800
    # distractors (BM25) rose 0.60 -> 0.64.
    article_prior: float = 1.0
    prior_offset: int = 2
    # Subtracted from a sentence ending in "?" (a question in the article is no answer) and from one holding no
    # stem beyond the question's terms (it only repeats the question). Set by hand with the first engine.
    question_penalty: float = 0.5
    restates_penalty: float = 1.0
    # The most the consensus adds (to the sentences holding the word the evidence agrees on most), and how many of
    # the best sentences vote. On RealTime QA answer hit was flat for weights 0.3 to 0.6 and for 10 to 40 voters.
    consensus_weight: float = 0.3
    consensus_head: int = 20

    def for_type(self, answer_type: str) -> float:
        """The weight of holding the kind of answer asked for."""
        return self.name_type_weight if answer_type in NAME_TYPES else self.type_weight


WEIGHTS = HandSetWeights()


def term_credit(
    question: Question, stems: frozenset[str], nearby: frozenset[str], config: HandSetWeights = WEIGHTS
) -> dict[str, float]:
    """How well a sentence covers each question term: in it, a related word in it (two or more count more), in the
    neighbouring sentences only, or not at all (`HandSetWeights`' credits)."""
    credit: dict[str, float] = {}
    for term in (*question.terms, *question.context_terms):
        related = sum(1 for e in question.expansions.get(term, ()) if e in stems)
        if term in stems:
            credit[term] = config.exact_credit
        elif related:
            credit[term] = config.related_credit_several if related > 1 else config.related_credit
        elif term in nearby:
            credit[term] = config.nearby_credit
        else:
            credit[term] = 0.0
    return credit


def term_weights(question: Question, idf: Callable[[str], float], config: HandSetWeights = WEIGHTS) -> dict[str, float]:
    """Each question term's weight in a sentence's coverage: its IDF, a share of that for a term a follow-up
    borrowed."""
    weights = {t: idf(t) for t in question.terms}
    weights.update({t: config.context_term_weight * idf(t) for t in question.context_terms})
    return weights


def coverage_of(
    question: Question,
    weights: dict[str, float],
    stems: frozenset[str],
    nearby: frozenset[str],
    config: HandSetWeights = WEIGHTS,
) -> float:
    """The share of the question's weighted terms a sentence covers (at most 1)."""
    total = sum(weights.values()) or 1.0
    credit = term_credit(question, stems, nearby, config)
    return sum(weights[t] * c for t, c in credit.items()) / total


def candidate_sentences(
    question: Question, passages: Sequence[Passage], idf: Callable[[str], float], config: HandSetWeights = WEIGHTS
) -> list[ScoredSentence]:
    """Every sentence of the passages, scored, the evidence's consensus included, best first."""
    return with_consensus(question, sentence_scores(question, passages, idf, config), idf, config)


def sentence_scores(
    question: Question, passages: Sequence[Passage], idf: Callable[[str], float], config: HandSetWeights = WEIGHTS
) -> list[ScoredSentence]:
    """Every sentence of the passages, scored on its own (before the consensus); overlapping chunks contribute
    each sentence once."""
    weights = term_weights(question, idf, config)
    question_words = words_of(question.text)
    entity_weight = config.follow_up_entity_weight if question.context_terms else config.entity_weight
    type_weight = config.for_type(question.answer_type)
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
        sentences = stemmed_sentences(chunk.text)
        for i, (start, end) in enumerate(sentences.spans):
            key = (chunk.article_id, chunk.start + start)
            if key in seen:
                continue
            seen.add(key)
            text = chunk.text[start:end]
            if len(text.split()) < MIN_SENTENCE_WORDS:
                continue
            stems = sentences.stems[i]
            coverage = coverage_of(question, weights, stems, sentences.nearby(i), config)
            sentence_words = words_of(text)
            entities = entity_share(question, sentence_words, sentences.words)
            names_subject = all(entity_found(g, sentence_words) for g in question.entities)
            novelty = 1.0 if stems - set(weights) else 0.0  # a sentence that only repeats the question says nothing
            bonus = 1.0 if type_match(question.answer_type, text, question_words) else 0.0
            score = (
                coverage
                + entity_weight * entities
                + type_weight * bonus
                + config.article_prior / (rank + config.prior_offset)
                - (config.question_penalty if text.rstrip().endswith("?") else 0.0)
                - (0.0 if novelty else config.restates_penalty)
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
    question: Question, scored: Sequence[ScoredSentence], idf: Callable[[str], float], config: HandSetWeights = WEIGHTS
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
    for s, words in zip(ranked[: config.consensus_head], beyond, strict=False):
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
        out.append(replace(s, score=s.score + config.consensus_weight * share, consensus=share))
    out.sort(key=lambda s: s.score, reverse=True)
    return out
