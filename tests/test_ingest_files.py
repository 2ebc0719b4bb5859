"""Files and directories: every supported format with its metadata, and every kind of bad file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import WEB_FIXTURES
from ingest_support import markdown, snapshot, write

from bot.runtime import Runtime

BODY = (
    "The city council of Vinnytsia approved a new budget for school shelters on Monday. "
    "It sets aside 40 million hryvnias for ventilation and lighting in basements."
)
OTHER_BODY = (
    "A new bridge over the Irpin river opened to traffic on Friday. "
    "Builders finished it two months early, the regional administration said."
)


def test_markdown_front_matter_sets_identity_and_metadata(runtime: Runtime, tmp_path: Path) -> None:
    path = write(
        tmp_path / "src" / "budget.md",
        markdown(
            "vin-budget-1",
            "Vinnytsia funds school shelters",
            BODY,
            url="https://news.example/vinnytsia-budget",
            date="2024-02-12",
            source="Podillia News",
            author="Mariia Koval",
        ),
    )
    report = runtime.ingest([str(path)])
    assert report.ok and report.added == ["vin-budget-1"]
    stored = runtime.store.catalog()["vin-budget-1"]
    assert stored.title == "Vinnytsia funds school shelters"
    assert stored.url == "https://news.example/vinnytsia-budget"
    assert stored.date == "2024-02-12"
    assert stored.source == "Podillia News"
    assert stored.origin == str(path.resolve())
    assert runtime.store.article_text("vin-budget-1") == BODY
    assert "---" not in runtime.store.article_text("vin-budget-1")


def test_markdown_without_front_matter_takes_heading_and_file_name(runtime: Runtime, tmp_path: Path) -> None:
    path = write(tmp_path / "irpin_bridge.md", f"# Irpin bridge opens early\n\n{OTHER_BODY}\n")
    report = runtime.ingest([str(path)])
    assert report.ok and report.added == ["irpin_bridge"]
    assert runtime.store.catalog()["irpin_bridge"].title == "Irpin bridge opens early"
    # A published headline (here the Markdown heading) leads the stored text, so it can be cited.
    assert runtime.store.article_text("irpin_bridge") == "Irpin bridge opens early\n" + OTHER_BODY


def test_html_file_metadata_comes_from_trafilatura(runtime: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "grain-corridor.html"
    shutil.copy(WEB_FIXTURES / "grain-corridor.html", path)
    report = runtime.ingest([str(path)])
    canonical = "https://kyivledger.example/2024/03/05/grain-corridor"
    assert report.ok and report.added == [canonical]  # the canonical URL is the identity
    stored = runtime.store.catalog()[canonical]
    assert stored.title == "Odesa grain corridor reopens after two-week pause"
    assert stored.date == "2024-03-05"
    assert stored.url == canonical
    assert stored.source == "The Kyiv Ledger"
    text = runtime.store.article_text(canonical) or ""
    assert "62,000 tonnes of wheat bound for Egypt" in text
    for furniture in ("Related", "Become a patron", "newsletter", "Privacy", "All rights reserved", "Photo:"):
        assert furniture not in text


def test_json_and_jsonl_records(runtime: Runtime, tmp_path: Path) -> None:
    records = [
        {
            "id": "rec-1",
            "title": "Bridge opens",
            "text": OTHER_BODY,
            "url": "https://a.example/1",
            "date": "2024-01-05",
        },
        {"title": "Budget passes", "text": BODY, "url": "https://a.example/2", "date": "5 January 2024"},
    ]
    single = {
        "id": "rec-3",
        "title": "Single record",
        "text": BODY + " A third sentence closes it.",
        "authors": ["A. Writer", "B. Writer"],
        "source": "a.example",
    }
    write(tmp_path / "src" / "list.json", json.dumps(records))
    write(tmp_path / "src" / "one.json", json.dumps(single))
    lines = [
        {
            "id": "line-1",
            "title": "First line",
            "text": "Line one reports a first fact about the river port.",
        },
        {"id": "line-2", "title": "Second line", "text": "Line two reports a second fact about the grain."},
    ]
    write(tmp_path / "src" / "many.jsonl", "\n".join(json.dumps(r) for r in lines) + "\n")
    report = runtime.ingest([str(tmp_path / "src")])
    assert report.ok, report.failed
    catalog = runtime.store.catalog()
    assert set(catalog) == {"rec-1", "https://a.example/2", "rec-3", "line-1", "line-2"}
    assert catalog["rec-1"].date == "2024-01-05" and catalog["rec-1"].title == "Bridge opens"
    assert catalog["https://a.example/2"].date == "2024-01-05"  # a spelled-out date is normalised
    assert catalog["rec-3"].source == "a.example"
    assert runtime.store.article_text("line-2") == "Second line\n" + lines[1]["text"]


def test_directory_is_read_recursively_and_skips_hidden_and_foreign_files(
    runtime: Runtime, tmp_path: Path
) -> None:
    root = tmp_path / "coverage"
    write(root / "top.txt", f"Bridge opens early\n{OTHER_BODY}\n")
    write(root / "2024" / "02" / "budget.md", markdown("budget", "Budget", BODY))
    write(
        root / "2024" / "03" / "deep" / "records.jsonl",
        json.dumps({"id": "deep-1", "text": "A deeply nested record about the port of Izmail."}) + "\n",
    )
    write(
        root / ".drafts" / "draft.md", markdown("draft", "Draft", "An unpublished draft that must stay out.")
    )
    write(root / "photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01")
    report = runtime.ingest([str(root)])
    assert report.ok, report.failed
    assert sorted(report.added) == ["budget", "deep-1", "top"]
    assert runtime.store.catalog()["top"].title == "Bridge opens early"
    # The foreign file is reported; the hidden draft is ignored without a word, by convention.
    assert [(s.item, s.reason) for s in report.skipped] == [(str(root / "photo.jpg"), "unsupported type .jpg")]


# ---- bad files ---------------------------------------------------------------------------------------------

BAD_FILES: dict[str, tuple[str, bytes, str, str]] = {
    # case: (file name, content, expected item suffix, expected reason fragment)
    "empty": ("empty.md", b"", "empty.md", "empty"),
    "blank": ("blank.txt", b"  \n\n \t\n", "blank.txt", "empty"),
    "binary": ("scan.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" * 20, "scan.txt", "binary"),
    "no known encoding": (  # legacy encodings are read (test_ingest_bad_items.py); byte noise is not
        "kyiv.txt",
        bytes(range(0x80, 0x100)) * 8,
        "kyiv.txt",
        "not text in UTF-8 or a known legacy encoding",
    ),
    "malformed html": (
        "broken.html",
        b"<html><head><title>Broken</head><body><div class='x'><p>Short</div></span></p><<<>>><table><tr><td",
        "broken.html",
        "no article text",
    ),
    "broken jsonl line": (
        "records.jsonl",
        b'{"id": "good-a", "text": "The first good record is about the harbour."}\n'
        b'{"id": "bad", "text": "an unterminated\n'
        b'{"id": "good-b", "text": "The third line is a good record about the railway."}\n',
        "records.jsonl:2",
        "invalid JSON",
    ),
    "over size limit": (
        "long.txt",
        ("A long sentence about the war. " * 200).encode(),
        "long.txt",
        "too large",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_fails_alone_and_loses_nothing(case: str, runtime: Runtime, tmp_path: Path) -> None:
    """One failure line naming the file and reason; other files are ingested; what was stored stays."""
    runtime.settings.max_source_bytes = 4_000
    root = tmp_path / "coverage"
    write(root / "kept.md", markdown("kept", "Kept article", BODY))
    assert runtime.ingest([str(root)]).ok
    before = snapshot(runtime.store)

    name, content, item_suffix, reason = BAD_FILES[case]
    write(root / name, content)
    write(root / "new.md", markdown("new", "New article", OTHER_BODY))
    report = runtime.ingest([str(root)], prune=True)

    assert len(report.failed) == 1, report.failed
    failure = report.failed[0]
    assert failure.item.endswith(item_suffix) and str(root) in failure.item
    assert reason in failure.reason
    assert "\n" not in f"{failure.item}: {failure.reason}"
    expected_added = {"new", "good-a", "good-b"} if case == "broken jsonl line" else {"new"}
    assert set(report.added) == expected_added
    assert report.unchanged == ["kept"] and report.removed == []
    after = snapshot(runtime.store)
    assert after["kept"] == before["kept"]
    assert set(after) == {"kept"} | expected_added


def test_corrupted_version_of_a_stored_article_keeps_the_stored_one(runtime: Runtime, tmp_path: Path) -> None:
    """A file that was fine and is now unreadable is a failure, not a deletion, even with --prune."""
    root = tmp_path / "coverage"
    path = write(root / "kept.md", markdown("kept", "Kept article", BODY))
    write(root / "other.md", markdown("other", "Other article", OTHER_BODY))
    assert runtime.ingest([str(root)]).ok
    before = snapshot(runtime.store)

    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + BODY.encode())
    report = runtime.ingest([str(root)], prune=True)
    assert [f.item for f in report.failed] == [str(path)]
    assert report.removed == [] and report.unchanged == ["other"]
    assert snapshot(runtime.store) == before


def test_missing_path_is_one_failure(runtime: Runtime, tmp_path: Path) -> None:
    good = write(tmp_path / "good.md", markdown("good", "Good", BODY))
    report = runtime.ingest([str(tmp_path / "nowhere"), str(good)])
    assert [(f.item, f.reason) for f in report.failed] == [
        (str(tmp_path / "nowhere"), "no such file or directory")
    ]
    assert report.added == ["good"]
