"""The decline's question-level features: what a question worded like its article, but not answered by it, changes."""

from __future__ import annotations

import pytest

from bot.answer.decline import (
    QUESTION_FEATURES,
    antonym_unmatched,
    negation_unmatched,
    question_features,
    reversal_unmatched,
    uncovered_idf,
)
from bot.answer.models import Evidence, ScoredSentence
from bot.answer.question import analyse
from vectorstore.analysis import terms
from vectorstore.models import Chunk, Passage

ARTICLE = (
    "The harbour festival was first held in 1921. The city council funded the harbour festival for forty years. "
    "Its lighthouse keepers were natural swimmers and opposed the new pier."
)


def _words(text: str) -> set[str]:
    return {w.lower() for w in text.replace(".", " ").split()}


def test_a_negated_question_is_unmatched_by_a_lead_that_negates_nothing() -> None:
    lead = "The city council funded the harbour festival for forty years."
    assert negation_unmatched("Who never funded the harbour festival?", lead)
    assert negation_unmatched("Who didn't fund the harbour festival?", lead)  # "n't" negates
    assert negation_unmatched("Who didn\u2019t fund the harbour festival?", lead)  # with a curly apostrophe
    assert not negation_unmatched("Who did not fund it?", "The mayor did not fund the festival.")
    assert not negation_unmatched("Who funded the harbour festival?", lead)
    assert not negation_unmatched("Who was notable at the festival?", lead)  # "notable" is no "not"


def test_a_reversed_word_counts_unless_the_article_holds_its_start() -> None:
    article = _words(ARTICLE)
    assert reversal_unmatched("Who funded the harbour festival least?", article)
    assert reversal_unmatched("Who refused to fund the festival?", article)
    assert not reversal_unmatched("Who opposes the new pier?", article)  # "opposed" holds it
    assert not reversal_unmatched("What did the council fund?", article)
    assert not reversal_unmatched("What does the town lack?", _words("The town lacks a pier."))


def test_a_prefixed_opposite_counts_where_the_article_holds_only_the_root() -> None:
    stems = set(terms(ARTICLE))
    assert antonym_unmatched("Who were unnatural swimmers?", _words(ARTICLE), stems)
    both = ARTICLE + " Some were unnatural swimmers."
    assert not antonym_unmatched("Who were unnatural swimmers?", _words(both), set(terms(both)))
    # A root of fewer than five letters is no opposite: "inform" of "form", "display" of "play".
    text = "The keepers form a club and play cards."
    assert not antonym_unmatched("Whom did the keepers inform?", _words(text), set(terms(text)))
    assert not antonym_unmatched("What did the keepers display?", _words(text), set(terms(text)))


def test_the_rarest_term_the_lead_misses_is_weighed_against_the_rarest_term() -> None:
    question = analyse("When was the harbour festival vice chair elected?")
    idf = {"vice": 6.0, "harbour": 3.0, "festiv": 2.0, "chair": 4.0, "elect": 2.0}
    lead = frozenset(terms("The harbour festival chair was elected in 1921."))
    assert uncovered_idf(question, lead, lambda t: idf.get(t, 1.0)) == pytest.approx(1.0)
    with_vice = frozenset(terms("The harbour festival vice chair was elected in 1921."))
    assert uncovered_idf(question, with_vice, lambda t: idf.get(t, 1.0)) == 0.0
    without_elected = frozenset(terms("The harbour festival vice chair was chosen in 1921."))
    assert uncovered_idf(question, without_elected, lambda t: idf.get(t, 1.0)) == pytest.approx(2.0 / 6.0)


def _scored(chunk: Chunk, text: str, score: float) -> ScoredSentence:
    start = chunk.text.index(text)
    evidence = Evidence(chunk.article_id, text, start, start + len(text), score)
    return ScoredSentence(evidence, 0, 0.8, score, frozenset(terms(text)), False)


def test_the_features_read_the_lead_and_the_passages_of_its_own_article() -> None:
    chunk = Chunk("harbour", "v1", 0, 0, len(ARTICLE), ARTICLE, "Harbour festival")
    other_text = "The Mayor of Dover never funded a festival."
    other = Chunk("dover", "v1", 0, 0, len(other_text), other_text, "Dover")
    passages = [Passage(chunk, 1.0), Passage(other, 0.5)]
    lead = _scored(chunk, "The city council funded the harbour festival for forty years.", 0.6)
    question = analyse("Which Dover council never funded the harbour festival?")
    features = dict(
        zip(QUESTION_FEATURES, question_features(question, [lead], passages, lambda t: 1.0, 1.0), strict=True)
    )
    assert features["negation_unmatched"] == 1.0
    assert features["entities_off_lead"] == 1.0  # Dover is named by the other article only
    assert features["reversal_unmatched"] == features["antonym_unmatched"] == 0.0
    assert features["uncovered_idf"] == 1.0  # "dover", as rare as any term here, is not in the lead
    lead_of_dover = _scored(other, other_text, 0.6)
    features = question_features(question, [lead_of_dover, lead], passages, lambda t: 1.0, 1.0)
    assert dict(zip(QUESTION_FEATURES, features, strict=True))["entities_off_lead"] == 0.0
