"""In groups the bot answers only when addressed: mentioned, replied to, or asked with /ask."""

from __future__ import annotations

from botapi_emulator import BOT_USERNAME, EmulatorClient

ITALY = "What did Italy pledge?"


async def test_group_chatter_is_ignored_and_addressed_questions_are_answered_in_reply(
    tg: EmulatorClient,
) -> None:
    ann = tg.user(701, "Ann", chat_id=-100701, chat_type="group")
    bob = tg.user(702, "Bob", chat_id=-100701, chat_type="group")

    await ann.say(ITALY)  # not addressed to the bot
    await ann.sticker()
    await ann.no_reply(1.0)

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
    await di.no_reply(0.5)
