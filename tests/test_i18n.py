"""The bot's own texts in Ukrainian and Italian: every text the code marks is translated in each catalog, with the
same placeholders and the same Telegram HTML, and the shipped .mo files say what the .po files say. Plus the
language choice and its storage. The bot speaking them is tests/telegram/test_languages.py."""

from __future__ import annotations

import gettext
import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from bot.telegram.html_check import problems
from bot.telegram.i18n import DOMAIN, LANGUAGES, LOCALE_DIR, choose_language, language_label, texts
from bot.telegram.language_store import LanguageStore

REPO = Path(__file__).resolve().parents[1]
TRANSLATED = [code for code in LANGUAGES if code != "en"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
TAG = re.compile(r"</?[a-z][^>]*>")


def extracted() -> dict[str, tuple[str, ...]]:
    """Every text the code marks for translation (babel.cfg's mapping), as msgid -> all its forms."""
    method_map, options_map = parse_mapping_cfg((REPO / "babel.cfg").open())
    found: dict[str, tuple[str, ...]] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        REPO / "bot" / "telegram", method_map, options_map
    ):
        forms = message if isinstance(message, tuple) else (message,)
        found[forms[0]] = forms
    return found


def catalog(language: str) -> Catalog:
    with (LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as f:
        return read_po(f, locale=language)


def strings(value: str | tuple[str, ...] | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def test_the_code_marks_its_texts() -> None:
    texts_found = extracted()
    assert "Sources" in texts_found and "%(n)d article" in texts_found
    assert len(texts_found) > 50


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_text_is_translated_with_the_same_placeholders_and_html(language: str) -> None:
    po = catalog(language)
    wanted = extracted()
    by_id = {(m.id[0] if isinstance(m.id, tuple) else m.id): m for m in po if m.id}
    assert sorted(wanted) == sorted(by_id), "run the pybabel commands in babel.cfg: the catalog is out of date"
    for msgid, forms in wanted.items():
        message = by_id[msgid]
        translations = strings(message.string)
        assert all(t.strip() for t in translations), f"{language}: untranslated {msgid!r}"
        assert not message.fuzzy, f"{language}: fuzzy {msgid!r}"
        assert len(translations) == (po.num_plurals if len(forms) > 1 else 1)
        for translation in translations:
            assert set(PLACEHOLDER.findall(translation)) <= set(PLACEHOLDER.findall(forms[-1])), msgid
            assert Counter(TAG.findall(translation)) == Counter(TAG.findall(msgid)), f"{language}: tags of {msgid!r}"
            filled = PLACEHOLDER.sub("1", translation)
            assert not problems(filled), f"{language}: {msgid!r}: {problems(filled)}"
        # Babel's own checks: python-format placeholders and plural forms.
        assert not list(message.check(po)), f"{language}: {msgid!r}"
        if len(forms) == 1:  # a plural may drop %(n)d in a form that names one ("1 секунду" says it)
            assert set(PLACEHOLDER.findall(translations[0])) == set(PLACEHOLDER.findall(msgid)), msgid


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_shipped_mo_matches_the_po(language: str) -> None:
    po = catalog(language)
    mo = gettext.translation(DOMAIN, LOCALE_DIR, languages=[language])
    for message in po:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            plural = gettext.c2py(po.plural_expr)
            for n in (1, 2, 5, 21):
                expected = strings(message.string)[plural(n)]
                assert mo.ngettext(message.id[0], message.id[1], n) == expected
        else:
            assert mo.gettext(message.id) == message.string, "compile the catalogs (babel.cfg)"


def test_texts_fill_placeholders_and_plurals_per_language() -> None:
    uk, it, en = texts("uk"), texts("it"), texts("en")
    assert uk._("👋 Hi %(name)s!", name="Ann") == "👋 Привіт, Ann!"
    assert it._("👋 Hi %(name)s!", name="Ann") == "👋 Ciao Ann!"
    assert [uk.ngettext("%(n)d article", "%(n)d articles", n) for n in (1, 3, 5, 21)] == [
        "1 стаття", "3 статті", "5 статей", "21 стаття",
    ]  # fmt: skip
    assert en.ngettext("%(n)d article", "%(n)d articles", 1) == "1 article"
    assert (en.date("2024-01-12"), it.date("2024-01-12"), uk.date("2024-01-12")) == (
        "12 Jan 2024", "12 gen 2024", "12 січ. 2024",
    )  # fmt: skip
    assert en.time(0.0) == "1 Jan 1970, 00:00 UTC" and en.time("garbage") == ""
    assert (uk.language_name("en"), it.language_name("en")) == ("англійська", "inglese")
    assert [language_label(code) for code in LANGUAGES] == ["English", "Українська", "Italiano"]
    assert texts("de") is texts("en")  # no catalog: English


def test_the_choice_wins_then_the_app_language_then_english() -> None:
    assert choose_language(None, "uk") == "uk"
    assert choose_language(None, "it-IT") == "it"
    assert choose_language(None, "de") == "en"
    assert choose_language(None, None) == "en"
    assert choose_language("it", "uk") == "it"
    assert choose_language("xx", "uk") == "uk"


def test_the_language_store_keeps_choices_across_connections(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    store = LanguageStore(path)
    assert store.chosen(1) is None and store.for_notifications(1) == (None, None)
    store.choose(1, "it")
    store.saw(1, "uk")
    store.saw(2, "uk")
    store.close()
    again = LanguageStore(path)  # the migration is not applied twice
    assert again.chosen(1) == "it" and again.for_notifications(1) == ("it", "uk")
    assert again.for_notifications(2) == (None, "uk")
    again.choose(1, None)
    assert again.for_notifications(1) == (None, "uk")
    again.close()
