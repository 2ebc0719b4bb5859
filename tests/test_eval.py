"""`newsbot eval`: the figures it prints and writes for newsbot and the BM25 baseline, by content."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from store_checks import write_jsonl
from test_recency import STORY

from bot.cli import cli
from bot.runtime import Runtime

QUESTIONS = [
    # Asked in March: only the March piece existed, and it answers.
    {"id": "q1", "question": "When does the Odesa ferry to Izmail sail?", "answers": ["twice a day"],
     "doc_id": "ferry-march", "date": "2024-03-05"},
    # Asked in May: the May piece is the news.
    {"id": "q2", "question": "When does the Odesa ferry to Izmail sail?", "answers": ["four times a day"],
     "doc_id": "ferry-may", "date": "2024-05-07"},
    # Nothing in the coverage: must decline.
    {"id": "q3", "question": "What did Portugal pledge to Moldova?", "answers": [], "doc_id": None},
]


def run_eval(runtime: Runtime, tmp_path: Path, *flags: str) -> dict:
    corpus = write_jsonl(tmp_path / "story.jsonl", STORY)
    questions = write_jsonl(tmp_path / "qa.jsonl", QUESTIONS)
    out = tmp_path / "eval.json"
    args = ["eval", str(questions), "--corpus", str(corpus), "--out", str(out), *flags]
    result = CliRunner().invoke(cli, args, obj={"runtime": runtime})
    assert result.exit_code == 0, result.output
    assert "| newsbot |" in result.output
    written = json.loads(out.read_text())
    return {r["system"]: r for r in written["results"]} | {"rows": written["rows"]}


def test_eval_as_of_each_question_date_scores_both_weeks(runtime: Runtime, tmp_path: Path) -> None:
    figures = run_eval(runtime, tmp_path, "--as-of-question-date")  # both baselines: the default
    newsbot, bm25, dense = figures["newsbot"], figures["bm25"], figures["langchain-dense"]
    assert (newsbot["answerable"], newsbot["unanswerable"]) == (2, 1)
    assert newsbot["doc_hit@1"] == 1.0 and newsbot["answer_hit"] == 1.0
    assert newsbot["correct_declines"] == 1.0
    # The May answer also cites the March piece for the route itself, which lacks May's frequency: 2 of 3.
    assert newsbot["citation_precision"] == 0.667
    assert bm25["answerable"] == 2 and bm25["doc_hit@5"] == 1.0
    # The LangChain recipe's own collection, asked as of each day too: in March only one article existed.
    assert dense["answerable"] == 2 and dense["doc_hit@5"] == 1.0 and dense["answer_hit"] == 1.0
    assert [row["declined"] for row in figures["rows"]] == [False, False, True]


def test_eval_without_dates_sees_today_s_coverage(runtime: Runtime, tmp_path: Path) -> None:
    """Asked today, both pieces are old and the closer match wins: the May question's article is second."""
    newsbot = run_eval(runtime, tmp_path, "--baseline", "bm25")["newsbot"]
    assert newsbot["doc_hit@1"] == 0.5 and newsbot["doc_hit@5"] == 1.0


def test_the_langchain_baseline_is_built_once_and_read_back_in_pages(runtime: Runtime, tmp_path: Path) -> None:
    from bot.evaluation import LangChainDenseBaseline

    runtime.ingest([str(write_jsonl(tmp_path / "story.jsonl", STORY))])
    baseline = LangChainDenseBaseline(runtime.client, "baseline-test", runtime.embedder)
    built: list[str] = []
    baseline.build(runtime.store, progress=built.append)
    baseline.build(runtime.store, progress=built.append)  # nothing left to build: no second message
    assert len(built) == 1
    # Pages of one row: what a 44k-row collection needs (one `get` of all of them exceeds SQLite's limit).
    versions = {a.id: a.version for a in runtime.store.catalog().values()}
    assert baseline.built_articles(page=1) == baseline.built_articles() == versions


def test_the_langchain_baseline_follows_an_edited_article(runtime: Runtime, tmp_path: Path) -> None:
    """The baseline must read the coverage newsbot reads: an article ingested again is rebuilt, its old text gone."""
    from bot.evaluation import LangChainDenseBaseline

    runtime.ingest([str(write_jsonl(tmp_path / "story.jsonl", STORY))])
    baseline = LangChainDenseBaseline(runtime.client, "baseline-test", runtime.embedder)
    baseline.build(runtime.store, progress=lambda _: None)
    halted = "The Odesa ferry to Izmail was halted again by a drone strike on the pier."
    edited = [dict(STORY[0], text=halted), STORY[1]]
    runtime.ingest([str(write_jsonl(tmp_path / "story.jsonl", edited))])
    built: list[str] = []
    baseline.build(runtime.store, progress=built.append)
    assert built == ["building the dense baseline for 1 articles"]
    texts = [c.text for c in baseline.search("Odesa ferry to Izmail", k=10) if c.article_id == "ferry-march"]
    assert texts and all("drone strike" in t for t in texts), texts


def test_a_pool_of_each_question_s_own_articles_with_the_strict_choice_reading(
    runtime: Runtime, tmp_path: Path
) -> None:
    """Only the articles the questions retrieved are ingested; a question whose own articles lack its answer is
    left out; the strict reading fails an answer that also names a wrong choice."""
    unrelated = {"id": "bakery", "title": "Bakery opens", "date": "2024-01-02",
                 "text": "A bakery opened in Lviv on Monday with bread baked twice a day by volunteers."}
    corpus = write_jsonl(tmp_path / "corpus.jsonl", [*STORY, unrelated])
    questions = write_jsonl(tmp_path / "qa.jsonl", [
        {"id": "p1", "question": "When does the Odesa ferry to Izmail sail?", "answers": ["four times a day"],
         "wrong_choices": ["twice a day"], "date": "2024-05-07", "retrieved_ids": ["ferry-may", "ferry-march"]},
        {"id": "p2", "question": "When does the Odesa ferry to Izmail sail?", "answers": ["twice a day"],
         "wrong_choices": ["hourly"], "date": "2024-03-05", "retrieved_ids": ["ferry-march"]},
        {"id": "p3", "question": "How often do trains leave Odesa?", "answers": ["hourly"],
         "wrong_choices": ["daily"], "date": "2024-03-05", "retrieved_ids": ["ferry-march"]},
    ])
    out = tmp_path / "eval.json"
    args = ["eval", str(questions), "--pool", str(corpus), "--pool-articles", "2", "--as-of-question-date",
            "--baseline", "bm25", "--out", str(out)]
    result = CliRunner().invoke(cli, args, obj={"runtime": runtime})
    assert result.exit_code == 0, result.output
    assert set(runtime.store.catalog()) == {"ferry-may", "ferry-march"}
    written = json.loads(out.read_text())
    rows = {r["id"]: r for r in written["rows"]}
    assert set(rows) == {"p1", "p2"}  # p3's answer is in none of its articles
    figures = {r["system"]: r for r in written["results"]}
    assert figures["newsbot"]["answer_hit"] == 1.0
    # BM25's top-4 passages on 7 May hold both tellings: the answer, and the March schedule, a wrong choice.
    assert rows["p1"]["bm25_hit"] is True and rows["p1"]["bm25_strict"] is False
    assert figures["bm25"]["strict_choice"] == 0.5


def test_a_choice_is_named_as_whole_words() -> None:
    from bot.evaluation import QAItem, names_choice, strict_choice

    assert names_choice("The U.K. and the “UK” said", "UK") and not names_choice("Ukraine said", "UK")
    item = QAItem("x", "Who won?", ("Luke Humphries",), None, wrong_choices=("Rob Cross",))
    assert strict_choice("Luke Humphries beat Luke Littler.", item)
    assert not strict_choice("Luke Humphries beat Rob Cross.", item)
