"""The learned decision to decline: the shipped model, its threshold as a setting, through the real engine."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from bot.answer.decline import MODEL_PATH, QUESTION_FEATURES, load_model, parse_model
from bot.answer.engine import AnswerEngine, EngineConfig
from bot.answer.extractive import SelectionConfig
from bot.answer.ranker import ModelFileError, RankerModel
from bot.answer.ranker import load_model as load_ranker
from bot.runtime import Runtime
from bot.settings import Settings
from vectorstore.embedder import Embedder

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "sample"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[Runtime]:
    runtime = Runtime(Settings(data_dir=tmp_path_factory.mktemp("decline"), _env_file=None))
    runtime.__dict__["embedder"] = embedder
    assert runtime.ingest([str(SAMPLE_DIR)]).ok
    yield runtime


def test_the_shipped_decline_model_loads_with_its_threshold_and_metadata() -> None:
    model = load_model()
    assert model.model.features == QUESTION_FEATURES
    assert 0 < model.threshold < 1
    assert model.metadata["script"] == "scripts/train_decline.py" and "SQuAD" in model.metadata["train"]
    data = json.loads(MODEL_PATH.read_text())
    data["model"]["features"] = ["lead_logit"]
    with pytest.raises(ModelFileError):
        parse_model(data)


def test_the_threshold_is_a_setting_the_engine_reads(sample: Runtime) -> None:
    question = "What did Italy pledge?"
    learned = AnswerEngine(sample.retriever, EngineConfig())
    assert not learned.answer(question).declined
    assert learned.min_answer_probability == load_model().threshold
    strict = AnswerEngine(sample.retriever, EngineConfig(min_answer_probability=1.0))
    answer = strict.answer(question)
    assert answer.declined and answer.decline_reason == "no passage answers the question well enough"
    lenient = AnswerEngine(sample.retriever, EngineConfig(min_answer_probability=0.0))
    assert not lenient.answer("What did Zelensky and Meloni talk about?").declined


def test_the_learned_answer_adds_sentences_by_their_share_of_the_lead_s_probability(sample: Runtime) -> None:
    """`SelectionConfig.min_ratio` reaches the selection: at 2 no sentence joins the lead (not even its
    continuation, credited 0.15); at 0, every one the selection's other tests let through."""

    def answer(ratio: float) -> tuple[str, ...]:
        config = EngineConfig(min_answer_probability=0.0, selection=SelectionConfig(min_ratio=ratio))
        found = AnswerEngine(sample.retriever, config).answer("What did Italy pledge?")
        assert not found.declined
        return tuple(s.text for s in found.sentences)

    alone, every = answer(2.0), answer(0.0)
    assert len(alone) == 1 and len(every) > 1 and every[0] == alone[0]


def test_the_ranker_reuses_retrieval_s_question_vector_and_keeps_the_sentences(
    sample: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The similarity feature embeds the question once (retrieval's vector) and, in a store without the sentence
    vectors ingest keeps (written before they were kept), each
    evidence sentence once."""
    embedder = sample.retriever.embedder
    queries: list[str] = []
    encoded: list[int] = []
    embed_query, encode = embedder.embed_query, embedder.encode

    def counted_query(text: str) -> list[float]:
        queries.append(text)
        return embed_query(text)

    def counted_encode(texts: Sequence[str], batch_size: int | None = None) -> list[list[float]]:
        encoded.append(len(texts))
        return encode(texts, batch_size)

    monkeypatch.setattr(embedder, "embed_query", counted_query)
    monkeypatch.setattr(embedder, "encode", counted_encode)
    engine = AnswerEngine(sample.retriever, EngineConfig(min_answer_probability=0.0))
    assert engine.sentence_vectors is not None
    engine.sentence_vectors.kept = None  # as if ingest had kept none: every sentence is embedded when asked
    assert not engine.answer("What did Italy pledge?").declined
    # The question (embed_query encodes it), then the candidate sentences in one batch.
    assert len(queries) == 1 and len(encoded) == 2 and encoded[0] == 1 and encoded[1] > 3
    engine.answer("What did Italy pledge?")
    assert len(queries) == 2 and encoded[2:] == [1]  # the same evidence again: no sentence embedded


def test_a_ranker_trained_on_another_embedder_s_similarities_is_refused(sample: Runtime) -> None:
    shipped = load_ranker()
    other = RankerModel(shipped.base, shipped.full, {**shipped.metadata, "embedder": "another-model"})
    with pytest.raises(ModelFileError, match="another-model"):
        AnswerEngine(sample.retriever, EngineConfig(), ranker=other)
