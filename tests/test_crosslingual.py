"""The pure parts of answering across languages (bot/answer/crosslingual.py): which missing names decline a
question for certain, how much of a question its names stand for, and the sentence embeddings kept between
questions. The engine's answers across languages are tested in test_multilingual.py."""

from __future__ import annotations

import pytest

from bot.answer.aliases import institutions_in
from bot.answer.crosslingual import EvidenceWords, bridged, mapped_with_certainty, names_share
from bot.answer.question import analyse
from bot.answer.sentence_vectors import SentenceVectors
from vectorstore.embedder import Embedder
from vectorstore.models import Chunk, Passage


@pytest.mark.parametrize(
    ("group", "language", "certain"),
    [
        (("Португалія",), "uk", (True,)),  # a country, by CLDR
        (("Portogallo",), "it", (True,)),
        (("Лісабона",), "uk", (True,)),  # a big city, by GeoNames, inflected
        (("G7",), "uk", (True,)),  # a code
        (("NFL",), "it", (True,)),
        (("Champions", "League"), "it", (True, True)),  # English words: an English name, kept as written
        (("Champions", "League"), "en", (False, False)),  # ... but Italian coverage may translate an English one
        (("Casa", "Bianca"), "it", (False, False)),  # Italian words: the coverage says "White House"
        (("Camera",), "it", (False,)),  # one word that is also English proves little
        (("Parlamento",), "it", (False,)),  # a common noun the coverage translates ("Parliament")
        (("Верховної", "Ради", "України"), "uk", (False, False, True)),
        (("ППО", "Італія"), "uk", (False, True)),  # an abbreviation in another script: "air defence"
        (("Джеремаю", "Джеррі", "Гарріса"), "uk", (False, False, False)),  # "Джеррі" is not "Джерсі", Jersey
        (("Португалії",), "uk", (True,)),  # inflected
        (("Мелоні",), "uk", (False,)),  # a name no list holds: transliteration may find it, its absence proves little
    ],
)
def test_names_we_can_map_decline_for_certain(group: tuple[str, ...], language: str, certain: tuple[bool, ...]) -> None:
    assert mapped_with_certainty(group, language) == certain


class _Evidence:
    """EvidenceWords over a fixed vocabulary: what `bridged` asks of the evidence."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def name_for(self, word: str) -> str | None:
        return self.names.get(word)

    def cognate_of(self, word: str) -> str | None:
        return None


def test_a_questions_names_count_for_the_share_of_its_words_they_are() -> None:
    question = analyse("Що пообіцяла Італія?")
    asked = bridged(question, _Evidence({"Італія": "Italy"}))  # type: ignore[arg-type]
    assert asked.terms == ("itali",) and asked.entities == (("Italy",),)
    assert "Italy" in asked.text  # a place the question names is not taken for the answer
    assert names_share(question, asked) == 0.5  # "пообіцяла", "Італія": "що" is a function word
    unnamed = bridged(question, _Evidence({}))  # type: ignore[arg-type]
    assert unnamed.terms == () and names_share(question, unnamed) == 0.0


def test_sentence_vectors_are_embedded_once_and_the_oldest_leave_first(multilingual_embedder: Embedder) -> None:
    vectors = SentenceVectors(multilingual_embedder, size=2)
    asked = multilingual_embedder.embed_query("Che cosa ha promesso l'Italia?")
    pledge, weather = "Italy approved a €140 million package.", "It rained in Rome on Sunday."
    first = vectors.similarities(asked, [pledge, weather, pledge])
    assert first[0] == first[2] and first[0] > first[1]
    direct = sum(a * b for a, b in zip(asked, multilingual_embedder.encode([pledge])[0], strict=True))
    assert first[0] == pytest.approx(direct, abs=1e-5)
    assert list(vectors._vectors) == [weather, pledge]  # each once, the most recently asked last
    vectors.similarities(asked, ["Kyiv is the capital of Ukraine."])
    assert list(vectors._vectors) == [pledge, "Kyiv is the capital of Ukraine."]


def test_a_kept_vector_evicted_while_others_are_embedded_is_still_used(multilingual_embedder: Embedder) -> None:
    """Embedding runs outside the lock, so another question can evict what this one found kept (here: a nested
    question asked from inside the embedding, as a second thread would)."""

    class Interleaved:
        def __init__(self) -> None:
            self.nested = True

        def encode(self, texts: list[str]) -> list[list[float]]:
            if self.nested:
                self.nested = False
                vectors.similarities(asked, ["Kyiv is the capital of Ukraine.", "Rome hosted the summit."])
            return multilingual_embedder.encode(texts)

    vectors = SentenceVectors(multilingual_embedder, size=2)
    asked = multilingual_embedder.embed_query("Che cosa ha promesso l'Italia?")
    pledge = "Italy approved a €140 million package."
    before = vectors.similarities(asked, [pledge])
    vectors.embedder = Interleaved()  # type: ignore[assignment]
    after = vectors.similarities(asked, [pledge, "It rained in Rome on Sunday."])
    assert after[0] == before[0]


def _evidence(text: str) -> EvidenceWords:
    chunk = Chunk(article_id="a", version="1", position=0, start=0, end=len(text), text=text, title="")
    return EvidenceWords([Passage(chunk=chunk, score=1.0)])


@pytest.mark.parametrize(
    ("word", "text", "named"),
    [
        ("Lisbon", "The mayor said the list was long, and we would like to see it.", None),  # not "LIS", "li si ben"
        ("Lisbona", "The mayor of Lisbon announced free buses.", "Lisbon"),
        ("Іран", "Iranian officials said the talks would resume.", "Iran"),  # a name's inflection still counts
        ("Італія", "Italy approved a package.", "Italy"),
        ("США", "Let us see the plan.", None),  # "US" is a name only in capitals
        ("США", "US officials said.", "US"),
        ("США", "The U.S. said so.", "U.S."),
    ],
)
def test_a_name_is_found_under_its_names_but_not_as_the_start_of_another_word(
    word: str, text: str, named: str | None
) -> None:
    assert _evidence(text).name_for(word) == named


@pytest.mark.parametrize(
    ("text", "named"),
    [
        # inflected, in a longer name
        ("Хто заступник голови Верховної Ради України?", {"Верховної": "Parliament", "Ради": "Parliament"}),
        ("За даними Білого дому", {"Білого": "White House", "дому": "White House"}),  # a form listed as such
        ("Secondo la Casa Bianca", {"Casa": "White House", "Bianca": "White House"}),
        ("Що сказав Верховний суд США?", {"Верховний": "Supreme Court", "суд": "Supreme Court"}),
        ("Що вирішила ООН?", {"ООН": "UN"}),  # a code only as written
        ("Рада директорів схвалила", {}),  # "Рада" alone is any council
        ("Чи ради ви?", {}),
    ],
)
def test_an_institutions_words_are_found_inflected_with_its_english_names(text: str, named: dict[str, str]) -> None:
    found = institutions_in(text)
    assert set(found) == set(named)
    assert all(english in found[word] for word, english in named.items())


def test_a_word_is_found_as_the_evidences_cognate_but_never_a_country_or_a_code() -> None:
    from bot.answer.engine import EngineConfig

    chunk = Chunk(article_id="a", version="1", position=0, start=0, end=0, title="",
                  text="The Ukrainian Parliament voted; Portugal and NATO said nothing.")  # fmt: skip
    evidence = EvidenceWords([Passage(chunk=chunk, score=1.0)], EngineConfig().cognates)
    assert evidence.cognate_of("Parlamento") == "parliament"
    assert evidence.cognate_of("парламенту") == "parliament"
    assert evidence.cognate_of("Portogallo") is None  # a country is found by its names, or is missing for certain
    assert evidence.cognate_of("НАТО") is None
    assert EvidenceWords([Passage(chunk=chunk, score=1.0)]).cognate_of("Parlamento") is None  # no rule: none
