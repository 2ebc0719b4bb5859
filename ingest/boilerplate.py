"""Keep site furniture out of what can be cited: related-link lists, donation appeals, photo credits,
newsletter prompts, and teaser headlines; plus paragraphs that recur across many articles of one site."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

_APPEAL = re.compile(
    r"become a (patron|member|subscriber)|support (us|our (work|journalism|reporting))|"
    r"(please|you can) donate|make a donation|donate (now|today)|"
    r"readers like you|you could close this page|join our community|cost of one cup of coffee|"
    r"keep our reporting (open|free)|help us (produce|keep)|(sign|signing) up (for|to) (our|the) newsletter|"
    r"subscribe to (our|the) newsletter|newsletter (sign|subscription)|get our newsletter|"
    r"follow us on (twitter|facebook|telegram|x\b)|share this (article|story)|click here to",
)  # matched against the lower-cased line: case-insensitive alternations are three times slower
_CREDIT = re.compile(
    r"^\s*(photo|image|picture|video|illustration|credit|source of the photo)s?\s*(:|by\b)|"
    r"^\s*\((photo|image)s? (by|credit|:)|\b(getty images|reuters/|ap photo|afp via getty)\b",
)  # lower-cased line, as above
_RELATED_HEAD = re.compile(
    r"^\s*(related( articles| stories| reading)?|read (also|more)|see also|more on this|more from)\s*:?\s*$",
    re.IGNORECASE,
)
_LIST_ITEM = re.compile(r"^\s*([-•*–]|\d+[.)])\s+")
_SENTENCE_END = re.compile(r"[.!?…:;\"”’)\]]\s*$")


def _is_teaser(line: str) -> bool:
    """A short line without closing punctuation inside a body is a linked headline or a caption."""
    words = line.split()
    return 0 < len(words) <= 25 and not _SENTENCE_END.search(line)


def clean_text(text: str) -> str:
    """Drop boilerplate paragraphs (lines); what is kept is left verbatim, so quotes stay exact."""
    kept: list[str] = []
    in_related = False
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.strip()
        if not line:
            in_related = False
            continue
        if _RELATED_HEAD.match(line):
            in_related = True
            continue
        if in_related and _LIST_ITEM.match(line):
            continue
        in_related = False
        lower = line.lower()
        if _APPEAL.search(lower) or _CREDIT.search(lower) or _is_teaser(line):
            continue
        kept.append(line)
    return "\n".join(kept)


def _norm(paragraph: str) -> str:
    return re.sub(r"\W+", " ", paragraph.lower()).strip()


def repeated_paragraphs(texts: Sequence[str], min_articles: int = 3, min_share: float = 0.3) -> set[str]:
    """Paragraphs (normalised) that recur in enough articles of one site to be furniture, not reporting."""
    if len(texts) < min_articles:
        return set()
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update({_norm(p) for p in text.split("\n") if len(p.split()) >= 3})
    threshold = max(min_articles, int(min_share * len(texts)))
    return {p for p, n in counts.items() if n >= threshold}


def drop_paragraphs(text: str, unwanted: set[str]) -> str:
    if not unwanted:
        return text
    return "\n".join(p for p in text.split("\n") if _norm(p) not in unwanted)
