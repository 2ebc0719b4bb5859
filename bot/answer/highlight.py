"""The answering span: when a question asks for a name, a number, a date or a place, and an answer sentence holds
exactly one candidate of that kind that the question does not already name, that candidate is what the fronts
show in bold ("Italy approved a **€140 million ($ 150 mn)** package…" for "How much did Italy pledge?").

Pure functions over strings. Zero candidates or several (two amounts, two people) give no span: bolding one of
two figures would claim more than the sentence says. A figure given in two currencies ("€140 million ($ 150 mn)")
is one candidate.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import replace
from functools import lru_cache

from bot.answer.models import Answer
from bot.answer.places import KINDS, place_names, place_spans
from bot.answer.question import Question
from vectorstore.analysis import DETERMINERS, MONTH_NAMES, QUESTION_WORDS, WEEKDAY_NAMES, words_of

Span = tuple[int, int]

# ---- amounts ----
_NUMBER_WORDS = (
    "two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
    "eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred dozen"
).split()  # not "one", which is a pronoun as often as a number
_FIGURE = rf"(?:\d+(?:[.,]\d+)*|(?i:{'|'.join(_NUMBER_WORDS)})\b)"
_CURRENCY = r"(?:(?:US|A|C|HK)?[$€£¥₴₽₹]\s?|(?:USD|EUR|GBP|UAH)\s)"
_SCALE = r"(?:\s?(?:%|(?i:per\s?cent|million|billion|trillion|thousand|hundred|bn|mn)\b))"
_UNIT = r"(?:\s(?:dollars|euros|pounds|hryvnias?|roubles|rubles|yuan|yen)\b)"
_ONE_AMOUNT = rf"(?<![\w.,/-]){_CURRENCY}?{_FIGURE}(?:{_SCALE}+{_UNIT}?|{_UNIT}|(?!\w))"
# "€140 million ($ 150 mn)": one figure in two currencies.
_AMOUNT = re.compile(rf"{_ONE_AMOUNT}(?:\s*\(\s*{_ONE_AMOUNT}\s*\))?")

# ---- dates ----
_MONTH_ABBREVIATIONS = r"(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?"
_MONTH = "(?:" + "|".join(m.capitalize() for m in MONTH_NAMES) + f"|{_MONTH_ABBREVIATIONS})"
_WEEKDAY = "(?:" + "|".join(d.capitalize() for d in WEEKDAY_NAMES) + ")"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_YEAR = r"(?:1[89]|20)\d{2}"
_DATE = re.compile(
    r"\b(?:"
    rf"(?:{_WEEKDAY},?\s+)?(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?"  # (Monday,) 12 January (2024)
    rf"|(?:{_WEEKDAY},?\s+)?{_MONTH}\s+{_DAY}\b(?:,?\s+{_YEAR})?"  # (Monday,) January 12(, 2024)
    rf"|{_MONTH}(?:\s+(?:of\s+)?{_YEAR})?"  # January (2024)
    rf"|{_WEEKDAY}"
    r"|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}"
    rf"|{_YEAR}s?"  # 2024, the 1990s
    r"|(?i:yesterday|today|tomorrow)"
    r")(?![\w-])"
)

# ---- people ----
# Capitalised words that are never part of a person's name: titles, and the words of organisations, events and
# places that capitalise a run of words as names do ("Deputy Chair of the Ukrainian Parliament Olena Kondratiuk",
# "the Ukraine Recovery Conference").
_NOT_NAME = frozenset(
    """
    president vice prime minister foreign defense defence deputy chair chairman chairwoman secretary general senator
    sen representative rep governor gov mayor king queen prince princess pope chancellor ambassador commissioner
    director chief executive ceo dr mr mrs ms judge justice speaker spokesperson spokesman spokeswoman lt col colonel
    captain sergeant officer head leader coach professor prof sir lady lord saint st former acting
    alliance conference parliament union group council committee ministry department office agency bank company
    corporation corp inc ltd university college school institute party forces army navy court commission congress
    senate house assembly association federation foundation fund organization organisation summit forum festival cup
    league championship games olympics airport street avenue square park river mountain lake island station hospital
    museum church times post news journal press media radio initiative formula program programme project act law
    treaty plan recovery security industries day week republic kingdom states united nations north south east west
    central northern southern eastern western
    """.split()
) | QUESTION_WORDS | DETERMINERS | frozenset(MONTH_NAMES) | frozenset(_NUMBER_WORDS)
# "Italian", "Ukrainian", "Chinese", "British": an adjective of a country, never a name, is its stem plus one of these.
_DEMONYM_ENDINGS = ("ian", "ean", "an", "ese", "ish", "n", "i")
_WORD = re.compile(r"[^\W\d_][\w’'.-]*")
_PARTICLES = frozenset("von van der den de da di du la le bin al del dos das".split())  # "Ursula von der Leyen"
_POSSESSIVE = re.compile(r"['’]s$")


def _name_runs(sentence: str) -> list[list[tuple[str, int, int]]]:
    """Runs of capitalised words (word, start, end) separated by spaces only; a particle between two of them
    joins them, and a possessive ends one ("Zelensky’s office")."""
    runs: list[list[tuple[str, int, int]]] = []
    current: list[tuple[str, int, int]] = []
    written_end = 0  # where the run's last word ended as written, possessive and full stop included
    matches = list(_WORD.finditer(sentence))
    for i, match in enumerate(matches):
        written = match.group().rstrip(".-")
        word = _POSSESSIVE.sub("", written)
        follows = bool(current) and not sentence[written_end : match.start()].strip()
        joins = word[:1].isupper() or (word in _PARTICLES and follows and _name_follows(matches[i + 1 :]))
        if current and not (joins and follows):
            runs.append(current)
            current = []
        if joins:
            current.append((word, match.start(), match.start() + len(word)))
            written_end = match.start() + len(written)
            if word != written:
                runs.append(current)
                current = []
    if current:
        runs.append(current)
    return runs


def _name_follows(rest: list[re.Match[str]]) -> bool:
    """Whether the next word after any particles is capitalised: "von der Leyen"."""
    after = next((m.group() for m in rest if m.group() not in _PARTICLES), "")
    return after[:1].isupper()


def _people(sentence: str, min_words: int) -> list[Span]:
    """Person-like names: the last words of a capitalised run after any title, organisation word or place, at
    least `min_words` of them, none an acronym ("Antonio Tajani" in "Italian Foreign Minister Antonio Tajani")."""
    places = [(a, b) for _, a, b in place_spans(sentence)]
    found: list[Span] = []
    for run in _name_runs(sentence):
        name: list[tuple[str, int, int]] = []
        for word, start, end in run:
            in_place = any(a <= start < b for a, b in places)
            if word.lower() in _NOT_NAME or word.isupper() or in_place or _is_demonym(word):
                name = []
            elif name or word not in _PARTICLES:
                name.append((word, start, end))
        if sum(1 for w, _, _ in name if w not in _PARTICLES) >= min_words:
            found.append((name[0][1], name[-1][2]))
    return found


@lru_cache(maxsize=1)
def _country_names() -> tuple[str, ...]:
    return tuple(name for name, kinds in place_names().items() if kinds & {"country", "continent"})


def _is_demonym(word: str) -> bool:
    """Whether a capitalised word is the adjective of a country or continent: its stem is most of the country's
    name ("Ital-ian": Italy, "Brit-ish": Britain; not "Christ-ian": Christmas Island)."""
    stems = [word[: -len(ending)] for ending in _DEMONYM_ENDINGS if word.endswith(ending)]
    return any(name.startswith(stem) and 2 * len(stem) > len(name) for stem in stems for name in _country_names())


def _places(sentence: str, kinds: Collection[str]) -> list[Span]:
    """Known places of the kinds asked for, except as the first word of a longer name ("Ukraine Recovery
    Conference", "Kyiv Post")."""
    found: list[Span] = []
    for _, start, end in place_spans(sentence, kinds):
        after = sentence[end:]
        if not re.match(r"\s+[A-Z]", after):
            found.append((start, end))
    return found


def _dates(sentence: str) -> list[Span]:
    return [m.span() for m in _DATE.finditer(sentence)]


def _amounts(sentence: str) -> list[Span]:
    """Figures, except bare numbers that are part of a date ("12 January", "2024")."""
    dates = _dates(sentence)
    found: list[Span] = []
    for match in _AMOUNT.finditer(sentence):
        start, end = match.span()
        bare = match.group().replace(",", "").replace(".", "").isdigit()
        if not (bare and any(a <= start and end <= b for a, b in dates)):
            found.append((start, end))
    return found


def candidates(answer_type: str, sentence: str, min_name_words: int) -> list[Span]:
    """The spans of `sentence` that hold the kind of thing a question of `answer_type` asks for; none for the
    kinds that have no span (a reason, a thing)."""
    if answer_type == "amount":
        return _amounts(sentence)
    if answer_type == "date":
        return _dates(sentence)
    if answer_type == "place" or answer_type in KINDS:
        return _places(sentence, KINDS if answer_type == "place" else (answer_type,))
    if answer_type == "person":
        return _people(sentence, min_name_words)
    return []


def _question_words(text: str) -> set[str]:
    return {_POSSESSIVE.sub("", w) for w in words_of(text)}


def _named_in(question_words: set[str], answer_type: str, text: str) -> bool:
    """Whether the question already names the candidate: any word of a person ("Tajani" is Antonio Tajani),
    every word of anything else ("2023" is not "12 January 2023")."""
    words = _question_words(text)
    if answer_type == "person":
        return bool(words & question_words)
    return words <= question_words


def answer_spans(question: Question, sentence: str, min_name_words: int) -> list[Span]:
    """The candidates of the kind asked for in `sentence` that the question does not name."""
    asked = _question_words(question.text)
    found = candidates(question.answer_type, sentence, min_name_words)
    return [(a, b) for a, b in found if not _named_in(asked, question.answer_type, sentence[a:b])]


def answer_span(question: Question, sentence: str, min_name_words: int) -> Span | None:
    """The one candidate answer in `sentence` (its first mention if repeated), or None for zero or several."""
    spans = answer_spans(question, sentence, min_name_words)
    return spans[0] if len({sentence[a:b] for a, b in spans}) == 1 else None


def with_highlights(answer: Answer, question: Question, min_name_words: int) -> Answer:
    """The answer with its answering span marked. The lead sentence, the one that answers, decides it; a later
    sentence (added context) is marked only where its one candidate is the same ("Giorgia Meloni" again), never
    with a figure or a place of its own, which answers nothing. A generated (LLM) sentence gets a span only where
    its verified quotes hold exactly one candidate and the sentence that same one, so what is bold is quoted."""
    if answer.declined or not answer.sentences:
        return answer
    quotes = {c.number: c.quote for c in answer.citations}
    spans: list[Span | None] = []
    for sentence in answer.sentences:
        span = answer_span(question, sentence.text, min_name_words)
        if span is not None and answer.mode == "llm":
            quoted = {
                q[a:b] for n in sentence.citations for q in [quotes.get(n, "")]
                for a, b in answer_spans(question, q, min_name_words)
            }  # fmt: skip
            span = span if quoted == {sentence.text[span[0] : span[1]]} else None
        spans.append(span)
    lead = answer.sentences[0].text[spans[0][0] : spans[0][1]] if spans[0] else None
    sentences = tuple(
        replace(s, highlight=span if span and lead == s.text[span[0] : span[1]] else None)
        for s, span in zip(answer.sentences, spans, strict=True)
    )
    return replace(answer, sentences=sentences)
