"""The statement form a question is embedded in (vectorstore/query_form.py)."""

from __future__ import annotations

import pytest

from vectorstore.query_form import declarative


@pytest.mark.parametrize(
    ("question", "statement"),
    [
        ("What did Italy pledge?", "What Italy pledged"),
        ("What did Zelensky and Meloni talk about?", "What Zelensky and Meloni talked about"),
        ("How much did the war cost?", "How much the war cost"),
        ("Which country did the president visit last week?", "Which country the president visited last week"),
        ("What does NATO want?", "What NATO wants"),
        ("Where do the refugees go?", "Where the refugees go"),
    ],
)
def test_do_support_questions_take_the_statement_form(question: str, statement: str) -> None:
    assert declarative(question) == statement


@pytest.mark.parametrize(
    "question",
    [
        "Who will host the G7 in 2024?",
        "What is Zbroiari?",
        "Who won the Eurovision Song Contest?",
        "Did",
        "What did Italy?",  # no verb after the subject: nothing to restore
        "",
    ],
)
def test_other_questions_are_embedded_as_asked(question: str) -> None:
    assert declarative(question) == question
