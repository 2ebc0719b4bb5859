"""Example questions: the newsroom's configured ones first, then the newest articles."""

from __future__ import annotations

from bot.telegram.examples import examples, find_example
from vectorstore.models import StoredArticle


def _article(article_id: str, date: str) -> StoredArticle:
    return StoredArticle(id=article_id, title=f"Headline {article_id}", version="v", chunks=1, date=date)


def test_configured_questions_come_first_and_articles_fill_up_to_three() -> None:
    catalog = {a.id: a for a in (_article("a", "2024-01-01"), _article("b", "2024-02-01"))}
    got = examples(catalog, ["What did Italy pledge?", "  "])
    assert [e.question for e in got] == [
        "What did Italy pledge?",
        "Tell me about: Headline b",
        "Tell me about: Headline a",
    ]
    assert len({e.key for e in got}) == 3


def test_a_configured_question_is_found_by_its_key_and_a_stale_key_is_not() -> None:
    configured = ["What did Italy pledge?", "What is Zbroiari?"]
    key = examples({}, configured)[1].key
    found = find_example({}, key, configured)
    assert found is not None and found.question == "What is Zbroiari?"
    assert find_example({}, key, ["Something else?"]) is None
