"""The answering span: the one name, figure, date or place in an answer sentence that answers the question."""

from __future__ import annotations

import pytest

from bot.answer.engine import EngineConfig
from bot.answer.highlight import answer_span, with_highlights
from bot.answer.models import Answer, AnswerSentence, Citation
from bot.answer.question import analyse

MIN_NAME_WORDS = EngineConfig().highlight_min_name_words
TAJANI = (
    "Earlier, Italian Foreign Minister Antonio Tajani revealed, during the Ukraine Recovery Conference in Berlin, "
    "that Italy approved a €140 million ($ 150 mn) package for Ukrainian infrastructure."
)


def span_text(question: str, sentence: str) -> str | None:
    span = answer_span(analyse(question), sentence, MIN_NAME_WORDS)
    return None if span is None else sentence[span[0] : span[1]]


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        # amounts: a figure given in two currencies is one
        ("How much did Italy pledge?", TAJANI, "€140 million ($ 150 mn)"),
        ("How many Italian companies joined the alliance?", "Five companies from Italy have joined it.", "Five"),
        ("How much will the project raise?", "The goal is to raise $10 billion for weapons in 2024.", "$10 billion"),
        ("What percentage voted yes?", "Turnout was high, and 52.4% voted yes.", "52.4%"),
        # dates: a whole expression, and a day number is not an amount
        ("When will the summit be held?", "It will be held on Monday, 12 January 2024 in Davos.",
         "Monday, 12 January 2024"),
        ("When did the alliance form?", "The alliance was formed in September 2023.", "September 2023"),
        ("What year did the war start?", "The war started in 2014.", "2014"),
        # people: the name after the titles, never a title, an organisation or a place
        ("Who is Italy's foreign minister?", TAJANI, "Antonio Tajani"),
        ("Who announced it?", "It was announced by Deputy Chair of the Ukrainian Parliament Olena Kondratiuk.",
         "Olena Kondratiuk"),
        ("Who leads the Commission?", "The Commission is led by Ursula von der Leyen.", "Ursula von der Leyen"),
        # places: known places of the kind asked; a place opening a longer name is that name's
        ("Where did Tajani announce Italy's aid package?", TAJANI, "Berlin"),
        ("Which country took over the presidency?", "Italy took over the presidency at a summit in Rome.", "Italy"),
        ("Where was the conference held?", "The conference in Rome drew delegates; Rome hosts it yearly.", "Rome"),
    ],
)  # fmt: skip
def test_the_one_candidate_of_the_kind_asked_is_the_span(question: str, sentence: str, expected: str) -> None:
    assert span_text(question, sentence) == expected


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        # two candidates: bolding one would claim more than the sentence says
        ("How many companies joined?", "As of 2023, 59 companies from 23 countries had joined."),
        ("When was it moved?", "It was planned for March but moved to 12 May."),
        ("Who spoke?", "Ukrainian President Volodymyr Zelensky and Italian Prime Minister Giorgia Meloni spoke."),
        ("Which countries joined?", "The Netherlands, Denmark, and Canada have already joined this initiative."),
        # none of the kind asked for
        ("How much did Italy pledge?", "Italy supports Ukraine in its fight."),
        ("Who spoke?", "The Ukraine Recovery Conference met in Berlin with the Security Culture forum."),
        ("Where did it happen?", "It happened at the Kyiv Post offices."),
        # kinds of question that have no span
        ("Which air defense system was Italy prepared to send?", "Italy was prepared to send SAMP/T in 2024."),
        ("Why did Italy send aid?", "Italy sent €140 million because Ukraine asked in March."),
    ],
)  # fmt: skip
def test_zero_or_several_candidates_give_no_span(question: str, sentence: str) -> None:
    assert span_text(question, sentence) is None


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("Who did Zelensky call?", "Ukrainian President Volodymyr Zelensky called Prime Minister Giorgia Meloni.",
         "Giorgia Meloni"),
        ("Where did Italy announce the package?", "Italy announced the package in Berlin.", "Berlin"),
        ("How much did the 59 members raise?", "The 59 members raised $10 billion.", "$10 billion"),
        ("When, after 2023, did it open?", "Closed in 2023, it opened in May 2024.", "May 2024"),
    ],
)  # fmt: skip
def test_a_candidate_the_question_names_never_counts(question: str, sentence: str, expected: str) -> None:
    assert span_text(question, sentence) == expected


def llm_answer(sentence: str, quote: str) -> Answer:
    citation = Citation(1, "a1", "Italy pledges aid", None, None, None, 0, len(quote), quote)
    return Answer("How much did Italy pledge?", (AnswerSentence(sentence, (1,)),), (citation,), mode="llm")


def test_an_llm_sentence_is_highlighted_only_where_its_verified_quote_holds_the_same_one_candidate() -> None:
    question = analyse("How much did Italy pledge?")
    quoted = with_highlights(llm_answer("Italy pledged €140 million.", "Italy approved a €140 million package."),
                             question, MIN_NAME_WORDS)  # fmt: skip
    assert quoted.sentences[0].highlight == (14, 26)
    # The quote holds two figures: which one the model's sentence picked is its own reading, not bolded.
    two = with_highlights(llm_answer("Italy pledged €140 million.", "Italy gave €140 million after €90 million."),
                          question, MIN_NAME_WORDS)  # fmt: skip
    assert two.sentences[0].highlight is None


def extractive_answer(question: str, *sentences: str) -> Answer:
    citation = Citation(1, "a1", "t", None, None, None, 0, 1, "q")
    return Answer(question, tuple(AnswerSentence(text, (1,)) for text in sentences), (citation,))


def test_the_lead_sentence_decides_the_span_and_the_answer_text_is_unchanged() -> None:
    answer = extractive_answer("How much did Italy pledge?", TAJANI, "Italy and Ukraine signed deals worth $3 billion.")
    highlighted = with_highlights(answer, analyse(answer.question), MIN_NAME_WORDS)
    # The second sentence's one figure is context, not the answer: not bold.
    assert [s.highlight for s in highlighted.sentences] == [(TAJANI.index("€"), TAJANI.index(" package")), None]
    assert highlighted.text == answer.text
    assert highlighted.sentences[0].shown_parts[1] == "€140 million ($ 150 mn)"


def test_a_later_sentence_naming_the_same_answer_is_bold_too_and_none_is_without_a_lead_span() -> None:
    question = "Who did Zelensky call?"
    same = extractive_answer(question, "Zelensky called Giorgia Meloni.", "Giorgia Meloni thanked him.")
    spans = [s.highlight for s in with_highlights(same, analyse(question), MIN_NAME_WORDS).sentences]
    assert spans == [(16, 30), (0, 14)]
    # The lead names two people: no sentence is bold, not even one naming a single other person.
    two = extractive_answer(question, "Zelensky called Giorgia Meloni and Olaf Scholz.", "Antonio Tajani was there.")
    assert [s.highlight for s in with_highlights(two, analyse(question), MIN_NAME_WORDS).sentences] == [None, None]
