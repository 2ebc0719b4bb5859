"""Admins' reports as Telegram HTML: an ingest run, its progress and failures, removals, the stats; in English,
like the admin commands."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from bot.telegram.i18n import DEFAULT_LANGUAGE, texts
from bot.telegram.render.coverage import Coverage, followed_block
from bot.telegram.render.follow import render_follow_stats
from bot.telegram.render.markup import MAX_MESSAGE_CHARS, MAX_NAME_HTML, MAX_TITLE_HTML, byline, esc, shorten, utf16_len
from bot.telegram.render.split import Block, pack, split_html

if TYPE_CHECKING:
    from bot.follow.models import FollowStats
    from bot.telegram.feedback import Stats
    from ingest import IngestReport, ItemError, Source
    from vectorstore.models import StoredArticle

# An admin's report is one edited status message, which cannot be split: it lists items until this much of the
# message is used, then says how many more there are.
_REPORT_LIST_BUDGET = MAX_MESSAGE_CHARS - 600


def render_report(what: str, report: IngestReport) -> str:
    """An ingest run for the admin who started it: counts, then what failed, was skipped or only half stored."""
    counts = (
        f"added {len(report.added)} · updated {len(report.updated)} · unchanged {len(report.unchanged)} · "
        f"removed {len(report.removed)} · failed {len(report.failed)} · skipped {len(report.skipped)} · "
        f"warnings {len(report.warnings)}"
    )
    mark = "✅" if report.ok else "⚠️"
    text = (
        f"{mark} <b>{shorten(what, MAX_TITLE_HTML)}</b> finished in {report.seconds:.1f} s\n{counts}\n"
        f"{report.chunks_embedded} chunks embedded"
    )
    for heading, items in (("Failed", report.failed), ("Skipped", report.skipped), ("Warnings", report.warnings)):
        if items:
            text += f"\n\n<b>{heading}</b>" + _item_lines(items, _REPORT_LIST_BUDGET - utf16_len(text))
    return text


def _item_lines(items: Sequence[ItemError], budget: int) -> str:
    lines = ""
    for shown, item in enumerate(items):
        line = f"\n• <code>{shorten(item.item, 200)}</code>: {shorten(item.reason, 300)}"
        if utf16_len(lines + line) > budget - 60:  # room for the "and N more" line
            return lines + f"\n… and {len(items) - shown} more (see the log)"
        lines += line
    return lines



def render_reading(what: str, sources: int) -> str:
    return f"⏳ {esc(what)}: reading {sources} source(s)…"


def render_progress(what: str, done: int, total: int) -> str:
    return f"⏳ {esc(what)}: embedding {done}/{total} chunks…"


def render_failure(what: str, reason: str) -> str:
    """A job that failed for a known reason (`failure_reason`), never the exception's text."""
    return f"❌ <b>{esc(what)}</b> failed. {esc(reason)}"


def _article_ref(title: str, article_id: str) -> str:
    return f"{shorten(title, MAX_TITLE_HTML)} (<code>{shorten(article_id, MAX_NAME_HTML)}</code>)"


def render_removed(
    removed: int, found: Sequence[str], missing: Sequence[str], catalog: Mapping[str, StoredArticle]
) -> list[str]:
    """/remove's reply as message parts: how many went, which, and the ids that were not there."""
    lines = [f"🗑 Removed {removed} article(s)."]
    lines += [f"• {_article_ref(catalog[i].title, i)}" for i in found]
    if missing:
        lines.append("Not found: " + ", ".join(f"<code>{esc(i[:100])}</code>" for i in missing))
    return split_html("\n".join(lines))


def render_stats(coverage: Coverage, numbers: Stats, follows: FollowStats | None = None) -> str:
    """/stats: articles, chunks, today's questions and declines, the median answer time, feedback, followed
    stories and notifications, the newest."""
    median = f"{numbers.median_latency_ms_today:.0f} ms" if numbers.median_latency_ms_today is not None else "–"
    lines = [
        "📊 <b>Stats</b>",
        f"Articles: {coverage.articles}",
        f"Chunks: {coverage.chunks}",
        f"Questions today: {numbers.questions_today}",
        f"Declined today: {numbers.declines_today}",
        f"Median answer time today: {median}",
        f"Feedback: 👍 {numbers.thumbs_up} · 👎 {numbers.thumbs_down}",
        *(render_follow_stats(follows) if follows is not None else []),
    ]
    if coverage.newest:
        newest = coverage.newest[0]
        meta = byline(newest.source, newest.date, texts(DEFAULT_LANGUAGE))
        lines.append(f"Newest: {_article_ref(newest.title, newest.id)}" + (f" · {meta}" if meta else ""))
    return "\n".join(lines)


def render_source_added(source: Source, added: bool, followed: Sequence[Source], now: float) -> list[str]:
    """/sources_add's reply: the source, then every followed source with its state, as in /sources."""
    head = "✅ Now following" if added else "Already following"
    line = f"{head} <code>{esc(source.id)}</code>: {esc(source.location)}"
    return pack([Block((line,), ""), followed_block(followed, now)])


def render_source_removed(source_id: str, removed: bool, followed: Sequence[Source], now: float) -> list[str]:
    """/sources_remove's reply: what happened, then every followed source with its state, as in /sources."""
    if removed:
        head = f"🗑 Stopped following <code>{esc(source_id)}</code>; its articles stay."
    else:
        head = f"No source <code>{esc(source_id[:64])}</code>."
    return pack([Block((head,), ""), followed_block(followed, now)])
