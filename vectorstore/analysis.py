"""Text analysis: the sentences, terms and word lists that the chunker, the lexical index and the answer engine
share. Questions and passages must be analysed alike, or a question's terms miss the index's, so every package
takes its word analysis from here (this module sits at the bottom of the import graph and imports none of ours).

Word tables elsewhere are written in words and stemmed when loaded (`stems`), never in stemmer output.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Iterable
from functools import cache, lru_cache
from typing import Any

import blingfire
import Stemmer

logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets itself to DEBUG on import

# ---- sentences ----

_PARAGRAPH = re.compile(r"[^\n]+")
# A sentence of fewer words is a caption, a dateline or a fragment, never an answer: the answer engine scores
# none, and ingest keeps no vector of one (`vectorstore/sentences.py`).
MIN_SENTENCE_WORDS = 4


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, exact offsets into `text` so every chunk and citation points into the article;
    paragraphs (lines) never merge, since blingfire joins across newlines."""
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


# ---- terms: what the lexical index holds and what a question's words are matched by ----

_TERM = re.compile(r"(?u)\b\w\w+\b")

# Function words beyond bm25s's short English list: question words and pronouns carry no topic.
_MORE_STOPWORDS = """
what which who whom whose when where why how am is are was were be been being do does did doing have has had
having i me my myself we our ours ourselves you your yours he him his she her hers it its they them their theirs
this that these those here there all any both each few more most other some such only own same so than too very
can will just should now also would could may might must shall about above after again against below between
during into through under until upon over off out up down once further whether while within without s t
""".split()


# Ukrainian function words (neither Snowball nor bm25s has a list; one-letter words are no terms anyway).
_UKRAINIAN_STOPWORDS = """
та але або чи що як це цей ця ці цього цієї цих той ті то тому на до із зі від за по про для під над між при
через без не ні так же би бо вже ще лише тільки також теж він вона воно вони ми ви ти його її їх їм йому їй нам
вам мене тебе себе свій своя своє свої був була було були є буде будуть який яка яке які якого якої яких якому
якій яку яким якими хто
коли де чому навіщо скільки куди звідки чий чия чиє чиї якщо щоб там тут все всі усі весь вся уже ж
""".split()


@cache
def _stemmer(language: str = "en") -> Stemmer.Stemmer:
    """The Snowball stemmer of a language (`SNOWBALL`; English for one not listed)."""
    return Stemmer.Stemmer(SNOWBALL.get(language, SNOWBALL[DEFAULT_LANGUAGE]))


@cache
def stopwords(language: str = "en") -> frozenset[str]:
    """The words `terms` drops in a language (the lexical index's analysis: changing them means rebuilding the
    index): bm25s's lists, with our question words for English and our own for Ukrainian; none for a language
    bm25s has no list for (Polish, Czech, ...), whose words are only stemmed."""
    from bm25s import stopwords as lists

    if language not in SNOWBALL:
        language = DEFAULT_LANGUAGE
    if language == DEFAULT_LANGUAGE:
        return frozenset(lists.STOPWORDS_EN) | frozenset(_MORE_STOPWORDS)
    if language == "uk":
        return frozenset(_UKRAINIAN_STOPWORDS)
    return frozenset(getattr(lists, f"STOPWORDS_{SNOWBALL[language].upper()}", ()))


def terms(text: str, language: str = "en") -> list[str]:
    """The index's analysis (lowercase, the language's stop words out, its Snowball stems), for anyone matching
    words. English unless told (`language`, ISO 639-1: NEWSBOT_MULTILINGUAL analyses each chunk in its own)."""
    words = [w for w in _TERM.findall(text.lower()) if w not in stopwords(language)]
    return list(_stemmer(language).stemWords(words))


def stems(words: Iterable[str]) -> tuple[str, ...]:
    """The Snowball stems of words, in order without repeats: how word tables become comparable with `terms`."""
    return tuple(dict.fromkeys(_stemmer().stemWords([w.lower() for w in words])))


# ---- words: lowercase, keeping numbers and codes whole ("21,000" as "21000", "ba.5", "$1.2") ----

_WORD = re.compile(r"[\w’'-]+(?:[.,]\w+)*")


def normal_word(word: str) -> str:
    """A word as entity matching compares it: lowercased, edge apostrophes and dots stripped, "21,000" as "21000"."""
    return word.lower().strip("’'.").replace(",", "")


def words_of(text: str) -> set[str]:
    return {normal_word(w) for w in _WORD.findall(text)}


def capitals_of(text: str) -> set[str]:
    """The words written in capitals ("US", "U.S.", "NATO"), as `words_of` gives them: where a short name is an
    abbreviation, not the pronoun "us"."""
    return {normal_word(w) for w in _WORD.findall(text) if w.isupper()}


# ---- verb forms (lemminflect) ----


@lru_cache(maxsize=4096)
def inflect(word: str, tag: str) -> str | None:
    """`word` in the Penn tag `tag` (VBD: past tense) when `word` is a verb's bare form; None when it is not."""
    import lemminflect  # loads its tables on first use (~0.5 s), so only when a question needs them

    lemmas = lemminflect.getAllLemmas(word).get("VERB")
    if not lemmas or lemmas[0] != word:
        return None
    forms = lemminflect.getInflection(word, tag)
    return forms[0] if forms else None


def past_tense(verb: str) -> str:
    """'give' -> 'gave'; a word that is no verb's bare form comes back as given."""
    return inflect(verb, "VBD") or verb


# ---- word lists ----
# Distinct lists for distinct jobs, on purpose: merged, each job would change. "May", "Will" or "Down" are
# stopwords to the index but names when a question capitalises them; "new" or "week" carry a topic to the index
# but name nothing in a question.

# English names whatever the locale: Python leaves LC_TIME at "C" unless a program changes it, and newsbot does not.
MONTH_NAMES = tuple(name.lower() for name in calendar.month_name[1:])
WEEKDAY_NAMES = tuple(name.lower() for name in calendar.day_name)

# Words that are not names when a question capitalises them ("What…", "Tell me…", "Last Monday…").
QUESTION_WORDS = frozenset(
    """
    what which who whom whose when where why how did does do is are was were will would can could should has have
    had the a an and also according in on of for to tell me please i what's who's recently this that these those
    there then now it its they their he she his her we our you your but or so after before during as at by from
    with about into over under between among any some many much more most new last next first second week month
    year today yesterday us
    """.split()
) | frozenset(WEEKDAY_NAMES)

# After these a word is a noun, not a verb ("the war cost" is subject "the war" and verb "cost").
DETERMINERS = frozenset(
    "the a an his her its their our this that these those my your some any each every no".split()
)

# A sentence opening with one of these is about someone the sentence before named ("Zelensky said. He highlighted
# Italy's support…"): the person pronouns only, as "it" and "this" open sentences about nothing in particular.
SUBJECT_PRONOUNS = frozenset("he she they his her their".split())
_FIRST_WORD = re.compile(r"[^\W\d_]+")


def opens_with_pronoun(sentence: str) -> bool:
    """Whether the sentence's first word is a person pronoun (`SUBJECT_PRONOUNS`), as in "He highlighted …"."""
    first = _FIRST_WORD.search(sentence)
    return bool(first) and first.group().casefold() in SUBJECT_PRONOUNS


# Abbreviations that news copy spells out as often as not ("G7" ~ "Group of Seven").
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "g7": ("group", "seven"), "g20": ("group", "twenty"), "eu": ("european", "union"),
    "un": ("united", "nations"), "us": ("united", "states"), "uk": ("united", "kingdom"),
    "nato": ("north", "atlantic"), "iaea": ("atomic", "energy"), "who": ("world", "health"),
    "wwii": ("world", "war"), "ww2": ("world", "war"),
}  # fmt: skip

# ---- normalisation: the typographic variants of quote marks, dashes and ellipses, as plain ASCII ----

PUNCTUATION_VARIANTS: dict[str, str] = {
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u0060\u00b4", "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
    "\u2026": "...",
}
PLAIN_PUNCTUATION = str.maketrans(PUNCTUATION_VARIANTS)  # for str.translate


# ---- languages: which one a text is in (a question's may differ from its coverage's, NEWSBOT_MULTILINGUAL) ----

# ISO 639-1 code -> Snowball stemmer (PyStemmer). Snowball has no Ukrainian: Russian's endings join most of its
# case and verb forms (Україна/України/Україну, пообіцяла/пообіцяв), not those ending in і, ї or є (Україні).
SNOWBALL: dict[str, str] = {
    "en": "english", "uk": "russian", "ru": "russian", "it": "italian", "de": "german", "fr": "french", "es": "spanish",
    "pl": "polish", "pt": "portuguese", "nl": "dutch", "sv": "swedish", "da": "danish", "no": "norwegian",
    "fi": "finnish", "hu": "hungarian", "ro": "romanian", "tr": "turkish", "cs": "czech", "el": "greek",
    "lt": "lithuanian", "et": "estonian", "ca": "catalan", "eu": "basque", "ga": "irish", "sr": "serbian",
    "hy": "armenian", "ar": "arabic", "fa": "persian", "hi": "hindi", "ne": "nepali", "ta": "tamil",
    "id": "indonesian",
}
DEFAULT_LANGUAGE = "en"
# Enough text to tell a language by; the rest of a long article only costs time.
_SAMPLE_CHARS = 2000


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=False)
    identifier.set_languages(list(SNOWBALL))
    return identifier


def detect_language(text: str) -> str:
    """The ISO 639-1 code of the text's language; English for a text with no letters to go by."""
    sample = text[:_SAMPLE_CHARS]
    if not any(c.isalpha() for c in sample):
        return DEFAULT_LANGUAGE
    code, _score = _identifier().classify(sample)
    return str(code)
