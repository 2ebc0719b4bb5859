"""The training scripts' evidence: with stores, what the engine's own hybrid retrieval finds (a real Chroma store,
the real embedder), as of each question's date; without, BM25 in memory."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bot.evaluation import QAItem
from vectorstore.embedder import Embedder

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from train_ranker import evidence, hybrid_evidence, store_name  # noqa: E402

RECORDS = [
    {
        "id": "tram",
        "title": "Council votes on transport",
        "text": "The city council approved a budget of 12 million euros for three new tram lines. "
        "Construction is due to start next spring, the mayor said.",
        "date": "2024-01-10",
        "source": "example",
    },
    {
        "id": "snow",
        "title": "Weather",
        "text": "Heavy snowfall closed the mountain pass for two days. Drivers were told to carry chains.",
        "date": "2024-01-05",
        "source": "example",
    },
]
# No word of the question is in the tram article: only the embedder relates "streetcars" to "tram".
ASKED = QAItem("q1", "How much will the municipality spend on streetcars?", ("12 million",), "tram", date="2024-02-01")


def test_hybrid_evidence_finds_by_meaning_what_bm25_cannot(tmp_path: Path, embedder: Embedder) -> None:
    [(_, passages, idf)] = hybrid_evidence([ASKED], RECORDS, tmp_path / "store", embedder)
    assert passages[0].chunk.article_id == "tram"
    assert idf("tram") > 0
    [(_, bm25, _)] = evidence([ASKED], RECORDS, "set")
    assert "tram" not in {p.chunk.article_id for p in bm25}


def test_hybrid_evidence_is_as_of_the_question_s_date_and_embeds_once(
    tmp_path: Path, embedder: Embedder, capsys: pytest.CaptureFixture[str]
) -> None:
    before = QAItem("q2", ASKED.question, ASKED.answers, "tram", date="2024-01-08")
    [(_, passages, _)] = hybrid_evidence([before], RECORDS, tmp_path / "store", embedder)
    assert {p.chunk.article_id for p in passages} == {"snow"}  # the tram article is not out yet
    assert "added 2" in capsys.readouterr().err
    list(hybrid_evidence([], RECORDS, tmp_path / "store", embedder))
    again = capsys.readouterr().err
    assert "added 0" in again and "unchanged 2" in again


def test_a_store_is_named_by_its_articles() -> None:
    assert store_name("s", RECORDS) == store_name("s", list(reversed(RECORDS)))
    assert store_name("s", RECORDS) != store_name("s", RECORDS[:1])
