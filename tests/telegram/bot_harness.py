"""Start and stop the production bot in-process against the emulator, the way `run_polling` does it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from telegram.ext import Application

    from bot.runtime import Runtime
    from bot.settings import Settings
    from bot.telegram.services import Services
    from ingest.pipeline import IngestReport

TOKEN = "123456789:AAE-newsbot-test-token-do-not-log"
ADMIN_ID = 900_001


class LogSpy(logging.Handler):
    """Keeps every record at INFO and above, formatted with any traceback, for the no-secrets checks."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def filter(self, record: logging.LogRecord) -> bool:
        # The bot adds a token-redacting filter to the root handlers; this one checks that nothing logs the
        # token in the first place, so it keeps every record as it was logged.
        return True

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class RunningBot:
    application: Application  # type: ignore[type-arg]
    settings: Settings
    runtime: Runtime

    @property
    def services(self) -> Services:
        services: Services = self.application.bot_data.services
        return services

    async def stop(self) -> None:
        app = self.application
        assert app.updater is not None and app.post_shutdown is not None
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        await app.post_shutdown(app)


async def start_bot(settings: Settings, runtime: Runtime, long_poll_s: int = 2) -> RunningBot:
    """build_application, then initialize, post_init, polling and start, as `Application.run_polling` does.

    A short long-poll keeps shutdown quick; the emulator answers getUpdates as soon as an update arrives.
    """
    from bot.telegram.app import ALLOWED_UPDATES, build_application

    app = build_application(settings, runtime)
    await app.initialize()
    assert app.post_init is not None and app.updater is not None
    await app.post_init(app)
    await app.updater.start_polling(poll_interval=0.0, timeout=long_poll_s, allowed_updates=ALLOWED_UPDATES)
    await app.start()
    return RunningBot(app, settings, runtime)


async def start_own_bot(
    data_dir: Path, token: str, base_url: str, embedder: object, coverage: Path, **settings: Any
) -> tuple[RunningBot, IngestReport]:
    """A bot of a test module's own, with its own token and store holding `coverage`, beside the session's bot:
    for coverage the sample store must not hold. The session's model stands in for loading another."""
    from bot.runtime import Runtime
    from bot.settings import Settings

    config = Settings(_env_file=None, data_dir=data_dir, telegram_token=token, telegram_base_url=base_url, **settings)
    runtime = Runtime(config)
    runtime.__dict__["embedder"] = embedder
    report = runtime.ingest([str(coverage)])
    return await start_bot(config, runtime), report
