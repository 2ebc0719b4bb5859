"""The sentence ranker: its named features, the shipped model file, and the scoring built on them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.answer.features import CONSENSUS, FEATURES, candidates
from bot.answer.question import analyse
from bot.answer.ranker import (
    MODEL_PATH,
    LinearModel,
    ModelFileError,
    RankerModel,
    candidate_sentences,
    load_model,
    parse_model,
)
from vectorstore.models import Chunk, Passage

TEXT = (
    "Italy approved a new aid package for Ukraine on Monday. "
    "The package is worth 140 million euros, officials said. "
    "What will Italy pledge next? "
    "Italy pledged so much. "
    "Later Giorgia Meloni hosted a conference on security culture in Rome."
)


def _features(question: str, text: str = TEXT) -> dict[str, dict[str, float]]:
    chunk = Chunk("it", "v1", 0, 100, 100 + len(text), text, "Italy and Ukraine")
    found = candidates(analyse(question), [Passage(chunk, 1.0)], lambda term: 1.0)
    return {c.text.split()[1]: dict(zip(FEATURES, c.features, strict=True)) for c in found}


def test_each_scoring_component_is_a_named_feature() -> None:
    f = _features("How much did Italy pledge?")
    # "pledge" is answered by "approved … package": a related word, not the word itself.
    assert f["approved"]["coverage"] == pytest.approx((1 + 0.7) / 3)  # "Italy" itself, "approved" for "pledge"
    assert f["pledged"]["coverage"] == 1.0 and f["pledged"]["restates_only"] == 1.0
    assert f["package"]["type_strong"] == 1.0 and f["approved"]["type_strong"] == 0.0  # an amount, asked for
    assert f["Giorgia"]["coverage"] == 0.5  # every term in the sentence before only
    assert f["will"]["is_question"] == 1.0 and f["approved"]["is_question"] == 0.0
    assert f["approved"]["entity_share"] == 1.0 and f["approved"]["names_subject"] == 1.0
    assert f["Giorgia"]["entity_share"] == 0.25  # Italy is named in its passage only
    assert f["approved"]["position"] < f["Giorgia"]["position"]
    assert f["approved"]["article_prior"] == 0.5
    # A name the question lacks counts as the kind of thing asked for by "who"; a place answers "where".
    assert _features("Who hosted a conference?")["Giorgia"]["type_name"] == 1.0
    assert _features("Where was the conference?")["Giorgia"]["type_strong"] == 1.0


def test_the_shipped_model_loads_once_with_its_training_metadata() -> None:
    model = load_model()
    assert load_model() is model
    assert model.full.features == (*FEATURES, CONSENSUS) and model.base.features == FEATURES
    meta = model.metadata
    assert meta["script"] == "scripts/train_ranker.py" and "realtimeqa_2023" in meta["train"]
    assert 0 < meta["metrics"]["validation"]["top1"] <= 1


def test_a_model_file_for_other_features_is_refused(tmp_path: Path) -> None:
    data = json.loads(MODEL_PATH.read_text())
    data["base"]["features"] = data["base"]["features"][:-1]
    with pytest.raises(ModelFileError, match="retrain|differ"):
        parse_model(data)


def test_the_model_s_weights_decide_the_order() -> None:
    """One feature weighted alone ranks by that feature: the scorer holds no weights of its own."""
    chunk = Chunk("it", "v1", 0, 0, len(TEXT), TEXT, "Italy")
    question = analyse("How much did Italy pledge?")

    def only(feature: str) -> RankerModel:
        weights = tuple(5.0 if f == feature else 0.0 for f in FEATURES)
        return RankerModel(LinearModel(FEATURES, weights, 0.0), LinearModel((*FEATURES, CONSENSUS), (*weights, 0.0),
                                                                             0.0))

    by_position = candidate_sentences(question, [Passage(chunk, 1.0)], lambda t: 1.0, only("position"))
    assert by_position[0].evidence.text.startswith("Later Giorgia Meloni")
    by_type = candidate_sentences(question, [Passage(chunk, 1.0)], lambda t: 1.0, only("type_strong"))
    assert by_type[0].evidence.text.startswith("The package is worth")
    assert 0.5 < by_type[0].score < 1.0  # a probability
