"""The bot's small state: per-chat memory, per-user rate limit, feedback database; no emulator needed."""

from __future__ import annotations

import io
import logging
import sqlite3
from pathlib import Path

import pytest

from bot.telegram.app import protect_token_in_logs
from bot.telegram.examples import example_key, examples, find_example
from bot.telegram.feedback import MIGRATIONS, FeedbackStore, NotTheAsker, Rated
from bot.telegram.memory import ChatMemory
from bot.telegram.ratelimit import RateLimiter
from vectorstore.models import StoredArticle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_memory_keeps_recent_questions_per_chat_and_forgets_after_the_ttl() -> None:
    clock = Clock()
    memory = ChatMemory(ttl_s=900, max_turns=3, clock=clock)
    memory.remember(1, "What did Italy pledge?")
    clock.now += 100
    memory.remember(1, "And Canada?")
    memory.remember(2, "Other chat")
    assert memory.history(1) == ["What did Italy pledge?", "And Canada?"]
    assert memory.history(2) == ["Other chat"]
    clock.now += 850  # the first question is 950 s old, the second 850 s
    assert memory.history(1) == ["And Canada?"]
    clock.now += 100
    assert memory.history(1) == []
    assert len(memory) == 1  # chat 1 forgotten entirely
    for q in "abcd":
        memory.remember(3, q)
    assert memory.history(3) == ["b", "c", "d"]


def test_memory_is_bounded_in_chats_and_sweeps_quiet_ones() -> None:
    clock = Clock()
    memory = ChatMemory(ttl_s=10, max_chats=2, clock=clock)
    for chat in (1, 2, 3):
        memory.remember(chat, "q")
    assert memory.history(1) == [] and memory.history(3) == ["q"]  # least recently active went first
    clock.now += 11
    assert memory.sweep() == 2 and len(memory) == 0


def test_rate_limit_is_a_sliding_window_per_user_and_warns_once() -> None:
    clock = Clock()
    limiter = RateLimiter(limit=3, window_s=60, clock=clock)
    for _ in range(3):
        assert limiter.check(7).allowed
        clock.now += 10
    refused = limiter.check(7)
    assert not refused.allowed and refused.first_refusal
    assert refused.retry_after_s == pytest.approx(30)
    again = limiter.check(7)
    assert not again.allowed and not again.first_refusal  # no flood of refusals
    assert limiter.check(8).allowed  # other users are unaffected
    clock.now += 30.5  # the first question left the window
    assert limiter.check(7).allowed
    assert not limiter.check(7).allowed


def test_rate_limit_zero_means_off() -> None:
    limiter = RateLimiter(limit=0)
    assert all(limiter.check(1).allowed for _ in range(100))


def test_feedback_migrations_are_named_applied_once_and_in_order(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    store = FeedbackStore(path)
    assert store.migrate() == []  # already applied by the constructor
    store.close()
    rows = sqlite3.connect(path).execute("SELECT name FROM migrations ORDER BY rowid").fetchall()
    assert [r[0] for r in rows] == [name for name, _ in MIGRATIONS]
    FeedbackStore(path).close()  # reopening applies nothing again


def test_feedback_keeps_question_and_answer_with_one_rating_per_user(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    answer_id = store.record_answer(
        chat_id=5, user_id=5, question="What did Italy pledge?", answer="EUR 140 million [1]",
        declined=False, article_ids=["a1"], latency_ms=120.0,
    )  # fmt: skip
    store.record_answer(
        chat_id=5, user_id=6, question="Capital of Australia?", answer="(declined)",
        declined=True, article_ids=[], latency_ms=40.0,
    )  # fmt: skip
    rated = store.rate(answer_id, 5, 1)
    assert (
        isinstance(rated, Rated)
        and rated.question == "What did Italy pledge?"
        and rated.answer == "EUR 140 million [1]"
    )
    store.rate(answer_id, 5, -1)  # changing one's mind replaces the rating
    assert store.rate(answer_id, 6, -1) == NotTheAsker(answer_id, 6)  # someone else's answer: nothing stored
    assert store.rating(answer_id, 5) == -1 and store.rating(answer_id, 6) is None
    assert store.rate(999, 5, 1) is None
    nobody = store.record_answer(
        chat_id=7, user_id=None, question="Q?", answer="A [1]", declined=False, article_ids=["a1"], latency_ms=500.0
    )  # an asker unknown: nobody can prove it was theirs
    assert store.rate(nobody, 7, 1) == NotTheAsker(nobody, 7)
    with pytest.raises(ValueError):
        store.rate(answer_id, 5, 0)
    stats = store.stats()
    assert (stats.questions_today, stats.declines_today, stats.thumbs_up, stats.thumbs_down) == (3, 1, 0, 1)
    assert stats.median_latency_ms_today == 120.0
    assert store.stats("1999-01-01").questions_today == 0
    store.close()


def test_examples_come_from_the_newest_titles_and_survive_a_restart() -> None:
    catalog = {
        i: StoredArticle(id=i, title=t, version="v", chunks=1, date=d)
        for i, t, d in [
            ("old", "Old news", "2023-01-01"),
            (
                "new",
                "A very long headline about the Italian aid package for Ukrainian infrastructure",
                "2024-01-01",
            ),
            ("mid", "Middle", "2023-06-01"),
            ("untitled", "", "2025-01-01"),
        ]
    }
    items = examples(catalog)
    assert [e.key for e in items] == [example_key("new"), example_key("mid"), example_key("old")]
    assert items[0].label.endswith("…") and len(items[0].label) <= 48
    assert items[0].question.endswith("Ukrainian infrastructure")
    assert find_example(catalog, items[1].key) == items[1]
    assert find_example(catalog, "nope") is None
    assert all(len(f"ex:{e.key}".encode()) <= 64 for e in items)


def test_the_token_is_redacted_from_any_log_line() -> None:
    token = "123:secret-token"
    handler = logging.StreamHandler(io.StringIO())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        protect_token_in_logs(token)
        logging.getLogger("some.library").warning("GET https://api.telegram.org/bot%s/getMe failed", token)
    finally:
        root.removeHandler(handler)
    written = handler.stream.getvalue()  # type: ignore[attr-defined]
    assert "bot<token>/getMe" in written and token not in written
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING
