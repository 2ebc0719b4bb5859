"""Sentence-respecting chunks with overlap and exact character offsets into the article text."""

from __future__ import annotations

from vectorstore.analysis import detect_language, sentence_spans
from vectorstore.models import Article, Chunk


def _last_space(text: str, start: int, stop: int) -> int:
    """The index of the last whitespace character (any, not only ' ') in text[start:stop], or -1.

    A run-on sentence is cut there rather than mid-word: the piece is cited as it is, and a cut word reads as
    a typo in the answer.
    """
    for i in range(stop - 1, start - 1, -1):
        if text[i].isspace():
            return i
    return -1


def chunk_spans(text: str, max_chars: int, overlap_chars: int) -> list[tuple[int, int]]:
    """Pack whole sentences into spans of at most `max_chars` (a longer sentence is cut into pieces at the last
    whitespace that fits, mid-word only where there is none); each span starts with the last sentences of the
    previous one, up to `overlap_chars`."""
    if max_chars <= 0 or overlap_chars < 0:  # a size of 0 would cut empty pieces forever
        raise ValueError(f"chunk size must be positive and overlap not negative (got {max_chars}, {overlap_chars})")
    sentences: list[tuple[int, int]] = []
    for start, end in sentence_spans(text):
        while end - start > max_chars:  # a run-on "sentence" (tables, lists without stops)
            cut = _last_space(text, start, start + max_chars)
            cut = cut if cut > start else start + max_chars  # mid-word only where the window holds no space
            sentences.append((start, cut))
            start = cut
            while start < end and text[start].isspace():
                start += 1
        if end > start:
            sentences.append((start, end))
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(sentences):
        j = i
        while j + 1 < len(sentences) and sentences[j + 1][1] - sentences[i][0] <= max_chars:
            j += 1
        spans.append((sentences[i][0], sentences[j][1]))
        if j + 1 >= len(sentences):
            break
        # Step back over trailing sentences that fit in the overlap, but always move forward, and only as far
        # as still leaves room for the next new sentence: a chunk inside the previous one adds nothing.
        k = j + 1
        while (
            k - 1 > i
            and sentences[j][1] - sentences[k - 1][0] <= overlap_chars
            and sentences[j + 1][1] - sentences[k - 1][0] <= max_chars
        ):
            k -= 1
        i = k
    return spans


def chunk_article(article: Article, version: str, max_chars: int, overlap_chars: int) -> list[Chunk]:
    """The article's chunks, each knowing the article's language (the question's may differ)."""
    language = detect_language(f"{article.title}\n{article.text}")
    return [
        Chunk(
            article_id=article.id,
            version=version,
            position=position,
            start=start,
            end=end,
            text=article.text[start:end],
            title=article.title,
            url=article.url,
            date=article.date,
            source=article.source,
            language=language,
        )
        for position, (start, end) in enumerate(chunk_spans(article.text, max_chars, overlap_chars))
    ]
