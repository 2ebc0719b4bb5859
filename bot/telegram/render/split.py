"""Long Telegram HTML in messages of at most 4,096 UTF-16 units: packed from whole units (a sentence with its
markers, a source line) so no part is only a heading or a lone marker, or split without breaking tags; and the
plain-text fallback for a message Telegram refuses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import unescape

from bot.telegram.render.markup import MAX_MESSAGE_CHARS, utf16_len


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


