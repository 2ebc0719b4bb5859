"""Optional LLM answer mode: a configured chat model writes the answer; only what its quotes prove is kept.

The model is asked for JSON: sentences, each with the sources it relies on and verbatim quotes from them.
Nothing the model says is trusted: every quote is looked up in the passage it is attributed to, citations
whose quote is not there are dropped, sentences left without a verified quote are dropped, and when nothing
survives (or the model fails in any way) `answer` returns None so the engine falls back to the extractive
answer.

    answerer = build_llm_answerer(settings)      # None unless NEWSBOT_LLM_MODEL is set
    if answerer is not None:
        answer = answerer.answer(question, passages)  # Answer(mode="llm") or None
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable

from bot.answer.models import Answer, AnswerSentence, Citation
from bot.errors import ConfigError
from prompts import load_prompt
from vectorstore.analysis import PUNCTUATION_VARIANTS
from vectorstore.models import Chunk, Passage

if TYPE_CHECKING:
    from bot.settings import Settings

__all__ = ["LLMAnswerer", "LLMConfigError", "build_llm_answerer"]

log = logging.getLogger(__name__)


class LLMConfigError(ConfigError):
    """The configured LLM cannot be built (unknown provider, missing package); the message says what to do."""


# What the model must return. Plain JSON Schema (not a pydantic class) so that any provider's structured
# output accepts it, and so that a reply that does not fit still reaches our lenient parser, not an error.
ANSWER_SCHEMA: dict[str, Any] = {
    "title": "grounded_answer",
    "description": "An answer to the question built only from the numbered sources, with verbatim quotes.",
    "type": "object",
    "properties": {
        "sentences": {
            "type": "array",
            "description": "The answer, one sentence per item; empty when the sources do not answer.",
            "items": {
                "type": "object",
                "properties": {
                    "text": {"type": "string", "description": "One sentence, without citation markers."},
                    "citations": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "source": {"type": "string", "description": "Source id, e.g. S1."},
                                "quote": {
                                    "type": "string",
                                    "description": "Words copied exactly from that source.",
                                },
                            },
                            "required": ["source", "quote"],
                            "additionalProperties": False,
                        },
                    },
                },
                "required": ["text", "citations"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["sentences"],
    "additionalProperties": False,
}

_MIN_QUOTE_CHARS = 8  # after normalisation; shorter quotes ("Italy", "said") prove nothing
_MIN_QUOTE_WORDS = 2

# ----------------------------------------------------------------------------------------------------
# Quote matching: normalise whitespace, quote marks, dashes and case, and keep a map back to the original
# text so the citation points at the exact verbatim span in the article.

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


def _normalise(text: str) -> str:
    return _normalise_with_map(text)[0].strip()


def _clean_quote(quote: str) -> str:
    """The quote without the wrapping models add: quote marks, ellipses, a final full stop."""
    return _normalise(quote).strip(_QUOTE_EDGE)


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
    return Citation.from_chunk(chunk, 0, chunk.start + first, chunk.start + last, chunk.text[first:last])


# ----------------------------------------------------------------------------------------------------
# Parsing: structured output when the provider gives it, otherwise JSON found in the text (bare, fenced or
# surrounded by prose). Field names are read leniently because small local models drift from the schema.


@dataclass(frozen=True)
class _Claim:
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


def _claims_from(data: Any) -> list[_Claim] | None:
    """The sentences of a parsed reply, or None if it does not have the answer's shape at all."""
    if isinstance(data, dict):
        items = _first(data, "sentences", "answer", "answers")
        if items is None and "text" in data:
            items = [data]
    else:
        items = data
    if not isinstance(items, list):
        return None
    claims: list[_Claim] = []
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
        claims.append(_Claim(text=text, quotes=tuple(quotes), sources=numbers))
    return claims


def _message_text(message: Any) -> str:
    if isinstance(message, BaseMessage):
        return message.text if isinstance(message.text, str) else str(message.content)
    return str(message or "")


def _parse_reply(reply: Any) -> list[_Claim] | None:
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


# ----------------------------------------------------------------------------------------------------
# Checking the model's sentences.

_MARKER = re.compile(r"\s*[\[(]\s*(?:S|Source\s*)?\d+(?:\s*[,;]\s*(?:S|Source\s*)?\d+)*\s*[\])]", re.I)
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*")


def _clean_sentence(text: str) -> str:
    """The sentence without the citation markers ([S1], (2)) a model may add; ours are added later."""
    return re.sub(r"\s+", " ", _MARKER.sub("", text)).strip()


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def _format_sources(passages: Sequence[Passage]) -> str:
    parts = []
    for i, passage in enumerate(passages, start=1):
        c = passage.chunk
        about = " — ".join(x for x in (c.title, c.source, c.date) if x)
        parts.append(f"[S{i}] {about}\n{c.text.strip()}")
    return "\n\n".join(parts)


def _status_code(exc: BaseException) -> int | None:
    """The HTTP status behind a provider error, looking through LangChain's re-raised wrappers."""
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            return None
        code = getattr(seen, "status_code", None)
        if isinstance(code, int):
            return code
        seen = seen.__cause__ or seen.__context__
    return None


class LLMAnswerer:
    """Answers from retrieved passages with a chat model, keeping only sentences whose quotes check out.

    Args:
        chat_model: any LangChain chat model, invoked synchronously (the engine runs off the event loop).
        max_sentences: sentences kept at most, after checking.
    """

    def __init__(self, chat_model: BaseChatModel, max_sentences: int = 4) -> None:
        if max_sentences < 1:
            raise ValueError(f"max_sentences must be at least 1, got {max_sentences}")
        self.chat_model = chat_model
        self.max_sentences = max_sentences
        self.prompt = ChatPromptTemplate.from_messages(
            [("system", load_prompt("answer_system")), ("human", load_prompt("answer_user"))]
        )
        self._structured: Runnable[Any, Any] | None
        try:
            # include_raw: a reply that does not parse still comes back, for the lenient parser.
            self._structured = chat_model.with_structured_output(ANSWER_SCHEMA, include_raw=True)
        except (NotImplementedError, ValueError, TypeError):
            self._structured = None  # the provider has no structured output; the prompt asks for JSON anyway

    def answer(self, question: str, passages: Sequence[Passage]) -> Answer | None:
        """The checked answer, or None when the model fails or none of its sentences is supported."""
        if not passages:
            return None
        messages = self.prompt.format_messages(
            sources=_format_sources(passages), question=question, max_sentences=self.max_sentences
        )
        started = time.perf_counter()
        reply = self._invoke(messages)
        llm_ms = (time.perf_counter() - started) * 1000
        if reply is None:
            return None
        claims = _parse_reply(reply)
        if claims is None:
            log.warning("llm reply is not an answer in JSON; falling back (%.0f ms)", llm_ms)
            return None
        answer = self._check(question, claims, passages)
        log.info(
            "llm answer: kept %d of %d sentences, %d citations, %.0f ms",
            len(answer.sentences) if answer else 0,
            len(claims),
            len(answer.citations) if answer else 0,
            llm_ms,
        )
        if answer is None:
            return None
        answer.timings_ms["llm"] = round(llm_ms, 1)
        return answer

    def _invoke(self, messages: list[BaseMessage]) -> Any:
        """The model's reply, or None after logging why not; never raises, so the engine can fall back."""
        runnables: list[tuple[str, Runnable[Any, Any]]] = [("plain", self.chat_model)]
        if self._structured is not None:
            runnables.insert(0, ("structured", self._structured))
        for kind, runnable in runnables:
            started = time.perf_counter()
            try:
                return runnable.invoke(messages)
            except Exception as exc:  # noqa: BLE001 - any provider failure means "fall back", never a crash
                status = _status_code(exc)
                # Only the error type and status are logged: provider messages can echo the prompt.
                log.warning(
                    "llm %s call failed: %s%s after %.0f ms",
                    kind,
                    type(exc).__name__,
                    f" (HTTP {status})" if status else "",
                    (time.perf_counter() - started) * 1000,
                )
                # A server that rejects the structured-output request (many OpenAI-compatible ones) may still
                # answer the plain prompt; timeouts and server errors would only repeat, so give up on those.
                if not (kind == "structured" and status in (400, 404, 422)):
                    return None
        return None

    def _check(self, question: str, claims: Sequence[_Claim], passages: Sequence[Passage]) -> Answer | None:
        """Keep verified citations, then sentences that still have one; number citations by first use."""
        citations: dict[tuple[str, int, int], Citation] = {}
        sentences: list[AnswerSentence] = []
        seen_text: set[str] = set()
        for claim in claims:
            if len(sentences) >= self.max_sentences:
                break
            text = _clean_sentence(claim.text)
            key = _normalise(text)
            if not re.search(r"\w", text) or key in seen_text:
                continue
            found: list[Citation] = []
            for src, quote in claim.quotes:
                candidates = [src] if src is not None else list(claim.sources)
                for number in candidates:
                    if not 1 <= number <= len(passages):
                        continue
                    located = locate_quote(quote, passages[number - 1].chunk)
                    if located is not None:
                        found.append(located)
                        break
            if not found:
                log.debug("llm sentence dropped: no verified quote")
                continue
            # A figure its quotes lack is the commonest way a paraphrase goes wrong ("EUR 400 million").
            support = " ".join([c.quote for c in found] + [f"{c.title} {c.date or ''}" for c in found])
            if not _numbers(text) <= _numbers(support):
                log.debug("llm sentence dropped: a number is not in its quotes")
                continue
            numbers: list[int] = []
            for cite in found:
                span = (cite.article_id, cite.start, cite.end)
                if span not in citations:
                    citations[span] = replace(cite, number=len(citations) + 1)
                if citations[span].number not in numbers:
                    numbers.append(citations[span].number)
            seen_text.add(key)
            sentences.append(AnswerSentence(text=text, citations=tuple(numbers)))
        if not sentences:
            return None
        return Answer(
            question=question,
            sentences=tuple(sentences),
            citations=tuple(sorted(citations.values(), key=lambda c: c.number)),
            mode="llm",
        )


def _model_kwargs(provider: str | None, settings: Settings) -> dict[str, Any]:
    """Connection settings under the names the provider's class accepts (unknown ones are sent on)."""
    kwargs: dict[str, Any] = {}
    if settings.llm_base_url:
        kwargs["base_url"] = settings.llm_base_url
    if provider == "ollama":
        kwargs["client_kwargs"] = {"timeout": settings.llm_timeout_s}
        return kwargs  # a local server: no key
    if settings.llm_api_key is not None:
        kwargs["api_key"] = settings.llm_api_key.get_secret_value()
    kwargs["timeout"] = settings.llm_timeout_s
    kwargs["max_retries"] = 1  # a user is waiting; the extractive answer is the better retry
    return kwargs


def build_llm_answerer(settings: Settings) -> LLMAnswerer | None:
    """The LLM answerer the settings ask for, or None when `llm_model` is unset (extractive mode).

    Raises:
        LLMConfigError: the provider is unknown or its LangChain package is missing (with an install hint).
    """
    if not settings.llm_model:
        return None
    from langchain.chat_models import init_chat_model  # imports the provider's package: only in LLM mode

    model = settings.llm_model
    provider = model.split(":", 1)[0] if ":" in model else None
    try:
        chat_model = init_chat_model(model, **_model_kwargs(provider, settings))
    except (ImportError, AttributeError) as exc:  # AttributeError: langchain's fallback class is gone too
        package = (
            f"langchain-{provider.replace('_', '-')}" if provider else "the provider's LangChain package"
        )
        hint = str(exc) if isinstance(exc, ImportError) else f"install it with `pip install {package}`"
        raise LLMConfigError(f"NEWSBOT_LLM_MODEL={model!r} needs a package that is missing: {hint}") from exc
    except ValueError as exc:
        raise LLMConfigError(
            f"NEWSBOT_LLM_MODEL={model!r} is not usable ({exc}). "
            "Write it as provider:model, e.g. openai:gpt-4o-mini or ollama:llama3.1."
        ) from exc
    log.info("llm mode: %s", model)
    return LLMAnswerer(chat_model, max_sentences=settings.max_answer_sentences)
