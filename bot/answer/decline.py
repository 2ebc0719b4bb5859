"""The learned decision to decline: a calibrated probability that the best sentence answers the question.

A logistic regression over what the engine knows once the sentences are ranked (how likely the lead and the
runner-up hold the answer, how much of the question the lead covers, whether the question's entities are in
the evidence at all) and over what the question's own words say against the lead and its article (a negation, a
reversed or opposite word, a name or rare term the lead lacks: a question worded like its coverage that the
coverage does not answer), pure functions the engine and the training script share. Trained by
`scripts/train_decline.py` on answerable and unanswerable questions (SQuAD 2.0's, split by article; RealTime QA
2023 questions asked against other days' coverage) and shipped as `decline_model.json` with the threshold chosen
on validation for a stated precision. The threshold is a setting (`NEWSBOT_ANSWER_MIN_PROBABILITY`); the model
file's is the default.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.answer.extractive import entity_found
from bot.answer.models import ScoredSentence
from bot.answer.question import Question
from bot.answer.ranker import LinearModel, ModelFileError, sigmoid
from vectorstore.analysis import stems, terms, words_of
from vectorstore.models import Passage

MODEL_PATH = Path(__file__).with_name("decline_model.json")

QUESTION_FEATURES: tuple[str, ...] = (
    "lead_logit",  # the ranker's log-odds that the lead sentence holds the answer
    "runner_up_logit",  # ... the second sentence's
    "lead_coverage",  # share of the question's weighted terms the lead covers
    "lead_names_subject",  # the lead names every entity of the question
    "lead_typed",  # the lead holds the kind of thing asked for
    "lead_consensus",  # the lead holds what the evidence agrees on
    "entities_found",  # share of the question's essential entities named anywhere in the evidence (1: none asked)
    # What a question worded like its paragraph but not answered by it changes (SQuAD 2.0's unanswerable ones are
    # written so: a negation, an antonym, another name or number; Rajpurkar et al. 2018), read against the lead:
    "negation_unmatched",  # the question negates ("not", "never", "n't", ...) and the lead sentence does not
    "reversal_unmatched",  # a word of reversed sense ("least", "fail", "refuse", ...) its article does not hold
    "antonym_unmatched",  # a prefixed opposite ("unnatural") of a word its article holds ("natural"), not itself
    "entities_off_lead",  # share of the question's entities its article does not name (another name, a number)
    "uncovered_idf",  # the rarest question term the lead covers not even by a related word, by the rarest one's IDF
)

# Words that negate what a sentence says; "n't" is read as "not" (`_polarity_words`).
NEGATIONS = frozenset("not no never without none nor neither cannot nobody nothing".split())
# The starts of words that reverse a statement's sense (a comparison's other end, a failure, a refusal): a
# question holding one its lead's article lacks asks about the opposite of what the article says.
REVERSALS = (
    "least", "less", "fewer", "lowest", "smallest", "worst", "fail", "unabl", "refus", "reject", "deni", "deny",
    "lose", "lost", "lack", "oppos", "avoid", "ignor", "prevent", "forbid", "disagre", "dislik", "unsuccess",
    "abandon", "declin", "decreas", "rare", "seldom", "neglect", "hardly",
)  # fmt: skip
# A reversal counts as held when a word of the article starts with its first 4 letters: 5 missed "lack" in "lacks"
# (set by hand; SQuAD validation AUC 0.821 -> 0.824).
REVERSAL_PREFIX_CHARS = 4
# Prefixes that turn a word into its opposite ("unnatural", "insignificant", "non-Arab", "disagree").
OPPOSITE_PREFIXES = ("non-", "non", "anti", "dis", "un", "in", "im", "il", "ir")
MIN_ROOT_CHARS = 5  # set by hand: "inform" is no opposite of "form", nor "display" of "play"
_WORD = re.compile(r"[a-z][a-z'-]*")


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _polarity_words(text: str) -> set[str]:
    """Lowercase words, "n't" counted as "not" ("didn't" negates as "did not" does)."""
    words = set(_WORD.findall(text.lower().replace("\u2019", "'")))
    if any(w.endswith("n't") for w in words):
        words.add("not")
    return words


def negation_unmatched(question: str, lead: str) -> bool:
    """The question negates and the lead sentence holds no negation: "When wasn't the war?" read against "The
    war (1754-1763) was ..."."""
    asked = _polarity_words(question) & NEGATIONS
    return bool(asked) and not (_polarity_words(lead) & NEGATIONS)


def reversal_unmatched(question: str, article_words: AbstractSet[str]) -> bool:
    """A word of reversed sense in the question ("Who did the attacks resonate least with?") whose start no
    word of the lead's article has ("lack" is held by "lacks", "lowest" by "lower")."""
    starts = {w[:REVERSAL_PREFIX_CHARS] for w in article_words}
    for word in _polarity_words(question):
        reversal = next((r for r in REVERSALS if word.startswith(r)), None)
        if reversal is not None and reversal[:REVERSAL_PREFIX_CHARS] not in starts:
            return True
    return False


def antonym_unmatched(question: str, article_words: AbstractSet[str], article_stems: AbstractSet[str]) -> bool:
    """A question word is a prefixed opposite of a word the lead's article holds while the article does not
    hold it itself: "unnatural disasters" where it says "natural disasters"."""
    for word in _WORD.findall(question.lower()):
        prefix = next((p for p in OPPOSITE_PREFIXES if word.startswith(p)), None)
        root = word[len(prefix) :] if prefix else ""
        if len(root) >= MIN_ROOT_CHARS and word not in article_words:
            root_stem, word_stem = stems([root])[0], stems([word])[0]
            if root_stem in article_stems and word_stem not in article_stems:
                return True
    return False


def uncovered_idf(question: Question, lead_stems: AbstractSet[str], idf: Callable[[str], float]) -> float:
    """The IDF of the rarest question term the lead holds neither itself nor by a related word, as a share of the
    rarest term's: a question that changes one rare word of its paragraph ("vice president") scores near 1."""
    weights = {t: idf(t) for t in question.terms}
    top = max(weights.values(), default=0.0)
    missing = [
        w
        for t, w in weights.items()
        if t not in lead_stems and not any(e in lead_stems for e in question.expansions.get(t, ()))
    ]
    return max(missing, default=0.0) / top if top > 0 else 0.0


def question_features(
    question: Question,
    scored: Sequence[ScoredSentence],
    passages: Sequence[Passage],
    idf: Callable[[str], float],
    entities_found: float,
) -> tuple[float, ...]:
    """The decline model's features (in the order of `QUESTION_FEATURES`): the ranker's view of its lead and the
    question's words read against the lead and its article's passages, whichever ranker scored them."""
    lead = scored[0]
    runner_up = scored[1].score if len(scored) > 1 else 0.0
    article = [p.chunk for p in passages if p.chunk.article_id == lead.evidence.article_id]
    article_words: set[str] = set()
    article_stems: set[str] = set()
    for chunk in article:
        article_words |= _polarity_words(chunk.title) | _polarity_words(chunk.text)
        article_stems |= set(terms(chunk.title)) | set(terms(chunk.text))
    named = words_of(" ".join(f"{c.title} {c.text}" for c in article))
    off = sum(not entity_found(g, named) for g in question.entities)
    return (
        _logit(lead.score),
        _logit(runner_up),
        lead.coverage,
        float(lead.names_subject),
        float(lead.typed),
        lead.consensus,
        entities_found,
        float(negation_unmatched(question.text, lead.evidence.text)),
        float(reversal_unmatched(question.text, article_words)),
        float(antonym_unmatched(question.text, article_words, article_stems)),
        off / len(question.entities) if question.entities else 0.0,
        uncovered_idf(question, lead.stems, idf),
    )


@dataclass(frozen=True)
class DeclineModel:
    model: LinearModel
    threshold: float  # answer when the probability is at least this (chosen on validation)
    metadata: dict[str, Any] = field(default_factory=dict, compare=False)

    def probability(self, features: Sequence[float]) -> float:
        return sigmoid(self.model.logit(features))


def parse_model(data: dict[str, Any]) -> DeclineModel:
    model = LinearModel.from_json(data["model"])
    if model.features != QUESTION_FEATURES:
        raise ModelFileError(f"decline model features {list(model.features)} differ from {list(QUESTION_FEATURES)}")
    return DeclineModel(model, float(data["threshold"]), data.get("metadata", {}))


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_PATH) -> DeclineModel:
    """Read once per process (the engine loads it at start-up)."""
    return parse_model(json.loads(path.read_text(encoding="utf-8")))
