"""A sentence far longer than a chunk (a run-on list, a log line) is cited in pieces cut at word boundaries, and
the answer shows with an ellipsis that each piece goes on in the source."""

from __future__ import annotations

import random
from pathlib import Path
from typing import TYPE_CHECKING

from bot.telegram.i18n import texts
from bot.telegram.render import render_answer

if TYPE_CHECKING:
    from bot.runtime import Runtime

WORDS = "sluice caissons surge marsh currents chambers pumps walls lanes herons oysters sandbanks cranes".split()


def run_on_sentence(rng: random.Random) -> str:
    """~5,000 characters without a stop: runs of words, each followed by a 400-character link, so that the last
    space of a 600-character window often lies in its first half (where a cut once fell mid-link)."""
    parts = ["The Quellmoor barrier inspection log lists"]
    while sum(len(p) + 1 for p in parts) < 5000:
        parts.append(" ".join(rng.choice(WORDS) for _ in range(40))[:200].strip())
        parts.append("https://quellmoor.example/log/" + "".join(rng.choice("abcdef0123456789") for _ in range(370)))
    return " ".join(parts)


def test_a_run_on_sentence_is_cited_up_to_a_word_boundary_with_an_ellipsis(runtime: Runtime, tmp_path: Path) -> None:
    text = run_on_sentence(random.Random(5))
    assert len(text) >= 5000 and "." not in text.replace("quellmoor.example", "")
    page = f"---\nid: quellmoor-log\ntitle: Quellmoor log\n---\n{text}\n"
    (tmp_path / "log.md").write_text(page, encoding="utf-8")
    assert runtime.ingest([str(tmp_path / "log.md")]).ok
    source = runtime.store.article_text("quellmoor-log") or ""

    answer = runtime.engine.answer("What does the Quellmoor barrier inspection log list?")
    assert not answer.declined and answer.sentences
    for sentence in answer.sentences:
        (citation,) = [c for c in answer.citations if c.number in sentence.citations]
        span = source[citation.start : citation.end]
        assert sentence.text in span  # the span still points at what is cited, verbatim
        at = source.index(sentence.text, citation.start)
        after = source[at + len(sentence.text) : at + len(sentence.text) + 1]
        assert after == "" or after.isspace(), f"cut mid-word: …{sentence.text[-20:]!r}|{after!r}"
        assert sentence.continues and sentence.shown.endswith("…")
    (html,) = render_answer(answer, texts("en"))
    assert "… [1]" in html
