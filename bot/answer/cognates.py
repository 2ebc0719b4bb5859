"""Cognates and loan words across languages, by their letters: Italian "Parlamento" and Ukrainian "парламент" are
English "Parliament", "президент" is "president", "inflazione" and "інфляція" are "inflation". Once transliterated
and spelled alike (c/k, ph/f, -zione/-ція/-tion, no double letters), such words differ in a letter or two, so a
question's common nouns reach the coverage's words without a model. False friends exist, so a word bridged this
way only counts as a covered word; it never makes a missing country or number present.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

from bot.answer.aliases import transliterated

# The spellings Latin loan words take in the languages newsbot analyses, merged into one: -zione (it), -ція (uk),
# -ción (es) and -tion (en, fr) are one ending; c before e/i sounds as s, elsewhere as k.
_SPELLING: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"[yj]", "i"),
        (r"(?:zion|tsii|tsi|cion|tion)[aeiou]?s?$", "tion"),
        (r"ph", "f"),
        (r"th", "t"),
        (r"ck", "k"),
        (r"c(?=[eiy])", "s"),
        (r"[cq]", "k"),
        (r"kt", "t"),  # Italian "prodotto", "progetto" for "product", "project"
        (r"x", "ks"),
        (r"w", "v"),
        (r"h", ""),
        (r"(.)\1+", r"\1"),
    )
)
# Inflectional endings: Italian "articoli" and English "articles" compare as "artikol" and "artikl".
_ENDING = re.compile(r"(?<=...)(?:[aeiou]|e?s)$")
_NOT_LETTERS = re.compile(r"[^a-z]")


@lru_cache(maxsize=65536)
def shape(word: str) -> str:
    """The word as cognates compare: transliterated, lowercase letters only, one spelling of each sound, no
    inflectional ending."""
    out = _NOT_LETTERS.sub("", transliterated(word).lower())
    for pattern, replacement in _SPELLING:
        out = pattern.sub(replacement, out)
    return _ENDING.sub("", out)


@dataclass(frozen=True)
class CognateRule:
    """When two words are taken for one: both shapes at least `min_letters` long, sharing their first letter, and
    at most `max_edits` (a share of the longer shape's letters, rounded down) apart, or the one the start of the
    other when at least `min_prefix_letters` long ("ucraino" and "Ukrainian": "ukrain", "ukrainian")."""

    min_letters: int
    max_edits: float
    min_prefix_letters: int

    def same(self, a: str, b: str) -> bool:
        if len(a) < self.min_letters or len(b) < self.min_letters or a[0] != b[0]:
            return False
        shorter, longer = sorted((a, b), key=len)
        if len(shorter) >= self.min_prefix_letters and longer.startswith(shorter):
            return True
        limit = int(self.max_edits * max(len(a), len(b)))
        return Levenshtein.distance(a, b, score_cutoff=limit) <= limit


class CognateIndex:
    """The words of a text (the evidence) by their shape's first letter, to find a word's cognates among them."""

    def __init__(self, words: Iterable[str], rule: CognateRule) -> None:
        self.rule = rule
        self._by_initial: dict[str, dict[str, list[str]]] = {}
        for word in words:
            shaped = shape(word)
            if len(shaped) >= rule.min_letters:
                self._by_initial.setdefault(shaped[0], {}).setdefault(shaped, []).append(word)

    def cognates(self, word: str) -> list[str]:
        """The indexed words that are the word's cognates ("parliament" for "Parlamento"), the closest first."""
        shaped = shape(word)
        if len(shaped) < self.rule.min_letters:
            return []
        found = [(s, ws) for s, ws in self._by_initial.get(shaped[0], {}).items() if self.rule.same(shaped, s)]
        found.sort(key=lambda f: (Levenshtein.distance(shaped, f[0]), f[0]))
        return [w for _, ws in found for w in sorted(ws)]
