"""Which sentences make the extractive answer: the evidence's consensus, a place for a where-question, a
full restatement of the question beside the lead, of two near-duplicates the one that holds the answer, and a
new name weighing less than the question's own words."""

from __future__ import annotations

from pathlib import Path

from store_checks import assert_grounded, write_jsonl

from bot.answer.extractive import select
from bot.answer.models import Evidence, ScoredSentence
from bot.answer.question import analyse
from bot.answer.ranker import candidate_sentences
from bot.runtime import Runtime
from vectorstore.analysis import terms
from vectorstore.models import Chunk, Passage

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "sample"

# The first article restates the question best and never names the platform; each of the others names it
# and uses fewer of the question's words. The sample coverage is the background that makes words rare or common.
STORY = [
    {
        "id": "king",
        "title": "Author threatens to quit over a fee",
        "date": "2024-11-02",
        "text": "Author Stephen King said Monday he would leave the social media platform if it began charging "
        "for verified accounts. Reports said the company was considering a monthly fee for verified accounts "
        "on its site. The author has seven million followers.",
    },
    {
        "id": "fee",
        "title": "A fee for the blue check",
        "date": "2024-11-01",
        "text": "Twitter is considering charging users for verification, the company told employees. Twitter "
        "wants the paid check marks in place by November.",
    },
    {
        "id": "ads",
        "title": "Advertisers wary",
        "date": "2024-11-01",
        "text": "Twitter could lose advertisers over the paid verification plan, analysts said. Twitter needs "
        "the revenue.",
    },
    {
        "id": "bots",
        "title": "Paying against bots",
        "date": "2024-11-01",
        "text": "Twitter says a fee for verified accounts will keep bots off the platform.",
    },
]
QUESTION = "Which social media platform is considering charging for verified accounts on its site?"


def test_the_answer_holds_what_the_evidence_agrees_on(runtime: Runtime, tmp_path: Path) -> None:
    assert runtime.ingest([str(SAMPLE_DIR), str(write_jsonl(tmp_path / "story.jsonl", STORY))]).ok
    answer = runtime.engine.answer(QUESTION)
    assert_grounded(runtime, answer)
    assert "Twitter" in answer.text, answer.text
    assert len(answer.sentences) <= runtime.settings.max_answer_sentences


# The first article names the glacier and its nickname; only the second says where it is. When any new name
# counted as a place ("Thwaites", "Icefin"), the first article's sentences led the answer.
GLACIER = [
    {
        "id": "thwaites",
        "title": "A glacier erodes from below",
        "date": "2024-11-03",
        "text": "The Thwaites Glacier, nicknamed the doomsday glacier, is eroding along its underwater base as the "
        "planet warms. Researchers sent a robot named Icefin under the ice shelf.",
    },
    {
        "id": "shelf",
        "title": "An ice shelf near its end",
        "date": "2024-11-02",
        "text": "The glacier is located in West Antarctica, far from any research station. Its floating ice shelf "
        "could shatter within five years, researchers said.",
    },
]
WHERE = "Where is the doomsday glacier located?"


def test_a_where_question_is_answered_by_a_place(runtime: Runtime, tmp_path: Path) -> None:
    assert runtime.ingest([str(SAMPLE_DIR), str(write_jsonl(tmp_path / "glacier.jsonl", GLACIER))]).ok
    answer = runtime.engine.answer(WHERE)
    assert_grounded(runtime, answer)
    assert "Antarctica" in answer.sentences[0].text, answer.text


def _scored(
    article_id: str, text: str, score: float, coverage: float, names_subject: bool, typed: bool = False
) -> ScoredSentence:
    evidence = Evidence(article_id=article_id, text=text, start=0, end=len(text), score=score)
    return ScoredSentence(evidence, 0, coverage, score, frozenset(terms(text)), names_subject, typed=typed)


def test_a_sentence_restating_the_question_fully_joins_the_answer_without_naming_its_subject() -> None:
    # "A British-Belgian teenager became the youngest person to fly around the world solo. How old is he?"
    lead = _scored("a", "The British-Belgian pilot landed in Sofia on Wednesday.", 1.5, 0.5, True)
    restates = _scored("b", "A 17-year-old became the youngest person to fly around the world solo.", 1.4, 0.7, False)
    aside = _scored("c", "Small aircraft need fuel stops every few hours over the ocean.", 1.4, 0.3, False)
    chosen = [s.evidence.article_id for s in select([lead, restates, aside], max_sentences=3)]
    assert chosen == ["a", "b"]


def test_of_two_near_duplicates_the_answer_keeps_the_one_holding_what_was_asked() -> None:
    # "How old is he?": both say he is the youngest to fly around the world solo; only one says 17.
    lead = _scored("a", "The British-Belgian pilot landed in Sofia on Wednesday.", 1.5, 0.5, True)
    vague = _scored(
        "b",
        "That is the age of the youngest person to fly around the world solo in a small aircraft.",
        1.45,
        0.7,
        False,
    )
    exact = _scored(
        "c",
        "A 17-year-old is the youngest person to fly around the world solo in a small aircraft.",
        1.4,
        0.7,
        False,
        typed=True,
    )
    chosen = [s.evidence.article_id for s in select([lead, vague, exact], max_sentences=3)]
    assert chosen == ["a", "c"]
    # The other way round, the later twin adds nothing and stays out.
    chosen = [s.evidence.article_id for s in select([lead, exact, vague], max_sentences=3)]
    assert chosen == ["a", "c"]


def test_a_fuller_restatement_outranks_a_sentence_that_only_names_someone_new() -> None:
    # Nearly every sentence names someone, so for "who" a new name weighs less than the question's own words.
    text = "Its oldest medical school admitted students from Paris. The oldest medical school was founded by monks."
    chunk = Chunk("uni", "v1", 0, 0, len(text), text, "A university")
    question = analyse("Who founded the oldest medical school?")
    weights = {"found": 0.8}  # "founded" matters a little less than the rest: the sentences differ by it alone
    alike = lambda texts: [0.3] * len(texts)  # noqa: E731 - the embedder's similarity, the same for both
    scored = candidate_sentences(question, [Passage(chunk, 1.0)], lambda term: weights.get(term, 1.0), alike)
    assert scored[0].evidence.text.startswith("The oldest medical school was founded"), [s.score for s in scored]
