"""Domain objects of an answer: what was found, what was said, and where each claim comes from."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from vectorstore.models import Chunk
from vectorstore.recency import parse_date


def day_label(iso: str | None) -> str | None:
    """'2024-01-12' -> '12 Jan 2024', as answers and sources show a day; None for no real day."""
    day = parse_date(iso)
    return f"{day.day} {day:%b %Y}" if day else None


@dataclass(frozen=True)
class Citation:
    """A numbered source; `start`/`end` locate the supporting passage in the article text."""

    number: int
    article_id: str
    title: str
    url: str | None
    date: str | None
    source: str | None
    start: int
    end: int
    quote: str  # the supporting passage, verbatim from the article

    @classmethod
    def from_chunk(cls, chunk: Chunk, number: int, start: int, end: int, quote: str) -> Citation:
        """A citation of `chunk`'s article (its title, link, date and outlet) for the span `start`:`end`."""
        return cls(
            number=number,
            article_id=chunk.article_id,
            title=chunk.title,
            url=chunk.url,
            date=chunk.date,
            source=chunk.source,
            start=start,
            end=end,
            quote=quote,
        )


@dataclass(frozen=True)
class Evidence:
    """A sentence of an article that supports part of the answer."""

    article_id: str
    text: str
    start: int  # offsets into the article text
    end: int
    score: float


@dataclass(frozen=True)
class ScoredSentence:
    """A candidate sentence as the ranker scored it, with what selection reads of it."""

    evidence: Evidence
    passage_rank: int  # rank of its article in retrieval
    coverage: float  # share of the question's weighted terms it covers (related words, neighbours at a discount)
    score: float  # the ranker's probability that it holds the answer
    stems: frozenset[str]
    names_subject: bool  # every entity of the question is named in the sentence itself
    consensus: float = 0.0  # share of the strongest agreement it holds (1: the word the evidence agrees on most)
    typed: bool = False  # holds the kind of thing asked for (an amount for "how many", a place for "where")


@dataclass(frozen=True)
class AnswerSentence:
    text: str
    citations: tuple[int, ...]  # citation numbers
    continues: bool = False  # a piece of a sentence too long to cite whole; it goes on in the source ("…")
    # (start, end) in `text` of the one name, figure, date or place that answers the question, which the fronts
    # show in bold (`bot.answer.highlight`: the lead sentence decides it); None when the question asks for none,
    # the sentence holds 0 or 2+, or its one is not the lead's.
    highlight: tuple[int, int] | None = None

    @property
    def shown(self) -> str:
        """The sentence as a reader sees it: a piece that goes on ends with an ellipsis."""
        return f"{self.text}…" if self.continues else self.text

    @property
    def shown_parts(self) -> tuple[str, str, str]:
        """`shown` as (before, answering span, after); the span is '' when there is none."""
        if self.highlight is None:
            return self.shown, "", ""
        start, end = self.highlight
        return self.text[:start], self.text[start:end], self.shown[end:]


@dataclass(frozen=True)
class Answer:
    question: str
    sentences: tuple[AnswerSentence, ...]
    citations: tuple[Citation, ...]
    declined: bool = False
    decline_reason: str = ""
    mode: str = "extractive"  # or "llm"
    standalone_question: str = ""  # the question as understood, after follow-up rewriting
    timings_ms: dict[str, float] = field(default_factory=dict)
    # The date (YYYY-MM-DD) of the newest cited article when the answer is drawn only from old articles while
    # the store holds newer coverage on the topic (see `bot.answer.engine.as_of_date`); each front says "As of ...".
    as_of: str | None = None
    # The language (ISO 639-1) of the quoted articles when the question was asked in another one: the quotes stay
    # verbatim, and the answer says so (`language_note`).
    quotes_language: str | None = None

    @property
    def language_note(self) -> str:
        """'The quotes are in English, the language of the articles.' for an answer across languages, else ''."""
        if not self.quotes_language:
            return ""
        from babel import Locale

        name = Locale("en").languages.get(self.quotes_language, self.quotes_language)
        return QUOTES_LANGUAGE_NOTE.format(language=name)

    @property
    def as_of_note(self) -> str:
        """'As of 12 May 2024' for an answer with `as_of`, else ''."""
        day = day_label(self.as_of)
        return f"As of {day}" if day else ""

    @property
    def text(self) -> str:
        """The answer as plain text with [n] markers."""
        if self.declined:
            return DECLINE_TEXT
        return " ".join(f"{s.shown} {''.join(f'[{n}]' for n in s.citations)}".strip() for s in self.sentences)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["text"] = self.text
        return data


DECLINE_TEXT = "The coverage I have doesn't answer that."
# In English for now, kept here so that localisation translates it in one place (issue 16).
QUOTES_LANGUAGE_NOTE = "The quotes are in {language}, the language of the articles."
