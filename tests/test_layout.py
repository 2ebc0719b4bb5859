"""The import direction: bot → ingest → vectorstore, prompts a leaf; bot reaches ingest only through its public API."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import ingest

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(package: str) -> dict[str, set[str]]:
    """Every module each file of `package` imports (absolute imports; the project uses no relative ones)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        modules: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                modules.add(node.module)
            elif isinstance(node, ast.Import):
                modules.update(alias.name for alias in node.names)
        found[str(path.relative_to(ROOT))] = modules
    return found


def test_bot_imports_only_the_public_api_of_ingest() -> None:
    internal = {
        file: sorted(m for m in modules if m.startswith("ingest."))
        for file, modules in imported_modules("bot").items()
    }
    assert {file: modules for file, modules in internal.items() if modules} == {}


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [("vectorstore", ("bot", "ingest")), ("ingest", ("bot",)), ("prompts", ("bot", "ingest", "vectorstore"))],
)
def test_imports_run_one_way(package: str, forbidden: tuple[str, ...]) -> None:
    upward = {
        file: sorted(m for m in modules if m.split(".")[0] in forbidden)
        for file, modules in imported_modules(package).items()
    }
    assert {file: modules for file, modules in upward.items() if modules} == {}


@pytest.mark.parametrize("name", ingest.__all__)
def test_every_public_name_of_ingest_resolves(name: str) -> None:
    assert getattr(ingest, name) is not None


def test_an_unknown_name_of_ingest_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        ingest.no_such_name  # type: ignore[attr-defined]  # noqa: B018
