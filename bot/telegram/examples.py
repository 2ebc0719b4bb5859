"""Example questions for /start and for declines, drawn from the newest coverage so they have an answer.

Each example is addressed by a short key derived from the article id, so a button keeps working after a
restart and its callback data stays within Telegram's 64 bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from bot.telegram.i18n import N_, Texts
from vectorstore.models import StoredArticle

LABEL_CHARS = 48
QUESTION_TITLE_CHARS = 300  # of a title asked about: well within a question's length limit
ABOUT = N_("Tell me about: %(title)s")  # asked in English, the coverage's; shown in the user's language


@dataclass(frozen=True)
class Example:
    key: str
    label: str  # what the button shows
    question: str  # what tapping it asks
    title: str | None = None  # the article's, for an example drawn from one

    def shown(self, t: Texts) -> str:
        """The question as shown above its answer, in the user's language."""
        return t._(ABOUT, title=self.title) if self.title is not None else self.question


def example_key(article_id: str) -> str:
    return hashlib.sha1(article_id.encode("utf-8")).hexdigest()[:12]


def _label(title: str) -> str:
    title = " ".join(title.split())
    return title if len(title) <= LABEL_CHARS else title[: LABEL_CHARS - 1].rstrip() + "…"


def _example(article: StoredArticle) -> Example:
    title = " ".join(article.title.split())
    if len(title) > QUESTION_TITLE_CHARS:  # a feed's run-on title; its first words say what it is about
        title = title[:QUESTION_TITLE_CHARS].rsplit(" ", 1)[0]
    return Example(example_key(article.id), _label(title), ABOUT % {"title": title}, title)


def _configured(question: str) -> Example:
    question = " ".join(question.split())
    return Example(key=example_key("q:" + question), label=_label(question), question=question)


def examples(catalog: dict[str, StoredArticle], configured: Sequence[str] = (), n: int = 3) -> list[Example]:
    """The newsroom's configured example questions first, then the `n` newest articles with a title."""
    out = [_configured(q) for q in configured if q.strip()][:n]
    titled = [a for a in catalog.values() if a.title.strip()]
    titled.sort(key=lambda a: (a.date or "", a.ingested_at, a.id), reverse=True)
    out += [_example(a) for a in titled[: n - len(out)]]
    return out


def find_example(catalog: dict[str, StoredArticle], key: str, configured: Sequence[str] = ()) -> Example | None:
    for question in configured:
        if question.strip() and _configured(question).key == key:
            return _configured(question)
    for article in catalog.values():
        if example_key(article.id) == key and article.title.strip():
            return _example(article)
    return None
