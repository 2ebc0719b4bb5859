"""Lexical analysis per language (NEWSBOT_MULTILINGUAL, issue 16 item 2): each chunk is stemmed and stop-worded in
the language it was stored with, a question in its own; the English default is what it always was, and an index
built with one analysis is rebuilt, never read, by the other."""

from __future__ import annotations

from pathlib import Path

from vectorstore.analysis import stopwords, terms
from vectorstore.lexical import FORMAT, PER_LANGUAGE_FORMAT, Analysis, LexicalIndex
from vectorstore.lexical.record import IndexRecord
from vectorstore.models import Chunk

ENGLISH, PER_LANGUAGE = Analysis(), Analysis(per_language=True)


def chunk(article_id: str, text: str, language: str) -> Chunk:
    return Chunk(article_id, "v1", 0, 0, len(text), text, "", language=language)


COVERAGE = [
    chunk("it", "I governi hanno promesso aiuti militari all'Ucraina.", "it"),
    chunk("uk", "Італія пообіцяла Україні новий пакет військової допомоги.", "uk"),
    chunk("en", "Italy pledged a new package of military aid to Ukraine.", "en"),
]


def found(index: LexicalIndex, query: str) -> set[str]:
    return {c.article_id for c, _ in index.search(query, k=10)}


def test_the_english_default_is_unchanged() -> None:
    """Golden terms from the analysis before languages were told apart: whatever a text's language, the default
    (and every index without NEWSBOT_MULTILINGUAL) analyses it as English, as before."""
    english = terms("What did Italy pledge to Ukraine in the new package?")
    assert english == ["itali", "pledg", "ukrain", "new", "packag"]
    assert terms("The EU's €140 million package, approved on 12 May 2024, was Rome's 9th.") == [
        "eu", "140", "million", "packag", "approv", "12", "2024", "rome", "9th",
    ]  # fmt: skip
    assert terms("Che promessa ha fatto il governo all'Ucraina?") == [
        "che", "promessa", "ha", "fatto", "il", "governo", "ucraina",
    ]  # fmt: skip
    assert terms("Що пообіцяв уряд Італії Україні?") == ["що", "пообіцяв", "уряд", "італії", "україні"]
    italian = COVERAGE[0]
    assert ENGLISH.chunk_terms(italian) == terms(italian.text) and ENGLISH.format == FORMAT == "tantivy-1"


def test_each_language_has_its_stems_and_stop_words() -> None:
    assert terms("Che promessa ha fatto il governo italiano?", "it") == ["promess", "fatt", "govern", "ital"]
    assert terms("Яку допомогу пообіцяв уряд?", "uk") == ["допомог", "пообіця", "уряд"]  # Russian's stems
    assert terms("Was hat Italien der Ukraine versprochen?", "de") == ["itali", "ukrain", "versproch"]
    assert {"della", "che"} <= stopwords("it") and "який" in stopwords("uk") and "the" not in stopwords("it")
    assert terms("the new package", "xx") == terms("the new package")  # a language we do not know: English


def test_a_question_matches_inflected_forms_in_its_language_only_per_language() -> None:
    per_language = LexicalIndex.build(COVERAGE, "t", PER_LANGUAGE)
    english = LexicalIndex.build(COVERAGE, "t", ENGLISH)
    italian = "Quale promessa del governo?"  # "promessa", "governo": the article says "promesso", "governi"
    ukrainian = "Яку допомогу пообіцяв уряд?"  # the article: "пообіцяла", "допомоги"
    assert found(per_language, italian) == {"it"} and found(english, italian) == set()
    assert found(per_language, ukrainian) == {"uk"} and found(english, ukrainian) == set()
    assert found(per_language, "What did Italy pledge?") == found(english, "What did Italy pledge?") == {"en"}


def test_the_answer_engines_english_terms_keep_their_idf() -> None:
    """The answer engine analyses sentences as English and weighs their terms by the index's IDF: per language,
    a chunk also holds those terms (once), so every English term's IDF is what the English index gives."""
    per_language = LexicalIndex.build(COVERAGE, "t", PER_LANGUAGE)
    english = LexicalIndex.build(COVERAGE, "t", ENGLISH)
    assert {"promess", "promesso", "govern", "governi"} <= set(PER_LANGUAGE.chunk_terms(COVERAGE[0]))
    for term in {t for c in COVERAGE for t in ENGLISH.chunk_terms(c)}:
        assert per_language.idf(term) == english.idf(term), term


def test_an_index_of_the_other_analysis_is_rebuilt_not_read(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    IndexRecord(path).replace_all({"a": "v1"}, "gen-1")  # built with English analysis
    assert IndexRecord(path).state() is not None
    assert IndexRecord(path, PER_LANGUAGE.format).state() is None  # the manager rebuilds it
    IndexRecord(path, PER_LANGUAGE_FORMAT).replace_all({"a": "v1"}, "gen-2")
    assert IndexRecord(path).state() is None and PER_LANGUAGE_FORMAT != FORMAT
