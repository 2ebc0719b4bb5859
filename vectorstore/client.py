"""Build the Chroma client: embedded on local disk by default, the HTTP client when a URL is configured."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from vectorstore.errors import StoreError

if TYPE_CHECKING:
    from chromadb.api import ClientAPI


@dataclass(frozen=True)
class ChromaConfig:
    path: Path
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict, repr=False)  # may carry an auth token

    @property
    def embedded(self) -> bool:
        return not self.url


def store_exists(path: Path) -> bool:
    """Whether an embedded Chroma store lives at `path` (its SQLite file), without creating anything."""
    return (path / "chroma.sqlite3").is_file()


def has_collection(client: Any, name: str) -> bool:
    """Whether the collection exists, without creating it."""
    from chromadb.errors import NotFoundError

    try:
        client.get_collection(name)
    except (NotFoundError, ValueError):  # ValueError: what older Chroma clients raised for a missing collection
        return False
    return True


def connect(config: ChromaConfig) -> ClientAPI:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if config.embedded:
        config.path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(config.path), settings=chroma_settings)
    parsed = urlparse(config.url or "")
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise StoreError(f"NEWSBOT_CHROMA_URL must look like http://host:port, got {config.url!r}")
    port = parsed.port or (443 if parsed.scheme == "https" else 8000)
    _probe(f"{parsed.scheme}://{parsed.hostname}:{port}", f"{parsed.hostname}:{port}", config.headers)
    try:
        return chromadb.HttpClient(
            host=parsed.hostname,
            port=port,
            ssl=parsed.scheme == "https",
            headers=dict(config.headers),
            settings=chroma_settings,
        )
    except Exception as exc:  # chromadb raises bare ValueError/ConnectionError kinds here
        raise StoreError(f"cannot reach the Chroma server at {parsed.hostname}:{port}: {exc}") from exc


def _probe(base_url: str, where: str, headers: dict[str, str]) -> None:
    """One heartbeat with the configured headers, so a refused credential says so (Chroma's client reports
    a 401 as a bare error body) and an unreachable server fails fast."""
    import httpx

    try:
        reply = httpx.get(f"{base_url}/api/v2/heartbeat", headers=headers, timeout=10.0)
    except httpx.HTTPError as exc:
        raise StoreError(f"cannot reach the Chroma server at {where}: {type(exc).__name__}: {exc}") from exc
    if reply.status_code in (401, 403):
        raise StoreError(
            f"the Chroma server at {where} refused newsbot's credentials (HTTP {reply.status_code}); "
            "check NEWSBOT_CHROMA_AUTH_TOKEN and NEWSBOT_CHROMA_AUTH_HEADER"
        )
