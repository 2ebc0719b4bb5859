"""Subscribers end to end: users talk to the real bot through the Bot API emulator, over the sample coverage.

Each test uses its own user ids, so the session's one bot keeps them apart (memory and rate limits are per
chat and per user). The `tg` fixture checks every message the bot sent as Telegram would.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot_harness import ADMIN_ID, LogSpy, RunningBot
from botapi_emulator import EmulatorClient, Reply
from telegram_html import visible_text

from bot.telegram.failures import APOLOGY
from bot.telegram.feedback import FeedbackStore

ITALY = "What did Italy pledge?"
ITALY_TITLE = re.compile(r"Five Italian companies join Ukraine(?:'|’|&#x27;)s Defense Industries Alliance")


async def eventually(check: Callable[[], bool | Awaitable[bool]], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def body_and_sources(reply: Reply) -> tuple[str, str]:
    body, _, sources = reply.text.partition("\n\n<b>Sources</b>\n")
    return body, sources


def answer_id(reply: Reply) -> int:
    (data,) = [d for d in reply.callback_data if d.endswith(":1") and d.startswith("fb:")]
    return int(data.split(":")[1])


async def test_start_welcomes_and_offers_example_questions_that_ask_themselves(
    tg: EmulatorClient, bot: RunningBot
) -> None:
    ann = tg.user(501, "Ann")
    await ann.command("/start")
    welcome = await ann.reply()
    catalog = bot.runtime.store.catalog()
    assert welcome.text.startswith("👋 Hi Ann!")
    assert f"<b>{len(catalog)} articles</b>" in welcome.text
    examples = [b for row in welcome.buttons for b in row]
    assert len(examples) == min(3, len(catalog))
    assert all(b.data and b.data.startswith("ex:") for b in examples)

    await ann.tap(welcome, examples[0].data or "")
    asked = await ann.reply()
    assert asked.text.startswith("❓ <i>Tell me about: ")
    assert "[1]" in asked.text and "<b>Sources</b>" in asked.text
    assert [b.text for b in asked.buttons[-1]] == ["👍", "👎"]


async def test_commands_are_registered_for_everyone_and_admins_get_theirs(tg: EmulatorClient) -> None:
    registered = [c["params"] for c in await tg.calls() if c["method"] == "setMyCommands"]
    public = next(p for p in registered if "scope" not in p and "language_code" not in p)
    assert [c["command"] for c in public["commands"]] == [
        "start", "ask", "sources", "latest", "following", "language", "help",
    ]  # fmt: skip
    admin = next(p for p in registered if p.get("scope", {}).get("chat_id") == ADMIN_ID)
    assert {"ingest", "reindex", "remove", "stats"} <= {c["command"] for c in admin["commands"]}


async def test_help_and_sources(tg: EmulatorClient, bot: RunningBot) -> None:
    ann = tg.user(511, "Ann")
    await ann.command("/help")
    help_text = (await ann.reply()).text
    assert "/ask" in help_text and "/ingest" not in help_text  # admin commands only for admins
    await ann.command("/sources")
    sources = (await ann.reply()).text
    assert f"<b>{len(bot.runtime.store.catalog())} articles</b>" in sources
    assert ITALY_TITLE.search(sources)


async def test_question_is_answered_in_html_with_inline_markers_and_linked_sources(
    tg: EmulatorClient,
) -> None:
    ben = tg.user(502, "Ben")
    since = len(await tg.calls())
    await ben.say(ITALY)
    reply = await ben.reply()
    body, sources = body_and_sources(reply)
    assert reply.parse_mode == "HTML"
    assert "€140 million" in body
    assert re.search(r"infrastructure\. \[1\]", body)
    assert sources.startswith("[1] ") and ITALY_TITLE.match(sources, 4)
    assert [b.text for b in reply.buttons[-1]] == ["👍", "👎"]
    actions = [c for c in await tg.calls(since) if c["method"] == "sendChatAction"]
    assert actions and actions[0]["params"] == {"chat_id": "502", "action": "typing"}


async def test_out_of_coverage_question_gets_a_friendly_decline_with_suggestions(tg: EmulatorClient) -> None:
    cat = tg.user(503, "Cat")
    await cat.say("What is the capital of Australia?")
    reply = await cat.reply()
    assert "doesn't answer that" in reply.text
    assert "<b>Sources</b>" not in reply.text and "[1]" not in reply.text
    suggestions = [b for row in reply.buttons for b in row if b.data and b.data.startswith("ex:")]
    assert suggestions, "a decline suggests questions the bot can answer"
    assert [b.text for b in reply.buttons[-1]] == ["👍", "👎"]


async def test_follow_up_question_is_understood_in_the_context_of_the_chat(
    tg: EmulatorClient, bot: RunningBot
) -> None:
    dan = tg.user(504, "Dan")
    await dan.say(ITALY)
    await dan.reply()
    await dan.say("And what did Canada do?")
    follow_up = await dan.reply()
    body, _ = body_and_sources(follow_up)
    assert "Canada have already joined" in body
    assert bot.services.memory.history(504) == [ITALY, "And what did Canada do?"]
    assert bot.services.memory.history(514) == []  # memory is per chat


async def test_feedback_buttons_store_the_rating_with_question_and_answer(
    tg: EmulatorClient, bot: RunningBot
) -> None:
    eve = tg.user(505, "Eve")
    await eve.say(ITALY)
    reply = await eve.reply()
    rated = answer_id(reply)
    feedback = bot.services.feedback

    await eve.tap(reply, reply.button("👍").data or "")
    await eventually(lambda: feedback.rating(rated, 505) == 1)

    async def choice_shown() -> bool:
        now = await eve.state(reply.message_id)  # the emulator keeps the bot's edits
        return [b.text for b in now.buttons[-1]] == ["👍 ✓", "👎"]

    await eventually(choice_shown)

    await eve.tap(reply, reply.button("👎").data or "")  # changing one's mind
    await eventually(lambda: feedback.rating(rated, 505) == -1)
    with sqlite3.connect(bot.settings.feedback_db) as db:
        question, answer, rating = db.execute(
            "SELECT a.question, a.answer, f.rating FROM feedback f JOIN answers a ON a.id = f.answer_id"
            " WHERE f.answer_id = ? AND f.user_id = ?",
            (rated, 505),
        ).fetchone()
    assert (question, rating) == (ITALY, -1)
    assert "140 million" in answer and "[1]" in answer
    toasts = [c["params"].get("text") for c in await tg.calls() if c["method"] == "answerCallbackQuery"]
    assert "Thanks! Glad it helped." in toasts


async def test_rate_limit_refuses_politely_and_only_once(tg: EmulatorClient, bot: RunningBot) -> None:
    fay = tg.user(506, "Fay")
    limit = bot.settings.rate_limit_per_minute
    for _ in range(limit + 3):
        await fay.say(ITALY)
    replies = await fay.replies(limit + 1, timeout_s=90)
    polite = [r for r in replies if "faster than I can keep up" in r.text]
    assert len(polite) == 1, [r.text[:40] for r in replies]
    assert f"I take {limit} questions a minute" in polite[0].text
    assert sum("140 million" in r.text for r in replies) == limit
    await fay.nothing_more()  # the extra questions got no second warning
    other = tg.user(516, "Gus")  # other users are unaffected
    await other.say(ITALY)
    assert "140 million" in (await other.reply()).text


async def test_stickers_photos_and_voice_get_a_hint_instead_of_an_error(tg: EmulatorClient) -> None:
    gil = tg.user(507, "Gil")
    await gil.sticker()
    assert "I can only read text" in (await gil.reply()).text
    await gil.photo(caption="what does this show?")
    assert "I can only read text" in (await gil.reply()).text
    await gil.send(voice={"file_id": "AwACAgIAAxkBAAED", "file_unique_id": "AgADvoice", "duration": 3})
    assert "I can only read text" in (await gil.reply()).text


async def test_unknown_commands_and_empty_questions_get_guidance(tg: EmulatorClient) -> None:
    hal = tg.user(508, "Hal")
    await hal.command("/frobnicate")
    assert "/help" in (await hal.reply()).text
    await hal.command("/ask")
    assert "Ask me a question" in (await hal.reply()).text


async def test_a_failing_typing_indicator_never_blocks_the_answer(tg: EmulatorClient) -> None:
    """The bare emulator answers sendChatAction with HTTP 500; the answer must still arrive."""
    ivy = tg.user(509, "Ivy")
    await tg.fail_chat_action(True)
    try:
        since = len(await tg.calls())
        await ivy.say(ITALY)
        assert "140 million" in (await ivy.reply()).text
        assert any(c["method"] == "sendChatAction" for c in await tg.calls(since))
    finally:
        await tg.fail_chat_action(False)


# Twenty questions over the sample coverage, each with a sentence of its own that leads its answer.
OWN_ANSWERS = {
    ITALY: "€140 million",
    "Which air defense system might Italy send?": "SAMP/T",
    "How many Italian companies joined the Defense Industries Alliance?": "I am very pleased that five Italian",
    "How many companies had joined the alliance as of 2023?": "59 companies from 23 countries",
    "Who announced that Italian companies joined the alliance?": "Olena Kondratiuk, as per UkrInform",
    "What is the goal of the Zbroiari campaign?": "fundraising campaign",
    "Which countries have already joined the Zbroiari initiative?": "The Netherlands, Denmark, and Canada",
    "Where was the Security Culture conference held?": "conference in Rome",
    "What did Zelensky and Meloni discuss?": "have discussed further steps in defense cooperation",
    "Where will the Peace Formula advisors' meeting be held?": "held in Davos",
    "What presidency did Italy take over?": "presidency of the Group of Seven",
    "What did Zelensky brief Meloni on?": "massive Russian strikes",
    "What did Zelensky thank Italy for?": "thankful to Italy and personally to Giorgia",
    "What did Zelensky say about EU membership?": "full-fledged EU membership",
    "What did the two agree to continue?": "full implementation of the G7 decisions",
    "What did the teams intensify?": "intensify bilateral work on security guarantees",
    "What could Ukraine and Italy strengthen together?": "Ukraine and Italy can strengthen the defense",
    "How much does the project aim to raise?": "raise $10 billion",
    "What was the conference's main topic?": "main topic was consolidating efforts",
    # (Not "What did Zelensky highlight about the Group of Seven?": the learned ranker leads that one with the
    # sentence of Zelensky and Meloni's discussion, another question's here; tests/test_answers.py pins it.)
    "What support did Zelensky highlight at the level of the Group of Seven?": (
        "support for Ukraine at the level of the Group of Seven"
    ),
}


async def test_twenty_users_asking_at_once_each_get_the_answer_to_their_own_question(
    tg: EmulatorClient, bot: RunningBot, log_spy: LogSpy
) -> None:
    questions = list(OWN_ANSWERS)
    users = [tg.user(600 + i, f"User{i}") for i in range(20)]
    logs_before = len(log_spy.lines)
    started = time.monotonic()
    await asyncio.gather(*(u.say(q) for u, q in zip(users, questions, strict=True)))
    replies = await asyncio.gather(*(u.reply(timeout_s=120) for u in users))
    elapsed = time.monotonic() - started
    for user, question, reply in zip(users, questions, replies, strict=True):
        assert reply.chat_id == user.chat_id
        lead = visible_text(reply.text).split(" [", 1)[0]  # the answer's first sentence
        assert OWN_ANSWERS[question] in lead, (question, lead)
        others = [key for q, key in OWN_ANSWERS.items() if q != question and key in lead]
        assert not others, (question, others)  # not someone else's answer
        assert [b.text for b in reply.buttons[-1]] == ["👍", "👎"]  # the whole answer: the keyboard ends it
    for user in users:
        await user.nothing_more()  # exactly one answer each
    # The answer pool worked on several questions at once: each answer's log line says how many were being
    # computed as it started.
    concurrent = [
        int(m.group(2))
        for line in log_spy.lines[logs_before:]
        if (m := re.search(r"answered answer=\d+ chat=(6[01]\d) .* concurrent=(\d+)", line))
    ]
    assert len(concurrent) == 20 and max(concurrent) >= 2, concurrent
    assert max(concurrent) <= bot.settings.answer_workers
    print(f"20 concurrent questions answered in {elapsed:.1f} s, up to {max(concurrent)} at once")


async def test_an_unexpected_error_gets_a_fixed_apology_and_the_bot_keeps_running(
    tg: EmulatorClient, bot: RunningBot, log_spy: LogSpy
) -> None:
    kim = tg.user(510, "Kim")
    services = bot.services
    services.feedback.close()  # a real failure: the answer log can't be written
    try:
        await kim.say(ITALY)
        apology = await kim.reply()
    finally:
        services.feedback = FeedbackStore(bot.settings.feedback_db)
    assert apology.text == APOLOGY  # fixed text, never the exception's
    assert any(
        line.startswith("bot.telegram.failures ERROR unhandled error in update=") for line in log_spy.lines
    )
    assert any("Traceback" in line and "closed database" in line for line in log_spy.lines)
    await kim.say(ITALY)
    assert "140 million" in (await kim.reply()).text


async def test_flood_control_and_network_errors_are_retried(tg: EmulatorClient) -> None:
    lee = tg.user(511, "Lee")

    def attempts(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [c for c in calls if c["method"] == "sendMessage" and c["params"]["chat_id"] == "511"]

    since = len(await tg.calls())
    await tg.flood_next(1)  # Telegram says: too many requests, retry after 1 s
    await lee.say(ITALY)
    assert "140 million" in (await lee.reply(timeout_s=15)).text
    first, second = attempts(await tg.calls(since))
    assert second["at"] - first["at"] >= 1000  # waited as told

    since = len(await tg.calls())
    await tg.drop_next(1)  # the connection dies before an answer
    await lee.say(ITALY)
    assert "140 million" in (await lee.reply(timeout_s=15)).text
    assert len(attempts(await tg.calls(since))) == 2



async def test_only_the_asker_can_rate_an_answer_and_a_forged_rating_is_refused(
    tg: EmulatorClient, bot: RunningBot
) -> None:
    asker, other = tg.user(520, "Asker"), tg.user(521, "Other")
    await asker.say(ITALY)
    answer = await asker.reply()
    rated = answer_id(answer)
    await other.say(ITALY)
    own = await other.reply()  # a bot message in the other user's chat, to hang the forged callback on

    since = len(await tg.calls())
    forged = await other.tap(own, f"fb:{rated}:-1")  # someone else's answer id, as a forged callback
    toast = await tg.callback_answer(forged, since)
    assert toast.get("text") == "Only the person who asked can rate this answer."
    with sqlite3.connect(bot.settings.feedback_db) as db:
        assert db.execute("SELECT COUNT(*) FROM feedback WHERE answer_id = ?", (rated,)).fetchone() == (0,)

    toast = await tg.callback_answer(await asker.tap(answer, f"fb:{rated}:1"), since)
    assert toast.get("text") == "Thanks! Glad it helped."
    assert bot.services.feedback.rating(rated, 520) == 1
    assert bot.services.feedback.rating(rated, 521) is None


async def test_a_message_telegram_refuses_is_sent_again_as_plain_text_not_an_apology(tg: EmulatorClient) -> None:
    mia = tg.user(522, "Mia")
    await tg.reject_html_next(1)  # Telegram: 400 Bad Request, can't parse entities
    try:
        await mia.say(ITALY)
        reply = await mia.reply()
    finally:
        await tg.reject_html_next(0)
    assert reply.parse_mode is None and reply.text != APOLOGY
    assert "140 million" in reply.text and "Sources\n[1] Five Italian companies" in reply.text
    assert "<b>" not in reply.text and "&#x27;" not in reply.text  # the text as shown, not the markup
    assert [b.text for b in reply.buttons[-1]] == ["👍", "👎"]  # still rateable
    await mia.command("/sources")  # and the next message is HTML again
    assert (await mia.reply()).parse_mode == "HTML"


async def test_stale_and_unknown_buttons_and_over_long_questions_get_clear_answers(
    tg: EmulatorClient, bot: RunningBot
) -> None:
    from bot.answer.engine import MAX_QUESTION_CHARS
    from bot.telegram.buttons import EXAMPLE_GONE, RATED_UNKNOWN

    ned = tg.user(523, "Ned")
    await ned.command("/start")
    welcome = await ned.reply()
    since = len(await tg.calls())

    # A rating for an answer that does not exist (a stale button of a wiped database, or forged data).
    toast = await tg.callback_answer(await ned.tap(welcome, "fb:987654321:1"), since)
    assert toast.get("text") == RATED_UNKNOWN
    assert bot.services.feedback.rating(987654321, 523) is None

    # An example whose question is no longer offered (its article was removed, or the examples changed).
    toast = await tg.callback_answer(await ned.tap(welcome, "ex:000000000000"), since)
    assert not toast.get("text")  # the button's spinner stops; the explanation follows as a message
    assert (await ned.reply()).text == EXAMPLE_GONE

    # Callback data the bot never makes, and malformed ratings: the spinner stops, nothing else happens.
    for data in ("zz:whatever", "fb:notanumber:1", "fb:1:5", "fb:1"):
        toast = await tg.callback_answer(await ned.tap(welcome, data), since)
        assert not toast.get("text"), data
    await ned.nothing_more()

    # A question over the limit is refused with the limit named, and not answered.
    await ned.say("What did Italy pledge? " + "x" * MAX_QUESTION_CHARS)
    refusal = await ned.reply()
    assert refusal.text == f"That's a long one! Please keep questions under {MAX_QUESTION_CHARS} characters."
    await ned.say(" x" * (MAX_QUESTION_CHARS // 2) + "  ")  # 999 characters once whitespace is normalised: asked
    assert (await ned.reply()).text != refusal.text
    await ned.nothing_more()
