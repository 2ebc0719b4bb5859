"""Answers and coverage as Telegram HTML: escaped text, inline [n] markers, a numbered Sources block, and
splitting of long messages into parts of at most 4,096 characters without breaking tags.

Everything from users or articles goes through `html.escape`; only the tags written here are markup. What
articles bring is bounded before it is rendered (titles, outlet names, links: a hostile feed can make them
10,000 characters long), so every unit of a message (a sentence with its markers, a source line) fits in one
message, and messages are packed from whole units: no part is only a heading or a lone marker.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape as _escape
from html import unescape
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from bot.answer.models import DECLINE_TEXT, Answer, AnswerSentence, Citation, day_label
from ingest.registry import Source, format_every
from vectorstore.models import StoredArticle

if TYPE_CHECKING:
    from ingest.errors import ItemError
    from ingest.pipeline import IngestReport

MAX_MESSAGE_CHARS = 4096
SENTENCES_PER_PARAGRAPH = 3
# Bounds on what articles and users bring, as escaped HTML (UTF-16 units), so that any unit fits in a message.
MAX_SENTENCE_HTML = 3000  # an answer sentence; longer ones are shortened at a word boundary, with "…"
MAX_TITLE_HTML = 400
MAX_NAME_HTML = 120  # an outlet's name, a date as the article gave it
MAX_HREF_HTML = 600  # a longer link is replaced by the outlet's page (scheme and host), or not linked
MAX_ASKED_HTML = 400  # the example question shown above its answer
ELLIPSIS = "…"


def esc(text: str) -> str:
    """Escape text for Telegram HTML (`<`, `>`, `&`); quotes only matter inside attributes."""
    return _escape(text, quote=False)


def utf16_len(text: str) -> int:
    """Telegram counts message length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def shorten(text: str, max_html: int) -> str:
    """`text` escaped, at most `max_html` UTF-16 units of HTML: cut at a word boundary, with an ellipsis."""
    html = esc(text)
    if utf16_len(html) <= max_html:
        return html
    budget = max_html - len(ELLIPSIS)
    lo, hi = 0, len(text)  # the longest prefix whose escaped form fits
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if utf16_len(esc(text[:mid])) <= budget:
            lo = mid
        else:
            hi = mid - 1
    prefix = text[:lo]
    space = max(prefix.rfind(" "), prefix.rfind("\n"))
    if space > lo // 2:  # a word boundary, unless that would drop more than half
        prefix = prefix[:space]
    return esc(prefix.rstrip()) + ELLIPSIS


def format_date(iso: str | None) -> str:
    """'2024-01-12' -> '12 Jan 2024'; anything unparseable is returned as it is."""
    if not iso:
        return ""
    return day_label(iso) or iso


def href(url: str | None) -> str | None:
    """The escaped link target for a web URL, None for anything else. An over-long URL (Telegram refuses
    them, and one can fill a message) becomes the outlet's page, scheme and host."""
    if not url:
        return None
    try:
        parsed = urlparse(url)
    except ValueError:  # e.g. an invalid IPv6 host
        return None
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return None
    target = _escape(url, quote=True)
    if utf16_len(target) <= MAX_HREF_HTML:
        return target
    outlet = _escape(f"{parsed.scheme}://{parsed.netloc}/", quote=True)
    return outlet if utf16_len(outlet) <= MAX_HREF_HTML else None


def link(title: str, url: str | None) -> str:
    """A linked, escaped title of bounded length; only web links are made clickable."""
    text = shorten(" ".join(title.split()) or "Untitled", MAX_TITLE_HTML)
    target = href(url)
    return f'<a href="{target}">{text}</a>' if target else text


def byline(source: str | None, iso_date: str | None) -> str:
    parts = (" ".join((source or "").split()), format_date(iso_date))
    return ", ".join(shorten(part, MAX_NAME_HTML) for part in parts if part)


def markers(numbers: Iterable[int]) -> str:
    return "".join(f"[{n}]" for n in numbers)


def _source_line(citation: Citation) -> str:
    line = f"[{citation.number}] {link(citation.title, citation.url)}"
    meta = byline(citation.source, citation.date)
    return f"{line} · {meta}" if meta else line


def _sentence(sentence: AnswerSentence) -> str:
    """A sentence with its markers, as one unit: the markers never part from their sentence."""
    return f"{shorten(' '.join(sentence.shown.split()), MAX_SENTENCE_HTML)} {markers(sentence.citations)}".strip()


def render_answer(answer: Answer, asked: str | None = None) -> list[str]:
    """The answer as HTML message parts (usually one): body with markers, then the numbered sources.

    `asked` is shown as a header when the question is not the user's own message (an example button).
    """
    if answer.declined:
        return split_html(render_decline())
    sentences = [_sentence(s) for s in answer.sentences]
    if answer.as_of_note and sentences:  # it leads the first sentence, so it never stands alone in a part
        sentences[0] = f"<i>{esc(answer.as_of_note)}:</i> {sentences[0]}"
    blocks = [
        Block(tuple(sentences[i : i + SENTENCES_PER_PARAGRAPH]), " ")
        for i in range(0, len(sentences), SENTENCES_PER_PARAGRAPH)
    ]
    if asked:  # the header leads the first sentence, so it never stands alone in a part
        header = f"❓ <i>{shorten(' '.join(asked.split()), MAX_ASKED_HTML)}</i>"
        first = blocks[0] if blocks else Block((), " ")
        units = (f"{header}\n\n{first.units[0]}" if first.units else header, *first.units[1:])
        blocks[:1] = [Block(units, " ")]
    if answer.language_note:
        blocks.append(Block((f"<i>{esc(answer.language_note)}</i>",), " "))
    if answer.citations:
        lines = [_source_line(c) for c in sorted(answer.citations, key=lambda c: c.number)]
        blocks.append(Block((f"<b>Sources</b>\n{lines[0]}", *lines[1:]), "\n"))
    return pack(blocks)


def render_decline() -> str:
    return (
        f"🤷 {esc(DECLINE_TEXT)}\n\n"
        "I only answer from the articles I have, so I'd rather say nothing than guess. "
        "Try one of the questions below, rephrase with names, places or dates, "
        "or see /sources for what's covered."
    )


# ---- coverage ------------------------------------------------------------------------------------------


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

    def span(self) -> str:
        if not self.first_date or not self.last_date:
            return ""
        first, last = format_date(self.first_date), format_date(self.last_date)
        return first if first == last else f"{first} – {last}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def render_welcome(first_name: str | None, coverage: Coverage) -> str:
    hello = f"👋 Hi {shorten(first_name, MAX_NAME_HTML)}!" if first_name else "👋 Hi!"
    if coverage.articles == 0:
        return (
            f"{hello} I answer questions about a newsroom's coverage, citing the source of each claim.\n\n"
            "No articles are loaded yet, so I can't answer anything right now. Please check back soon."
        )
    outlets = ", ".join(shorten(o, MAX_NAME_HTML) for o in coverage.outlets[:3])
    what = f"<b>{_plural(coverage.articles, 'article')}</b>"
    if outlets:
        what += f" from {outlets}"
    span = coverage.span()
    if span:
        what += f" ({shorten(span, MAX_NAME_HTML * 2)})"
    return (
        f"{hello} I answer questions about the news from our own reporting, "
        "and every claim links to the article it comes from.\n\n"
        f"I currently know {what}. Ask in your own words, or tap an example below.\n\n"
        "/latest lists the newest articles · /sources what's covered · /help explains the rest"
    )


def render_help(is_admin: bool) -> str:
    text = (
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
        "/help – this message\n\n"
        "Tap 👍 or 👎 under an answer to tell the newsroom how I did."
    )
    if is_admin:
        text += (
            "\n\n<b>Admin</b>\n"
            "/ingest <i>URL or feed</i> – add or update articles\n"
            "/reindex – re-ingest the configured sources\n"
            "/remove <i>article id</i> – remove an article\n"
            "/stats – articles, questions and feedback\n"
            "/sources_add <i>URL</i> [<i>every</i>] – follow a feed or page\n"
            "/sources_remove <i>source id</i> – stop following a source\n"
            "/sources also shows you the followed sources and their state"
        )
    return text


def format_time(ts: float | str | None) -> str:
    """A moment (epoch seconds or ISO 8601) as '1 Dec 2026, 16:05 UTC'; '' when unknown or unreadable."""
    if ts is None or ts == "":
        return ""
    try:
        moment = datetime.fromtimestamp(ts, UTC) if isinstance(ts, float | int) else datetime.fromisoformat(ts)
    except (ValueError, OverflowError, OSError):
        return ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def render_sources(
    coverage: Coverage, followed: Sequence[Source] = (), now: float = 0.0, admin: bool = False
) -> list[str]:
    """/sources as message parts (usually one): counts, outlets, dates, when the coverage was last updated (and
    when the followed sources were last read successfully), the newest articles linked; for `admin`, each
    followed source's last check, success, error and next check as of `now`."""
    blocks: list[Block] = []
    if coverage.articles == 0:
        blocks.append(Block(("No articles are loaded yet.",), ""))
    else:
        head = f"📚 <b>{_plural(coverage.articles, 'article')}</b>"
        if coverage.outlets:
            head += " from " + ", ".join(shorten(o, MAX_NAME_HTML) for o in coverage.outlets[:5])
        span = coverage.span()
        if span:
            head += f", {shorten(span, MAX_NAME_HTML * 2)}"
        updated = format_time(coverage.updated_at)
        checked = format_time(max((f.last_success for f in followed if f.last_success), default=None))
        if updated:
            head += f"\n🕒 Last updated {updated}" + (f" · sources last checked {checked}" if checked else "")
        lines = [_article_line(a) for a in coverage.newest]
        blocks.append(Block((head,), ""))
        if lines:
            blocks.append(Block((f"<b>Newest</b>\n{lines[0]}", *lines[1:]), "\n"))
    if admin:
        blocks.append(_followed_block(followed, now))
    return pack(blocks)


def _followed_block(followed: Sequence[Source], now: float) -> Block:
    if not followed:
        return Block(("<b>Followed sources</b>\nNone yet: /sources_add <i>feed or page URL</i> adds one.",), "\n")
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


LATEST_ARTICLES = 10


def render_latest(coverage: Coverage) -> list[str]:
    """/latest as message parts (usually one): the newest articles, by date then ingest order, linked."""
    if coverage.articles == 0:
        return ["No articles are loaded yet."]
    lines = [_article_line(a) for a in coverage.newest]
    return pack([Block((f"🆕 <b>Latest articles</b>\n{lines[0]}", *lines[1:]), "\n")])


def _article_line(article: StoredArticle) -> str:
    line = f"• {link(article.title, article.url)}"
    meta = byline(article.source, article.date)
    return f"{line} · {meta}" if meta else line


# ---- packing and splitting -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """A paragraph made of units (sentences with their markers, source lines) that are never cut, joined by
    `joiner`. Blocks are joined by a blank line."""

    units: tuple[str, ...]
    joiner: str


def pack(blocks: Sequence[Block], limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Messages of at most `limit` UTF-16 units made of whole blocks where they fit, else of whole units.

    A block that does not fit in what is left of a part starts the next one; a block longer than a message is
    packed unit by unit. Units are bounded by the renderers; one that still exceeds a message (nothing here
    makes one) falls back to `split_html`.
    """
    parts: list[str] = []
    current = ""

    def add(piece: str, joiner: str) -> None:
        nonlocal current
        if current and utf16_len(current + joiner + piece) <= limit:
            current += joiner + piece
            return
        if current:
            parts.append(current)
        if utf16_len(piece) <= limit:
            current = piece
        else:
            *whole, current = split_html(piece, limit) or [""]
            parts.extend(whole)

    for block in blocks:
        units = [u for u in block.units if u.strip()]
        if not units:
            continue
        whole = block.joiner.join(units)
        if utf16_len(whole) <= limit:
            add(whole, "\n\n")
            continue
        for i, unit in enumerate(units):
            add(unit, "\n\n" if i == 0 else block.joiner)
    if current.strip():
        parts.append(current)
    return parts


_TOKEN = re.compile(r"<[^>]*>|&#?\w+;|\n\n+|\n|[ \t]+|[^<&\n \t]+|[<&]")
_TAG_NAME = re.compile(r"</?\s*([a-zA-Z][\w-]*)")

# cut kinds, best first: the latest cut of the best kind that fits wins
_CUT_KINDS = ("paragraph", "line", "space", "word")


@dataclass(frozen=True)
class _Open:
    name: str
    tag: str  # the opening tag as written, re-emitted at the start of the next part


def _closers(stack: Sequence[_Open]) -> str:
    return "".join(f"</{o.name}>" for o in reversed(stack))


def _tokens(text: str, limit: int) -> list[str]:
    """Tags, entities, breaks, spaces and words; words longer than half a part are cut into pieces."""
    out: list[str] = []
    step = max(1, limit // 2)
    for tok in _TOKEN.findall(text):
        if not tok.startswith(("<", "&")) and utf16_len(tok) > step:
            out.extend(tok[i : i + step] for i in range(0, len(tok), step))
        else:
            out.append(tok)
    return out


def _cut_kind(tok: str) -> str | None:
    """What cutting right after this token would be; None after an opening tag (it would leave it empty)."""
    if tok.startswith("\n\n"):
        return "paragraph"
    if tok == "\n":
        return "line"
    if tok[:1] in (" ", "\t"):
        return "space"
    if tok.startswith("<") and len(tok) > 1 and not tok.startswith("</"):
        return None
    return "word"


def _stack_after(stack: tuple[_Open, ...], tok: str) -> tuple[_Open, ...]:
    if not tok.startswith("<") or len(tok) == 1 or tok.endswith("/>"):
        return stack
    m = _TAG_NAME.match(tok)
    if not m:
        return stack
    name = m.group(1).lower()
    if tok.startswith("</"):
        return stack[:-1] if stack and stack[-1].name == name else stack
    return (*stack, _Open(name, tok))


def split_html(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Split Telegram HTML into parts of at most `limit` UTF-16 units (markup included).

    Cuts at the last paragraph break that fits, else a line break, else a space, else between words; tags
    open at a cut are closed at the end of one part and reopened at the start of the next one.
    """
    text = text.strip()
    if utf16_len(text) <= limit:
        return [text] if text else []
    parts: list[str] = []
    # the current part: tokens with the tags open after each, starting with the tags reopened at the last cut
    buf: list[tuple[str, tuple[_Open, ...]]] = []
    stack: tuple[_Open, ...] = ()

    def part_until(i: int) -> str:
        """The part made of buf[:i + 1], closed."""
        return "".join(t for t, _ in buf[: i + 1]).rstrip() + _closers(buf[i][1])

    def best_cut() -> int | None:
        for kind in _CUT_KINDS:
            for i in range(len(buf) - 1, -1, -1):
                if _cut_kind(buf[i][0]) == kind and utf16_len(part_until(i)) <= limit:
                    return i
        return None

    size = 0  # of the tokens in buf
    for tok in _tokens(text, limit):
        after = _stack_after(stack, tok)
        n = utf16_len(tok)
        if buf and size + n + utf16_len(_closers(after)) > limit:
            cut = best_cut()
            if cut is not None:
                part = part_until(cut)
                if _strip_tags(part).strip():
                    parts.append(part)
                reopened = buf[cut][1]
                rest = buf[cut + 1 :]
                while rest and not rest[0][0].strip():
                    rest = rest[1:]
                opening: list[tuple[str, tuple[_Open, ...]]] = []
                for k in range(len(reopened)):
                    opening.append((reopened[k].tag, reopened[: k + 1]))
                buf = opening + rest
                size = sum(utf16_len(t) for t, _ in buf)
        buf.append((tok, after))
        size += n
        stack = after
    tail = "".join(t for t, _ in buf).strip()
    if _strip_tags(tail).strip():
        parts.append(tail)
    return parts


def _strip_tags(text: str) -> str:
    return re.sub(r"<[^>]*>", "", text)


def plain_parts(html: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """The text a message shows (tags dropped, entities decoded), in parts of at most `limit` UTF-16 units cut
    at whitespace where there is any: what is sent when Telegram refuses the HTML."""
    text = unescape(_strip_tags(html)).strip()
    parts: list[str] = []
    while utf16_len(text) > limit:
        cut = limit
        while utf16_len(text[:cut]) > limit:  # astral characters count twice
            cut -= 1
        space = max(text.rfind(" ", 0, cut), text.rfind("\n", 0, cut))
        if space > cut // 2:
            cut = space
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts


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
