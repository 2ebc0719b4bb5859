"""Commands that answer: ask (one question, with filters) and chat (a terminal conversation with follow-ups)."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import click

from bot.cli.context import friendly_errors, runtime_from

if TYPE_CHECKING:
    from bot.answer.models import Answer
    from vectorstore.filters import Filters


def format_answer(answer: Answer) -> str:
    """Plain text for the terminal: the answer with [n] markers, then the numbered sources."""
    if answer.declined:
        return answer.text
    text = f"{answer.as_of_note}: {answer.text}" if answer.as_of_note else answer.text
    lines = [text, *([answer.language_note] if answer.language_note else []), "", "Sources:"]
    for c in answer.citations:
        details = ", ".join(x for x in (c.source, c.date) if x)
        lines.append(f"[{c.number}] {c.title}" + (f" ({details})" if details else "") + (f" {c.url}" if c.url else ""))
    return "\n".join(lines)


def question_problem(question: str) -> str | None:
    """Why a question cannot be asked (empty, or longer than the bot accepts), or None."""
    from bot.answer.engine import MAX_QUESTION_CHARS

    if not question.strip():
        return "the question is empty"
    if len(question.strip()) > MAX_QUESTION_CHARS:
        return f"the question is too long: {len(question.strip())} characters, at most {MAX_QUESTION_CHARS}"
    return None


class DayParam(click.ParamType):
    """A calendar day as YYYY-MM-DD (2026-1-5 is read as 2026-01-05), passed on normalised; anything else,
    or a day that does not exist (2024-02-30), is a usage error."""

    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from vectorstore.recency import parse_date

        text = str(value).strip()
        day = parse_date(text) if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", text) else None
        if day is None:
            self.fail(f"{value!r} is not a date: expected YYYY-MM-DD, e.g. 2026-01-05", param, ctx)
        return day.isoformat()


DAY = DayParam()


def _filters(source: str | None, since: str | None, until: str | None) -> Filters:
    from vectorstore.filters import Filters

    return Filters(source=source, date_from=since, date_to=until)


@click.command("ask")
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the structured answer (text, citations, spans).")
@click.option("--source", help="Only articles from this outlet.")
@click.option("--since", type=DAY, help="Only articles on or after this date (YYYY-MM-DD).")
@click.option("--until", type=DAY, help="As the coverage stood on this date (YYYY-MM-DD), recent articles preferred.")
@click.pass_context
@friendly_errors
def ask_cmd(
    ctx: click.Context, question: str, as_json: bool, source: str | None, since: str | None, until: str | None
) -> None:
    """Answer one question from the stored coverage, with sources.

    \b
    Example:
      newsbot ask "What did Italy pledge?"
      newsbot ask --json --since 2024-01-01 "What did Italy pledge?"
    """
    problem = question_problem(question)
    if problem:
        raise click.ClickException(problem)
    filters = _filters(source, since, until)
    answer = runtime_from(ctx, create_store=False).engine.answer(question.strip(), filters=filters)
    click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2) if as_json else format_answer(answer))


@click.command("chat")
@click.pass_context
@friendly_errors
def chat_cmd(ctx: click.Context) -> None:
    """Talk to newsbot in the terminal; follow-up questions are understood in context. Ctrl-D quits."""
    runtime = runtime_from(ctx, create_store=False)
    catalog = runtime.store.catalog()
    click.echo(f"newsbot: {len(catalog)} articles loaded. Ask about the coverage; Ctrl-D or 'quit' to leave.")
    runtime.retriever.refresh()
    history: list[str] = []
    while True:
        try:
            question = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            click.echo()
            return
        if question.lower() in {"quit", "exit", ":q"}:
            return
        if not question:
            continue
        problem = question_problem(question)
        if problem:
            click.echo(problem + "\n")
            continue
        answer = runtime.engine.answer(question, history=history[-3:])
        history.append(question)
        click.echo(format_answer(answer) + "\n")
