"""The incremental ingest run: read sources, skip what is unchanged, embed in large batches, and commit
each article atomically."""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from urllib.parse import urlparse

from ingest.boilerplate import drop_paragraphs, repeated_paragraphs
from ingest.chunking import chunk_article
from ingest.errors import ItemError, ItemWarning
from ingest.fetching import FetchOptions, Validators
from ingest.source_result import SourceResult, StoredAt
from ingest.sources import is_url, read_source
from vectorstore.embedder import Embedder
from vectorstore.models import Article, Chunk, StoredArticle
from vectorstore.sentences import distinct_sentences
from vectorstore.store import ArticleStore, KeptSentences

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (chunks embedded so far, chunks to embed)


@dataclass(frozen=True)
class IngestOptions:
    chunk_chars: int = 600
    chunk_overlap_chars: int = 150
    prune: bool = False
    embed_group: int = 512  # chunks embedded per call: large batches keep the embedder at its ceiling
    gc_grace_s: float = 600.0
    fetch: FetchOptions = field(default_factory=FetchOptions)
    # Keep the embedder's vector of every sentence of the chunks (vectorstore/sentences.py), which the answer engine
    # reads; off only for measuring what they cost (bench/sentence_vectors.py).
    sentence_vectors: bool = True


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[ItemError] = field(default_factory=list)
    # Items passed over on purpose (unsupported type, special file, a symlink leaving the tree): not failures.
    skipped: list[ItemError] = field(default_factory=list)
    # Stored, but not as asked (a feed entry stored from the feed's summary because its page failed).
    warnings: list[ItemError] = field(default_factory=list)
    chunks_embedded: int = 0  # chunks written with new vectors
    texts_encoded: int = 0  # distinct texts the model encoded for them (identical chunks are encoded once)
    sentences_encoded: int = 0  # distinct sentences encoded for their kept vectors (IngestOptions.sentence_vectors)
    # Stored articles whose sentence vectors this run added from their stored chunks (stored before they were kept).
    sentences_filled: list[str] = field(default_factory=list)
    seconds: float = 0.0
    embed_seconds: float = 0.0
    # Each URL source's validators as it last answered (to send next time), and those of the sitemaps nested in
    # a sitemap index (by their URLs); the sources that answered 304 Not Modified to the ones they were sent.
    validators: dict[str, Validators] = field(default_factory=dict)
    not_modified: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Nothing failed. Skips and warnings are reported but do not make a run fail."""
        return not self.failed

    def summary(self) -> str:
        # An older store's first ingest that keeps sentence vectors says so: it may take minutes with nothing added.
        filled = f", sentence vectors kept for {len(self.sentences_filled)} stored" if self.sentences_filled else ""
        return (
            f"added {len(self.added)}, updated {len(self.updated)}, unchanged {len(self.unchanged)}, "
            f"removed {len(self.removed)}, failed {len(self.failed)}, skipped {len(self.skipped)}, "
            f"warnings {len(self.warnings)} ({self.chunks_embedded} chunks embedded{filled} in {self.seconds:.1f} s)"
        )


def _site_key(article: Article) -> str:
    if article.url:
        return urlparse(article.url).netloc.lower()
    return article.source or article.origin


def strip_site_furniture(articles: Sequence[Article]) -> list[Article]:
    """Paragraphs repeated across many articles of one site are furniture (bylines, appeals, footers)."""
    by_site: dict[str, list[int]] = defaultdict(list)
    for i, article in enumerate(articles):
        by_site[_site_key(article)].append(i)
    out = list(articles)
    for indices in by_site.values():
        unwanted = repeated_paragraphs([articles[i].text for i in indices])
        if not unwanted:
            continue
        for i in indices:
            text = drop_paragraphs(articles[i].text, unwanted)
            out[i] = replace(articles[i], text=text) if text.strip() else articles[i]
    return out


def stored_at(catalog: Mapping[str, StoredArticle]) -> StoredAt:
    """When each stored article was stored, for the readers to leave unchanged feed entries unfetched. An article
    stored from a feed's summary (its page failed) counts as not stored, so its page is tried again."""

    def when(article_id: str) -> datetime | None:
        stored = catalog.get(article_id)
        if stored is None or stored.from_summary or not stored.ingested_at:
            return None
        try:  # the later of its storing and its last check (see ArticleStore.mark_checked)
            return max(datetime.fromisoformat(s) for s in (stored.ingested_at, stored.checked_at) if s)
        except (ValueError, TypeError):
            return None

    return when


def collect(
    sources: Sequence[str],
    options: IngestOptions,
    validators: Mapping[str, Validators] | None = None,
    known: StoredAt | None = None,
) -> tuple[list[Article], list[SourceResult]]:
    """Read every source; later duplicates of an id replace earlier ones (the newest mention wins).

    Readers return warnings (an article stored without a date that is not a date) among their problems;
    they move to `warnings` here, so only real failures stop a prune.
    """
    sent = validators or {}
    results = [
        read_source(s, options.fetch, validators=sent.get(s), stored_at=known, nested_validators=sent) for s in sources
    ]
    by_id: dict[str, Article] = {}
    for result in results:
        result.warnings.extend(e for e in result.errors if isinstance(e, ItemWarning))
        result.errors = [e for e in result.errors if not isinstance(e, ItemWarning)]
        for article in result.articles:
            by_id[article.id] = article
    return strip_site_furniture(list(by_id.values())), results


def ingest(
    sources: Sequence[str],
    store: ArticleStore,
    embedder: Callable[[], Embedder],
    options: IngestOptions,
    progress: Progress | None = None,
    validators: Mapping[str, Validators] | None = None,
) -> IngestReport:
    """Ingest sources into the store. Idempotent: unchanged articles cost a hash, not an embedding, and feed
    entries stored before and not updated since are not even fetched.

    `embedder` is a provider, called only when something needs embedding, so a run that changes nothing
    never pays for loading the model. `validators` (by URL: sources, and sitemaps nested in an index) make the
    fetch of a URL source conditional.
    """
    started = time.perf_counter()
    report = IngestReport()
    store.collect_garbage(options.gc_grace_s)
    articles, results = collect(sources, options, validators, stored_at(store.catalog()))
    for result in results:
        report.failed.extend(result.errors)
        report.skipped.extend(result.skipped)
        report.warnings.extend(result.warnings)
        report.unchanged.extend(result.unchanged)
        if is_url(result.source):
            report.validators[result.source] = result.validators
            report.validators.update(result.nested_validators)
        if result.not_modified:
            report.not_modified.append(result.source)

    catalog = store.catalog()
    stand_ins = set().union(*(r.stand_ins for r in results))
    rechecked = {i: stamp for r in results for i, stamp in r.rechecked.items()}
    pending: list[tuple[Article, list[Chunk], bool]] = []
    for article in articles:
        version = article_version(article, options)
        live = catalog.get(article.id)
        # A feed's summary stands in for a page that failed this time; it never replaces a stored article.
        if live is not None and (live.version == version or article.id in stand_ins):
            report.unchanged.append(article.id)
            continue
        chunks = chunk_article(article, version, options.chunk_chars, options.chunk_overlap_chars)
        if not chunks:
            report.failed.append(ItemError(article.origin or article.id, f"{article.id}: no text to index"))
            continue
        pending.append((article, chunks, live is not None))

    # Entries a feed marked updated whose page is the same: their stamp is noted, or it would refetch them on every
    # poll (a feed that restamps entries, a clock ahead of ours). Not a stand-in: its page was not read.
    store.mark_checked(
        {i: rechecked[i] for i in report.unchanged if i in rechecked and i in catalog and i not in stand_ins}
    )

    total = sum(len(c) for _, c, _ in pending)
    reuse = _VectorReuse(embedding_text(c) for _, chunks, _ in pending for c in chunks)
    done = 0
    if progress:
        progress(0, total)
    group: list[tuple[Article, list[Chunk], bool]] = []
    group_chunks = 0
    for entry in pending:
        group.append(entry)
        group_chunks += len(entry[1])
        if group_chunks >= options.embed_group:
            done += _embed_and_commit(group, store, embedder(), reuse, report, options.sentence_vectors)
            group, group_chunks = [], 0
            if progress:
                progress(done, total)
    if group:
        done += _embed_and_commit(group, store, embedder(), reuse, report, options.sentence_vectors)
        if progress:
            progress(done, total)

    if options.sentence_vectors:
        _fill_sentence_vectors(store, embedder, options.embed_group, report)

    if options.prune:
        seen = {a.id for a in articles} | {i for r in results for i in r.unchanged}
        report.removed, held = _prune(store, results, seen)
        report.warnings.extend(held)
    report.seconds = time.perf_counter() - started
    log.info("ingest finished: %s", report.summary())
    return report


def embedding_text(chunk: Chunk) -> str:
    """The headline goes into every chunk's embedding: a passage deep in an article rarely names its
    subject. Not twice, though: an article's text may itself start with its headline."""
    if not chunk.title or chunk.text.startswith(chunk.title):
        return chunk.text
    return f"{chunk.title}\n{chunk.text}"


# Change this when chunking or embedding_text() changes, so the next ingest re-indexes what was indexed the
# old way (the content hash alone would call those articles unchanged).
INDEX_RECIPE = "sentence-chunks/2;headline+passage/2"


def article_version(article: Article, options: IngestOptions) -> str:
    """What an article's stored chunks depend on: its content, and how it is chunked and embedded. A new
    NEWSBOT_CHUNK_CHARS therefore re-indexes every article on the next ingest instead of leaving the old
    chunks in place as 'unchanged'."""
    recipe = (article.content_hash(), options.chunk_chars, options.chunk_overlap_chars, INDEX_RECIPE)
    return hashlib.sha256("|".join(map(str, recipe)).encode("utf-8")).hexdigest()[:16]


class _VectorReuse:
    """Identical embedding texts in one run (an article filed twice under two URLs, a wire story) are encoded
    once; only the vectors of texts that occur again are kept, until their last use."""

    def __init__(self, texts: Iterable[str]) -> None:
        self._left = Counter(texts)
        self._kept: dict[str, list[float]] = {}

    def encode(self, texts: Sequence[str], embedder: Embedder) -> tuple[list[list[float]], int]:
        todo = [t for t in dict.fromkeys(texts) if t not in self._kept]
        fresh = dict(zip(todo, embedder.encode(todo), strict=True))
        out = []
        for text in texts:
            vector = fresh[text] if text in fresh else self._kept[text]
            self._left[text] -= 1
            if self._left[text] > 0:
                self._kept[text] = vector
            else:
                self._kept.pop(text, None)
            out.append(vector)
        return out, len(todo)


def _embed_and_commit(
    group: list[tuple[Article, list[Chunk], bool]],
    store: ArticleStore,
    embedder: Embedder,
    reuse: _VectorReuse,
    report: IngestReport,
    keep_sentences: bool = False,
) -> int:
    texts = [embedding_text(chunk) for _, chunks, _ in group for chunk in chunks]
    t0 = time.perf_counter()
    vectors, encoded = reuse.encode(texts, embedder)
    report.embed_seconds += time.perf_counter() - t0
    report.texts_encoded += encoded
    chunks_written = [c for _, chunks, _ in group for c in chunks]
    kept = _sentence_vectors(chunks_written, embedder, report) if keep_sentences else None
    items = []
    offset = 0
    for article, chunks, _ in group:
        items.append((article, chunks, vectors[offset : offset + len(chunks)]))
        offset += len(chunks)
    store.commit(items, kept)
    for article, _, existed in group:
        (report.updated if existed else report.added).append(article.id)
    report.chunks_embedded += len(texts)
    log.info("committed %d articles (%d chunks embedded so far)", len(group), report.chunks_embedded)
    return len(texts)


def _sentence_vectors(chunks: Sequence[Chunk], embedder: Embedder, report: IngestReport) -> KeptSentences:
    """Every sentence of the chunks with its vector, each distinct text encoded once (chunks overlap, and wire
    stories repeat), by `Embedder.encode` as the answer engine encodes the sentences it finds no vector for; the
    texts encoded and the time taken are counted in `report`."""
    t0 = time.perf_counter()
    sentences = distinct_sentences(chunks)
    texts = list(dict.fromkeys(s.text for s in sentences))
    by_text = dict(zip(texts, embedder.encode(texts), strict=True))
    report.embed_seconds += time.perf_counter() - t0
    report.sentences_encoded += len(texts)
    return KeptSentences(sentences, [by_text[s.text] for s in sentences])


def _fill_sentence_vectors(
    store: ArticleStore, embedder: Callable[[], Embedder], group_chunks: int, report: IngestReport
) -> None:
    """Keep the sentence vectors of every stored article that lacks them, from its stored chunks (its sources
    need not be read again: a feed's old entries are not even fetched), about `group_chunks` chunks at a time.
    An older store, or one ingested under the default configuration, so fills on its first ingest under a
    configuration that reads them; after that, this costs a look at the catalog."""
    lacking = [a for a in store.catalog().values() if not a.sentences]
    while lacking:
        group, size = [], 0
        while lacking and size < group_chunks:
            group.append(lacking.pop())
            size += group[-1].chunks
        kept = _sentence_vectors(store.chunks_of_versions(group), embedder(), report)
        report.sentences_filled += store.keep_sentences(group, kept)
        log.info("kept the sentence vectors of %d stored articles", len(report.sentences_filled))


def _prune(
    store: ArticleStore, results: Sequence[SourceResult], seen: set[str]
) -> tuple[list[str], list[ItemError]]:
    """Remove the articles of each source that was read whole without a failure and no longer yields them.

    A source with a failure, a directory it could not list or a symbolic link it did not follow prunes
    nothing: a file that failed, or could not even be seen, may still be an article we hold. Articles are
    known by source, not by file, so the whole source is spared; each spared source with articles a prune
    would have removed gets a warning saying so.
    """
    catalog = store.catalog().values()
    gone: list[str] = []
    held: list[ItemError] = []
    for result in {r.origin: r for r in results}.values():
        if result.not_modified:  # unchanged since it was last read whole: nothing of it is gone
            continue
        absent = [a.id for a in catalog if a.origin == result.origin and a.id not in seen]
        if not absent:
            continue
        if result.prunable and all(r.prunable for r in results if r.origin == result.origin):
            gone.extend(absent)
        else:
            kept = f"kept {len(absent)} stored article(s) no longer found"
            held.append(ItemError(result.source, f"not pruned: {kept}, as part of the source failed or was not read"))
    store.remove(gone)
    return gone, held
