"""Bytes to text: a byte order mark, a declared charset, strict UTF-8 or a recognised legacy encoding.

What cannot be read as text is refused with an ItemError: mojibake could never be cited correctly.
"""

from __future__ import annotations

import codecs
import re

from ingest.errors import ItemError

# Longest first: the UTF-32 LE mark begins with the UTF-16 LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Bytes that are control characters in every ASCII-compatible encoding (tab, new lines, form feed and escape
# excepted): text has next to none of them, binary formats have many.
_CONTROL = bytes(b for b in range(32) if b not in b"\t\n\v\f\r\x1b") + b"\x7f"
_SAMPLE = 8192


def decode(data: bytes, item: str) -> str:
    """A byte order mark, else strict UTF-8, else the legacy encoding charset-normalizer recognises (cp1252,
    latin-1, cp1251, ...). What none of them reads is refused: mojibake could never be cited correctly."""
    if not data.strip():
        raise ItemError(item, "empty")
    bom = _bom_encoding(data)
    if bom:
        try:
            text = data.decode(bom)
        except UnicodeDecodeError as exc:
            reason = f"not {bom.removesuffix('-sig').upper()} text, as its byte order mark says (offset {exc.start})"
            raise ItemError(item, reason) from None
        if not text.strip():
            raise ItemError(item, "empty")
        return text
    head = data[:_SAMPLE]
    if b"\x00" in head or sum(head.count(c) for c in _CONTROL) * 100 > len(head):
        raise ItemError(item, "binary file, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start
    legacy = _legacy_text(data)
    if legacy is None:
        raise ItemError(item, f"not text in UTF-8 or a known legacy encoding (invalid UTF-8 at offset {offset})")
    return legacy


def _bom_encoding(data: bytes) -> str | None:
    return next((name for bom, name in _BOMS if data.startswith(bom)), None)


def _legacy_text(data: bytes) -> str | None:
    """charset-normalizer tells Cyrillic, Greek, CJK... apart well, but between the Western code pages (cp1252,
    cp1250, mac_roman, cp850) a news text rarely decides it. cp1252, by far the most common of them (and the
    HTML standard's default), wins when it reads the text as well: Latin letters, and no symbol inside a word
    (as "Za¿ó³æ", Polish read as cp1252, has)."""
    import charset_normalizer

    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        return None
    text = str(best)
    if _latin_script(text):
        try:
            western = data.decode("cp1252")
        except UnicodeDecodeError:
            return text
        if _latin_script(western) and not _SYMBOL_IN_WORD.search(western):
            return western
    return text


_SYMBOL_IN_WORD = re.compile(r"[^\W\d_][^\w\s'’‘´\-.,:;!?/&@()\[\]\"“”]+[^\W\d_]")


def _latin_script(text: str) -> bool:
    import unicodedata

    letters = {c for c in text if ord(c) > 127 and c.isalpha()}
    return all(unicodedata.name(c, "").startswith("LATIN") for c in letters)


_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_UTF8_NAMES = ("utf8", "usascii", "ascii")


def decode_page(data: bytes, item: str, charset: str | None = None) -> str:
    """A web page in the charset its byte order mark, its server or its own <meta> declares, in that order (as
    browsers do); undeclared, as `decode` finds it. A declared charset that is no text encoding fails the page."""
    if not data.strip():
        raise ItemError(item, "empty")
    declared = None if _bom_encoding(data) else charset or _meta_charset(data)
    if not declared:
        return decode(data, item)
    codec = _text_codec(declared, item)
    if codec.replace("-", "").replace("_", "") in _UTF8_NAMES:
        return decode(data, item)
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        reason = f"not {declared} text, as declared (invalid byte at offset {exc.start})"
        raise ItemError(item, reason) from None


def _text_codec(name: str, item: str) -> str:
    """The codec a declared charset names, if it is a text encoding: rot13 and base64 are codecs too."""
    try:
        info = codecs.lookup(name)
    except LookupError:
        raise ItemError(item, f"declares an unknown charset ({name[:40]!r})") from None
    if not info._is_text_encoding:
        raise ItemError(item, f"declares charset {name[:40]!r}, which is not a text encoding") from None
    return info.name


def _meta_charset(data: bytes) -> str | None:
    """A <meta> that could be read as ASCII cannot truthfully declare UTF-16 or UTF-32; the HTML standard reads
    such a page as UTF-8."""
    match = _META_CHARSET.search(data[:4096])
    if not match:
        return None
    name = match.group(1).decode("ascii")
    return "utf-8" if name.lower().replace("-", "").replace("_", "").startswith(("utf16", "utf32")) else name
