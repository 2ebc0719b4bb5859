"""A question set in several languages, for `newsbot eval --languages DIR`.

DIR holds our own translations, never the original texts: `translations.jsonl` gives, by the id of a question in
the set being evaluated, its text in other languages (`{"id": "d01", "uk": "...", "it": "..."}`), with the same
gold answers and article as the original; `declines.jsonl` gives questions the coverage does not answer, in every
language (`{"id": "x01", "en": "...", "uk": "...", "it": "..."}`). Each language is asked the translated
questions (English: the originals, read from the set) and its declines, so the languages compare like for like.
A record with a `"split"` (`validation`, `validation-2`, ...) is held out: figures are reported per split, and the
cross-lingual scoring is tuned on the records without one (`tuning`) only.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.evaluation import QAItem

ORIGINAL = "en"
TRANSLATIONS = "translations.jsonl"
DECLINES = "declines.jsonl"
TUNING = "tuning"
COLUMNS = ("language", "split", "answerable", "unanswerable", "doc_hit@5", "answer_hit", "correct_declines", "p50_ms")


def _records(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def languages(folder: Path) -> list[str]:
    """The original language first, then every language the folder translates into."""
    found = {k for rec in _records(folder / TRANSLATIONS) + _records(folder / DECLINES) for k in rec} - {"id", "split"}
    return [ORIGINAL, *sorted(found - {ORIGINAL})]


def splits(folder: Path) -> list[str]:
    """The splits the folder's records belong to, the tuning split first."""
    found = {rec.get("split", TUNING) for rec in _records(folder / TRANSLATIONS) + _records(folder / DECLINES)}
    return sorted(found, key=lambda s: (s != TUNING, s))


def in_language(items: list[QAItem], folder: Path, language: str, split: str = TUNING) -> list[QAItem]:
    """The set's translated questions of a split in `language` (the originals for English), then that language's
    declines of the split."""
    translations = {rec["id"]: rec for rec in _records(folder / TRANSLATIONS) if rec.get("split", TUNING) == split}
    asked = [
        item if language == ORIGINAL else replace(item, question=translations[item.id][language])
        for item in items
        if language in translations.get(item.id, {}) or (language == ORIGINAL and item.id in translations)
    ]
    declines = [
        QAItem(id=f"{rec['id']}-{language}", question=rec[language], answers=(), doc_id=None)
        for rec in _records(folder / DECLINES)
        if language in rec and rec.get("split", TUNING) == split
    ]
    return asked + declines


def format_languages(rows: list[dict[str, Any]]) -> str:
    """One markdown row per language."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        lines.append("| " + " | ".join("" if row.get(c) is None else str(row.get(c)) for c in COLUMNS) + " |")
    return "\n".join(lines)
