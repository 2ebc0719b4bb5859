"""Quote matching: a model's quote is looked up in its source ignoring differences of whitespace, quote marks,
dashes and case, and a map back to the original text makes the citation point at the exact verbatim span."""

from __future__ import annotations

import re
import unicodedata

from bot.answer.models import Citation
from vectorstore.analysis import PUNCTUATION_VARIANTS
from vectorstore.models import Chunk

_MIN_QUOTE_CHARS = 8  # after normalisation; shorter quotes ("Italy", "said") prove nothing
_MIN_QUOTE_WORDS = 2

_QUOTE_EDGE = " \t\r\n\"'.,;:\u2026"


def _normalise_char(ch: str) -> str:
    if ch in PUNCTUATION_VARIANTS:
        return PUNCTUATION_VARIANTS[ch]
    if ch.isspace():
        return " "
    return unicodedata.normalize("NFKC", ch).casefold()


def _normalise_with_map(text: str) -> tuple[str, list[int]]:
    """`text` normalised for matching, and for each character of the result the index it came from."""
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        for n in _normalise_char(ch):
            if n == " " and (not out or out[-1] == " "):
                continue  # collapse runs of whitespace
            out.append(n)
            origin.append(i)
    return "".join(out), origin


def normalise(text: str) -> str:
    return _normalise_with_map(text)[0].strip()


def _clean_quote(quote: str) -> str:
    """The quote without the wrapping models add: quote marks, ellipses, a final full stop."""
    return normalise(quote).strip(_QUOTE_EDGE)


def locate_quote(quote: str, chunk: Chunk) -> Citation | None:
    """Where `quote` occurs in the chunk, as a Citation on the article (number 0), or None if it does not.

    Matching ignores differences of whitespace, quote marks, dashes and case; the returned span is the
    original article text, so the citation's quote is verbatim even when the model's was not byte-identical.
    """
    needle = _clean_quote(quote)
    if len(needle) < _MIN_QUOTE_CHARS or len(re.findall(r"\w+", needle)) < _MIN_QUOTE_WORDS:
        return None
    hay, origin = _normalise_with_map(chunk.text)
    pos = hay.find(needle)
    if pos < 0:
        return None
    first, last = origin[pos], origin[pos + len(needle) - 1] + 1
    return Citation(
        number=0,
        article_id=chunk.article_id,
        title=chunk.title,
        url=chunk.url,
        date=chunk.date,
        source=chunk.source,
        start=chunk.start + first,
        end=chunk.start + last,
        quote=chunk.text[first:last],
    )

