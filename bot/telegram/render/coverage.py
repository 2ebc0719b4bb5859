"""What the store covers, for subscribers: /start's welcome, /help, /sources and /latest; and, for admins, the
followed sources with their state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.telegram.i18n import Texts
from bot.telegram.render.markup import MAX_NAME_HTML, byline, esc, format_time, link, shorten
from bot.telegram.render.split import Block, pack
from ingest import Source, format_every
from vectorstore.models import StoredArticle

LATEST_ARTICLES = 10


@dataclass(frozen=True)
class Coverage:
    """A summary of the catalog for /start and /sources."""

    articles: int
    chunks: int
    outlets: tuple[str, ...]
    first_date: str | None
    last_date: str | None
    newest: tuple[StoredArticle, ...]
    updated_at: str | None = None  # when the newest version of any article was stored (ISO 8601, UTC)

    @classmethod
    def of(cls, catalog: dict[str, StoredArticle], newest: int = 5) -> Coverage:
        items = list(catalog.values())
        dates = sorted(a.date for a in items if a.date)
        counts: dict[str, int] = {}
        for a in items:
            if a.source:
                counts[a.source] = counts.get(a.source, 0) + 1
        ordered = sorted(items, key=lambda a: (a.date or "", a.ingested_at, a.id), reverse=True)
        return cls(
            articles=len(items),
            chunks=sum(a.chunks for a in items),
            outlets=tuple(sorted(counts, key=lambda s: (-counts[s], s))),
            first_date=dates[0] if dates else None,
            last_date=dates[-1] if dates else None,
            newest=tuple(ordered[:newest]),
            updated_at=max((a.ingested_at for a in items if a.ingested_at), default=None),
        )

    def span(self, t: Texts) -> str:
        if not self.first_date or not self.last_date:
            return ""
        first, last = t.date(self.first_date), t.date(self.last_date)
        return first if first == last else f"{first} – {last}"



def render_welcome(first_name: str | None, coverage: Coverage, t: Texts) -> str:
    hello = t._("👋 Hi %(name)s!", name=shorten(first_name, MAX_NAME_HTML)) if first_name else t._("👋 Hi!")
    if coverage.articles == 0:
        return f"{hello} " + t._(
            "I answer questions about a newsroom's coverage, citing the source of each claim.\n\n"
            "No articles are loaded yet, so I can't answer anything right now. Please check back soon."
        )
    what = _articles(coverage, 3, t)
    return f"{hello} " + t._(
        "I answer questions about the news from our own reporting, "
        "and every claim links to the article it comes from.\n\n"
        "I currently know %(what)s. Ask in your own words, or tap an example below.\n\n"
        "/latest lists the newest articles · /sources what's covered · /help explains the rest",
        what=what,
    )


def _articles(coverage: Coverage, outlets: int, t: Texts) -> str:
    """'<b>12 articles</b> from Outlet, Other (3 Jan 2024 – 5 Feb 2024)', for the welcome and /sources."""
    what = "<b>" + t.ngettext("%(n)d article", "%(n)d articles", coverage.articles) + "</b>"
    names = ", ".join(shorten(o, MAX_NAME_HTML) for o in coverage.outlets[:outlets])
    if names:
        what = t._("%(articles)s from %(outlets)s", articles=what, outlets=names)
    span = coverage.span(t)
    return f"{what} ({shorten(span, MAX_NAME_HTML * 2)})" if span else what


def render_help(is_admin: bool, t: Texts) -> str:
    text = t._(
        "<b>How to use me</b>\n"
        "Send any question as a message, e.g. <i>What did Italy pledge?</i> "
        "I answer only from the articles I have; numbers like [1] point to the sources listed underneath. "
        "Follow-up questions work too (<i>And what did Canada do?</i>) for a while after a question.\n\n"
        "<b>In groups</b> mention me, reply to one of my messages, or use /ask <i>question</i>.\n\n"
        "<b>Commands</b>\n"
        "/start – welcome and example questions\n"
        "/sources – what coverage is loaded\n"
        "/latest – the newest articles\n"
        "/ask – ask a question (handy in groups)\n"
        "/follow <i>topic</i> – be told of new coverage (or tap 🔔 under an answer)\n"
        "/following – your stories · /digest daily <i>08:00</i> · /quiet <i>22:00 07:00</i>\n"
        "/language – the language I speak to you\n"
        "/help – this message\n\n"
        "Tap 👍 or 👎 under an answer to tell the newsroom how I did."
    )
    if is_admin:  # admins' texts stay in English, like their reports
        text += (
            "\n\n<b>Admin</b>\n"
            "/ingest <i>URL or feed</i> – add or update articles\n"
            "/reindex – re-ingest the configured sources\n"
            "/remove <i>article id</i> – remove an article\n"
            "/stats – articles, questions and feedback\n"
            "/pushes off|on – pause or resume every followed-story notification\n"
            "/sources_add <i>URL</i> [<i>every</i>] – follow a feed, sitemap or page\n"
            "/sources_remove <i>source id</i> – stop following a source\n"
            "/sources also shows you the followed sources and their state"
        )
    return text


def render_sources(
    coverage: Coverage, t: Texts, followed: Sequence[Source] = (), now: float = 0.0, admin: bool = False
) -> list[str]:
    """/sources as message parts (usually one): counts, outlets, dates, when the coverage was last updated (and
    when the followed sources were last read successfully), the newest articles linked; for `admin`, each
    followed source's last check, success, error and next check as of `now`."""
    blocks: list[Block] = []
    if coverage.articles == 0:
        blocks.append(Block((t._("No articles are loaded yet."),), ""))
    else:
        head = f"📚 {_articles(coverage, 5, t)}"
        updated = t.time(coverage.updated_at)
        checked = t.time(max((f.last_success for f in followed if f.last_success), default=None))
        if updated and checked:
            head += "\n🕒 " + t._("Last updated %(updated)s · sources last checked %(checked)s", updated=updated,
                                  checked=checked)  # fmt: skip
        elif updated:
            head += "\n🕒 " + t._("Last updated %(updated)s", updated=updated)
        lines = [_article_line(a, t) for a in coverage.newest]
        blocks.append(Block((head,), ""))
        if lines:
            heading = "<b>" + t._("Newest") + "</b>"
            blocks.append(Block((f"{heading}\n{lines[0]}", *lines[1:]), "\n"))
    if admin:
        blocks.append(followed_block(followed, now))
    return pack(blocks)


def followed_block(followed: Sequence[Source], now: float) -> Block:
    """Each followed source with its last check, last success, last error and next check as of `now`."""
    if not followed:
        empty = "<b>Followed sources</b>\nNone yet: /sources_add <i>feed, sitemap or page URL</i> adds one."
        return Block((empty,), "\n")
    units = [_followed_line(s, now) for s in followed]
    return Block((f"<b>Followed sources</b>\n{units[0]}", *units[1:]), "\n")


def _followed_line(source: Source, now: float) -> str:
    """One source as one unit of bounded length: id, interval, location, then its state."""
    line = f"• <code>{esc(source.id[:64])}</code> every {format_every(source.every_s)}: {shorten(source.location, 300)}"
    checked = format_time(source.last_check) or "never"
    succeeded = format_time(source.last_success) or "never"
    upcoming = "due now" if source.next_due <= now else format_time(source.next_due)
    line += f"\n  last check {checked} · last success {succeeded} · next check {upcoming}"
    if source.last_error:
        line += f"\n  ⚠️ {shorten(' '.join(source.last_error.split()), 300)}"
    return line



def render_latest(coverage: Coverage, t: Texts) -> list[str]:
    """/latest as message parts (usually one): the newest articles, by date then ingest order, linked."""
    if coverage.articles == 0:
        return [t._("No articles are loaded yet.")]
    lines = [_article_line(a, t) for a in coverage.newest]
    heading = "🆕 <b>" + t._("Latest articles") + "</b>"
    return pack([Block((f"{heading}\n{lines[0]}", *lines[1:]), "\n")])


def _article_line(article: StoredArticle, t: Texts) -> str:
    line = f"• {link(article.title, article.url, t)}"
    meta = byline(article.source, article.date, t)
    return f"{line} · {meta}" if meta else line

