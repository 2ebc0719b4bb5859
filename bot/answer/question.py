"""What a question asks: its content terms, its key entities, the kind of answer it wants, and what a
follow-up refers to. Pure functions over strings; no model, so they cost microseconds."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from vectorstore.analysis import ABBREVIATIONS, QUESTION_WORDS, past_tense, stems, terms

# Words that carry no content of their own in a question ("what did X do", "what happened").
_GENERIC = frozenset(
    stems("do did done does happen say said news coverage report tell know thing anything something else".split())
)


@lru_cache(maxsize=1)
def _related_terms() -> dict[str, tuple[str, ...]]:
    """News verbs whose answers use other words ("pledge" is answered by "approved a €140 million package"), as
    stems: question term -> related terms that count for it at a discount. Built on first use (lemminflect)."""
    related: dict[str, tuple[str, ...]] = {
        "pledge": ("promise", "commit", "approve", "announce", "package", "aid", "send", "provide", "offer",
                   "donate", "contribute", "million", "billion"),
        "promise": ("pledge", "commit", "vow", "announce"),
        "give": ("provide", "send", "donate", "deliver", "supply", "package", "aid"),
        past_tense("give"): ("provide", past_tense("send"), "donate", "deliver", "supply", "package", "aid"),
        "send": (past_tense("send"), "deliver", "supply", "provide", "package"),
        "talk": ("discuss", "call", past_tense("speak"), "conversation", "meet"),
        "discuss": ("talk", "call", "conversation", "meet"),
        "host": ("preside", "chair", "hold", past_tense("hold")),
        "win": (past_tense("win"), "victory", "beat", "champion"),
        past_tense("win"): ("win", "victory", "beat", "champion"),
        "kill": ("dead", "death", "die"),
        "die": ("dead", "death", "kill", "pass"),
        "elect": ("vote", past_tense("win"), "win", "preside"),
        "resign": ("step", "quit"),
        "arrest": ("detain", "custody", "charge"),
        "ban": ("prohibit", "outlaw", "restrict"),
        "cost": ("price", "average", "pay", past_tense("pay")),
        "join": ("member", "alliance"),
    }  # fmt: skip
    # Spelled out, these abbreviations are related terms too; "group" is in far more sentences than the G7's.
    for abbreviation in ("g7", "g20", "eu", "un"):
        related[abbreviation] = tuple(w for w in ABBREVIATIONS[abbreviation] if w != "group")
    return {stems([word])[0]: stems(words) for word, words in related.items()}


# Where a question's statements end: "Gas prices have fallen for 50 days. What was the record high?"
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")
_LOWER_SUFFIX = re.compile(r"(?<=[A-Za-z0-9])-[a-z][a-z-]*$")
# A name in any script ("Italy", "Італія", "Élysée"), or a number; the capital is checked by `_capitalised`.
_CAPITALISED = re.compile(r"[^\W\d_][\w’'.-]*|\d[\d,.]*\w*")
# Italian and French elide an article or preposition into the name: "l'Italia", "dell'Ucraina", "d'Italie".
_ELIDED = re.compile(r"\b((?:[a-zà-ù]{1,5}|L|D|Dell|Dall|Nell|Sull|All)['’])([^\W\d_])")
_SPLIT_WORD = re.compile(r"[\s\"“”‘’«»„‚‹›?!:;()\[\]]+")
_FOLLOW_UP = re.compile(
    r"^\s*(and|also|what about|how about|and what about|what else|anything else|same for)\b|"
    r"\b(they|them|their|it|its|he|she|him|her|this|that|those|these)\b",
    re.IGNORECASE,
)

# "Which city", "which of the following US cities".
_WHICH = r"\bwhich (of the (following )?)?"
# The same question words in the other languages subscribers ask in (NEWSBOT_MULTILINGUAL): Ukrainian, Russian,
# Italian, German, French, Spanish, Polish.
_WHO = r"хто|кто|chi|wer|qui|quién|quien|kto"
_HOW_MUCH = r"(на)?скільки|(на)?сколько|quant[oiae]|wie viele?|combien|cuánt[oa]s?|ile"
_PROMISED = r"обіц|пообіц|обещ|пообещ|promess|promett|versproch|promi[st]|prometi|obieca"
_WHEN = r"коли|когда|quando|wann|quand|cuándo|kiedy"
_WHERE = r"де|где|dove|wo|où|dónde|gdzie"
_WHY = r"чому|почему|perché|warum|pourquoi|por qué|dlaczego"
# "Яку країну", "in quale stato", "welche Stadt": "which" and the kind of place, declined or not.
_WHICH_OTHER = r"\b(як(ий|а|е|і|ого|ої|ому|ій|у|их|им)|как\w+|qual[ei]?|welch\w*|quel\w*|cu[aá]l\w*|któr\w*)\s+"
_COUNTRY = r"країн|держав|стран|paes|nazion|land|pays|país|kraj|państw"
_STATE = r"штат|stat[oi]\b|bundesland|état|estado|stan\b"
_CITY = r"міст|город|città|stadt|ville|ciudad|miast"
# The question words that open a question in Ukrainian, Russian and Italian: "Коли Японія…" is not about anyone
# called "Коли Японія". (Words that are also English, such as "come" or "dove", stay names.)
_OTHER_QUESTION_WORDS = frozenset(
    """
    що хто коли де чому навіщо як скільки який яка яке які якого якої якому якій яку яким яких чий чия чиє чиї куди
    звідки чи что кто когда где почему зачем как сколько какой какая какое какие куда откуда чей ли
    che chi cosa quando perché perche quanto quanta quanti quante quale quali qual
    """.split()
)
_QUESTION_WORDS = QUESTION_WORDS | _OTHER_QUESTION_WORDS

_ANSWER_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("person", re.compile(
        rf"\b(who|whom|whose|{_WHO})\b|\bwhich (person|man|woman|leader|official|star|player|celebrit)"
    )),
    ("amount", re.compile(
        rf"\bhow (much|many|long|big|large|old|far)\b|\bwhat (percentage|share|number|amount)\b|\b({_HOW_MUCH})\b"
    )),
    # What was pledged or spent is an amount, unless the question asks "which" thing ("Which item showed the
    # largest price spike?" is answered by "eggs").
    ("amount", re.compile(rf"^(?!.*\bwhich\b).*(\bpledg|\bpromis|\bcosts?\b|\bprice|\bspend|\bworth|\b({_PROMISED}))")),
    ("date", re.compile(rf"\bwhen\b|\bwhat (date|day|year|time)\b|\b({_WHEN})\b")),
    # "Which state…" is answered by a state, not by the country its sentences also name.
    ("state", re.compile(rf"{_WHICH}(us |u\.s\. )?states?\b|{_WHICH_OTHER}({_STATE})")),
    ("country", re.compile(rf"{_WHICH}(countr(y|ies)|nations?)\b|{_WHICH_OTHER}({_COUNTRY})")),
    ("city", re.compile(rf"{_WHICH}(us |u\.s\. )?(city|cities)\b|{_WHICH_OTHER}({_CITY})")),
    ("place", re.compile(rf"\bwhere\b|\bwhich (continent|region)\b|\b({_WHERE})\b")),
    ("reason", re.compile(rf"\bwhy\b|\b({_WHY})\b")),
)


def is_question_word(word: str) -> bool:
    """Whether the word asks ("which", "скільки", "quale") rather than says what the question is about."""
    return word.lower() in _QUESTION_WORDS


@dataclass(frozen=True)
class Question:
    text: str
    terms: tuple[str, ...]  # analysed content terms (stems)
    expansions: dict[str, tuple[str, ...]]  # per term, related stems that count for it at a discount
    entities: tuple[tuple[str, ...], ...]  # groups of capitalised words or numbers, e.g. ("Olena", "Kondratiuk")
    answer_type: str
    context_terms: tuple[str, ...] = ()  # borrowed from the previous question of a follow-up; weigh less


def entity_groups(text: str) -> tuple[tuple[str, ...], ...]:
    """Runs of capitalised words (or numbers) that are not question words: the things a question is about.

    A capitalised word that opens a sentence is only taken as a name when the next word is one too
    ("Approximately how many…", "Despite dropping…" are not about anything called Approximately or Despite).
    """
    groups: list[tuple[str, ...]] = []
    for sentence in _SENTENCE_END.split(text):
        # "WWII-era", "Russian-led": the name is the capitalised part.
        sentence = _ELIDED.sub(_split_elision, sentence)
        words = [_LOWER_SUFFIX.sub("", w.strip(".,'’-")) for w in _SPLIT_WORD.split(sentence)]
        words = [w for w in words if w]
        flags = [
            _capitalised(w) and not is_question_word(w) and not (w.isupper() and len(w) == 1) for w in words
        ]
        if flags and flags[0] and not words[0][0].isdigit() and not words[0].isupper():
            flags[0] = len(flags) > 1 and flags[1] and not words[1][0].isdigit()
        current: list[str] = []
        for word, is_entity in zip(words, flags, strict=True):
            if is_entity:
                current.append(word)
            elif current:
                # A lowercase word ends a run: "Deputy Chair of the Ukrainian Parliament" is two entities.
                groups.append(tuple(current))
                current = []
        if current:
            groups.append(tuple(current))
    return tuple(groups)


def _split_elision(match: re.Match[str]) -> str:
    """ "all'Ucraina" -> "all' Ucraina": the elided word is a word of its own, which ends a run of names."""
    elided, initial = match.groups()
    return f"{elided} {initial}" if initial.isupper() else match.group()


def _capitalised(word: str) -> bool:
    return bool(_CAPITALISED.fullmatch(word)) and (word[0].isupper() or word[0].isdigit())


def answer_type(text: str) -> str:
    """The kind of thing the question asks for; the first matching pattern decides."""
    lowered = text.lower()
    return next((kind for kind, pattern in _ANSWER_PATTERNS if pattern.search(lowered)), "thing")


_CONTEXT = re.compile(r"\s*\(([^()]*)\)\s*$")


def analyse(text: str) -> Question:
    """Analyse a (standalone) question; a trailing "(...)" holds context borrowed by `standalone`."""
    context = ""
    match = _CONTEXT.search(text)
    if match:
        context, text = match.group(1), text[: match.start()]
    content = list(dict.fromkeys(t for t in terms(text) if t not in _GENERIC))
    borrowed = tuple(t for t in dict.fromkeys(terms(context)) if t not in content and t not in _GENERIC)
    related = _related_terms()
    expansions = {t: related.get(t, ()) for t in (*content, *borrowed)}
    return Question(
        text=text.strip(),
        terms=tuple(content),
        expansions=expansions,
        entities=entity_groups(text) + entity_groups(context),
        answer_type=answer_type(text + " " + context),
        context_terms=borrowed,
    )


def essential_entities(question: Question) -> tuple[tuple[str, ...], ...]:
    """The entities the evidence must name for the question to be answerable. A number in a statement before the
    question ("Gas prices have been falling for more than 50 days. What was the record high?") only sets the
    scene, and coverage rounds or updates it; a number in the question itself ("What happened in 1850?") does not.
    """
    asked = set(entity_groups(_SENTENCE_END.split(question.text.strip())[-1]))
    return tuple(g for g in question.entities if g in asked or not all(w[:1].isdigit() for w in g))


def is_follow_up(text: str) -> bool:
    return bool(_FOLLOW_UP.search(text)) and len(text.split()) <= 12


def standalone(question: str, history: Sequence[str]) -> str:
    """Rewrite a follow-up with what it refers to: "And what did Canada do?" after "What did Italy pledge?"
    becomes "And what did Canada do? pledge"; "What else did they send?" gains the previous entities."""
    if not history or not is_follow_up(question):
        return question
    previous = history[-1]
    own_entities = entity_groups(question)
    own_terms = set(terms(question)) - _GENERIC
    if own_entities:
        # A new subject, the same predicate: borrow the previous question's content words, not its entities.
        entity_words = {w.lower() for g in entity_groups(previous) for w in g}
        words = [w for w in re.findall(r"[\w’'-]+", previous) if w.lower() not in entity_words]
        borrowed = [w for w in words if terms(w) and terms(w)[0] not in own_terms and terms(w)[0] not in _GENERIC]
    else:
        # The same subject ("they", "it"), a new predicate: borrow the previous question's entities.
        borrowed = [" ".join(g) for g in entity_groups(previous)]
    if not borrowed:
        return question
    return f"{question.rstrip()} ({' '.join(borrowed)})"
