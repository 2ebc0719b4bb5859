"""Domain objects of following a story: a followed topic, a new article matching it, and what is pushed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    """A story a user follows: the question they asked (or the text they gave) and, in the store, its vector."""

    id: int
    user_id: int
    chat_id: int
    text: str
    created_at: str


@dataclass(frozen=True)
class Match:
    """A new (or updated) article that matches a followed topic, with the one sentence that matches best."""

    topic_id: int
    user_id: int
    chat_id: int
    article_id: str
    title: str
    url: str | None
    date: str | None
    source: str | None
    sentence: str
    start: int  # the sentence's offsets in the article text, as an answer's citation gives them
    end: int
    score: float
    updated: bool  # the article was an update of one already stored


@dataclass(frozen=True)
class Item:
    """One article of a notification, as queued."""

    id: int
    topic_id: int
    topic: str
    article_id: str
    title: str
    url: str | None
    date: str | None
    source: str | None
    sentence: str
    updated: bool


@dataclass(frozen=True)
class Batch:
    """The notifications of one user claimed for one message: sent together, marked together."""

    id: int
    user_id: int
    chat_id: int
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Preferences:
    """How and when a user is told: paused (they blocked the bot), a daily digest time, quiet hours, offset."""

    user_id: int
    paused: bool = False
    digest_at: str | None = None  # "HH:MM" local time: one message a day then, instead of one per batch
    quiet_from: str | None = None  # "HH:MM" local time: nothing is sent from then ...
    quiet_to: str | None = None  # ... until then (may wrap past midnight)
    utc_offset_min: int | None = None  # the user's offset from UTC; None: the setting's


@dataclass(frozen=True)
class FollowStats:
    topics: int
    followers: int
    sent: int
    failed: int
    pending: int
    paused_users: int
    pushes_paused: bool
