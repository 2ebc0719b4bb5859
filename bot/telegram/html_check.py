"""A strict checker for Telegram's HTML parse mode, because the emulator accepts anything (bot/telegram/emulator/).

Rules (https://core.telegram.org/bots/api#html-style): only the listed tags and attributes; tags balanced and
properly nested; `<`, `>` and `&` outside tags written as entities, and only the four named entities Telegram
knows (`&lt; &gt; &amp; &quot;`) or numeric ones; at most 4,096 characters.
"""

from __future__ import annotations

import re

MAX_CHARS = 4096

# tag -> allowed attributes (value pattern, or None for "any")
ALLOWED: dict[str, dict[str, str | None]] = {
    "b": {},
    "strong": {},
    "i": {},
    "em": {},
    "u": {},
    "ins": {},
    "s": {},
    "strike": {},
    "del": {},
    "span": {"class": r"tg-spoiler"},
    "tg-spoiler": {},
    "a": {"href": None},
    "code": {"class": r"language-[\w+#-]+"},
    "pre": {},
    "blockquote": {"expandable": r""},
    "tg-emoji": {"emoji-id": r"\d+"},
}
REQUIRED = {"a": "href", "span": "class", "tg-emoji": "emoji-id"}
NO_NESTED_TAGS = {"pre", "code"}  # only <code> inside <pre>, nothing inside <code>

_TAG = re.compile(r"<(/?)([a-z][a-z-]*)((?:\s+[a-z-]+(?:=\"[^\"<>]*\"|='[^'<>]*')?)*)\s*>")
_ATTR = re.compile(r"([a-z-]+)(?:=(?:\"([^\"]*)\"|'([^']*)'))?")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d{1,7}|#x[0-9a-fA-F]{1,6});")


def visible_text(html: str) -> str:
    """The text Telegram shows: tags dropped, entities decoded."""
    import html as html_module

    return html_module.unescape(re.sub(r"<[^>]*>", "", html))


def problems(text: str, parse_mode: str | None = "HTML") -> list[str]:
    """Everything wrong with a message Telegram would reject; empty if it is fine."""
    found: list[str] = []
    if utf16_len(text) > MAX_CHARS:
        found.append(f"{utf16_len(text)} characters, over Telegram's {MAX_CHARS}")
    if not text.strip():
        found.append("empty message")
    if parse_mode is None:
        return found
    if parse_mode.upper() != "HTML":
        return [*found, f"unexpected parse_mode {parse_mode!r}"]
    stack: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "<":
            m = _TAG.match(text, i)
            if not m:
                found.append(f"unescaped '<' or malformed tag at {i}: {text[i : i + 30]!r}")
                i += 1
                continue
            closing, name, attrs = m.group(1), m.group(2), m.group(3)
            if name not in ALLOWED:
                found.append(f"tag <{name}> is not allowed")
            elif closing:
                if attrs.strip():
                    found.append(f"closing tag </{name}> with attributes")
                if not stack or stack[-1] != name:
                    found.append(f"</{name}> closes {'<' + stack[-1] + '>' if stack else 'nothing'}")
                else:
                    stack.pop()
            else:
                found.extend(_check_attrs(name, attrs))
                if stack and stack[-1] in NO_NESTED_TAGS and not (stack[-1] == "pre" and name == "code"):
                    found.append(f"<{name}> inside <{stack[-1]}>")
                if name == "a" and "a" in stack:
                    found.append("<a> inside <a>")
                stack.append(name)
            i = m.end()
        elif ch == "&":
            m = _ENTITY.match(text, i)
            if not m:
                found.append(f"unescaped '&' at {i}: {text[i : i + 12]!r}")
                i += 1
            else:
                i = m.end()
        elif ch == ">":
            found.append(f"unescaped '>' at {i}")
            i += 1
        else:
            i += 1
    if stack:
        found.append(f"unclosed tags: {', '.join('<' + t + '>' for t in stack)}")
    if not found and not visible_text(text).strip():
        found.append("no visible text")
    return found


def _check_attrs(name: str, attrs: str) -> list[str]:
    found: list[str] = []
    allowed = ALLOWED[name]
    seen: set[str] = set()
    for m in _ATTR.finditer(attrs):
        key = m.group(1)
        value = m.group(2) if m.group(2) is not None else (m.group(3) or "")
        seen.add(key)
        if key not in allowed:
            found.append(f"attribute {key!r} not allowed on <{name}>")
            continue
        pattern = allowed[key]
        if pattern is not None and not re.fullmatch(pattern, value):
            found.append(f"<{name} {key}={value!r}> is not a value Telegram accepts")
        if "&" in value and _ENTITY.sub("", value).count("&"):
            found.append(f"unescaped '&' in attribute {key!r} of <{name}>")
    required = REQUIRED.get(name)
    if required and required not in seen:
        found.append(f"<{name}> without {required!r}")
    return found


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def assert_valid(text: str, parse_mode: str | None = "HTML", what: str = "message") -> None:
    issues = problems(text, parse_mode)
    assert not issues, f"invalid Telegram {what}: {issues}\n---\n{text[:2000]}"
