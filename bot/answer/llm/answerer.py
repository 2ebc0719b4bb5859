"""The LLM answerer: asks the chat model for a grounded answer in JSON and keeps only what its quotes prove;
None whenever the model fails or nothing survives, so the engine falls back to the extractive answer."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable

from bot.answer.llm.checking import check_claims
from bot.answer.llm.parsing import parse_reply
from bot.answer.llm.schema import ANSWER_SCHEMA
from bot.answer.models import Answer
from prompts import load_prompt
from vectorstore.models import Passage

log = logging.getLogger(__name__)


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
        claims = parse_reply(reply)
        if claims is None:
            log.warning("llm reply is not an answer in JSON; falling back (%.0f ms)", llm_ms)
            return None
        answer = check_claims(question, claims, passages, self.max_sentences)
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
