"""Answers and coverage as Telegram HTML: escaped text, inline [n] markers, a numbered Sources block, and
splitting of long messages into parts of at most 4,096 characters without breaking tags.

Everything from users or articles goes through `html.escape`; only the tags written here are markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape as _escape
from urllib.parse import urlparse

from bot.models import DECLINE_TEXT, Answer, Citation
from vectorstore.models import StoredArticle
from vectorstore.recency import parse_date

MAX_MESSAGE_CHARS = 4096
SENTENCES_PER_PARAGRAPH = 3


def esc(text: str) -> str:
    """Escape text for Telegram HTML (`<`, `>`, `&`); quotes only matter inside attributes."""
    return _escape(text, quote=False)


def utf16_len(text: str) -> int:
    """Telegram counts message length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def format_date(iso: str | None) -> str:
    """'2024-01-12' -> '12 Jan 2024'; anything unparseable is returned as it is."""
    if not iso:
        return ""
    d = parse_date(iso)
    return f"{d.day} {d:%b %Y}" if d else iso


def link(title: str, url: str | None) -> str:
    """A linked, escaped title; only web links are made clickable."""
    text = esc(title.strip() or "Untitled")
    if url and urlparse(url).scheme in ("http", "https"):
        return f'<a href="{_escape(url, quote=True)}">{text}</a>'
    return text


def byline(source: str | None, iso_date: str | None) -> str:
    return ", ".join(esc(part) for part in (source or "", format_date(iso_date)) if part)


def markers(numbers: Iterable[int]) -> str:
    return "".join(f"[{n}]" for n in numbers)


def _source_line(citation: Citation) -> str:
    line = f"[{citation.number}] {link(citation.title, citation.url)}"
    meta = byline(citation.source, citation.date)
    return f"{line} · {meta}" if meta else line


def render_answer(answer: Answer, asked: str | None = None) -> list[str]:
    """The answer as HTML message parts (usually one): body with markers, then the numbered sources.

    `asked` is shown as a header when the question is not the user's own message (an example button).
    """
    if answer.declined:
        return split_html(render_decline())
    paragraphs: list[str] = []
    if asked:
        paragraphs.append(f"❓ <i>{esc(asked)}</i>")
    sentences = [f"{esc(s.text.strip())} {markers(s.citations)}".strip() for s in answer.sentences]
    for i in range(0, len(sentences), SENTENCES_PER_PARAGRAPH):
        paragraphs.append(" ".join(sentences[i : i + SENTENCES_PER_PARAGRAPH]))
    if answer.citations:
        lines = "\n".join(_source_line(c) for c in sorted(answer.citations, key=lambda c: c.number))
        paragraphs.append(f"<b>Sources</b>\n{lines}")
    return split_html("\n\n".join(paragraphs))


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
        )

    def span(self) -> str:
        if not self.first_date or not self.last_date:
            return ""
        first, last = format_date(self.first_date), format_date(self.last_date)
        return first if first == last else f"{first} – {last}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def render_welcome(first_name: str | None, coverage: Coverage) -> str:
    hello = f"👋 Hi {esc(first_name)}!" if first_name else "👋 Hi!"
    if coverage.articles == 0:
        return (
            f"{hello} I answer questions about a newsroom's coverage, citing the source of each claim.\n\n"
            "No articles are loaded yet, so I can't answer anything right now. Please check back soon."
        )
    outlets = ", ".join(esc(o) for o in coverage.outlets[:3])
    what = f"<b>{_plural(coverage.articles, 'article')}</b>"
    if outlets:
        what += f" from {outlets}"
    span = coverage.span()
    if span:
        what += f" ({esc(span)})"
    return (
        f"{hello} I answer questions about the news from our own reporting, "
        "and every claim links to the article it comes from.\n\n"
        f"I currently know {what}. Ask in your own words, or tap an example below.\n\n"
        "/sources lists the newest articles · /help explains the rest"
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
            "/stats – articles, questions and feedback"
        )
    return text


def render_sources(coverage: Coverage) -> str:
    if coverage.articles == 0:
        return "No articles are loaded yet."
    head = f"📚 <b>{_plural(coverage.articles, 'article')}</b>"
    if coverage.outlets:
        head += " from " + ", ".join(esc(o) for o in coverage.outlets[:5])
    span = coverage.span()
    if span:
        head += f", {esc(span)}"
    lines = []
    for a in coverage.newest:
        line = f"• {link(a.title, a.url)}"
        meta = byline(a.source, a.date)
        lines.append(f"{line} · {meta}" if meta else line)
    return f"{head}\n\n<b>Newest</b>\n" + "\n".join(lines)


# ---- splitting -----------------------------------------------------------------------------------------

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
