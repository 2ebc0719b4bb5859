"""Following a story without Telegram: matching new articles against followed topics, the queue's exactly-once
rules, and when a user may be told (quiet hours, digests)."""

from __future__ import annotations

import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.follow.models import Match, Preferences
from bot.follow.schedule import deliverable, in_quiet_hours, last_digest, parse_clock, parse_offset
from bot.follow.store import AlreadyFollowed, Followed, FollowStore, TooMany

if TYPE_CHECKING:
    from bot.runtime import Runtime

REPO = Path(__file__).resolve().parents[1]
FOLLOW_DATA = REPO / "tests" / "data" / "follow"
SAMPLE = REPO / "data" / "sample"
AID = "Italy's military aid to Ukraine"


def follow(runtime: Runtime, user_id: int, text: str) -> int:
    result = runtime.follows.follow(user_id, user_id, text, runtime.embedder.embed_query(text), limit=20)
    assert isinstance(result, Followed)
    return result.topic.id


def statuses(runtime: Runtime, user_id: int) -> list[tuple[str, str]]:
    return runtime.follows.sent_items(user_id)


def test_a_new_article_is_queued_for_its_topic_and_not_for_an_unrelated_one(runtime: Runtime) -> None:
    runtime.ingest([str(SAMPLE)])
    follow(runtime, 1, AID)
    follow(runtime, 2, "Inter Milan and the Serie A title")
    follow(runtime, 3, "Gotthard rail tunnel")
    report = runtime.ingest([str(FOLLOW_DATA)])
    assert sorted(report.added) == ["alpine-rail", "italy-samp-t", "serie-a-derby"]
    # The Italian football result names Italy, but not Ukraine: the aid's follower is not told of it.
    assert statuses(runtime, 1) == [("italy-samp-t", "pending")]
    assert statuses(runtime, 2) == [("serie-a-derby", "pending")]
    assert statuses(runtime, 3) == [("alpine-rail", "pending")]
    batch = runtime.follows.claim(1, "test", max_items=10)
    assert batch is not None
    (item,) = batch.items
    assert "military aid package" in item.sentence and item.topic == AID and not item.updated


def test_the_archive_is_not_matched_again(runtime: Runtime) -> None:
    """Only what an ingest adds or updates is matched: following a topic does not push the archive, and an
    unchanged re-ingest queues nothing."""
    runtime.ingest([str(FOLLOW_DATA)])
    follow(runtime, 1, AID)
    runtime.ingest([str(FOLLOW_DATA)])
    assert statuses(runtime, 1) == []


def test_an_update_is_told_again_only_when_its_matching_sentence_changed(runtime: Runtime, tmp_path: Path) -> None:
    source = tmp_path / "coverage"
    source.mkdir()
    article = source / "italy-samp-t.md"
    shutil.copy(FOLLOW_DATA / "italy-samp-t.md", article)
    follow(runtime, 1, AID)
    runtime.ingest([str(source)])
    assert statuses(runtime, 1) == [("italy-samp-t", "pending")]
    first = runtime.follows.claim(1, "test", max_items=10)
    assert first is not None
    runtime.follows.finish(first.id, "sent")

    # An edit elsewhere in the article: updated in the store, the same sentence matches, nobody is told again.
    text = article.read_text(encoding="utf-8")
    article.write_text(text.replace("thanked Rome", "thanked Rome warmly"), encoding="utf-8")
    assert runtime.ingest([str(source)]).updated == ["italy-samp-t"]
    assert statuses(runtime, 1) == [("italy-samp-t", "sent")]

    # The matching sentence itself changes: told again, marked as an update.
    old = first.items[0].sentence
    article.write_text(
        article.read_text(encoding="utf-8").replace(old, old.replace("ninth", "tenth")), encoding="utf-8"
    )
    assert runtime.ingest([str(source)]).updated == ["italy-samp-t"]
    assert statuses(runtime, 1) == [("italy-samp-t", "sent"), ("italy-samp-t", "pending")]
    again = runtime.follows.claim(1, "test", max_items=10)
    assert again is not None and again.items[0].updated and "tenth" in again.items[0].sentence


def _match(user_id: int, topic_id: int, article_id: str, sentence: str = "Italy sent a battery.") -> Match:
    return Match(topic_id, user_id, user_id, article_id, "Title", None, None, None, sentence, 0, 10, 1.2, False)


def test_a_notification_is_claimed_by_one_sender_of_many(tmp_path: Path) -> None:
    """Several processes share the database: each claim is one transaction, so each row goes to one sender."""
    db = tmp_path / "feedback.sqlite3"
    stores = [FollowStore(db) for _ in range(4)]
    topic = stores[0].follow(7, 7, "topic", [1.0, 0.0], limit=20)
    assert isinstance(topic, Followed)
    assert stores[0].queue([_match(7, topic.topic.id, f"a{i}") for i in range(5)]) == 5
    assert stores[1].queue([_match(7, topic.topic.id, "a0")]) == 0  # queued twice: once
    got: list[int] = []
    barrier = threading.Barrier(len(stores))

    def claim(store: FollowStore) -> None:
        barrier.wait()
        batch = store.claim(7, "p", max_items=10)
        if batch is not None:
            got.extend(item.id for item in batch.items)

    threads = [threading.Thread(target=claim, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == sorted(set(got)) and len(got) == 5


def test_an_interrupted_claim_is_never_sent_again(tmp_path: Path) -> None:
    store = FollowStore(tmp_path / "f.sqlite3")
    topic = store.follow(7, 7, "topic", [1.0], limit=20)
    assert isinstance(topic, Followed)
    store.queue([_match(7, topic.topic.id, "a")], now=100.0)
    assert store.claim(7, "dead", max_items=10, now=100.0) is not None  # and its process is killed
    assert store.pending_users(now=200.0) == []
    assert store.expire_claims(before=150.0) == 1
    assert store.pending_users(now=200.0) == [] and store.claim(7, "new", max_items=10, now=200.0) is None
    assert store.sent_items(7) == [("a", "failed")]


def test_the_limit_on_topics_per_user(tmp_path: Path) -> None:
    store = FollowStore(tmp_path / "f.sqlite3")
    assert isinstance(store.follow(1, 1, "one", [1.0], limit=2), Followed)
    assert isinstance(store.follow(1, 1, "one", [1.0], limit=2), AlreadyFollowed)
    assert isinstance(store.follow(1, 1, "two", [1.0], limit=2), Followed)
    assert store.follow(1, 1, "three", [1.0], limit=2) == TooMany(2)
    first = store.topics(1)[0]
    assert store.stop(2, first.id) is None  # not theirs
    assert store.stop(1, first.id) == first
    assert isinstance(store.follow(1, 1, "three", [1.0], limit=2), Followed)


def _at(iso: str) -> float:
    return datetime.fromisoformat(iso).replace(tzinfo=UTC).timestamp()


def test_quiet_hours_wrap_past_midnight_in_the_users_time_zone() -> None:
    prefs = Preferences(1, quiet_from="22:00", quiet_to="07:00", utc_offset_min=120)
    assert in_quiet_hours(prefs, _at("2024-05-20T21:30:00"), 0)  # 23:30 at UTC+2
    assert in_quiet_hours(prefs, _at("2024-05-20T04:59:00"), 0)  # 06:59
    assert not in_quiet_hours(prefs, _at("2024-05-20T05:00:00"), 0)  # 07:00
    assert not in_quiet_hours(Preferences(1, quiet_from="22:00", quiet_to="07:00"), _at("2024-05-20T21:30:00"), 0)


def test_a_digest_goes_out_once_its_time_has_passed_since_the_news_was_queued() -> None:
    prefs = Preferences(1, digest_at="08:00")
    queued = _at("2024-05-20T09:00:00")
    assert not deliverable(prefs, queued, _at("2024-05-20T12:00:00"), 0)
    assert not deliverable(prefs, queued, _at("2024-05-21T07:59:00"), 0)
    assert deliverable(prefs, queued, _at("2024-05-21T08:00:00"), 0)
    assert last_digest(prefs, _at("2024-05-21T08:30:00"), -60) == _at("2024-05-21T09:00:00") - 86400
    assert deliverable(Preferences(1), queued, queued, 0)


@pytest.mark.parametrize(
    ("text", "minutes"), [("+2", 120), ("-05:30", -330), ("UTC+1", 60), ("gmt-3", -180), ("+15", None), ("x", None)]
)
def test_offsets(text: str, minutes: int | None) -> None:
    assert parse_offset(text) == minutes


def test_clock_times() -> None:
    assert parse_clock("8:00") == "08:00" and parse_clock("23.59") == "23:59" and parse_clock("24:00") is None


def test_a_topics_capitalised_first_word_is_a_name_the_article_must_hold() -> None:
    """A topic reads like a headline: "Uvalde school shooting" is about Uvalde, so the Oxford school shooting is
    no match; question words and ordinary openings are not names."""
    from bot.answer.question import analyse
    from bot.follow.matching import topic_entities

    assert topic_entities(analyse("Uvalde school shooting")) == (("Uvalde",),)
    assert topic_entities(analyse("What did Italy pledge?")) == (("Italy",),)
    assert topic_entities(analyse("The James Webb Space Telescope")) == (("James", "Webb", "Space", "Telescope"),)


TOPICS = [
    *[AID] * 3,  # one story followed by many users is read once and told to each
    "Inter Milan and the Serie A title",
    "Gotthard rail tunnel",
    "What did Italy pledge?",
    "Italy's air defence",
    "Ukraine",
    "Swiss rail freight",
    "Monkeypox outbreak",
    "Federal Reserve interest rate hikes",
]


def test_matching_drops_no_match_that_scoring_every_follower_and_article_finds(runtime: Runtime) -> None:
    """Reading each distinct topic once and setting aside the pairs that cannot reach the threshold is only a
    saving: at any threshold, every follower gets exactly what scoring each of their pairs in full gives."""
    from bot.follow.matching import MatchConfig, coverage_bounds, match_articles, read_article, read_topic, score_pair
    from bot.follow.queueing import new_articles

    report = runtime.ingest([str(SAMPLE), str(FOLLOW_DATA)])
    for user, text in enumerate(TOPICS, start=1):
        follow(runtime, user, text)
        follow(runtime, 100 + user % 3, text)  # and a few users following several topics
    topics = runtime.follows.topic_matrix()
    articles = new_articles(runtime.store, report.added, [])
    idf = runtime.retriever.lexical.current().idf
    config = MatchConfig()
    full = {}
    for row, text in enumerate(topics.texts):
        topic = read_topic(text, idf)
        for article in articles:
            sims = article.vectors @ topics.vectors[row]
            reading = read_article(article)
            pair = score_pair(topic, article, reading, sims, idf, config)
            bounds = list(coverage_bounds(topic, reading))
            assert bounds == sorted(bounds, reverse=True) and bounds[-1] >= pair.coverage
            if pair.dense >= config.dense_floor:
                full[row, article.id] = pair
    for threshold in (0.0, 0.8, 1.03, 1.2):
        best: dict[tuple[int, str], tuple[float, int]] = {}
        for (row, article_id), pair in full.items():
            score = pair.score(config)
            key = (int(topics.user_ids[row]), article_id)
            if score >= threshold and pair.sentence and (key not in best or score > best[key][0]):
                best[key] = (score, int(topics.ids[row]))
        expected = {(*key, topic, round(score, 5)) for key, (score, topic) in best.items()}
        matches = match_articles(topics, articles, idf, threshold, config)
        assert {(m.user_id, m.article_id, m.topic_id, round(m.score, 5)) for m in matches} == expected
        assert expected or threshold > 1
    told = {m.user_id for m in match_articles(topics, articles, idf, 1.03, config) if m.article_id == "italy-samp-t"}
    assert told >= {1, 2, 3}
    assert any(p.score(config) < 1.03 for p in full.values())  # pairs above the floor that the bounds set aside
