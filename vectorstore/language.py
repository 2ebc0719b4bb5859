"""The language of a text, offline (py3langid), among the languages newsbot analyses: those Snowball stems, and
Ukrainian. A question and an article are told apart by it: words match words only within one language."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

# ISO 639-1 code -> Snowball stemmer (PyStemmer); None: no stemmer, words are matched as written.
SNOWBALL: dict[str, str | None] = {
    "en": "english", "uk": None, "ru": "russian", "it": "italian", "de": "german", "fr": "french", "es": "spanish",
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
