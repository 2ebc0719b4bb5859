"""The learned decision to decline: a calibrated probability that the best sentence answers the question.

A logistic regression over what the engine knows once the sentences are ranked (how likely the lead and the
runner-up hold the answer, how much of the question the lead covers, whether the question's entities are in
the evidence at all), trained by `scripts/train_decline.py` on answerable and unanswerable questions (SQuAD
2.0's, split by article; RealTime QA 2023 questions asked against other days' coverage) and shipped as
`decline_model.json` with the threshold chosen on validation for a stated precision. The threshold is a setting
(`NEWSBOT_ANSWER_MIN_PROBABILITY`); the model file's is the default.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.answer.models import ScoredSentence
from bot.answer.ranker import LinearModel, ModelFileError, sigmoid

MODEL_PATH = Path(__file__).with_name("decline_model.json")

QUESTION_FEATURES: tuple[str, ...] = (
    "lead_logit",  # the ranker's log-odds that the lead sentence holds the answer
    "runner_up_logit",  # ... the second sentence's
    "lead_coverage",  # share of the question's weighted terms the lead covers
    "lead_names_subject",  # the lead names every entity of the question
    "lead_typed",  # the lead holds the kind of thing asked for
    "lead_consensus",  # the lead holds what the evidence agrees on
    "entities_found",  # share of the question's essential entities named anywhere in the evidence (1: none asked)
)


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def question_features(scored: Sequence[ScoredSentence], entities_found: float) -> tuple[float, ...]:
    lead = scored[0]
    runner_up = scored[1].score if len(scored) > 1 else 0.0
    return (
        _logit(lead.score),
        _logit(runner_up),
        lead.coverage,
        float(lead.names_subject),
        float(lead.typed),
        lead.consensus,
        entities_found,
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
