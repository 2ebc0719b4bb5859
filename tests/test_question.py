"""Question analysis: what a question is about (the entities the evidence must name) and what it asks for."""

from __future__ import annotations

import pytest

from bot.answer.extractive import entity_found
from bot.answer.question import analyse, essential_entities
from vectorstore.analysis import words_of


@pytest.mark.parametrize(
    ("question", "entities"),
    [
        # A capitalised first word is a name only when a name follows it, not a number.
        ("Approximately 1 billion people had their data leaked. Where did the leak occur?", (("1",),)),
        ("Despite dropping, what did Italy pledge?", (("Italy",),)),
        ("Olena Kondratiuk said what?", (("Olena", "Kondratiuk"),)),
        # The name in a compound is its capitalised part.
        ("President Biden designated a WWII-era site. Where is it?", (("President", "Biden"), ("WWII",))),
        ("What did the Russian-led alliance decide?", (("Russian",),)),
        # Quoted names, in the quotation marks of each language.
        ("Яке шоу отримало найбільше номінацій на премію «Еммі» 2022 року?", (("Еммі", "2022"),)),
        ("Chi ha vinto il premio „Goldene Kamera“?", (("Goldene", "Kamera"),)),
    ],
)
def test_entities(question: str, entities: tuple[tuple[str, ...], ...]) -> None:
    assert analyse(question).entities == entities


def test_an_abbreviation_is_found_spelled_out() -> None:
    words = words_of("Camp Hale, a World War II training ground in Colorado")
    assert entity_found(("WWII",), words)
    assert not entity_found(("WWI",), words_of("a training ground in Colorado"))


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("What did Italy pledge?", "amount"),
        ("How much does a gallon of gas cost?", "amount"),
        ("How many Russians could be conscripted?", "amount"),
        # "which" asks for a thing even where prices are the topic; "costume" is not "cost".
        ("Which item showed one of the largest price spikes?", "thing"),
        ("Which is the most popular Halloween costume this year?", "thing"),
        ("Who became prime minister?", "person"),
        ("Which state has the most cases?", "state"),
        ("Which of the following US cities saw the biggest increase?", "city"),
        ("Which country did Jill Biden visit?", "country"),
        ("Where is the glacier?", "place"),
        ("When will the vaccine be available?", "date"),
        ("Why did cities cancel their fireworks?", "reason"),
        # The same kinds of place asked for in Ukrainian and Italian, "which" declined or not.
        ("Яку країну сколихнув землетрус?", "country"),
        ("Di quale paese diventerà premier?", "country"),
        ("У якому штаті виграли лотерею?", "state"),
        ("In quale stato è stato venduto il biglietto?", "state"),
        ("Яке місто відкрило табір?", "city"),
        ("Quale città ha aperto una tendopoli?", "city"),
        ("Quale paese è stato colpito?", "country"),  # "è stato" (has been) is no state
        # "наскільки" (by how much) asks for an amount as "скільки" (how many) does
        ("Наскільки зросли ціни на бензин у США?", "amount"),
        ("Насколько выросли цены на бензин?", "amount"),
    ],
)
def test_answer_type(question: str, kind: str) -> None:
    assert analyse(question).answer_type == kind


@pytest.mark.parametrize(
    ("question", "essential"),
    [
        # A number in the scene-setting statement is not what the coverage must repeat ("falling for 51 days")…
        ("US gas prices have been falling now for more than 50 days. What was the record high price?", ()),
        # …a number in the question itself is.
        ("What happened in Kyiv in 1850?", (("Kyiv",), ("1850",))),
        ("The Italian army sent 30 howitzers. What did Portugal pledge?", (("Italian",), ("Portugal",))),
    ],
)
def test_essential_entities(question: str, essential: tuple[tuple[str, ...], ...]) -> None:
    assert essential_entities(analyse(question)) == essential


@pytest.mark.parametrize(
    ("question", "term", "related"),
    [
        ("Who gave Ukraine tanks?", "gave", "sent"),  # the past tense relates to past tenses (lemminflect's)
        ("What did Canada give?", "give", "send"),
        ("Which team won the cup?", "won", "win"),
        ("Who hosted the summit?", "host", "held"),
        ("What did the G7 pledge?", "g7", "seven"),  # an abbreviation's spelled-out words
        ("What did the G7 pledge?", "pledg", "promis"),
    ],
)
def test_related_terms_are_read_from_word_tables(question: str, term: str, related: str) -> None:
    assert related in analyse(question).expansions[term]
