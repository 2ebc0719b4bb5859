"""What every command shares: one-line errors instead of tracebacks, and the settings and runtime, built on first
use so `COMMAND --help` works whatever the environment and `newsbot articles` never loads a model."""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import click

from bot.errors import ConfigError
from bot.settings import Settings, load_settings
from vectorstore.errors import StoreError, describe_os_error

if TYPE_CHECKING:
    from bot.runtime import Runtime

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)


class ProblemsError(click.ClickException):
    """One `Error: ...` line per problem (a message may hold several, one per line), exit code 1."""

    def show(self, file: Any = None) -> None:
        for line in self.message.splitlines():
            click.echo(f"Error: {line}", err=True)


def friendly_errors(func: F) -> F:
    """User errors become one clean line each and exit code 1, never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (StoreError, ConfigError) as exc:
            log.debug("%s", type(exc).__name__, exc_info=True)
            raise ProblemsError(str(exc)) from None
        except OSError as exc:  # the file system's own failures (a full disk, an unwritable --out, ...)
            if exc.errno == errno.EPIPE:  # `newsbot articles | head`: click exits quietly on a closed pipe
                raise
            log.debug("%s", type(exc).__name__, exc_info=True)
            ctx = click.get_current_context(silent=True)
            settings = (ctx.obj or {}).get("settings") if ctx is not None else None
            raise ProblemsError(describe_os_error(exc, settings.data_dir if settings else None)) from None

    return wrapper  # type: ignore[return-value]


def settings_from(ctx: click.Context) -> Settings:
    """The one settings object, read on first use so `COMMAND --help` works whatever the environment."""
    obj = ctx.ensure_object(dict)
    if "settings" not in obj:
        obj["settings"] = obj["runtime"].settings if "runtime" in obj else load_settings()
    settings: Settings = obj["settings"]
    return settings




def runtime_from(ctx: click.Context, create_store: bool = True) -> Runtime:
    """The command's Runtime; read-only commands pass `create_store=False` and never leave an empty store."""
    from bot.runtime import Runtime

    obj = ctx.ensure_object(dict)
    if "runtime" not in obj:
        obj["runtime"] = Runtime(settings_from(ctx), create_store=create_store)
    runtime: Runtime = obj["runtime"]
    return runtime
