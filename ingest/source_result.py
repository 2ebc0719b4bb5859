"""What reading one named source yields, for the pipeline: articles, and every failure, skip and warning."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from ingest.errors import ItemError
from ingest.fetching import Validators
from vectorstore.models import Article

# When the article with this id was stored (None: not stored, or only from a feed's summary). The pipeline
# answers from the store's catalog, so the readers need no store.
StoredAt = Callable[[str], datetime | None]


@dataclass
class SourceResult:
    """What one named source yielded; `complete` is False when the source itself failed (then no pruning)."""

    source: str
    origin: str
    articles: list[Article] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)
    skipped: list[ItemError] = field(default_factory=list)  # passed over on purpose; see IngestReport.skipped
    warnings: list[ItemError] = field(default_factory=list)  # stored, but not as asked; see IngestReport
    complete: bool = True
    # Some of it was deliberately not read (a symbolic link leaving the tree, a page robots.txt disallows, sitemap
    # URLs left for the next poll), so what it no longer lists may still exist: no pruning either.
    partial: bool = False
    # Ids of feed entries whose page failed this time, so their article was built from the feed's content.
    stand_ins: set[str] = field(default_factory=set)
    # The source URL's validators as last answered (to store for the next poll), and whether it answered 304
    # Not Modified to the ones it was sent: then nothing was read and nothing of it changed.
    validators: Validators = Validators()
    not_modified: bool = False
    # Ids of feed entries or sitemap URLs stored before and not updated since (by the date the feed or sitemap
    # gives them): their pages were not fetched.
    unchanged: list[str] = field(default_factory=list)
    # Stored entries fetched again because the feed or sitemap marked them updated: id -> that updated date.
    rechecked: dict[str, datetime] = field(default_factory=dict)

    @property
    def prunable(self) -> bool:
        """Read whole and without a failure: then an article it no longer yields is really gone."""
        return self.complete and not self.partial and not self.errors

    def merge(self, part: SourceResult) -> None:
        """Take in what one item of this source (a feed entry, a sitemap URL) yielded."""
        self.articles.extend(part.articles)
        self.errors.extend(part.errors)
        self.warnings.extend(part.warnings)
        self.skipped.extend(part.skipped)
        self.unchanged.extend(part.unchanged)
        self.stand_ins |= part.stand_ins
        self.rechecked.update(part.rechecked)
        self.partial = self.partial or part.partial
