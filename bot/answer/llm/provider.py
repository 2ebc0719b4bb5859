"""Building the chat model that `NEWSBOT_LLM_MODEL` names, through LangChain's `init_chat_model`."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.answer.llm.answerer import LLMAnswerer
from bot.errors import ConfigError

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)


class LLMConfigError(ConfigError):
    """The configured LLM cannot be built (unknown provider, missing package); the message says what to do."""


def _model_kwargs(provider: str | None, settings: Settings) -> dict[str, Any]:
    """Connection settings under the names the provider's class accepts (unknown ones are sent on)."""
    kwargs: dict[str, Any] = {}
    if settings.llm_base_url:
        kwargs["base_url"] = settings.llm_base_url
    if provider == "ollama":
        kwargs["client_kwargs"] = {"timeout": settings.llm_timeout_s}
        return kwargs  # a local server: no key
    if settings.llm_api_key is not None:
        kwargs["api_key"] = settings.llm_api_key.get_secret_value()
    kwargs["timeout"] = settings.llm_timeout_s
    kwargs["max_retries"] = 1  # a user is waiting; the extractive answer is the better retry
    return kwargs


def build_llm_answerer(settings: Settings) -> LLMAnswerer | None:
    """The LLM answerer the settings ask for, or None when `llm_model` is unset (extractive mode).

    Raises:
        LLMConfigError: the provider is unknown or its LangChain package is missing (with an install hint).
    """
    if not settings.llm_model:
        return None
    from langchain.chat_models import init_chat_model  # imports the provider's package: only in LLM mode

    model = settings.llm_model
    provider = model.split(":", 1)[0] if ":" in model else None
    try:
        chat_model = init_chat_model(model, **_model_kwargs(provider, settings))
    except (ImportError, AttributeError) as exc:  # AttributeError: langchain's fallback class is gone too
        package = (
            f"langchain-{provider.replace('_', '-')}" if provider else "the provider's LangChain package"
        )
        hint = str(exc) if isinstance(exc, ImportError) else f"install it with `pip install {package}`"
        raise LLMConfigError(f"NEWSBOT_LLM_MODEL={model!r} needs a package that is missing: {hint}") from exc
    except ValueError as exc:
        raise LLMConfigError(
            f"NEWSBOT_LLM_MODEL={model!r} is not usable ({exc}). "
            "Write it as provider:model, e.g. openai:gpt-4o-mini or ollama:llama3.1."
        ) from exc
    log.info("llm mode: %s", model)
    return LLMAnswerer(chat_model, max_sentences=settings.max_answer_sentences)
