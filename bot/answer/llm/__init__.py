"""Optional LLM answer mode: a configured chat model writes the answer; only what its quotes prove is kept.

The model is asked for JSON: sentences, each with the sources it relies on and verbatim quotes from them.
Nothing the model says is trusted: every quote is looked up in the passage it is attributed to, citations
whose quote is not there are dropped, sentences left without a verified quote are dropped, and when nothing
survives (or the model fails in any way) `answer` returns None so the engine falls back to the extractive
answer.

    answerer = build_llm_answerer(settings)      # None unless NEWSBOT_LLM_MODEL is set
    if answerer is not None:
        answer = answerer.answer(question, passages)  # Answer(mode="llm") or None
"""

from bot.answer.llm.answerer import LLMAnswerer
from bot.answer.llm.provider import LLMConfigError, build_llm_answerer
from bot.answer.llm.quotes import locate_quote

__all__ = ["LLMAnswerer", "LLMConfigError", "build_llm_answerer", "locate_quote"]
