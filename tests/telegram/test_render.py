"""Rendering answers as Telegram HTML and splitting long messages; no emulator needed."""

from __future__ import annotations

import random
import re
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram_html import problems, visible_text

from bot.answer.models import Answer, AnswerSentence, Citation
from bot.telegram.render import (
    LATEST_ARTICLES,
    Coverage,
    format_date,
    format_time,
    render_answer,
    render_help,
    render_latest,
    render_report,
    render_sources,
    render_welcome,
    split_html,
    utf16_len,
)
from ingest.errors import ItemError
from ingest.pipeline import IngestReport
from ingest.registry import new_source
from vectorstore.models import StoredArticle


def citation(
    n: int, title: str = "Italy pledges aid", url: str | None = "https://news.example/italy?a=1&b=2"
) -> Citation:
    return Citation(
        number=n,
        article_id=f"a{n}",
        title=title,
        url=url,
        date="2024-01-12",
        source="Kyiv Post",
        start=0,
        end=10,
        quote="quote",
    )


def answer(sentences: list[tuple[str, tuple[int, ...]]], citations: list[Citation], **kw: object) -> Answer:
    return Answer(
        question=str(kw.pop("question", "What did Italy pledge?")),
        sentences=tuple(AnswerSentence(t, c) for t, c in sentences),
        citations=tuple(citations),
        **kw,  # type: ignore[arg-type]
    )


def test_answer_has_inline_markers_and_a_numbered_sources_block() -> None:
    a = answer(
        [("Italy approved a €140 million package.", (1,)), ("It may send SAMP/T.", (1, 2))],
        [citation(1), citation(2, "Air defence", None)],
    )
    (html,) = render_answer(a)
    assert problems(html) == []
    assert "Italy approved a €140 million package. [1] It may send SAMP/T. [1][2]" in html
    assert "<b>Sources</b>" in html
    assert (
        '[1] <a href="https://news.example/italy?a=1&amp;b=2">Italy pledges aid</a> · Kyiv Post, 12 Jan 2024'
        in html
    )
    assert "[2] Air defence · Kyiv Post, 12 Jan 2024" in html  # no URL: no link


def test_an_as_of_answer_leads_with_its_date_after_the_example_question() -> None:
    a = answer([("The council approved 42 million euros.", (1,))], [citation(1)], as_of="2024-01-10")
    (html,) = render_answer(a, asked="How much <did> it cost?")
    assert problems(html) == [], html
    assert html.startswith(
        "❓ <i>How much &lt;did&gt; it cost?</i>\n\n"
        "<i>As of 10 Jan 2024:</i> The council approved 42 million euros. [1]"
    )
    assert "As of" not in render_answer(answer([("Now.", (1,))], [citation(1)]))[0]


def test_everything_from_users_and_articles_is_escaped() -> None:
    hostile = '<script>alert("x")</script> & <b>bold</b>'
    a = answer(
        [(f"Quote: {hostile}", (1,))],
        [citation(1, title=hostile, url='https://evil.example/"><b>x</b>')],
        question="what <i>now</i>?",
        standalone_question="what <i>now</i> about Italy?",
    )
    (html,) = render_answer(a, asked=hostile)
    assert problems(html) == []
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="https://evil.example/&quot;&gt;&lt;b&gt;x&lt;/b&gt;"' in html
    assert "❓ <i>&lt;script&gt;" in html


def test_the_answering_span_is_bold_inside_the_escaped_sentence() -> None:
    text = "R&D <funds>:\n Tom & Jerry   got €5 million."
    a = answer([(text, (1,))], [citation(1)])
    bold = replace(a, sentences=(replace(a.sentences[0], highlight=(text.index("Tom"), text.index("   got"))),))
    (html,) = render_answer(bold)
    assert problems(html) == [], html
    assert html.startswith("R&amp;D &lt;funds&gt;: <b>Tom &amp; Jerry</b> got €5 million. [1]")
    assert visible_text(html) == visible_text(render_answer(a)[0])  # the same words, one span bold
    # Too long to show whole, the sentence is cut as before, and never inside an open tag.
    long = "x " * 2000 + text
    cut = replace(bold, sentences=(AnswerSentence(long, (1,), highlight=(long.index("Tom"), long.index("   got"))),))
    parts = render_answer(cut)
    assert all(problems(part) == [] for part in parts)
    assert "<b>Tom" not in parts[0]


def test_javascript_and_file_links_are_not_made_clickable() -> None:
    a = answer([("Claim.", (1,))], [citation(1, url="javascript:alert(1)"), citation(2, url="/srv/a.md")])
    (html,) = render_answer(a)
    assert "<a " not in html


def test_decline_is_friendly_and_points_to_what_can_be_answered() -> None:
    a = answer([], [], declined=True, decline_reason="not in the coverage: Australia")
    (html,) = render_answer(a)
    assert problems(html) == []
    assert "doesn't answer that" in html
    assert "/sources" in html and "Try one of the questions below" in html
    assert "Australia" not in html  # the internal reason is not shown


def test_dates_format_and_garbage_passes_through() -> None:
    assert format_date("2024-01-02") == "2 Jan 2024"
    assert format_date("2024-01-02T10:00:00Z") == "2 Jan 2024"
    assert format_date("sometime") == "sometime"
    assert format_date(None) == ""


def test_welcome_sources_and_help_are_valid_html() -> None:
    catalog = {
        f"id{i}": StoredArticle(
            id=f"id{i}",
            title=f"Title <{i}> & more",
            version="v",
            chunks=3,
            url=f"https://x.example/{i}",
            date=f"2024-01-{i + 1:02d}",
            source="Kyiv <Post>",
        )
        for i in range(8)
    }
    coverage = Coverage.of(catalog)
    assert coverage.articles == 8 and coverage.chunks == 24 and coverage.outlets == ("Kyiv <Post>",)
    assert [a.id for a in coverage.newest] == ["id7", "id6", "id5", "id4", "id3"]
    for html in (
        render_welcome("<Ann>", coverage),
        render_welcome(None, Coverage.of({})),
        *render_sources(coverage),
        *render_sources(Coverage.of({})),
        render_help(True),
        render_help(False),
    ):
        assert problems(html) == [], html
    (sources,) = render_sources(coverage)
    assert "1 Jan 2024 – 8 Jan 2024" in sources
    assert "/ingest" in render_help(True) and "/ingest" not in render_help(False)


def test_latest_lists_the_newest_articles_by_date_then_ingest_order_linked() -> None:
    def article(i: str, date: str | None, ingested_at: str) -> StoredArticle:
        return StoredArticle(
            id=i, title=f"Story {i} <b>", version="v", chunks=1, url=f"https://x.example/{i}?a=1&b=2",
            date=date, source="The Ledger", ingested_at=ingested_at,
        )  # fmt: skip

    catalog = {
        a.id: a
        for a in (
            article("old", "2024-01-01", "2024-06-01T10:00:00+00:00"),
            article("first", "2024-05-12", "2024-05-12T08:00:00+00:00"),
            article("second", "2024-05-12", "2024-05-12T09:00:00+00:00"),  # same day, ingested later
            article("undated", None, "2024-07-01T10:00:00+00:00"),
        )
    }
    (latest,) = render_latest(Coverage.of(catalog, newest=LATEST_ARTICLES))
    assert problems(latest) == [], latest
    assert latest.startswith("🆕 <b>Latest articles</b>\n• ")
    order = [m.group(1) for m in re.finditer(r"Story (\w+) &lt;b&gt;", latest)]
    assert order == ["second", "first", "old", "undated"]
    linked = '<a href="https://x.example/second?a=1&amp;b=2">Story second &lt;b&gt;</a>'
    assert f"{linked} · The Ledger, 12 May 2024" in latest
    assert render_latest(Coverage.of({})) == ["No articles are loaded yet."]


def test_sources_shows_the_last_update_and_admins_many_long_followed_sources_fit_valid_parts() -> None:
    catalog = {"a": StoredArticle(id="a", title="A", version="v", chunks=1, ingested_at="2026-12-01T16:05:09+00:00")}
    (public,) = render_sources(Coverage.of(catalog))
    assert "🕒 Last updated 1 Dec 2026, 16:05 UTC" in public and "Followed" not in public
    now = 1_800_000_000.0
    followed = [
        replace(
            new_source(f"https://news.example/{i}/" + "x" * 5000, 600, now),
            last_check=now - 60, last_error=f"<{i}> " + "failed & " * 2000, next_due=now - 1 if i % 2 else now + 60,
        )  # fmt: skip
        for i in range(40)
    ]
    (subscriber,) = render_sources(Coverage.of(catalog), followed, now)
    assert "Followed" not in subscriber and "sources last checked" not in subscriber  # none succeeded yet
    (subscriber,) = render_sources(Coverage.of(catalog), [replace(followed[0], last_success=now - 120)], now)
    assert f"🕒 Last updated 1 Dec 2026, 16:05 UTC · sources last checked {format_time(now - 120)}" in subscriber
    parts = render_sources(Coverage.of(catalog), followed, now, admin=True)
    assert len(parts) > 1 and parts[0].startswith("📚 <b>1 article</b>")
    assert_telegram_parts(parts)
    shown = "\n".join(parts)
    assert shown.count("<code>") == 40 and "due now" in shown and "last success never" in shown
    (none,) = render_sources(Coverage.of({}), [], now, admin=True)
    assert "No articles are loaded yet." in none and "/sources_add" in none
    assert format_time(None) == format_time("garbage") == ""


# ---- splitting -----------------------------------------------------------------------------------------


def test_short_text_is_one_part() -> None:
    assert split_html("<b>hi</b>") == ["<b>hi</b>"]
    assert split_html("   ") == []


def test_long_answer_splits_at_a_paragraph_boundary() -> None:
    first = "First paragraph. " * 150  # ~2,550 characters
    second = "<b>Second</b> paragraph. " * 100  # ~2,500 characters
    parts = split_html(f"{first.strip()}\n\n{second.strip()}")
    assert len(parts) == 2
    assert parts[0] == first.strip()
    assert parts[1] == second.strip()


def test_a_paragraph_longer_than_a_message_is_cut_at_a_space_and_tags_are_reopened() -> None:
    text = '<a href="https://x.example/?q=1&amp;r=2"><b>' + "word " * 2000 + "</b></a>"
    parts = split_html(text)
    assert len(parts) == 3
    for part in parts:
        assert problems(part) == [], part[:80]
        assert part.startswith('<a href="https://x.example/?q=1&amp;r=2"><b>')
        assert part.endswith("</b></a>")
    assert "".join(visible_text(p) + " " for p in parts).split() == ["word"] * 2000


def test_entities_and_astral_characters_are_never_cut_and_length_counts_utf16() -> None:
    text = "😀 &amp; " * 1500  # 😀 is two UTF-16 units
    parts = split_html(text, limit=1000)
    for part in parts:
        assert utf16_len(part) <= 1000
        assert problems(part) == []
    assert " ".join(visible_text(p) for p in parts).split() == visible_text(text).split()


@pytest.mark.parametrize("seed", range(25))
def test_random_documents_split_into_valid_parts_that_keep_every_word(seed: int) -> None:
    rng = random.Random(seed)
    words = ["alpha", "beta", "Ünïcode", "😀", "&lt;tag&gt;", "a&amp;b", "x" * 120]
    tags = [
        ("<b>", "</b>"),
        ("<i>", "</i>"),
        ('<a href="https://e.example/?a=1&amp;b=2">', "</a>"),
        ("<code>", "</code>"),
    ]
    paragraphs = []
    for _ in range(rng.randint(1, 40)):
        chunks = []
        for _ in range(rng.randint(1, 120)):
            word = rng.choice(words)
            if rng.random() < 0.1:
                opening, closing = rng.choice(tags)
                word = f"{opening}{word} {rng.choice(words)}{closing}"
            chunks.append(word)
        sep = "\n" if rng.random() < 0.3 else " "
        paragraphs.append(sep.join(chunks))
    text = "\n\n".join(paragraphs)
    limit = rng.choice([200, 1000, 4096])
    parts = split_html(text, limit=limit)
    for part in parts:
        assert utf16_len(part) <= limit
        assert problems(part) == [], part
    assert visible_text(" ".join(parts)).split() == visible_text(text).split()


# ---- the checker itself ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "complaint"),
    [
        ("<b>open", "unclosed"),
        ("<b><i>x</b></i>", "closes"),
        ("<div>x</div>", "not allowed"),
        ("a < b", "unescaped '<'"),
        ("a > b", "unescaped '>'"),
        ("Q&A", "unescaped '&'"),
        ("&nbsp;", "unescaped '&'"),
        ('<a href="x" onclick="y">x</a>', "attribute 'onclick'"),
        ("<a>x</a>", "without 'href'"),
        ('<span class="red">x</span>', "not a value"),
        ("<pre><b>x</b></pre>", "inside <pre>"),
        ("x" * 4097, "over Telegram's 4096"),
        ("", "empty"),
    ],
)
def test_the_checker_rejects_what_telegram_rejects(html: str, complaint: str) -> None:
    assert any(complaint in p for p in problems(html)), problems(html)


def test_the_checker_accepts_telegram_html() -> None:
    html = (
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike><del>d</del>"
        '<span class="tg-spoiler">sp</span><tg-spoiler>t</tg-spoiler><a href="https://x.example/?a=1&amp;b">a</a>'
        '<code>c</code><pre><code class="language-python">p</code></pre><blockquote expandable>q</blockquote>'
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> &lt;&gt;&amp;&quot;&#39;&#x27;'
    )
    assert problems(html) == []
    assert re.search("q", visible_text(html))


# ---- whatever articles bring, every part fits Telegram ------------------------------------------------------

LONG_URL = "https://news.example/" + "a" * 4500  # the probe's article: every answer citing it broke the limit


def lone_fragment(part: str) -> bool:
    """A part that is only a heading or only markers, the stray fragments long links once produced."""
    shown = visible_text(part).strip()
    return shown in ("Sources", "Newest") or re.fullmatch(r"(\[\d+\]\s*)+", shown) is not None


def assert_telegram_parts(parts: list[str]) -> None:
    assert parts
    for part in parts:
        assert problems(part) == [], part[:300]  # valid HTML, at most 4,096 UTF-16 units with the markup
        assert not lone_fragment(part), part


def test_a_very_long_url_is_not_linked_and_the_answer_fits_one_message() -> None:
    a = answer(
        [("Italy approved a €140 million package.", (1,)), ("It may send SAMP/T.", (2,))],
        [citation(1, url=LONG_URL), citation(2)],
    )
    (html,) = render_answer(a)  # one part: the 4,500-character link no longer counts
    assert_telegram_parts([html])
    assert '[1] <a href="https://news.example/">Italy pledges aid</a>' in html  # the outlet's page instead
    assert "a" * 600 not in html
    (sources,) = render_sources(
        Coverage.of({"x": StoredArticle(id="x", title="Long", version="v", chunks=1, url=LONG_URL)})
    )
    assert_telegram_parts([sources])


def test_many_long_sources_pack_into_whole_lines_with_the_heading_kept_on_its_first_line() -> None:
    title = "Words & <more> words " * 40  # 840 characters, shortened
    a = answer(
        [(f"Claim number {i} about the aid package.", (i,)) for i in range(1, 21)],
        [citation(i, title=title, url=f"https://news.example/{i}/" + "p" * 580) for i in range(1, 21)],
    )
    parts = render_answer(a)
    assert len(parts) >= 2
    assert_telegram_parts(parts)
    sources = "\n".join(parts)[parts[0].find("<b>Sources</b>") :] if "<b>Sources</b>" in parts[0] else ""
    shown = visible_text("\n".join(parts))
    for i in range(1, 21):
        assert f"Claim number {i} about the aid package. [{i}]" in shown
        assert f"\n[{i}] Words & <more>" in shown  # every source line whole, its title shortened
    assert "…" in shown and sources is not None
    heading = next(p for p in parts if "<b>Sources</b>" in p)
    assert heading.split("<b>Sources</b>\n", 1)[1].startswith("[1] <a href=")


# URLs as feeds and pages give them: short, long, with markup characters, or not web links at all
_urls = st.one_of(
    st.none(),
    st.builds(lambda path: f"https://news.example/{path}", st.text(max_size=200)),
    st.builds(lambda n, c: f"https://news.example/{c * n}", st.integers(0, 10_000), st.sampled_from("a&\"<é")),
    st.text(max_size=300),
)
_texts = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.sampled_from(list("ab <&>\"'😀שלוםمرحبا\n.")), max_size=6000),
    st.builds(lambda n: "x" * n, st.integers(0, 10_000)),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    titles=st.lists(_texts, min_size=1, max_size=12),
    urls=st.lists(_urls, min_size=12, max_size=12),
    sentences=st.lists(st.tuples(_texts, st.integers(1, 12)), min_size=1, max_size=25),
    asked=st.one_of(st.none(), _texts),
    outlet=st.one_of(st.none(), _texts),
)
def test_every_part_is_valid_telegram_html_within_the_limit_whatever_the_coverage(
    titles: list[str], urls: list[str | None], sentences: list[tuple[str, int]], asked: str | None, outlet: str | None
) -> None:
    citations = [
        Citation(i + 1, f"a{i}", t, urls[i], "2024-01-12", outlet, 0, 1, "q") for i, t in enumerate(titles)
    ]
    a = answer([(text, (min(n, len(titles)),)) for text, n in sentences], citations)
    parts = render_answer(a, asked=asked)
    assert_telegram_parts(parts)
    shown = visible_text("\n".join(parts))
    for n in {min(n, len(titles)) for _, n in sentences}:
        assert f"[{n}]" in shown
    catalog = {
        f"id{i}": StoredArticle(id=f"id{i}", title=t, version="v", chunks=1, url=urls[i], source=outlet)
        for i, t in enumerate(titles)
    }
    assert_telegram_parts(render_sources(Coverage.of(catalog)))
    assert_telegram_parts(render_latest(Coverage.of(catalog, newest=LATEST_ARTICLES)))
    assert_telegram_parts([render_welcome(asked, Coverage.of(catalog))])


def test_an_ingest_report_lists_failures_skips_and_warnings_and_fits_one_message() -> None:
    """The report is one edited status message (it cannot be split), however many items went wrong and however
    long their names: it lists what fits and counts the rest."""
    long_url = "https://news.example/" + "a&<b>" * 2000
    report = IngestReport(
        added=["a1"],
        failed=[ItemError(f"{long_url}{n}", "HTTP 404 Not Found <x>") for n in range(40)],
        skipped=[ItemError(f"site/report{n}.pdf", "unsupported type .pdf") for n in range(40)],
        warnings=[ItemError(f"https://news.example/{n}", "page failed; stored the feed's summary") for n in range(3)],
    )
    text = render_report("/ingest " + long_url, report)
    assert problems(text) == []
    assert utf16_len(text) <= 4096
    assert "failed 40 · skipped 40 · warnings 3" in text
    assert "<b>Failed</b>" in text and "more (see the log)" in text
    assert "<b>Skipped</b>" in text and "<b>Warnings</b>" in text

    small = render_report("/reindex", IngestReport(skipped=[ItemError("site/a.pdf", "unsupported type .pdf")]))
    assert "✅" in small and "• <code>site/a.pdf</code>: unsupported type .pdf" in small
