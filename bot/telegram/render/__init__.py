"""Everything the bot shows, as Telegram HTML: answers, coverage, admins' reports, and the splitting of long
messages. `markup` escapes and bounds what users and articles bring; `split` packs messages of at most 4,096
characters; `answer`, `coverage` and `admin` render one kind of message each.
"""

from bot.telegram.render.admin import (
    render_failure,
    render_progress,
    render_reading,
    render_removed,
    render_report,
    render_source_added,
    render_source_removed,
    render_stats,
)
from bot.telegram.render.answer import render_answer, render_decline, render_slow_down
from bot.telegram.render.coverage import (
    LATEST_ARTICLES,
    Coverage,
    render_help,
    render_latest,
    render_sources,
    render_welcome,
)
from bot.telegram.render.markup import MAX_MESSAGE_CHARS, esc, format_date, format_time, utf16_len
from bot.telegram.render.split import plain_parts, split_html

__all__ = [
    "LATEST_ARTICLES",
    "MAX_MESSAGE_CHARS",
    "Coverage",
    "esc",
    "format_date",
    "format_time",
    "plain_parts",
    "render_answer",
    "render_decline",
    "render_failure",
    "render_help",
    "render_latest",
    "render_progress",
    "render_reading",
    "render_removed",
    "render_report",
    "render_slow_down",
    "render_source_added",
    "render_source_removed",
    "render_sources",
    "render_stats",
    "render_welcome",
    "split_html",
    "utf16_len",
]
