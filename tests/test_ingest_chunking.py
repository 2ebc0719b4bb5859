"""What gets indexed: boilerplate stays out, chunks respect sentences and point exactly into the article text,
and the sample coverage answers the question it was chosen for."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SAMPLE_DIR
from ingest_support import all_chunk_texts, markdown, write

from bot.runtime import Runtime
from bot.settings import Settings
from ingest.chunking import chunk_spans
from vectorstore.analysis import sentence_spans
from vectorstore.embedder import Embedder

SAMPLE_IDS = {"000_17fa544b3ee55eda", "004_47dad2c8b746e476"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Runtime:
    """data/sample ingested once for the read-only tests of this module."""
    rt = Runtime(Settings(data_dir=tmp_path_factory.mktemp("sample") / "data", _env_file=None))
    rt.__dict__["embedder"] = embedder
    report = rt.ingest([str(SAMPLE_DIR)])
    assert report.ok and set(report.added) == SAMPLE_IDS
    return rt


@pytest.mark.parametrize(
    "furniture",
    [
        "Related:",
        "Decolonization will not be stopped",  # an item of the "Related:" list
        "Pushkin monuments disappear",
        "Become a patron",
        "cup of coffee",
        "You could close this page",
        "Photo: Office of the President",
        "Office of the President of Ukraine",
    ],
)
def test_sample_boilerplate_is_not_indexed(sample: Runtime, furniture: str) -> None:
    assert not [t for t in all_chunk_texts(sample.store) if furniture.lower() in t.lower()]
    for article_id in SAMPLE_IDS:
        assert furniture.lower() not in (sample.store.article_text(article_id) or "").lower()


def test_sample_reporting_is_kept_verbatim(sample: Runtime) -> None:
    text = sample.store.article_text("000_17fa544b3ee55eda") or ""
    assert "Italy approved a €140 million ($ 150 mn) package for Ukrainian infrastructure." in text
    assert text.endswith("to bolster Ukraine’s air defense systems.")
    other = sample.store.article_text("004_47dad2c8b746e476") or ""
    assert other.startswith(
        "Ukrainian President Volodymyr Zelensky and Italian Prime Minister Giorgia Meloni"
    )
    assert "hold the aggressor accountable." in other


def test_chunks_carry_metadata_and_exact_offsets(sample: Runtime) -> None:
    store = sample.store
    for article_id in SAMPLE_IDS:
        stored = store.catalog()[article_id]
        text = store.article_text(article_id) or ""
        chunks = store.chunks_of(article_id)
        assert len(chunks) == stored.chunks > 1
        assert [c.position for c in chunks] == list(range(len(chunks)))
        for chunk in chunks:
            assert (chunk.article_id, chunk.title, chunk.version) == (
                article_id,
                stored.title,
                stored.version,
            )
            assert text[chunk.start : chunk.end] == chunk.text
            assert len(chunk.text) <= sample.settings.chunk_chars
        # Together the chunks cover the text, in order.
        assert chunks[0].start == 0 and chunks[-1].end == len(text)
        for before, after in zip(chunks, chunks[1:], strict=False):
            assert before.start < after.start <= before.end + 1


def test_chunks_respect_sentences_and_overlap(sample: Runtime) -> None:
    text = sample.store.article_text("004_47dad2c8b746e476") or ""
    spans = sentence_spans(text)
    starts, ends = {s for s, _ in spans}, {e for _, e in spans}
    chunks = sample.store.chunks_of("004_47dad2c8b746e476")
    for chunk in chunks:
        assert chunk.start in starts and chunk.end in ends, chunk.text
    overlapping = [a for a, b in zip(chunks, chunks[1:], strict=False) if b.start < a.end]
    assert overlapping, "consecutive chunks share their boundary sentences"
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert a.end - b.start <= sample.settings.chunk_overlap_chars


def test_chunk_metadata_from_front_matter(runtime: Runtime, tmp_path: Path) -> None:
    runtime.settings.chunk_chars = 160
    runtime.settings.chunk_overlap_chars = 60
    body = " ".join(f"Sentence number {n} tells one more fact about the Kherson ferry." for n in range(1, 9))
    path = write(
        tmp_path / "ferry.md",
        markdown(
            "ferry-1",
            "Kherson ferry resumes",
            body,
            url="https://south.example/ferry",
            date="2024-04-02",
            source="South Desk",
        ),
    )
    assert runtime.ingest([str(path)]).ok
    chunks = runtime.store.chunks_of("ferry-1")
    text = runtime.store.article_text("ferry-1") or ""
    assert len(chunks) >= 3
    for chunk in chunks:
        assert (chunk.title, chunk.url, chunk.date, chunk.source) == (
            "Kherson ferry resumes",
            "https://south.example/ferry",
            "2024-04-02",
            "South Desk",
        )
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.text.startswith("Sentence number") and chunk.text.endswith("ferry.")
        assert len(chunk.text) <= 160


@pytest.mark.parametrize(("max_chars", "overlap"), [(80, 150), (80, 40), (120, 60), (600, 150)])
def test_every_chunk_adds_text_beyond_the_previous_one(max_chars: int, overlap: int) -> None:
    sentences = [
        "Exports rose.",
        "Ukrzaliznytsia added a night train from Kyiv to Chelm.",
        "Tickets sold out within an hour.",
        "A second train will run from Lviv to Przemysl in May if the first one fills up every night.",
        "Ok.",
        "The company said demand from families visiting relatives abroad had doubled since last winter.",
    ]
    text = " ".join(sentences * 3)
    spans = chunk_spans(text, max_chars, overlap)
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    for (start, end), (next_start, next_end) in zip(spans, spans[1:], strict=False):
        assert start < next_start <= end + 1 and next_end > end  # forward, overlapping, and adding text
        assert next_end - next_start <= max_chars


def test_long_run_on_sentence_is_cut_within_the_limit() -> None:
    text = "word " * 400 + "end."
    spans = chunk_spans(text, 100, 30)
    assert spans and all(0 < end - start <= 100 for start, end in spans)
    assert spans[0][0] == 0 and spans[-1][1] == len(text)


def test_text_repeated_across_three_articles_of_one_site_is_dropped(runtime: Runtime, tmp_path: Path) -> None:
    shared = "The Kyiv Ledger relies on reporters in the field to check every figure we publish."
    facts = [
        "The Odesa port handled 3 million tonnes of grain in March.",
        "Kharkiv reopened two schools in metro stations on Monday.",
        "A Lviv factory now assembles 3,000 drones a month.",
    ]
    root = tmp_path / "coverage"
    for n, fact in enumerate(facts):
        write(
            root / "ledger" / f"a{n}.md",
            markdown(f"ledger-{n}", f"Ledger {n}", f"{fact}\n{shared}", source="The Kyiv Ledger"),
        )
    # The same paragraph in only two articles of another site is reporting, not furniture.
    for n, fact in enumerate(facts[:2]):
        write(
            root / "herald" / f"b{n}.md",
            markdown(f"herald-{n}", f"Herald {n}", f"{fact}\n{shared}", source="Dnipro Herald"),
        )
    report = runtime.ingest([str(root)])
    assert report.ok and len(report.added) == 5
    store = runtime.store
    for n, fact in enumerate(facts):
        assert store.article_text(f"ledger-{n}") == fact
        assert shared not in " ".join(c.text for c in store.chunks_of(f"ledger-{n}"))
    for n in range(2):
        assert shared in (store.article_text(f"herald-{n}") or "")


def test_italy_question_finds_the_140_million_chunk(sample: Runtime, embedder: Embedder) -> None:
    """Dense search alone, as the retriever's dense leg does it (the question in its statement form)."""
    vector = embedder.embed_query("What did Italy pledge?")
    hits = sample.store.dense_search(vector, 5)
    assert len(hits) == 5
    assert any("€140 million" in chunk.text for chunk, _score in hits), [c.text[:60] for c, _ in hits]


@pytest.mark.parametrize(
    "question",
    [
        "What package did Italy approve for Ukraine?",
        "How much did Italy approve for Ukrainian infrastructure?",
    ],
)
def test_the_140_million_chunk_is_the_nearest_for_a_direct_question(
    sample: Runtime, embedder: Embedder, question: str
) -> None:
    """Chroma holds the chunk under a vector that finds it: the gap above is the model's, not the store's."""
    (best, _score), *_ = sample.store.dense_search(embedder.embed_query(question), 5)
    assert "€140 million" in best.text and best.article_id == "000_17fa544b3ee55eda"
