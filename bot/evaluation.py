"""`newsbot eval`: run a question set against the store and measure newsbot next to two baselines.

Question sets are JSON Lines with `question`, `answers` (empty: the bot must decline) and `doc_id` (the gold
article). Baselines, in the same run: BM25 alone over newsbot's chunks, and the common LangChain recipe
(1000/200-character chunks, dense top-4). Their output is passages, so their answer hit counts a gold answer
anywhere in their top-4 passages, the most an LLM reading them could use.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.answer.engine import AnswerEngine
from bot.answer.models import Answer
from vectorstore.analysis import PLAIN_PUNCTUATION
from vectorstore.embedder import Embedder
from vectorstore.filters import Filters, date_int
from vectorstore.lexical import LexicalIndexManager
from vectorstore.models import Chunk
from vectorstore.store import ArticleStore


@dataclass(frozen=True)
class QAItem:
    id: str
    question: str
    answers: tuple[str, ...]
    doc_id: str | None
    context: str = ""
    date: str | None = None  # the day it was asked, when known
    wrong_choices: tuple[str, ...] = ()  # a multiple-choice question's other choices (the strict reading)
    retrieved_ids: tuple[str, ...] = ()  # its own articles, best first (RealTime QA 2023/2024)

    def filters(self, as_of_date: bool) -> Filters | None:
        """As of the question's day: only the coverage published by then (RealTime QA asks about "this week")."""
        return Filters(date_to=self.date) if as_of_date and self.date else None

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def load_questions(path: Path, answer_in_gold: bool = False, limit: int | None = None) -> list[QAItem]:
    """With `answer_in_gold`, keep answerable questions only where a gold answer appears in the gold article
    (RealTime QA's answers are multiple-choice texts, not always verbatim) and unanswerable ones as they are."""
    items: list[QAItem] = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            if not line.strip():
                continue
            rec = json.loads(line)
            item = QAItem(
                id=str(rec.get("id", n)),
                question=rec["question"],
                answers=tuple(a for a in rec.get("answers") or [] if a),
                doc_id=rec.get("doc_id"),
                context=rec.get("context") or "",
                date=rec.get("date") or None,
                wrong_choices=tuple(c for c in rec.get("wrong_choices") or [] if c),
                retrieved_ids=tuple(rec.get("retrieved_ids") or []),
            )
            if answer_in_gold and item.answerable and item.context and not contains_answer(item.context, item.answers):
                continue
            items.append(item)
    return items[:limit] if limit else items


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.translate(PLAIN_PUNCTUATION).lower()).strip()


def contains_answer(text: str, answers: Iterable[str]) -> bool:
    haystack = normalise(text)
    return any(normalise(a).strip("\"'.,") in haystack for a in answers if normalise(a).strip("\"'.,"))


def names_choice(text: str, choice: str) -> bool:
    """The choice as whole words of the text ("UK" is not named by "Ukraine"), quotes and case folded."""
    needle = normalise(choice).strip("\"'.,")
    return bool(needle) and re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", normalise(text)) is not None


def strict_choice(text: str, item: QAItem) -> bool:
    """The strict multiple-choice reading: the text names the right choice and none of the wrong ones."""
    return any(names_choice(text, a) for a in item.answers) and not any(
        names_choice(text, w) for w in item.wrong_choices
    )


def distinct(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(ids))


@dataclass
class Tally:
    """Metrics of one system over a question set."""

    name: str
    answerable: int = 0
    unanswerable: int = 0
    hit1: int = 0
    hit5: int = 0
    rr: float = 0.0
    answer_hit: int = 0
    multiple_choice: int = 0  # answerable questions with wrong choices, for the strict reading
    strict_hit: int = 0
    declined_answerable: int = 0
    correct_declines: int = 0
    cited: int = 0
    cited_correct: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    rows: dict[str, dict[str, bool]] = field(default_factory=dict)  # per question id: hit, strict

    def add_answer(self, item: QAItem, text: str | None) -> bool:
        """Score one answerable question's answer text (None: declined); returns the answer hit."""
        hit = text is not None and contains_answer(text, item.answers)
        self.answer_hit += hit
        row = {"hit": hit}
        if item.wrong_choices:
            strict = text is not None and strict_choice(text, item)
            self.multiple_choice += 1
            self.strict_hit += strict
            row["strict"] = strict
        self.rows[item.id] = row
        return hit

    def add_ranking(self, item: QAItem, docs: Sequence[str]) -> None:
        if not item.doc_id:
            return
        if docs[:1] == [item.doc_id]:
            self.hit1 += 1
        if item.doc_id in docs[:5]:
            self.hit5 += 1
        if item.doc_id in docs[:10]:
            self.rr += 1.0 / (docs.index(item.doc_id) + 1)

    def as_dict(self) -> dict[str, Any]:
        a = max(self.answerable, 1)
        out: dict[str, Any] = {
            "system": self.name,
            "answerable": self.answerable,
            "unanswerable": self.unanswerable,
            "doc_hit@1": round(self.hit1 / a, 3),
            "doc_hit@5": round(self.hit5 / a, 3),
            "mrr@10": round(self.rr / a, 3),
            "answer_hit": round(self.answer_hit / a, 3),
        }
        if self.multiple_choice:
            out["strict_choice"] = round(self.strict_hit / self.multiple_choice, 3)
        if self.name == "newsbot":
            out["false_declines"] = round(self.declined_answerable / a, 3)
            out["citation_precision"] = round(self.cited_correct / self.cited, 3) if self.cited else None
        if self.unanswerable:
            out["correct_declines"] = round(self.correct_declines / self.unanswerable, 3)
        if self.latencies_ms:
            out["p50_ms"] = round(statistics.median(self.latencies_ms), 1)
        return out


def evaluate_newsbot(
    engine: AnswerEngine,
    store: ArticleStore,
    items: Sequence[QAItem],
    ranking_k: int = 20,
    as_of_date: bool = False,
) -> tuple[Tally, list[dict[str, Any]]]:
    tally = Tally("newsbot")
    rows: list[dict[str, Any]] = []
    texts: dict[str, str | None] = {}
    for item in items:
        filters = item.filters(as_of_date)
        t0 = time.perf_counter()
        answer: Answer = engine.answer(item.question, filters=filters)
        tally.latencies_ms.append((time.perf_counter() - t0) * 1e3)
        row: dict[str, Any] = {"id": item.id, "question": item.question, "declined": answer.declined}
        row["decline_reason"] = answer.decline_reason
        if item.answerable:
            tally.answerable += 1
            passages = engine.retriever.search(item.question, k=ranking_k, filters=filters)
            docs = distinct(p.chunk.article_id for p in passages)
            tally.add_ranking(item, docs)
            hit = tally.add_answer(item, None if answer.declined else answer.text)
            tally.declined_answerable += answer.declined
            for citation in answer.citations:
                if citation.article_id not in texts:
                    texts[citation.article_id] = store.article_text(citation.article_id)
                tally.cited += 1
                tally.cited_correct += contains_answer(texts[citation.article_id] or "", item.answers)
            gold_rank = docs.index(item.doc_id) + 1 if item.doc_id in docs else None
            row.update(answer_hit=hit, strict_choice=tally.rows[item.id].get("strict"), gold_rank=gold_rank)
        else:
            tally.unanswerable += 1
            tally.correct_declines += answer.declined
        row["answer"] = answer.text
        rows.append(row)
    return tally, rows


def evaluate_passages(
    name: str,
    search: Callable[[str, Filters | None], Sequence[Chunk]],
    items: Sequence[QAItem],
    answer_k: int = 4,
    as_of_date: bool = False,
) -> Tally:
    """A passage-returning baseline: ranking from its passages, answer hit within its top `answer_k`."""
    tally = Tally(name)
    for item in items:
        if not item.answerable:
            continue  # a passage retriever never declines
        tally.answerable += 1
        t0 = time.perf_counter()
        chunks = list(search(item.question, item.filters(as_of_date)))
        tally.latencies_ms.append((time.perf_counter() - t0) * 1e3)
        tally.add_ranking(item, distinct(c.article_id for c in chunks))
        tally.add_answer(item, "\n|\n".join(c.text for c in chunks[:answer_k]))  # no answer across two
    return tally


def bm25_baseline(lexical: LexicalIndexManager, k: int = 20) -> Callable[[str, Filters | None], list[Chunk]]:
    return lambda q, filters: [c for c, _ in lexical.current().search(q, k, filters)]


class LangChainDenseBaseline:
    """The common recipe: RecursiveCharacterTextSplitter(1000, 200), embed, dense top-k; its own collection."""

    def __init__(self, client: Any, collection: str, embedder: Embedder) -> None:
        self._col = client.get_or_create_collection(
            collection, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )
        self._embedder = embedder

    def build(self, store: ArticleStore, progress: Callable[[str], None] = print) -> None:
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        catalog = store.catalog()
        have = self.built_articles()
        # An article ingested again in a new version is split and embedded again, its old pieces dropped.
        todo = [a for a in catalog.values() if have.get(a.id) != a.version]
        if not todo:
            return
        for article in todo:
            if article.id in have:
                self._col.delete(where={"article_id": article.id})
        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
        progress(f"building the dense baseline for {len(todo)} articles")
        batch_ids: list[str] = []
        batch_docs: list[str] = []
        batch_meta: list[dict[str, Any]] = []

        def flush() -> None:
            if batch_ids:
                vectors = self._embedder.encode(batch_docs)
                self._col.upsert(ids=batch_ids, documents=batch_docs, metadatas=batch_meta, embeddings=vectors)
                batch_ids.clear()
                batch_docs.clear()
                batch_meta.clear()

        for article in todo:
            for i, piece in enumerate(splitter.split_text(store.article_text(article.id) or "")):
                batch_ids.append(f"{article.id}::{i}")
                batch_docs.append(piece)
                meta: dict[str, Any] = {"article_id": article.id, "version": article.version, "title": article.title}
                if article.date:
                    meta["date_int"] = date_int(article.date)
                batch_meta.append(meta)
            if len(batch_ids) >= 512:
                flush()
        flush()

    def built_articles(self, page: int = 5000) -> dict[str, str]:
        """Article id -> version of the articles in the baseline's collection ("" if built before versions were
        recorded), read in pages: one `get` of every row of a large collection exceeds SQLite's variable limit."""
        have: dict[str, str] = {}
        offset = 0
        while True:
            metas = self._col.get(include=["metadatas"], limit=page, offset=offset)["metadatas"] or []
            have.update((str(m["article_id"]), str(m.get("version") or "")) for m in metas)
            if len(metas) < page:
                return have
            offset += page

    def search(self, query: str, filters: Filters | None = None, k: int = 20) -> list[Chunk]:
        res = self._col.query(
            query_embeddings=self._embedder.encode([query]),
            n_results=k,
            where=filters.chroma_where() if filters else None,
            include=["documents", "metadatas"],
        )
        return [
            Chunk(article_id=m["article_id"], version="", position=0, start=0, end=0, text=d, title=m["title"])
            for d, m in zip(res["documents"][0], res["metadatas"][0], strict=True)
        ]


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    columns = ["system", "doc_hit@1", "doc_hit@5", "mrr@10", "answer_hit", "strict_choice", "citation_precision",
               "false_declines", "correct_declines", "p50_ms"]
    present = [c for c in columns if any(c in r for r in rows)]
    lines = ["| " + " | ".join(present) + " |", "|" + "---|" * len(present)]
    for r in rows:
        lines.append("| " + " | ".join("" if r.get(c) is None else str(r.get(c)) for c in present) + " |")
    return "\n".join(lines)
