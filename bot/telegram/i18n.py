"""The bot's own texts in the user's language: gettext catalogs (`bot/telegram/locales/`, made with Babel), English
the fallback. A handler gets a `Texts` for the user (`Services.texts`) and the renderers take it; texts are
`%(name)s` templates, so Babel checks that a translation keeps the placeholders.

    t = texts("uk")
    t._("Hi %(name)s!", name="Ann")          # "Привіт, Ann!"
    t.ngettext("%(n)d article", "%(n)d articles", 3)

Updating the catalogs after changing a text (the commands are in babel.cfg's header); the compiled .mo files are
committed, so a checkout and a wheel need no build step.
"""

from __future__ import annotations

import gettext
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date as babel_date
from babel.dates import format_datetime as babel_datetime

from vectorstore.recency import parse_date

DOMAIN = "newsbot"
LOCALE_DIR = Path(__file__).parent / "locales"
DEFAULT_LANGUAGE = "en"
LANGUAGES: tuple[str, ...] = ("en", "uk", "it")  # those with a complete catalog (tests/test_i18n.py checks)


def N_(message: str) -> str:
    """Marks a module-level text for extraction; it is translated where it is shown (`Texts._`)."""
    return message


@dataclass(frozen=True)
class Texts:
    """The texts, dates and language names of one language."""

    language: str
    translations: gettext.NullTranslations

    def _(self, message: str, **values: object) -> str:
        text = self.translations.gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: object) -> str:
        return self.translations.ngettext(singular, plural, n) % {"n": n, **values}

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.language)

    def date(self, iso: str | None) -> str:
        """'2024-01-12' as '12 Jan 2024', '12 січ. 2024', '12 gen 2024'; anything else as it is."""
        day = parse_date(iso)
        if day is None:
            return iso or ""
        return babel_date(day, format="d MMM y", locale=self.locale)

    def time(self, ts: float | str | None) -> str:
        """A moment (epoch seconds or ISO 8601) in UTC ('1 Dec 2026, 16:05 UTC'); '' when unknown or unreadable."""
        if ts is None or ts == "":
            return ""
        try:
            moment = datetime.fromtimestamp(ts, UTC) if isinstance(ts, float | int) else datetime.fromisoformat(ts)
        except (ValueError, OverflowError, OSError):
            return ""
        moment = moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        shown = babel_datetime(moment, format="d MMM y, HH:mm", tzinfo=UTC, locale=self.locale)
        return f"{shown} UTC"

    def language_name(self, code: str) -> str:
        """A language's name in this language ('English' is 'англійська' in Ukrainian)."""
        return self.locale.languages.get(code, code)


def texts(language: str) -> Texts:
    """The texts of `language` (one of LANGUAGES; anything else is English)."""
    return _load(language if language in LANGUAGES else DEFAULT_LANGUAGE)


@cache
def _load(language: str) -> Texts:
    if language == DEFAULT_LANGUAGE:
        return Texts(language, gettext.NullTranslations())
    return Texts(language, gettext.translation(DOMAIN, LOCALE_DIR, languages=[language]))


def choose_language(chosen: str | None, telegram_code: str | None, languages: Sequence[str] = LANGUAGES) -> str:
    """The user's choice (/language), else Telegram's `language_code` ('uk', 'it-IT', 'pt-br') when the bot speaks
    it, else English."""
    for code in (chosen, telegram_code):
        base = (code or "").replace("_", "-").split("-")[0].lower()
        if base in languages:
            return base
    return DEFAULT_LANGUAGE


def language_label(code: str) -> str:
    """A language's name in itself, as the /language buttons show it ('Українська', 'Italiano')."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]
