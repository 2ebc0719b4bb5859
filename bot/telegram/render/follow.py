"""Following a story as Telegram HTML and buttons: a notification (new headlines, each with the sentence that
matches the topic, cited like an answer), the list of followed topics, and the replies to the commands.

Callback data (at most 64 bytes): `fo:ANSWER` follows an answer's question, `fs:TOPIC` stops a topic,
`nf:BATCH:±1` rates a notification.
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.follow.models import Batch, FollowStats, Item, Preferences, Topic
from bot.follow.schedule import format_offset
from bot.telegram.i18n import N_, Texts
from bot.telegram.render.answer import MAX_SENTENCE_HTML
from bot.telegram.render.markup import byline, link, markers, shorten
from bot.telegram.render.split import Block, pack

MAX_TOPIC_HTML = 200  # a topic as shown in a message
MAX_TOPIC_BUTTON = 40  # characters of a topic on a "Stop" button
FOLLOW_BUTTON = N_("🔔 Follow this story")

FOLLOW_USAGE = N_(
    "Usage: /follow <i>topic</i>, e.g. <code>/follow Italy's military aid to Ukraine</code>. "
    "Or tap 🔔 under an answer. I'll message you when new coverage matches."
)
NOT_FOLLOWING = N_("You don't follow any story yet. Tap 🔔 under an answer, or use /follow <i>topic</i>.")
DIGEST_USAGE = N_(
    "Usage: <code>/digest daily 08:00</code> (optionally with your offset from UTC, e.g. <code>+02:00</code>) "
    "for one message a day, or <code>/digest off</code> to be told as news arrives."
)
QUIET_USAGE = N_(
    "Usage: <code>/quiet 22:00 07:00</code> (optionally with your offset from UTC, e.g. <code>+02:00</code>), "
    "or <code>/quiet off</code>."
)


def follow_button(answer_id: int, t: Texts) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(t._(FOLLOW_BUTTON), callback_data=f"fo:{answer_id}")]


def _topic(text: str) -> str:
    return f"“{shorten(' '.join(text.split()), MAX_TOPIC_HTML)}”"


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_TOPIC_BUTTON else text[: MAX_TOPIC_BUTTON - 1].rstrip() + "…"


def render_followed(topic: Topic, count: int, limit: int, t: Texts) -> str:
    return t._(
        "🔔 Following %(topic)s (%(count)d of %(limit)d). I'll message you when new coverage matches; "
        "/following lists your stories.",
        topic=_topic(topic.text), count=count, limit=limit,
    )  # fmt: skip


def render_already(topic: Topic, t: Texts) -> str:
    return t._("You already follow %(topic)s. /following lists your stories.", topic=_topic(topic.text))


def render_too_many(limit: int, t: Texts) -> str:
    return t._(
        "You follow %(limit)d stories, the most I keep per person. "
        "Stop one in /following first, then follow this one.",
        limit=limit,
    )


def render_stopped(topic: Topic, t: Texts) -> str:
    return t._("🔕 Stopped following %(topic)s.", topic=_topic(topic.text))


def render_following(topics: Sequence[Topic], prefs: Preferences, default_offset_min: int, t: Texts) -> str:
    if not topics:
        return t._(NOT_FOLLOWING)
    lines = ["🔔 <b>" + t._("Stories you follow") + "</b>"]
    lines += [f"{i}. {_topic(topic.text)}" for i, topic in enumerate(topics, 1)]
    offset = format_offset(prefs.utc_offset_min if prefs.utc_offset_min is not None else default_offset_min)
    if prefs.digest_at:
        how = t._("Daily digest at %(clock)s (%(offset)s)", clock=prefs.digest_at, offset=offset)
    else:
        how = t._("As news arrives")
    if prefs.quiet_from and prefs.quiet_to:
        how += t._(", quiet %(start)s–%(end)s (%(offset)s)", start=prefs.quiet_from, end=prefs.quiet_to, offset=offset)
    lines += ["", "⏰ " + t._("%(how)s. /digest and /quiet change it; tap a button to stop a story.", how=how)]
    return "\n".join(lines)


def following_keyboard(topics: Sequence[Topic], t: Texts) -> InlineKeyboardMarkup | None:
    rows = [
        [InlineKeyboardButton(t._("🔕 Stop: %(topic)s", topic=_short(topic.text)), callback_data=f"fs:{topic.id}")]
        for topic in topics
    ]
    return InlineKeyboardMarkup(rows) if rows else None


def _item(item: Item, number: int, t: Texts) -> str:
    meta = byline(item.source, item.date, t)
    updated = "🔄 <i>" + t._("updated") + "</i> · " if item.updated else ""
    head = f"[{number}] {updated}<b>{link(item.title, item.url, t)}</b>"
    sentence = f"{shorten(' '.join(item.sentence.split()), MAX_SENTENCE_HTML)} {markers([number])}"
    return f"{head}{' · ' + meta if meta else ''}\n{sentence}"


def render_notification(batch: Batch, t: Texts) -> list[str]:
    """One message (split only if it must be) for a user's batch: the items grouped by topic, each a headline
    linked to its article and the sentence that matches, numbered like an answer's sources."""
    by_topic: dict[int, list[Item]] = {}
    for item in batch.items:
        by_topic.setdefault(item.topic_id, []).append(item)
    blocks = []
    number = 0
    for items in by_topic.values():
        units = []
        for item in items:
            number += 1
            units.append(_item(item, number, t))
        head = "🔔 <b>" + t._("New on %(topic)s", topic=_topic(items[0].topic)) + "</b>"
        blocks.append(Block((f"{head}\n\n{units[0]}", *units[1:]), "\n\n"))
    return pack(blocks)


def notification_keyboard(batch: Batch, t: Texts, chosen: int | None = None) -> InlineKeyboardMarkup:
    topics = {item.topic_id: item.topic for item in batch.items}
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t._("🔕 Stop following: %(topic)s", topic=_short(text)), callback_data=f"fs:{tid}")]
         for tid, text in topics.items()]
        + [rating_row(batch.id, chosen)]
    )  # fmt: skip


def rating_row(batch_id: int, chosen: int | None = None) -> list[InlineKeyboardButton]:
    return [
        InlineKeyboardButton("👍 ✓" if chosen == 1 else "👍", callback_data=f"nf:{batch_id}:1"),
        InlineKeyboardButton("👎 ✓" if chosen == -1 else "👎", callback_data=f"nf:{batch_id}:-1"),
    ]


def render_digest(prefs: Preferences, default_offset_min: int, t: Texts) -> str:
    offset = format_offset(prefs.utc_offset_min if prefs.utc_offset_min is not None else default_offset_min)
    if prefs.digest_at:
        return t._(
            "📰 One message a day at %(clock)s (%(offset)s) with the new coverage of your stories.",
            clock=prefs.digest_at, offset=offset,
        )  # fmt: skip
    return t._("📰 You'll be told of new coverage as it arrives.")


def render_quiet(prefs: Preferences, default_offset_min: int, t: Texts) -> str:
    offset = format_offset(prefs.utc_offset_min if prefs.utc_offset_min is not None else default_offset_min)
    if prefs.quiet_from and prefs.quiet_to:
        return t._(
            "🌙 Quiet from %(start)s to %(end)s (%(offset)s): news waits until then.",
            start=prefs.quiet_from, end=prefs.quiet_to, offset=offset,
        )  # fmt: skip
    return t._("🌙 No quiet hours.")


def render_follow_stats(stats: FollowStats) -> list[str]:
    """/stats lines (admins', in English): what is followed and what was pushed."""
    paused = " (⏸ paused by /pushes off)" if stats.pushes_paused else ""
    return [
        f"Followed stories: {stats.topics} by {stats.followers} users",
        f"Notifications: sent {stats.sent} · failed {stats.failed} · queued {stats.pending}{paused}",
    ]
