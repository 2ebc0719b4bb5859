"""An answer as Telegram HTML: the sentences with inline [n] markers, then a numbered Sources block."""

from __future__ import annotations

import re

from bot.answer.models import DECLINE_TEXT, Answer, AnswerSentence, Citation
from bot.telegram.render.markup import byline, esc, link, markers, shorten, utf16_len
from bot.telegram.render.split import Block, pack, split_html

SENTENCES_PER_PARAGRAPH = 3
MAX_SENTENCE_HTML = 3000  # an answer sentence; longer ones are shortened at a word boundary, with "…"
MAX_ASKED_HTML = 400  # the example question shown above its answer


def _source_line(citation: Citation) -> str:
    line = f"[{citation.number}] {link(citation.title, citation.url)}"
    meta = byline(citation.source, citation.date)
    return f"{line} · {meta}" if meta else line


def _sentence(sentence: AnswerSentence) -> str:
    """A sentence with its markers, as one unit: the markers never part from their sentence. Its answering span
    is bold, unless the sentence is too long to show whole (a cut could fall inside the span)."""
    before, span, after = (re.sub(r"\s+", " ", part) for part in sentence.shown_parts)
    html = f"{esc(before.lstrip())}<b>{esc(span)}</b>{esc(after.rstrip())}"
    if not span or utf16_len(html) > MAX_SENTENCE_HTML:
        html = shorten(" ".join(sentence.shown.split()), MAX_SENTENCE_HTML)
    return f"{html} {markers(sentence.citations)}".strip()


def render_answer(answer: Answer, asked: str | None = None) -> list[str]:
    """The answer as HTML message parts (usually one): body with markers, then the numbered sources.

    `asked` is shown as a header when the question is not the user's own message (an example button).
    """
    if answer.declined:
        return split_html(render_decline())
    sentences = [_sentence(s) for s in answer.sentences]
    if answer.as_of_note and sentences:  # it leads the first sentence, so it never stands alone in a part
        sentences[0] = f"<i>{esc(answer.as_of_note)}:</i> {sentences[0]}"
    blocks = [
        Block(tuple(sentences[i : i + SENTENCES_PER_PARAGRAPH]), " ")
        for i in range(0, len(sentences), SENTENCES_PER_PARAGRAPH)
    ]
    if asked:  # the header leads the first sentence, so it never stands alone in a part
        header = f"❓ <i>{shorten(' '.join(asked.split()), MAX_ASKED_HTML)}</i>"
        first = blocks[0] if blocks else Block((), " ")
        units = (f"{header}\n\n{first.units[0]}" if first.units else header, *first.units[1:])
        blocks[:1] = [Block(units, " ")]
    if answer.language_note:
        blocks.append(Block((f"<i>{esc(answer.language_note)}</i>",), " "))
    if answer.citations:
        lines = [_source_line(c) for c in sorted(answer.citations, key=lambda c: c.number)]
        blocks.append(Block((f"<b>Sources</b>\n{lines[0]}", *lines[1:]), "\n"))
    return pack(blocks)


def render_decline() -> str:
    return (
        f"🤷 {esc(DECLINE_TEXT)}\n\n"
        "I only answer from the articles I have, so I'd rather say nothing than guess. "
        "Try one of the questions below, rephrase with names, places or dates, "
        "or see /sources for what's covered."
    )


def render_slow_down(limit_per_minute: int, retry_after_s: float) -> str:
    """The rate limiter's refusal, said once per wait."""
    wait = max(1, round(retry_after_s))
    return (
        f"You're asking faster than I can keep up: I take {limit_per_minute} questions a minute "
        f"per person. Please try again in {wait} seconds."
    )
