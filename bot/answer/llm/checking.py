"""Checking a model's sentences: only quotes found in their sources count, and a sentence survives only with a
verified quote and no figure its quotes lack."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import replace

from bot.answer.llm.parsing import Claim
from bot.answer.llm.quotes import locate_quote, normalise
from bot.answer.models import Answer, AnswerSentence, Citation
from vectorstore.models import Passage

log = logging.getLogger(__name__)


_MARKER = re.compile(r"\s*[\[(]\s*(?:S|Source\s*)?\d+(?:\s*[,;]\s*(?:S|Source\s*)?\d+)*\s*[\])]", re.I)
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*")


def _clean_sentence(text: str) -> str:
    """The sentence without the citation markers ([S1], (2)) a model may add; ours are added later."""
    return re.sub(r"\s+", " ", _MARKER.sub("", text)).strip()


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def check_claims(
    question: str, claims: Sequence[Claim], passages: Sequence[Passage], max_sentences: int
) -> Answer | None:
    """Keep verified citations, then sentences that still have one; number citations by first use."""
    citations: dict[tuple[str, int, int], Citation] = {}
    sentences: list[AnswerSentence] = []
    seen_text: set[str] = set()
    for claim in claims:
        if len(sentences) >= max_sentences:
            break
        text = _clean_sentence(claim.text)
        key = normalise(text)
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
