"""The python-telegram-bot Application: built in a function, never at import time; run by long polling or by
webhook, as the settings say.

    newsbot serve          # NEWSBOT_TELEGRAM_TOKEN (or NEWSBOT_TELEGRAM_TOKEN_FILE) set

Bot API server: NEWSBOT_TELEGRAM_BASE_URL (a self-hosted telegram-bot-api, or the emulator in the tests).
Webhook mode: NEWSBOT_WEBHOOK_URL, NEWSBOT_WEBHOOK_LISTEN / _PORT, NEWSBOT_WEBHOOK_SECRET (random if unset).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import httpx
from telegram import BotCommand, BotCommandScopeChat, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.errors import ConfigError
from bot.telegram import admin, buttons, subscribers
from bot.telegram.failures import on_error
from bot.telegram.feedback import FeedbackStore
from bot.telegram.follow import register_follow
from bot.telegram.i18n import DEFAULT_LANGUAGE, LANGUAGES, N_, Texts, texts
from bot.telegram.language import register_language
from bot.telegram.language_store import LanguageStore
from bot.telegram.memory import ChatMemory
from bot.telegram.polling import schedule_source_polling
from bot.telegram.ratelimit import RateLimiter
from bot.telegram.services import BotData, Services
from bot.telegram.sources import register_source_commands

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from bot.settings import Settings

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
PUBLIC_COMMANDS = [
    ("start", N_("Welcome and example questions")),
    ("ask", N_("Ask a question (handy in groups)")),
    ("sources", N_("What coverage is loaded")),
    ("latest", N_("The newest articles")),
    ("following", N_("Stories you follow")),
    ("language", N_("The language I speak to you")),
    ("help", N_("How to use the bot")),
]
# Admins' menu stays in English, like their reports.
ADMIN_COMMANDS = [
    BotCommand("ingest", "Add articles from a URL or feed"),
    BotCommand("reindex", "Re-ingest the configured sources"),
    BotCommand("remove", "Remove an article by id"),
    BotCommand("stats", "Articles, questions and feedback"),
    BotCommand("pushes", "Pause or resume notifications: off|on"),
    BotCommand("sources_add", "Follow a feed, sitemap or page: URL [every]"),
    BotCommand("sources_remove", "Stop following a source: ID"),
]


def public_commands(t: Texts) -> list[BotCommand]:
    """The subscribers' command menu in `t`'s language."""
    return [BotCommand(name, t._(description)) for name, description in PUBLIC_COMMANDS]


class MissingTokenError(RuntimeError):
    """No bot token is configured."""


class _RedactToken(logging.Filter):
    """Defence in depth: if anything logs the token, the handlers print a placeholder instead."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self._token in message:
            record.msg = message.replace(self._token, "<token>")
            record.args = None
        return True


def protect_token_in_logs(token: str) -> None:
    """httpx logs request URLs with the token in their path: keep httpx at WARNING, and redact anyway."""
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        logger.setLevel(max(logger.getEffectiveLevel(), logging.WARNING))
    redact = _RedactToken(token)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)


def api_urls(base_url: str | None) -> dict[str, str]:
    """Base URLs for a Bot API server given as `http://host:port` (or already ending in /bot)."""
    if not base_url:
        return {}
    base = base_url.rstrip("/")
    if "{token}" in base:
        return {"base_url": base, "base_file_url": base.replace("/bot{token}", "/file/bot{token}")}
    if base.endswith("/bot"):
        base = base[: -len("/bot")]
    return {"base_url": f"{base}/bot", "base_file_url": f"{base}/file/bot"}


def _request(pool_size: int, read_timeout: float) -> HTTPXRequest:
    # Connection failures are retried by the transport (nothing was sent yet, so it is always safe); failed
    # sends are retried by `sending.send`; flood control (429) by the AIORateLimiter.
    transport = httpx.AsyncHTTPTransport(
        retries=3, limits=httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size)
    )
    return HTTPXRequest(
        connection_pool_size=pool_size,
        connect_timeout=5.0,
        read_timeout=read_timeout,
        write_timeout=10.0,
        pool_timeout=5.0,
        httpx_kwargs={"transport": transport},
    )


def build_application(settings: Settings, runtime: Runtime) -> Application:  # type: ignore[type-arg]
    """The bot, ready for `run_polling`/`run_webhook` (or initialize/start in tests)."""
    token = settings.telegram_token_value()
    if not token:
        raise MissingTokenError(
            "no Telegram bot token: set NEWSBOT_TELEGRAM_TOKEN or NEWSBOT_TELEGRAM_TOKEN_FILE"
        )
    protect_token_in_logs(token)
    services = Services(
        settings=settings,
        runtime=runtime,
        feedback=FeedbackStore(settings.feedback_db),
        languages=LanguageStore(settings.feedback_db),
        memory=ChatMemory(settings.memory_ttl_s),
        limiter=RateLimiter(settings.rate_limit_per_minute, window_s=60.0),
        answer_workers=ThreadPoolExecutor(
            max_workers=max(1, settings.answer_workers), thread_name_prefix="answer"
        ),
    )
    builder: Any = (
        ApplicationBuilder()
        .token(token)
        .context_types(ContextTypes(bot_data=BotData))
        .request(_request(pool_size=64, read_timeout=10.0))
        .get_updates_request(_request(pool_size=2, read_timeout=10.0))
        .rate_limiter(AIORateLimiter(max_retries=3))
        .defaults(
            Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True))
        )
        .concurrent_updates(256)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    urls = api_urls(settings.telegram_base_url)
    if urls:
        builder = builder.base_url(urls["base_url"]).base_file_url(urls["base_file_url"])
    application = builder.build()
    application.bot_data.services = services
    register_source_commands(application)  # before register_handlers: its catch-all answers unknown commands
    register_follow(application)  # likewise, and its buttons before the catch-all button handler
    register_language(application)  # likewise
    register_handlers(application)
    schedule_source_polling(application, settings)
    return application


def register_handlers(application: Application) -> None:  # type: ignore[type-arg]
    new = filters.UpdateType.MESSAGE  # edited messages are not asked again
    private, groups = filters.ChatType.PRIVATE, filters.ChatType.GROUPS
    for name, callback in [
        ("start", subscribers.start),
        ("help", subscribers.help_command),
        ("sources", subscribers.sources),
        ("latest", subscribers.latest),
        ("ask", subscribers.ask),
        ("ingest", admin.ingest),
        ("reindex", admin.reindex),
        ("remove", admin.remove),
        ("stats", admin.stats),
    ]:
        application.add_handler(CommandHandler(name, callback, filters=new))
    application.add_handler(CallbackQueryHandler(buttons.button))
    application.add_handler(
        MessageHandler(new & private & filters.TEXT & ~filters.COMMAND, subscribers.private_text)
    )
    application.add_handler(
        MessageHandler(new & groups & filters.TEXT & ~filters.COMMAND, subscribers.group_text)
    )
    application.add_handler(MessageHandler(new & private & filters.COMMAND, subscribers.unknown_command))
    application.add_handler(
        MessageHandler(new & private & ~filters.TEXT & ~filters.StatusUpdate.ALL, subscribers.non_text)
    )
    application.add_error_handler(on_error)


async def _post_init(application: Application) -> None:  # type: ignore[type-arg]
    """Register the command menus and warm the engine up, so no subscriber waits for the model."""
    services: Services = application.bot_data.services
    bot = application.bot
    try:
        await bot.set_my_commands(public_commands(texts(DEFAULT_LANGUAGE)))
        for language in LANGUAGES:  # Telegram shows users the menu of their app's language, if there is one
            if language != DEFAULT_LANGUAGE:
                await bot.set_my_commands(public_commands(texts(language)), language_code=language)
    except TelegramError as exc:
        log.warning("could not register the bot's commands: %s", type(exc).__name__)
    for admin_id in services.settings.admin_ids:
        try:
            commands = public_commands(texts(DEFAULT_LANGUAGE)) + ADMIN_COMMANDS
            await bot.set_my_commands(commands, scope=BotCommandScopeChat(admin_id))
        except TelegramError as exc:  # e.g. the admin has not started a chat with the bot yet
            log.warning("could not register admin commands for user=%s: %s", admin_id, type(exc).__name__)
    articles = await asyncio.to_thread(_warm_up, services.runtime)
    log.info(
        "bot @%s ready: %d articles, %d answer workers, rate limit %d/min",
        bot.username, articles, services.settings.answer_workers, services.settings.rate_limit_per_minute,
    )  # fmt: skip


def _warm_up(runtime: Runtime) -> int:
    articles = len(runtime.store.catalog())
    try:
        # A "where" question also loads the place names (0.3 s) the answerer checks such questions with.
        runtime.engine.answer("Where is the latest news from?")
    except Exception:  # noqa: BLE001 (a failed warm-up only costs the first question time)
        log.warning("engine warm-up failed", exc_info=True)
    return articles


async def _post_shutdown(application: Application) -> None:  # type: ignore[type-arg]
    services: Services = application.bot_data.services
    services.answer_workers.shutdown(wait=False, cancel_futures=True)
    services.feedback.close()
    services.languages.close()


class _QuietBootstrapFailure(logging.Filter):
    """PTB logs a failed start (getMe, setWebhook) with its whole traceback before raising it; `run` reports it
    as one line, so the record is dropped. Failures once the bot runs are logged as before."""

    def filter(self, record: logging.LogRecord) -> bool:
        failed = record.exc_info[1] if record.exc_info else None
        starting = record.getMessage().startswith("Network Retry Loop (Bootstrap")
        return not (isinstance(failed, TelegramError) and starting)


def run(settings: Settings, runtime: Runtime) -> None:
    """Serve until interrupted: long polling, or a webhook when NEWSBOT_WEBHOOK_URL is set.

    A Bot API that cannot be reached, or refuses the token, at start is a ConfigError: one line, no token in it.
    """
    application = build_application(settings, runtime)
    server = urlparse(settings.telegram_base_url).netloc if settings.telegram_base_url else "api.telegram.org"
    token = settings.telegram_token_value() or ""
    quiet = _QuietBootstrapFailure()
    ptb_logger = logging.getLogger("telegram.ext")
    ptb_logger.addFilter(quiet)
    try:
        _run(application, settings, server)
    except InvalidToken:
        raise ConfigError(
            f"the Bot API at {server} refused the bot token; check NEWSBOT_TELEGRAM_TOKEN (or _TOKEN_FILE)"
        ) from None
    except (BadRequest, Forbidden) as exc:  # e.g. a webhook URL Telegram will not call
        raise ConfigError(f"the Bot API at {server} refused to start the bot: {_without(token, exc.message)}") from None
    except NetworkError as exc:  # TimedOut included
        reason = _without(token, str(exc))
        raise ConfigError(
            f"cannot reach the Bot API at {server} ({reason}); check NEWSBOT_TELEGRAM_BASE_URL and the network"
        ) from None
    except TelegramError as exc:
        raise ConfigError(f"the Bot API at {server} failed at start: {type(exc).__name__}") from None
    finally:
        ptb_logger.removeFilter(quiet)


def _without(token: str, text: str) -> str:
    return text.replace(token, "<token>") if token else text


def _run(application: Application, settings: Settings, server: str) -> None:  # type: ignore[type-arg]
    if settings.webhook_url:
        secret = (
            settings.webhook_secret.get_secret_value()
            if settings.webhook_secret
            else secrets.token_urlsafe(32)
        )
        log.info(
            "serving by webhook on %s:%d (Bot API %s)", settings.webhook_listen, settings.webhook_port, server
        )
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=urlparse(settings.webhook_url).path.strip("/"),
            webhook_url=settings.webhook_url,
            secret_token=secret,
            allowed_updates=ALLOWED_UPDATES,
        )
    else:
        log.info("serving by long polling (Bot API %s)", server)
        application.run_polling(poll_interval=settings.poll_interval_s, allowed_updates=ALLOWED_UPDATES)
