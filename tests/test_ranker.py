"""The sentence ranker: its named features, the shipped model file, and the scoring built on them."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from bot.answer.features import CONSENSUS, FEATURES, GROUP_FEATURES, candidates, matrix
from bot.answer.forest import Forest
from bot.answer.question import analyse
from bot.answer.ranker import (
    MODEL_PATH,
    ROW_FEATURES,
    SCALES_PATH,
    ModelFileError,
    RankerModel,
    SimilarityScale,
    candidate_sentences,
    consensus_shares,
    load_model,
    load_scales,
    parse_model,
    reads,
    similarity_scale,
)
from bot.answer.sentence_vectors import SentenceVectors
from vectorstore.analysis import opens_with_pronoun
from vectorstore.embedder import DEFAULT_MODEL, MULTILINGUAL_MODEL, Embedder
from vectorstore.models import Chunk, Passage

TEXT = (
    "Italy approved a new aid package for Ukraine on Monday. "
    "The package is worth 140 million euros, officials said. "
    "What will Italy pledge next? "
    "Italy pledged so much. "
    "Later Giorgia Meloni hosted a conference on security culture in Rome."
)


def unrelated(texts: Sequence[str]) -> list[float]:
    """A similarity that tells no sentence from another, where a test is about the other features."""
    return [0.0] * len(texts)


def _features(question: str, text: str = TEXT) -> dict[str, dict[str, float]]:
    chunk = Chunk("it", "v1", 0, 100, 100 + len(text), text, "Italy and Ukraine")
    found = candidates(analyse(question), [Passage(chunk, 1.0)], lambda term: 1.0, unrelated)
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


def test_the_similarity_is_the_embedder_s_cosine_of_question_and_sentence(embedder: Embedder) -> None:
    """A paraphrase shares no term with the question but is near it; the question's vector is the one given
    (retrieval's), each sentence embedded once, in one batch."""
    text = "The council approved 12 million euros for three new tram lines. Heavy snow closed the mountain pass."
    chunk = Chunk("tram", "v1", 0, 0, len(text), text, "Council")
    question = "How much will the municipality spend on streetcars?"
    asked = embedder.embed_query(question)
    batches: list[list[str]] = []

    def similarity(texts: Sequence[str]) -> list[float]:
        batches.append(list(texts))
        return SentenceVectors(embedder, 8).similarities(asked, texts)

    found = candidates(analyse(question), [Passage(chunk, 1.0), Passage(chunk, 0.5)], lambda t: 1.0, similarity)
    assert batches == [[c.text for c in found]] and len(found) == 2
    tram, snow = (c.features[FEATURES.index("similarity")] for c in found)
    assert tram == pytest.approx(float(np.dot(asked, embedder.encode([found[0].text])[0])), abs=1e-5)
    assert found[0].coverage == 0.0 and tram > snow + 0.2


def test_the_shipped_model_loads_once_with_its_training_metadata() -> None:
    model = load_model()
    assert load_model() is model
    assert model.full.features == (*FEATURES, *GROUP_FEATURES, CONSENSUS)
    assert model.base.features == (*FEATURES, *GROUP_FEATURES)
    meta = model.metadata
    assert meta["script"] == "scripts/train_ranker.py" and model.embedder == DEFAULT_MODEL
    assert "realtimeqa_2023" in meta["train"] and "SQuAD" in meta["train"] and "HistGradientBoosting" in meta["model"]
    assert "lambdarank" in meta["model"]  # the second model ranks a question's candidates
    assert 0 < meta["metrics"]["validation"]["top1"] <= 1 and 0 < meta["metrics"]["validation_squad"]["top1"] <= 1


def test_a_model_file_for_other_features_is_refused(tmp_path: Path) -> None:
    data = json.loads(MODEL_PATH.read_text())
    data["base"]["features"] = data["base"]["features"][:-1]
    with pytest.raises(ModelFileError, match="retrain|differ"):
        parse_model(data)


def _stump(names: tuple[str, ...], feature: str, above: float) -> Forest:
    """One tree of one split: log-odds +2 above `above` on `feature`, -2 at or below it."""
    tree = {
        "feature": [names.index(feature), 0, 0],
        "threshold": [above, 0, 0],
        "left": [1, 1, 2],
        "right": [2, 1, 2],
        "value": [0, -2.0, 2.0],
    }
    return Forest.from_json({"features": list(names), "baseline": 0.0, "depth": 1, "trees": [tree]})


def test_the_model_s_trees_decide_the_order() -> None:
    """One feature split on alone ranks by that feature: the scorer holds no weights of its own."""
    chunk = Chunk("it", "v1", 0, 0, len(TEXT), TEXT, "Italy")
    question = analyse("How much did Italy pledge?")

    def only(feature: str, above: float) -> RankerModel:
        return RankerModel(_stump(ROW_FEATURES, feature, above), _stump((*ROW_FEATURES, CONSENSUS), feature, above))

    passages = [Passage(chunk, 1.0)]
    last = max(c.features[FEATURES.index("position")] for c in candidates(question, passages, lambda t: 1.0, unrelated))
    by_position = candidate_sentences(question, passages, lambda t: 1.0, unrelated, only("position", last - 1e-6))
    assert by_position[0].evidence.text.startswith("Later Giorgia Meloni")
    by_type = candidate_sentences(question, passages, lambda t: 1.0, unrelated, only("type_strong", 0.5))
    assert by_type[0].evidence.text.startswith("The package is worth")
    assert 0.5 < by_type[0].score < 1.0  # a probability


def test_a_sentence_opening_with_a_pronoun_names_whom_the_sentence_before_named() -> None:
    text = (
        "Zelensky spoke with Meloni on Monday, the office said. "
        "He highlighted Italy's support at the level of the Group of Seven. "
        "It stressed the support of the Group of Seven too."
    )
    f = _features("What did Zelensky highlight about the Group of Seven?", text)
    # "He" is Zelensky: the sentence names the subject and covers its term, as "Zelensky highlighted …" would.
    assert f["highlighted"]["names_subject"] == 1.0 and f["highlighted"]["entity_share"] == 1.0
    assert f["highlighted"]["coverage"] == 1.0
    # "It" opens sentences about nothing in particular: only person pronouns inherit the sentence before's names.
    assert f["stressed"]["names_subject"] == 0.0 and f["stressed"]["coverage"] < 1.0
    assert opens_with_pronoun("“He said so,” she added.") and not opens_with_pronoun("Hence the aid.")


def test_the_sentence_before_may_be_in_another_passage_of_the_article() -> None:
    """The chunk a sentence is first read in may start with it; an overlapping chunk holds the sentence before."""
    before, after = "Zelensky thanked Italy for its support, he said.\n\n", "He highlighted the Group of Seven's help."
    first = Chunk("zel", "v1", 0, 0, len(before + after), before + after, "Zelensky")
    second = Chunk("zel", "v1", 1, len(before), len(before + after), after, "Zelensky")
    question = analyse("What did Zelensky highlight?")
    found = candidates(question, [Passage(second, 1.0), Passage(first, 0.5)], lambda t: 1.0, unrelated)
    lead = next(c for c in found if c.text.startswith("He highlighted"))
    assert lead.passage.chunk is second and lead.names_subject
    alone = candidates(question, [Passage(second, 1.0)], lambda t: 1.0, unrelated)
    assert not alone[0].names_subject  # nothing before it in the evidence: no one to stand for


def test_the_evidence_as_a_whole_is_described_per_sentence() -> None:
    """Paragraphs of one page are one source; other titles are others. Each row knows the best coverage."""
    question = analyse("How much did Italy pledge?")
    first = Chunk("page_0", "v1", 0, 0, len(TEXT), TEXT, "Italy")
    second = Chunk("page_1", "v1", 0, 0, len(TEXT), TEXT.replace("Italy", "Rome"), "Italy")
    other = Chunk("news", "v1", 0, 0, len(TEXT), TEXT, "Aid for Ukraine")
    one_page = candidates(question, [Passage(first, 1.0), Passage(second, 0.5)], lambda t: 1.0, unrelated)
    two = candidates(question, [Passage(first, 1.0), Passage(other, 0.5)], lambda t: 1.0, unrelated)
    sources, passage = FEATURES.index("sources"), FEATURES.index("passage_prior")
    assert {c.features[sources] for c in one_page} == {0.0}
    assert [c.features[sources] for c in two] == pytest.approx([math.log(2)] * len(two))
    seconds = [c.features[passage] for c in one_page if c.passage.chunk is second]
    assert seconds and seconds == pytest.approx([1 / 3] * len(seconds))
    x = matrix(one_page)
    coverage = x[:, FEATURES.index("coverage")]
    assert x.shape == (len(one_page), len(FEATURES) + len(GROUP_FEATURES))
    assert set(x[:, len(FEATURES)]) == {coverage.max()}
    assert np.allclose(x[:, len(FEATURES) + 1], coverage.max() - coverage)


def test_consensus_counts_only_words_that_several_sources_hold() -> None:
    """A page's paragraphs repeating its own subject is no agreement; two outlets naming the same thing is."""
    question = analyse("Who visited Kyiv?")
    text = "Giorgia Meloni visited Kyiv on Monday morning."

    def shares(titles: tuple[str, str]) -> list[float]:
        passages = [Passage(Chunk(f"a{i}", "v1", 0, 0, len(text), text, t), 1.0) for i, t in enumerate(titles)]
        cands = candidates(question, passages, lambda t: 1.0, unrelated)
        return consensus_shares(question, cands, [0.9] * len(cands), lambda t: 1.0, 20, min_sources=2)

    assert shares(("Meloni in Kyiv", "Meloni in Kyiv")) == [0.0, 0.0]
    assert shares(("Meloni in Kyiv", "Italy's leader visits Ukraine")) == [1.0, 1.0]


def test_the_shipped_similarity_scale_maps_e5_onto_the_model_s_embedder_monotonically() -> None:
    """multilingual-e5's cosines (crowded into 0.7-0.9) spread onto MiniLM's scale, order kept, fitted on the
    ranker's training data by the script the file names."""
    model = load_model()
    scale = load_scales()[MULTILINGUAL_MODEL]
    assert SCALES_PATH.exists() and scale.onto == model.embedder == DEFAULT_MODEL
    assert similarity_scale(model, MULTILINGUAL_MODEL) is scale and reads(model, MULTILINGUAL_MODEL)
    assert reads(model, DEFAULT_MODEL) and not reads(model, "another-model")
    assert scale.metadata["script"] == "scripts/fit_similarity_scale.py" and scale.metadata["pairs"] >= 1000
    assert len(scale.source) == len(scale.target) == scale.metadata["quantiles"]
    mapped = scale.map(np.linspace(0.0, 1.0, 501))
    assert np.all(np.diff(mapped) >= 0)
    low, middle, high = scale.map([0.72, 0.8, 0.88])
    assert high - low > 3 * (0.88 - 0.72)  # spread: a crowded tenth of e5's scale covers much more of MiniLM's
    assert low < middle < high
    doubled = scale.wrap(lambda texts: [0.8] * len(texts))
    assert doubled(["a", "b"]) == [pytest.approx(middle)] * 2


def test_a_scale_that_is_not_monotone_or_onto_another_model_is_not_used() -> None:
    with pytest.raises(ModelFileError, match="monotone"):
        SimilarityScale("e", DEFAULT_MODEL, (0.1, 0.3, 0.2), (0.0, 0.5, 1.0))
    elsewhere = {"e": SimilarityScale("e", "another-model", (0.1, 0.9), (0.0, 1.0))}
    assert similarity_scale(load_model(), "e", elsewhere) is None and not reads(load_model(), "e", elsewhere)
