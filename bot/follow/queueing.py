"""After an ingest: match what it added or updated against the followed topics and queue the notifications.

Called where every ingest's report is produced (`Runtime.ingest`: the CLI, a poll in `serve` or `watch`, the
bot's /ingest), by the one process that wrote those articles; whichever bot process sends them claims them
from the queue (`bot/telegram/push.py`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from bot.follow.matching import MatchConfig, NewArticle, match_articles
from bot.follow.store import FollowStore
from vectorstore.models import Chunk
from vectorstore.store import ArticleStore

if TYPE_CHECKING:
    from ingest import IngestReport

log = logging.getLogger(__name__)


def new_articles(store: ArticleStore, added: Sequence[str], updated: Sequence[str]) -> list[NewArticle]:
    """The live chunks and stored vectors of these articles: one read of each, however many topics there are."""
    catalog = store.catalog()
    articles = [catalog[a] for a in dict.fromkeys([*added, *updated]) if a in catalog]
    if not articles:
        return []
    chunks = store.chunks_of_versions(articles)
    vectors = store.embeddings_of([c.id for c in chunks])
    by_article: dict[str, list[tuple[Chunk, list[float]]]] = {}
    out = []
    for chunk in chunks:
        if chunk.id in vectors:
            by_article.setdefault(chunk.article_id, []).append((chunk, vectors[chunk.id]))
    was_updated = set(updated)
    for article_id, pairs in by_article.items():
        out.append(
            NewArticle(
                id=article_id,
                chunks=tuple(c for c, _ in pairs),
                vectors=np.asarray([v for _, v in pairs], dtype=np.float32),
                updated=article_id in was_updated,
            )
        )
    return out


def queue_followers(
    report: IngestReport,
    store: ArticleStore,
    follows: FollowStore,
    idf: Callable[[], Callable[[str], float]],
    threshold: float,
    config: MatchConfig | None = None,
) -> int:
    """Queue the notifications an ingest calls for; returns how many. `idf` is asked for only when someone
    follows something (building the lexical index is not free)."""
    if not (report.added or report.updated) or not follows.has_topics():
        return 0
    started = time.perf_counter()
    topics = follows.topic_matrix()
    articles = new_articles(store, report.added, report.updated)
    matches = match_articles(topics, articles, idf(), threshold, config)
    queued = follows.queue(matches)
    log.info(
        "followed topics: %d articles against %d topics, %d matches, %d queued in %.0f ms",
        len(articles), len(topics), len(matches), queued, (time.perf_counter() - started) * 1e3,
    )  # fmt: skip
    return queued
