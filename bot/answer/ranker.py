"""The learned sentence ranker: how likely each candidate sentence is to hold the answer.

Two logistic regressions over the named features of `bot/answer/features.py`, trained on RealTime QA 2023 by
`scripts/train_ranker.py` and shipped as `ranker_model.json` (coefficients in feature space, with the training
data, date and validation metrics). The first ranks on the features alone; its probabilities then vote for the
rare words the best sentences of several articles share beyond the question's own (news repeats its answer:
"Twitter", for "Which platform is considering charging for verified accounts?"), and the second adds that
consensus share as one more feature. Scoring is a dot product per sentence: microseconds, no numpy.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.answer.features import CONSENSUS, FEATURES, Candidate, candidates
from bot.answer.models import Evidence, ScoredSentence
from bot.answer.question import Question
from vectorstore.models import Passage

MODEL_PATH = Path(__file__).with_name("ranker_model.json")


@dataclass(frozen=True)
class RankerConfig:
    """What the training data cannot teach, set by hand and documented here, in one place."""

    # Follow-ups ("And what did Canada do?") are about their entity and nothing else, so the answer must name
    # it; the training questions are all standalone, where an entity often describes the answer instead
    # ("Which Ivy League school…" is answered by "Dartmouth College announced…"). Logit per entity share.
    follow_up_entity_weight: float = 2.0
    consensus_head: int = 20  # the best sentences (by the first model) whose words vote


@dataclass(frozen=True)
class LinearModel:
    features: tuple[str, ...]
    weights: tuple[float, ...]
    intercept: float

    def logit(self, x: Sequence[float]) -> float:
        return self.intercept + sum(w * v for w, v in zip(self.weights, x, strict=True))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LinearModel:
        return cls(tuple(data["features"]), tuple(float(w) for w in data["weights"]), float(data["intercept"]))

    def to_json(self) -> dict[str, Any]:
        return {"features": list(self.features), "weights": [round(w, 6) for w in self.weights],
                "intercept": round(self.intercept, 6)}


@dataclass(frozen=True)
class RankerModel:
    base: LinearModel  # over FEATURES
    full: LinearModel  # over FEATURES + (CONSENSUS,)
    metadata: dict[str, Any] = field(default_factory=dict, compare=False)


class ModelFileError(ValueError):
    """The model file does not fit the features this code computes: retrain with scripts/train_ranker.py."""


def parse_model(data: dict[str, Any]) -> RankerModel:
    base, full = LinearModel.from_json(data["base"]), LinearModel.from_json(data["full"])
    if base.features != FEATURES or full.features != (*FEATURES, CONSENSUS):
        raise ModelFileError(f"ranker model features {list(full.features)} differ from {[*FEATURES, CONSENSUS]}")
    return RankerModel(base, full, data.get("metadata", {}))


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_PATH) -> RankerModel:
    """Read once per process (the engine loads it at start-up)."""
    return parse_model(json.loads(path.read_text(encoding="utf-8")))


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


@dataclass(frozen=True)
class Ranked:
    candidate: Candidate
    score: float  # probability that the sentence holds the answer
    consensus: float  # share of the strongest agreement it holds (1: the word the evidence agrees on most)


def consensus_shares(
    question: Question, cands: Sequence[Candidate], probs: Sequence[float], idf: Callable[[str], float], head: int
) -> list[float]:
    """Per candidate, the vote of its best word beyond the question's, relative to the top vote. A word's vote is
    the best probability of a top sentence holding it in each article, summed over the articles (agreement
    across the coverage, not one article repeating its own subject), times its rarity."""
    asked = {*question.terms, *question.context_terms}
    asked.update(e for related in question.expansions.values() for e in related)
    beyond = [c.stems - asked for c in cands]
    order = sorted(range(len(cands)), key=lambda i: probs[i], reverse=True)[:head]
    best: dict[tuple[str, str], float] = {}
    for i in order:
        for stem in beyond[i]:
            key = (stem, cands[i].passage.chunk.article_id)
            best[key] = max(best.get(key, 0.0), probs[i])
    votes: dict[str, float] = {}
    for (stem, _), p in best.items():
        votes[stem] = votes.get(stem, 0.0) + p * idf(stem)
    top = max(votes.values(), default=0.0)
    if top <= 0:
        return [0.0] * len(cands)
    return [max((votes.get(s, 0.0) for s in words), default=0.0) / top for words in beyond]


def rank(
    question: Question,
    cands: Sequence[Candidate],
    idf: Callable[[str], float],
    model: RankerModel,
    config: RankerConfig = RankerConfig(),
) -> list[Ranked]:
    """The candidates by the model's probability that they hold the answer, best first."""
    follow_up = config.follow_up_entity_weight if question.context_terms else 0.0
    entity = FEATURES.index("entity_share")
    base = [sigmoid(model.base.logit(c.features) + follow_up * c.features[entity]) for c in cands]
    shares = consensus_shares(question, cands, base, idf, config.consensus_head)
    out = [
        Ranked(c, sigmoid(model.full.logit((*c.features, s)) + follow_up * c.features[entity]), s)
        for c, s in zip(cands, shares, strict=True)
    ]
    out.sort(key=lambda r: r.score, reverse=True)
    return out


def candidate_sentences(
    question: Question,
    passages: Sequence[Passage],
    idf: Callable[[str], float],
    model: RankerModel | None = None,
    config: RankerConfig = RankerConfig(),
) -> list[ScoredSentence]:
    """Every sentence of the passages, scored by the model (the shipped one unless given), best first."""
    ranked = rank(question, candidates(question, passages, idf), idf, model or load_model(), config)
    return [
        ScoredSentence(
            Evidence(r.candidate.passage.chunk.article_id, r.candidate.text, r.candidate.start, r.candidate.end,
                     r.score),
            r.candidate.article_rank,
            r.candidate.coverage,
            r.score,
            r.candidate.stems,
            r.candidate.names_subject,
            consensus=r.consensus,
            typed=r.candidate.typed,
        )
        for r in ranked
    ]
