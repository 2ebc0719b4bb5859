"""Lenient parsing of a model's reply: structured output when the provider gives it, otherwise JSON found in the
text (bare, fenced or surrounded by prose). Field names are read leniently because small local models drift
from the schema."""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import BaseMessage


@dataclass(frozen=True)
class Claim:
    """A proposed sentence and its (source number, quote) pairs; source None = any source it names."""

    text: str
    quotes: tuple[tuple[int | None, str], ...]
    sources: tuple[int, ...]


def _json_candidates(text: str) -> list[Any]:
    """Every JSON value that can be read from a model's text reply, most likely first."""
    found: list[Any] = []
    stripped = text.strip()
    blocks = [stripped, *re.findall(r"```(?:json|JSON)?\s*(.*?)```", text, flags=re.S)]
    for block in blocks:
        with contextlib.suppress(ValueError):
            found.append(json.loads(block))
    decoder = json.JSONDecoder()
    for m in re.finditer(r"[\[{]", text):
        try:
            value, _ = decoder.raw_decode(text, m.start())
        except ValueError:
            continue
        found.append(value)
        if len(found) > 8:
            break
    return found


def _source_number(value: Any) -> int | None:
    """1 from "S1", "[S1]", "source 1", 1 or "1"."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        m = re.search(r"\d+", value)
        return int(m.group()) if m else None
    return None


def _first(d: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if key in d:
            return d[key]
    return None


def _claims_from(data: Any) -> list[Claim] | None:
    """The sentences of a parsed reply, or None if it does not have the answer's shape at all."""
    if isinstance(data, dict):
        items = _first(data, "sentences", "answer", "answers")
        if items is None and "text" in data:
            items = [data]
    else:
        items = data
    if not isinstance(items, list):
        return None
    claims: list[Claim] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        text = _first(item, "text", "sentence")
        if not isinstance(text, str):
            continue
        quotes: list[tuple[int | None, str]] = []
        cites = _first(item, "citations", "evidence")
        for cite in cites if isinstance(cites, list) else []:
            if isinstance(cite, dict):
                quote = _first(cite, "quote", "text")
                src = _source_number(_first(cite, "source", "source_id", "id"))
                if isinstance(quote, str) and src is not None:
                    quotes.append((src, quote))
        raw_sources = _first(item, "sources", "source_ids")
        sources = raw_sources if isinstance(raw_sources, list) else [raw_sources]
        numbers = tuple(n for n in (_source_number(s) for s in sources) if n is not None)
        # Unpaired quotes ({"sources": [...], "quotes": [...]}) may match any source the sentence names.
        loose = item.get("quotes")
        for quote in loose if isinstance(loose, list) else []:
            if isinstance(quote, str):
                quotes.append((None, quote))
            elif isinstance(quote, dict) and isinstance(quote.get("quote"), str):
                quotes.append((_source_number(_first(quote, "source", "source_id", "id")), quote["quote"]))
        claims.append(Claim(text=text, quotes=tuple(quotes), sources=numbers))
    return claims


def _message_text(message: Any) -> str:
    if isinstance(message, BaseMessage):
        return message.text if isinstance(message.text, str) else str(message.content)
    return str(message or "")


def parse_reply(reply: Any) -> list[Claim] | None:
    """Claims from whatever the chain returned: {raw, parsed} from structured output, or a plain message."""
    candidates: list[Any] = []
    raw = reply
    if isinstance(reply, dict) and "raw" in reply:
        raw = reply["raw"]
        if reply.get("parsed") is not None:
            candidates.append(reply["parsed"])
    if isinstance(raw, BaseMessage):
        candidates.extend(call.get("args") for call in getattr(raw, "tool_calls", None) or [])
    candidates.extend(_json_candidates(_message_text(raw)))
    for candidate in candidates:
        claims = _claims_from(candidate)
        if claims is not None:
            return claims
    return None

