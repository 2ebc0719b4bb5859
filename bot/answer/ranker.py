"""The learned sentence ranker: how likely each candidate sentence is to hold the answer.

Two gradient-boosted tree models (`bot/answer/forest.py`) over the named features of `bot/answer/features.py`,
trained on RealTime QA 2023 and SQuAD 2.0 by `scripts/train_ranker.py` and shipped as `ranker_model.json` (the
trees as JSON arrays, with the training data, date and validation metrics). The first ranks on the features
alone; its probabilities then vote for the rare words the best sentences of several sources share beyond the
question's own (news repeats its answer: "Twitter", for "Which platform is considering charging for verified
accounts?"), and the second adds that consensus share as one more feature. The second is trained to rank a
question's candidates (LightGBM's `lambdarank`, the question as the group), not to score each alone; a logistic
calibration fitted on its training rows is folded into its trees, so both give log-odds, and `Ranked.score` is a
probability either way (the answer's selection and the decline read it as one).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from bot.answer.features import CONSENSUS, FEATURES, GROUP_FEATURES, Candidate, candidates, matrix, source_of
from bot.answer.forest import Forest
from bot.answer.models import Evidence, ScoredSentence
from bot.answer.question import Question
from bot.answer.sentence_vectors import Similarity
from vectorstore.embedder import DEFAULT_MODEL
from vectorstore.models import Passage

MODEL_PATH = Path(__file__).with_name("ranker_model.json")
# Other embedders' similarities mapped onto the scale of the one the model was trained on (fitted by
# scripts/fit_similarity_scale.py).
SCALES_PATH = Path(__file__).with_name("similarity_scales.json")


@dataclass(frozen=True)
class RankerConfig:
    """What the training data cannot teach, set by hand and documented here, in one place."""

    # Follow-ups ("And what did Canada do?") are about their entity and nothing else, so the answer must name
    # it; the training questions are all standalone, where an entity often describes the answer instead
    # ("Which Ivy League school…" is answered by "Dartmouth College announced…"). Logit per entity share.
    follow_up_entity_weight: float = 2.0
    consensus_head: int = 20  # the best sentences (by the first model) whose words vote
    # A word counts as agreed on when the top sentences of this many distinct sources hold it: the paragraphs of
    # one page repeat its subject, which is no agreement (on SQuAD it drew sentences from neighbouring paragraphs).
    consensus_min_sources: int = 2


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
        return {
            "features": list(self.features),
            "weights": [round(w, 6) for w in self.weights],
            "intercept": round(self.intercept, 6),
        }


ROW_FEATURES = (*FEATURES, *GROUP_FEATURES)  # what the first model reads; the second adds CONSENSUS


@dataclass(frozen=True)
class RankerModel:
    base: Forest  # over ROW_FEATURES
    full: Forest  # over ROW_FEATURES + (CONSENSUS,)
    metadata: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def embedder(self) -> str:
        """The embedder whose similarities the model was trained on: another's are on another scale."""
        return str(self.metadata.get("embedder", DEFAULT_MODEL))


class ModelFileError(ValueError):
    """The model file does not fit the features this code computes: retrain with scripts/train_ranker.py."""


def parse_model(data: dict[str, Any]) -> RankerModel:
    base, full = Forest.from_json(data["base"]), Forest.from_json(data["full"])
    if base.features != ROW_FEATURES or full.features != (*ROW_FEATURES, CONSENSUS):
        raise ModelFileError(f"ranker model features {list(full.features)} differ from {[*ROW_FEATURES, CONSENSUS]}")
    return RankerModel(base, full, data.get("metadata", {}))


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_PATH) -> RankerModel:
    """Read once per process (the engine loads it at start-up)."""
    return parse_model(json.loads(path.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class SimilarityScale:
    """Another embedder's question-sentence cosine mapped onto the ranker's embedder's: matched quantiles of both
    over the same question-sentence pairs, linear between them (np.interp, flat beyond the ends). Monotone, so it
    keeps each question's order of sentences by similarity and moves only where the values fall on the trees'
    splits (multilingual-e5's cosines crowd into 0.7-0.9, MiniLM's spread wider)."""

    embedder: str  # the embedder whose cosines are mapped
    onto: str  # the embedder whose scale they are mapped onto (`RankerModel.embedder`)
    source: tuple[float, ...]  # the quantiles of `embedder`'s cosines
    target: tuple[float, ...]  # those of `onto`'s, at the same levels
    metadata: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if len(self.source) != len(self.target) or len(self.source) < 2:
            raise ModelFileError(f"the similarity scale of {self.embedder} needs two quantile arrays of one length")
        if np.any(np.diff(self.source) <= 0) or np.any(np.diff(self.target) < 0):
            raise ModelFileError(f"the similarity scale of {self.embedder} is not monotone")

    def map(self, values: Sequence[float] | np.ndarray) -> np.ndarray:
        return np.interp(np.asarray(values, dtype=float), self.source, self.target)

    def wrap(self, similarity: Similarity) -> Similarity:
        """`similarity` with its values on `onto`'s scale."""
        return lambda texts: self.map(similarity(texts)).tolist()

    @classmethod
    def from_json(cls, embedder: str, data: dict[str, Any]) -> SimilarityScale:
        return cls(embedder, str(data["onto"]), tuple(data["source"]), tuple(data["target"]), data.get("metadata", {}))

    def to_json(self) -> dict[str, Any]:
        return {
            "onto": self.onto,
            "source": [round(v, 6) for v in self.source],
            "target": [round(v, 6) for v in self.target],
            "metadata": self.metadata,
        }


@lru_cache(maxsize=4)
def load_scales(path: Path = SCALES_PATH) -> dict[str, SimilarityScale]:
    """Per embedder name, its fitted scale; read once per process (none when the file is absent)."""
    if not path.exists():
        return {}
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {name: SimilarityScale.from_json(name, data) for name, data in doc.items()}


def similarity_scale(
    model: RankerModel, embedder: str, scales: dict[str, SimilarityScale] | None = None
) -> SimilarityScale | None:
    """The scale that puts `embedder`'s similarities on the model's embedder's (the shipped scales unless given);
    None where there is none. The model's own embedder needs none: ask `reads` first."""
    scale = (load_scales() if scales is None else scales).get(embedder)
    return scale if scale is not None and scale.onto == model.embedder else None


def reads(model: RankerModel, embedder: str, scales: dict[str, SimilarityScale] | None = None) -> bool:
    """Whether the model can rank on `embedder`'s similarities: its own, or another's through a fitted scale."""
    return embedder == model.embedder or similarity_scale(model, embedder, scales) is not None


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


@dataclass(frozen=True)
class Ranked:
    candidate: Candidate
    score: float  # probability that the sentence holds the answer
    consensus: float  # share of the strongest agreement it holds (1: the word the evidence agrees on most)


def consensus_shares(
    question: Question,
    cands: Sequence[Candidate],
    probs: Sequence[float],
    idf: Callable[[str], float],
    head: int,
    min_sources: int = 1,
) -> list[float]:
    """Per candidate, the vote of its best word beyond the question's, relative to the top vote. A word's vote is
    the best probability of a top sentence holding it in each source (`features.source_of`), summed over the
    sources (agreement across the coverage, not one source repeating its own subject), times its rarity; a word
    held by fewer than `min_sources` sources has none."""
    asked = {*question.terms, *question.context_terms}
    asked.update(e for related in question.expansions.values() for e in related)
    beyond = [c.stems - asked for c in cands]
    order = sorted(range(len(cands)), key=lambda i: probs[i], reverse=True)[:head]
    best: dict[tuple[str, str], float] = {}
    for i in order:
        for stem in beyond[i]:
            key = (stem, source_of(cands[i].passage))
            best[key] = max(best.get(key, 0.0), probs[i])
    votes: dict[str, float] = {}
    held: dict[str, int] = {}
    for (stem, _), p in best.items():
        votes[stem] = votes.get(stem, 0.0) + p * idf(stem)
        held[stem] = held.get(stem, 0) + 1
    votes = {stem: v for stem, v in votes.items() if held[stem] >= min_sources}
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
    if not cands:
        return []
    x = matrix(cands)
    follow_up = config.follow_up_entity_weight if question.context_terms else 0.0
    nudge = follow_up * x[:, FEATURES.index("entity_share")]
    base = [sigmoid(z) for z in model.base.logits(x) + nudge]
    shares = consensus_shares(question, cands, base, idf, config.consensus_head, config.consensus_min_sources)
    full = model.full.logits(np.column_stack([x, shares])) + nudge
    out = [Ranked(c, sigmoid(float(z)), s) for c, z, s in zip(cands, full, shares, strict=True)]
    out.sort(key=lambda r: r.score, reverse=True)
    if question.context_terms and any(r.candidate.names_subject for r in out):
        # A follow-up is about its own entity ("And what did Canada do?"): an answer must name it, and the training
        # questions, all standalone, cannot teach that, so the sentences naming it lead (stable: by score within).
        out.sort(key=lambda r: r.candidate.names_subject, reverse=True)
    return out


def candidate_sentences(
    question: Question,
    passages: Sequence[Passage],
    idf: Callable[[str], float],
    similarity: Similarity,
    model: RankerModel | None = None,
    config: RankerConfig = RankerConfig(),
) -> list[ScoredSentence]:
    """Every sentence of the passages, scored by the model (the shipped one unless given), best first;
    `similarity` by the embedder the model was trained with (`RankerModel.embedder`)."""
    found = candidates(question, passages, idf, similarity)
    return scored_sentences(rank(question, found, idf, model or load_model(), config))


def scored_sentences(ranked: Sequence[Ranked]) -> list[ScoredSentence]:
    """The ranked candidates as the answer's selection reads them, the probability as their score."""
    return [
        ScoredSentence(
            Evidence(
                r.candidate.passage.chunk.article_id, r.candidate.text, r.candidate.start, r.candidate.end, r.score
            ),
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
