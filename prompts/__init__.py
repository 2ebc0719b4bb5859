"""Prompt templates, kept as text files so they can be read and edited without touching code."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

__all__ = ["load_prompt"]


@lru_cache(maxsize=32)
def load_prompt(name: str) -> str:
    """The text of `prompts/<name>.txt`, read through importlib.resources so it works from an installed wheel.

    Raises:
        FileNotFoundError: there is no such template; the message lists the ones that exist.
    """
    stem = name.removesuffix(".txt")
    path = resources.files(__name__).joinpath(f"{stem}.txt")
    if not path.is_file():
        known = sorted(
            p.name.removesuffix(".txt")
            for p in resources.files(__name__).iterdir()
            if p.name.endswith(".txt")
        )
        raise FileNotFoundError(f"no prompt template {stem!r}; known templates: {', '.join(known)}")
    return path.read_text(encoding="utf-8")
