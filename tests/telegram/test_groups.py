"""In groups the bot answers only when addressed: mentioned, replied to, or asked with /ask."""

from __future__ import annotations

import sqlite3

from bot_harness import RunningBot
from botapi_emulator import BOT_USERNAME, EmulatorClient

ITALY = "What did Italy pledge?"


async def test_group_chatter_is_ignored_and_addressed_questions_are_answered_in_reply(
    tg: EmulatorClient,
) -> None:
    ann = tg.user(701, "Ann", chat_id=-100701, chat_type="group")
    bob = tg.user(702, "Bob", chat_id=-100701, chat_type="group")

    await ann.say(ITALY)  # not addressed to the bot
    await ann.sticker()
    await ann.nothing_more()

    asked = await ann.mention(ITALY)
    answer = await ann.reply()
    assert "140 million" in answer.text and "<b>Sources</b>" in answer.text
    assert answer.reply_to == asked  # in a group the answer quotes the question

    follow_up = await bob.say("And what did Canada do?", reply_to=answer)  # a reply to the bot is addressed
    second = await bob.reply()
    assert "Canada have already joined" in second.text
    assert second.reply_to == follow_up

    by_command = await bob.command(f"/ask@{BOT_USERNAME} {ITALY}")
    third = await bob.reply()
    assert "140 million" in third.text and third.reply_to == by_command

    await bob.command("/ask What did Italy pledge?")  # without the bot's name, as Telegram allows
    assert "140 million" in (await bob.reply()).text


async def test_a_mention_alone_gets_guidance(tg: EmulatorClient) -> None:
    cy = tg.user(703, "Cy", chat_id=-100703, chat_type="group")
    await cy.say(
        f"@{BOT_USERNAME}", entities=[{"type": "mention", "offset": 0, "length": len(BOT_USERNAME) + 1}]
    )
    assert "Ask me a question" in (await cy.reply()).text


async def test_start_and_sources_work_in_groups(tg: EmulatorClient) -> None:
    di = tg.user(704, "Di", chat_id=-100704, chat_type="group")
    await di.command(f"/start@{BOT_USERNAME}")
    assert (await di.reply()).text.startswith("👋 Hi Di!")
    await di.command(f"/sources@{BOT_USERNAME}")
    assert "articles</b>" in (await di.reply()).text
    await di.command("/start@SomeOtherBot")  # commands for other bots are not ours
    await di.nothing_more()


async def test_in_a_group_only_the_asker_can_rate_the_answer(tg: EmulatorClient, bot: RunningBot) -> None:
    ann = tg.user(705, "Ann", chat_id=-100705, chat_type="group")
    bob = tg.user(706, "Bob", chat_id=-100705, chat_type="group")
    await ann.command(f"/ask {ITALY}")
    answer = await ann.reply()
    up, down = answer.buttons[-1]
    assert (up.text, down.text) == ("👍", "👎") and down.data is not None
    rated = int(down.data.split(":")[1])

    since = len(await tg.calls())
    toast = await tg.callback_answer(await bob.tap(answer, down.data), since)  # Bob taps Ann's answer
    assert toast.get("text") == "Only the person who asked can rate this answer."
    assert bot.services.feedback.rating(rated, 706) is None

    toast = await tg.callback_answer(await ann.tap(answer, down.data), since)
    assert toast.get("text") == "Thanks, noted. The newsroom reviews these."
    assert bot.services.feedback.rating(rated, 705) == -1


async def test_ask_followed_by_a_newline_keeps_the_whole_question(tg: EmulatorClient, bot: RunningBot) -> None:
    """`/ask\\nWhat did Italy pledge?` once became "did Italy pledge?": the question is all after the command."""
    private = tg.user(707, "Pia")
    group = tg.user(708, "Gio", chat_id=-100708, chat_type="group")
    for user, command in ((private, "/ask"), (group, "/ask"), (group, f"/ask@{BOT_USERNAME}")):
        await user.command(f"{command}\n{ITALY}")
        reply = await user.reply()
        assert "140 million" in reply.text
        (data,) = [d for d in reply.callback_data if d.startswith("fb:") and d.endswith(":1")]
        with sqlite3.connect(bot.settings.feedback_db) as db:
            (asked,) = db.execute("SELECT question FROM answers WHERE id = ?", (int(data.split(":")[1]),)).fetchone()
        assert asked == ITALY
