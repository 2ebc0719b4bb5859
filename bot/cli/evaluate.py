"""`newsbot eval`: newsbot and the baselines measured on a question set (bot/evaluation.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bot.cli.context import friendly_errors, runtime_from

if TYPE_CHECKING:
    from bot.evaluation import QAItem
    from bot.runtime import Runtime


@click.command("eval")
@click.argument("questions", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--corpus", multiple=True, help="Ingest this first (incremental; skipped when unchanged).")
@click.option("--answer-in-gold", is_flag=True, help="Keep answerable questions whose answer is in the gold article.")
@click.option("--limit", type=int, help="Only the first N questions.")
@click.option(
    "--baseline",
    "baselines",
    multiple=True,
    type=click.Choice(["bm25", "dense", "none"]),
    default=("bm25", "dense"),
    show_default=True,
    help="Baselines to run beside newsbot (dense embeds the corpus again, once, in its own collection).",
)
@click.option(
    "--as-of-question-date",
    is_flag=True,
    help="Ask each question on its `date`: every system sees only the coverage published by then.",
)
@click.option(
    "--languages",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Also ask the set in other languages: a folder of translations by question id and declines per language "
    "(data/eval/multilingual); prints newsbot's figures per language.",
)
@click.option(
    "--pool",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A corpus (JSON Lines) holding each question's `retrieved_ids`: ingest only their articles (cached).",
)
@click.option("--pool-articles", type=click.IntRange(1, 50), default=3, show_default=True,
              help="With --pool: each question's first N retrieved articles; kept where they hold its answer.")
@click.option("--sample", type=click.IntRange(1), help="With --pool: N questions spread evenly over the set.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the figures and per-question rows as JSON here.")
@click.pass_context
@friendly_errors
def eval_cmd(
    ctx: click.Context,
    questions: Path,
    corpus: tuple[str, ...],
    answer_in_gold: bool,
    limit: int | None,
    baselines: tuple[str, ...],
    as_of_question_date: bool,
    languages: Path | None,
    pool: Path | None,
    pool_articles: int,
    sample: int | None,
    out: Path | None,
) -> None:
    """Measure newsbot on a question set (JSON Lines: question, answers, doc_id) against the store.

    \b
    Example:
      newsbot eval ../shared/eval/seed_dev_qa.jsonl --corpus data/sample
      NEWSBOT_MULTILINGUAL=true newsbot eval ../shared/eval/seed_dev_qa.jsonl --languages data/eval/multilingual
      NEWSBOT_DATA_DIR=var/evalstore/rtqa2024 newsbot eval ../shared/eval/realtimeqa_2024.qa.jsonl \\
          --pool ../shared/corpora/realtimeqa_2024.corpus.jsonl --sample 60 --as-of-question-date
    Prints doc hit@1/@5, MRR, answer hit, citation precision and correct declines for newsbot and the
    baselines (BM25 alone; LangChain's 1000/200 dense top-4 recipe, built once in its own collection).
    """
    from bot import evaluation as ev

    runtime = runtime_from(ctx, create_store=bool(corpus or pool))  # without a corpus it only reads
    items = ev.load_questions(questions, answer_in_gold=answer_in_gold, limit=limit)
    sources = list(corpus)
    if pool:
        from bot.eval_pool import select_pool, write_pool

        items, records = select_pool(items, pool, pool_articles, sample)
        name = f"{questions.stem}.k{pool_articles}" + (f".n{sample}" if sample else "") + ".jsonl"
        sources.append(str(write_pool(records, runtime.settings.data_dir / "pools" / name)))
    if sources:
        report = runtime.ingest(sources)
        click.echo(f"corpus: {report.summary()}", err=True)
    runtime.retriever.refresh()
    dated = as_of_question_date
    tally, rows = ev.evaluate_newsbot(runtime.engine, runtime.store, items, as_of_date=dated)
    results = [tally.as_dict()]
    tallies = []
    if "bm25" in baselines:
        bm25 = ev.bm25_baseline(runtime.retriever.lexical)
        tallies.append(ev.evaluate_passages("bm25", bm25, items, as_of_date=dated))
    if "dense" in baselines:
        dense = ev.LangChainDenseBaseline(
            runtime.client, f"{runtime.settings.collection}-baseline-lc1000", runtime.embedder
        )
        with runtime.writing():  # it writes its own collection: one writer per embedded store
            dense.build(runtime.store, progress=lambda m: click.echo(m, err=True))
        tallies.append(ev.evaluate_passages("langchain-dense", dense.search, items, as_of_date=dated))
    results += [t.as_dict() for t in tallies]
    for row in rows:  # the baselines' verdicts beside newsbot's, for error analysis
        for t in tallies:
            row.update({f"{t.name}_{k}": v for k, v in t.rows.get(row["id"], {}).items()})
    click.echo(f"{questions.name}: {len(items)} questions")
    click.echo(ev.format_table(results))
    if languages:
        by_language, language_rows = _eval_languages(runtime, items, languages, dated)
        results = [{**r, "language": "all"} for r in results] + by_language
        rows += language_rows
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"questions": str(questions), "results": results, "rows": rows}, indent=2))


def _eval_languages(
    runtime: Runtime, items: list[QAItem], folder: Path, dated: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """newsbot's figures on the set's questions in each language and split of `folder` (eval --languages), and the
    per-question rows, each marked with its language and split."""
    from bot import eval_languages as el
    from bot import evaluation as ev

    results, rows = [], []
    for split in el.splits(folder):
        for language in el.languages(folder):
            asked = el.in_language(items, folder, language, split)
            if not asked:
                continue
            tally, asked_rows = ev.evaluate_newsbot(runtime.engine, runtime.store, asked, as_of_date=dated)
            results.append({**tally.as_dict(), "language": language, "split": split})
            rows += [{**row, "language": language, "split": split} for row in asked_rows]
    click.echo(el.format_languages(results))
    return results, rows
