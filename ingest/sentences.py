"""Sentence spans with exact character offsets, so every chunk and citation points into the article text."""

from __future__ import annotations

import re

import blingfire

_PARAGRAPH = re.compile(r"[^\n]+")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence; paragraphs (lines) never merge, since blingfire joins across newlines."""
    spans: list[tuple[int, int]] = []
    for para in _PARAGRAPH.finditer(text):
        line = para.group()
        if not line.strip():
            continue
        _, offsets = blingfire.text_to_sentences_and_offsets(line)
        base = para.start()
        for start, end in offsets:
            # blingfire trims whitespace, so offsets already exclude it; keep spans inside the paragraph.
            if end > start:
                spans.append((base + start, base + min(end, len(line))))
    return spans
