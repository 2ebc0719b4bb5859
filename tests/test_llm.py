"""The optional LLM mode against an OpenAI-compatible server on 127.0.0.1, through the real langchain-openai.

Passages are real chunks of `data/sample/` from a real store; the model's replies are scripted per test so
that each way a model can be wrong (fabricated quotes, wrong source, invented figures, broken JSON, errors,
hangs) is checked against what reaches the user.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fake_openai import FakeOpenAI, Reply
from langchain.chat_models import init_chat_model
from pydantic import SecretStr

from bot.answer.llm import LLMAnswerer, LLMConfigError, build_llm_answerer, locate_quote
from bot.answer.models import Answer
from bot.runtime import Runtime
from bot.settings import Settings
from prompts import load_prompt
from vectorstore.embedder import Embedder
from vectorstore.models import Chunk, Passage

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "sample"
SECRET = "sk-test-never-logged"
ITALY_ARTICLE = "000_17fa544b3ee55eda"

# Verbatim from data/sample/000_17fa544b3ee55eda.md (note the curly quotes in the article).
PLEDGE = "Italy approved a €140 million ($ 150 mn) package for Ukrainian infrastructure"
SAMPT = "Italy was also reportedly prepared to send an additional package with SAMP/T"
ZELENSKY = "I am thankful to Italy and personally to Giorgia for the willingness to further assist"


@dataclass(frozen=True)
class Corpus:
    runtime: Runtime
    passages: list[Passage]

    def source_of(self, text: str) -> str:
        """The [S<n>] id of the first passage containing `text`, as the prompt numbers them."""
        for i, p in enumerate(self.passages, start=1):
            if text in p.chunk.text:
                return f"S{i}"
        raise AssertionError(f"no passage contains {text!r}")

    def article_text(self, article_id: str) -> str:
        text = self.runtime.store.article_text(article_id)
        assert text is not None
        return text


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Corpus:
    """The sample articles ingested once into a real store; every live chunk, in order, as the passages."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("llm-store"), _env_file=None)
    rt = Runtime(settings)
    rt.__dict__["embedder"] = embedder
    assert rt.ingest([str(SAMPLE_DIR)]).ok
    passages = [Passage(chunk=c, score=1.0 - i / 100) for i, c in enumerate(rt.store.live_chunks())]
    assert len(passages) >= 4
    return Corpus(rt, passages)


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as srv:
        yield srv


def llm_settings(server: FakeOpenAI, model: str = "openai:test-model", timeout_s: float = 5.0) -> Settings:
    return Settings(
        _env_file=None,
        llm_model=model,
        llm_base_url=server.base_url,
        llm_api_key=SECRET,
        llm_timeout_s=timeout_s,
        max_answer_sentences=3,
    )


@pytest.fixture
def answerer(server: FakeOpenAI) -> LLMAnswerer:
    built = build_llm_answerer(llm_settings(server))
    assert built is not None
    return built


def reply(*sentences: tuple[str, list[tuple[str, str]]]) -> Reply:
    """A well-formed model reply: (sentence, [(source id, quote), ...]) per sentence."""
    body = {
        "sentences": [
            {"text": text, "citations": [{"source": s, "quote": q} for s, q in cites]}
            for text, cites in sentences
        ]
    }
    return Reply(content=json.dumps(body, ensure_ascii=False))


def assert_grounded(answer: Answer, corpus: Corpus) -> None:
    """Every citation's quote is the article text at its span, inside a passage the model was given."""
    numbers = [c.number for c in answer.citations]
    assert numbers == list(range(1, len(numbers) + 1))
    for cite in answer.citations:
        assert corpus.article_text(cite.article_id)[cite.start : cite.end] == cite.quote
        assert any(
            p.chunk.article_id == cite.article_id and p.chunk.start <= cite.start and cite.end <= p.chunk.end
            for p in corpus.passages
        )
    for sentence in answer.sentences:
        assert sentence.citations
        assert set(sentence.citations) <= set(numbers)


# ---- accepted answers --------------------------------------------------------------------------------------


def test_verbatim_quotes_are_accepted_and_cited_at_their_span(
    server: FakeOpenAI, answerer: LLMAnswerer, corpus: Corpus
) -> None:
    s_italy = corpus.source_of(PLEDGE)
    server.script(
        reply(
            ("Italy approved a EUR 140 million package for Ukrainian infrastructure.", [(s_italy, PLEDGE)]),
            ("It was also reportedly preparing a SAMP/T air defense package.", [(s_italy, SAMPT)]),
        )
    )

    answer = answerer.answer("What did Italy pledge?", corpus.passages)

    assert answer is not None
    assert answer.mode == "llm" and not answer.declined
    assert "140 million" in answer.text and "SAMP/T" in answer.text
    assert [s.citations for s in answer.sentences] == [(1,), (2,)]
    assert {c.article_id for c in answer.citations} == {ITALY_ARTICLE}
    assert [c.quote for c in answer.citations] == [PLEDGE, SAMPT]
    assert_grounded(answer, corpus)
    assert answer.timings_ms["llm"] > 0

    (request,) = server.requests
    assert request.headers["authorization"] == f"Bearer {SECRET}"
    assert request.body["response_format"]["type"] == "json_schema"  # structured output where supported
    system, user = request.messages
    assert system["role"] == "system" and "JSON" in system["content"]
    assert "What did Italy pledge?" in user["content"]
    assert f"[{s_italy}] Five Italian companies join Ukraine’s Defense Industries Alliance" in user["content"]
    assert "[S1]" in user["content"] and f"[S{len(corpus.passages)}]" in user["content"]


def test_quotes_match_despite_quote_marks_whitespace_and_case(
    server: FakeOpenAI, answerer: LLMAnswerer, corpus: Corpus
) -> None:
    """Models straighten curly quotes and re-flow lines; the citation still quotes the article exactly."""
    original = "The official’s statement came after the “Security Culture: Italy’s Contributions” conference"
    retyped = (
        "the official's statement came after the \"Security Culture: Italy's Contributions\"   conference"
    )
    across_lines = "weapons in 2024. Earlier, Italian Foreign Minister Antonio Tajani revealed"
    server.script(
        reply(
            (
                "A conference on Italy's contributions was held in Rome.",
                [(corpus.source_of(original), retyped)],
            ),
            ("Antonio Tajani spoke about Italy's aid.", [(corpus.source_of("Antonio Tajani"), across_lines)]),
        )
    )

    answer = answerer.answer("What conference was held?", corpus.passages)

    assert answer is not None
    assert [c.quote for c in answer.citations] == [original, across_lines.replace("2024. ", "2024.\n")]
    assert_grounded(answer, corpus)


def test_fenced_json_from_a_server_without_structured_output(server: FakeOpenAI, corpus: Corpus) -> None:
    """A 400 for `response_format` (common on OpenAI-compatible servers) is retried once as a plain prompt,
    and JSON in a fenced block after some prose is still read."""
    s_italy = corpus.source_of(PLEDGE)
    body = {
        "sentences": [
            {"text": "Italy pledged EUR 140 million.", "citations": [{"source": s_italy, "quote": PLEDGE}]}
        ]
    }
    fenced = json.dumps(body, ensure_ascii=False, indent=2)
    content = f"Sure! Here is the answer:\n```json\n{fenced}\n```\nHope it helps."
    server.script(Reply(content=content, reject_response_format=True))
    model = init_chat_model("openai:some-model", base_url=server.base_url, api_key="test", max_retries=0)

    answer = LLMAnswerer(model).answer("What did Italy pledge?", corpus.passages)

    assert answer is not None and "140 million" in answer.text
    assert_grounded(answer, corpus)
    assert ["response_format" in r.body for r in server.requests] == [True, False]


def test_function_calling_models_answer_through_a_tool_call(server: FakeOpenAI, corpus: Corpus) -> None:
    """langchain-openai uses function calling for models without json_schema support (gpt-4-*)."""
    server.script(reply(("Italy approved a EUR 140 million package.", [(corpus.source_of(PLEDGE), PLEDGE)])))
    with pytest.warns(UserWarning):
        built = build_llm_answerer(llm_settings(server, model="openai:gpt-4-turbo"))
    assert built is not None
    answer = built.answer("What did Italy pledge?", corpus.passages)

    assert answer is not None and "140 million" in answer.text
    assert_grounded(answer, corpus)
    assert server.requests[0].body["tools"][0]["function"]["name"] == "grounded_answer"


def test_lenient_shapes_citation_markers_duplicates_and_the_sentence_limit(
    server: FakeOpenAI, answerer: LLMAnswerer, corpus: Corpus
) -> None:
    s_italy, s_zel = corpus.source_of(PLEDGE), corpus.source_of(ZELENSKY)
    pledge = {"source": s_italy, "quote": PLEDGE}
    sampt = {"source": s_italy, "quote": SAMPT}
    body = {
        "answer": [  # "answer", "sentence", unpaired "sources"/"quotes": small models drift from the schema
            {
                "sentence": "Italy approved a EUR 140 million package [S1].",
                "sources": [s_italy],
                "quotes": [PLEDGE],
            },
            {"text": "Italy approved a EUR 140 million package.", "citations": [pledge]},  # a duplicate
            {
                "text": "Zelensky thanked Italy for help with air defense.",
                "citations": [{"source": 99, "quote": ZELENSKY}, {"source": s_zel, "quote": ZELENSKY}],
            },
            {"text": "Italy was reportedly preparing a SAMP/T package.", "citations": [sampt, pledge]},
            {"text": "A fourth sentence beyond the limit of three.", "citations": [sampt]},
        ]
    }
    server.script(Reply(content=json.dumps(body, ensure_ascii=False)))

    answer = answerer.answer("What did Italy pledge?", corpus.passages)

    assert answer is not None
    assert [s.text for s in answer.sentences] == [
        "Italy approved a EUR 140 million package.",
        "Zelensky thanked Italy for help with air defense.",
        "Italy was reportedly preparing a SAMP/T package.",
    ]
    # numbered by first use; the same span cited twice keeps its number
    assert [s.citations for s in answer.sentences] == [(1,), (2,), (3, 1)]
    assert answer.citations[1].quote == ZELENSKY
    assert_grounded(answer, corpus)


# ---- what is dropped ---------------------------------------------------------------------------------------


def test_fabricated_quotes_drop_their_citation_and_unsupported_sentences(
    server: FakeOpenAI, answerer: LLMAnswerer, corpus: Corpus
) -> None:
    s_italy, s_zel = corpus.source_of(PLEDGE), corpus.source_of(ZELENSKY)
    server.script(
        reply(
            ("Italy will send troops.", [(s_italy, "Italy will send 5,000 troops to Ukraine next month")]),
            (
                "Italy approved a EUR 140 million package.",
                [(s_italy, "Italy approved the largest package in its history"), (s_italy, PLEDGE)],
            ),
            ("Zelensky thanked Italy for its support.", [(s_italy, ZELENSKY)]),  # real quote, wrong source
            ("Italy approved a EUR 400 million package.", [(s_italy, PLEDGE)]),  # a figure its quote lacks
            ("Italy sent help.", [(s_zel, "Italy")]),  # too short to support anything
            ("Zelensky thanked Italy and Giorgia Meloni.", [(s_zel, ZELENSKY)]),
        )
    )

    answer = answerer.answer("What did Italy pledge?", corpus.passages)

    assert answer is not None
    assert [s.text for s in answer.sentences] == [
        "Italy approved a EUR 140 million package.",
        "Zelensky thanked Italy and Giorgia Meloni.",
    ]
    assert [c.quote for c in answer.citations] == [PLEDGE, ZELENSKY]
    assert [s.citations for s in answer.sentences] == [(1,), (2,)]
    assert_grounded(answer, corpus)


def test_everything_fabricated_returns_none_for_the_extractive_fallback(
    server: FakeOpenAI, answerer: LLMAnswerer, corpus: Corpus, caplog: pytest.LogCaptureFixture
) -> None:
    server.script(
        reply(
            ("Portugal pledged EUR 2 billion.", [("S1", "Portugal pledged two billion euros to Ukraine")]),
            ("Spain sent tanks.", [("S2", "Spain sent tanks"), ("S42", PLEDGE)]),
            ("This sentence cites nothing.", []),
        )
    )
    with caplog.at_level(logging.INFO, logger="bot.answer.llm"):
        assert answerer.answer("What did Portugal pledge?", corpus.passages) is None
    assert "kept 0 of 3 sentences" in caplog.text


def test_an_empty_answer_returns_none(server: FakeOpenAI, answerer: LLMAnswerer, corpus: Corpus) -> None:
    server.script(Reply(content='{"sentences": []}'))
    assert answerer.answer("What did Portugal pledge?", corpus.passages) is None


@pytest.mark.parametrize(
    "content",
    [
        "Italy pledged EUR 140 million to Ukraine.",  # prose, no JSON
        '{"sentences": [{"text": "Italy pledged", "citations": [',  # cut off
        '{"verdict": "Italy pledged money"}',  # JSON, but not an answer
        "",
    ],
)
def test_invalid_json_returns_none(
    server: FakeOpenAI, answerer: LLMAnswerer, corpus: Corpus, content: str
) -> None:
    server.script(Reply(content=content))
    assert answerer.answer("What did Italy pledge?", corpus.passages) is None
    assert len(server.requests) == 1  # a bad reply is not retried


# ---- failures of the provider ------------------------------------------------------------------------------


def test_http_500_returns_none_and_logs_without_the_key(
    server: FakeOpenAI, answerer: LLMAnswerer, corpus: Corpus, caplog: pytest.LogCaptureFixture
) -> None:
    server.script(Reply(status=500, content="upstream exploded"), Reply(status=500, content="still down"))
    with caplog.at_level(logging.DEBUG):
        assert answerer.answer("What did Italy pledge?", corpus.passages) is None
    warnings = [r for r in caplog.records if r.name.startswith("bot.answer.llm") and r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "HTTP 500" in warnings[0].getMessage()
    assert len(server.requests) == 2  # one retry, then the extractive answer
    assert SECRET not in caplog.text
    assert "upstream exploded" not in caplog.text


def test_a_hanging_server_times_out_and_returns_none(
    server: FakeOpenAI, corpus: Corpus, caplog: pytest.LogCaptureFixture
) -> None:
    server.script(Reply(delay_s=10, content="{}"), Reply(delay_s=10, content="{}"))
    built = build_llm_answerer(llm_settings(server, timeout_s=0.5))
    assert built is not None

    started = time.perf_counter()
    with caplog.at_level(logging.WARNING, logger="bot.answer.llm"):
        assert built.answer("What did Italy pledge?", corpus.passages) is None
    assert time.perf_counter() - started < 5
    assert "Timeout" in caplog.text


def test_an_unreachable_server_returns_none(corpus: Corpus) -> None:
    with FakeOpenAI() as gone:
        url = gone.base_url
    model = init_chat_model("openai:test-model", base_url=url, api_key="test", max_retries=0, timeout=2)
    assert LLMAnswerer(model).answer("What did Italy pledge?", corpus.passages) is None


def test_no_passages_means_no_call(server: FakeOpenAI, answerer: LLMAnswerer) -> None:
    assert answerer.answer("What did Italy pledge?", []) is None
    assert server.requests == []


# ---- configuration -----------------------------------------------------------------------------------------


def test_build_returns_none_without_a_model() -> None:
    assert build_llm_answerer(Settings(_env_file=None)) is None


def test_build_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch, server: FakeOpenAI, corpus: Corpus
) -> None:
    monkeypatch.setenv("NEWSBOT_LLM_MODEL", "openai:env-model")
    monkeypatch.setenv("NEWSBOT_LLM_BASE_URL", server.base_url)
    monkeypatch.setenv("NEWSBOT_LLM_API_KEY", SECRET)
    monkeypatch.setenv("NEWSBOT_MAX_ANSWER_SENTENCES", "1")
    built = build_llm_answerer(Settings(_env_file=None))
    assert built is not None and built.max_sentences == 1
    server.script(reply(("Italy approved a EUR 140 million package.", [(corpus.source_of(PLEDGE), PLEDGE)])))
    assert built.answer("What did Italy pledge?", corpus.passages) is not None
    assert server.requests[0].body["model"] == "env-model"


@pytest.mark.parametrize(
    ("model", "hint"),
    [
        ("anthropic:claude-test", "pip install langchain-anthropic"),
        ("nosuchprovider:model", "provider:model"),
        ("some-unknown-model", "provider:model"),
    ],
)
def test_build_explains_an_unusable_model(model: str, hint: str) -> None:
    with pytest.raises(LLMConfigError, match=hint.replace(":", ".")) as err:
        build_llm_answerer(Settings(_env_file=None, llm_model=model, llm_api_key=SECRET))
    assert SECRET not in str(err.value)


def test_ollama_gets_its_timeout_or_an_install_hint() -> None:
    settings = Settings(_env_file=None, llm_model="ollama:llama3.1", llm_base_url="http://127.0.0.1:9")
    try:
        built = build_llm_answerer(settings)
    except LLMConfigError as exc:  # langchain-ollama is not a dependency
        assert "pip install langchain-ollama" in str(exc)
    else:
        assert built is not None
        assert getattr(built.chat_model, "client_kwargs", None) == {"timeout": settings.llm_timeout_s}


def test_prompts_load_and_format() -> None:
    assert "{sources}" in load_prompt("answer_user") and "{question}" in load_prompt("answer_user.txt")
    with pytest.raises(FileNotFoundError, match="answer_system"):
        load_prompt("no_such_prompt")


def test_locate_quote_maps_normalised_matches_back_to_the_article() -> None:
    text = "Intro.\nHe said:  “It’s done —\nfinally.” End."
    chunk = Chunk("a", "v", 0, start=100, end=100 + len(text), text=text, title="t")
    found = locate_quote('he said: "it\'s done - finally."', chunk)
    assert found is not None
    assert found.quote == "He said:  “It’s done —\nfinally"
    assert (found.start, found.end) == (107, 107 + len(found.quote))
    assert locate_quote("It is done", chunk) is None
    assert locate_quote("done", chunk) is None  # too short to support a claim


# ---- end to end through the engine ------------------------------------------------------------------------


def cite_where_found(text: str, quote: str) -> Callable[[dict[str, Any]], str]:
    """A reply built from the prompt the engine sent: `quote` cited to the source that contains it."""

    def respond(body: dict[str, Any]) -> str:
        sources = re.split(r"^\[(S\d+)\] ", body["messages"][-1]["content"], flags=re.M)
        source = next(sources[i] for i in range(1, len(sources), 2) if quote in sources[i + 1])
        return json.dumps({"sentences": [{"text": text, "citations": [{"source": source, "quote": quote}]}]})

    return respond


def test_engine_answers_in_llm_mode_and_falls_back_to_extractive(
    settings: Settings, runtime: Runtime, server: FakeOpenAI
) -> None:
    settings.llm_model = "openai:test-model"
    settings.llm_base_url = server.base_url
    settings.llm_api_key = SecretStr(SECRET)
    runtime.ingest([str(SAMPLE_DIR)])
    server.script(
        Reply(content=cite_where_found("Italy approved a EUR 140 million package for Ukraine.", PLEDGE)),
        reply(("Italy pledged EUR 9 billion.", [("S1", "Italy pledged nine billion euros")])),
    )

    answer = runtime.engine.answer("What did Italy pledge?")

    assert answer.mode == "llm" and not answer.declined
    assert answer.text == "Italy approved a EUR 140 million package for Ukraine. [1]"
    (citation,) = answer.citations
    assert citation.article_id == ITALY_ARTICLE and citation.quote == PLEDGE
    assert runtime.store.article_text(ITALY_ARTICLE)[citation.start : citation.end] == PLEDGE

    fallback = runtime.engine.answer("What did Italy pledge?")  # the model fabricates: extractive answer

    assert fallback.mode == "extractive" and "140 million" in fallback.text
    assert "9 billion" not in fallback.text
    assert len(server.requests) == 2

    assert runtime.engine.answer("What did Portugal pledge?").declined  # declines never reach the model
    assert len(server.requests) == 2
