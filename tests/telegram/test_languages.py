"""The bot speaks the user's language: Ukrainian and Italian users (by their app's `language_code`) get every
text in their language, others English, and /language overrides it, through the emulator over the sample
coverage. The catalogs themselves are checked in tests/test_i18n.py."""

from __future__ import annotations

from bot_harness import RunningBot
from botapi_emulator import EmulatorClient, Reply
from telegram_html import problems

from bot.answer.models import Answer, AnswerSentence, Citation
from bot.telegram.i18n import texts
from bot.telegram.render import render_answer

ITALY = "What did Italy pledge?"
OUT_OF_COVERAGE = "What is the capital of Australia?"


def button_texts(reply: Reply) -> list[str]:
    return [b.text for row in reply.buttons for b in row]


async def test_a_ukrainian_app_gets_ukrainian_texts_and_menu(tg: EmulatorClient, bot: RunningBot) -> None:
    olena = tg.user(1601, "Olena", language_code="uk")
    await olena.command("/start")
    welcome = await olena.reply()
    articles = len(bot.runtime.store.catalog())
    assert welcome.text.startswith("👋 Привіт, Olena! Я відповідаю на запитання про новини")
    assert f"<b>{texts('uk').ngettext('%(n)d article', '%(n)d articles', articles)}</b>" in welcome.text
    assert "статт" in welcome.text and "articles" not in welcome.text
    example = next(b.data for row in welcome.buttons for b in row if b.data and b.data.startswith("ex:"))
    await olena.tap(welcome, example or "")
    asked = await olena.reply()  # asked in English, the coverage's language; shown in hers
    assert asked.text.startswith("❓ <i>Розкажіть про: ") and "<b>Джерела</b>\n[1] " in asked.text
    await olena.command("/help")
    assert (await olena.reply()).text.startswith("<b>Як мною користуватися</b>")
    await olena.command("/nonsense")
    assert (await olena.reply()).text == "Я не знаю такої команди. /help — перелік того, що я вмію."
    await olena.sticker()
    assert (await olena.reply()).text.startswith("Я читаю лише текст.")

    registered = [c["params"] for c in await tg.calls() if c["method"] == "setMyCommands"]
    menus = {p.get("language_code"): {c["command"]: c["description"] for c in p["commands"]}
             for p in registered if "scope" not in p}  # fmt: skip
    assert menus["uk"]["language"] == "Мова, якою я з вами розмовляю"
    assert menus["it"]["help"] == "Come usare il bot"
    assert menus[None]["help"] == "How to use the bot"


async def test_an_italian_app_gets_italian_answers_declines_buttons_and_toasts(tg: EmulatorClient) -> None:
    giulia = tg.user(1602, "Giulia", language_code="it-IT")
    await giulia.say(OUT_OF_COVERAGE)
    decline = await giulia.reply()
    assert decline.text.startswith("🤷 Gli articoli che ho non rispondono a questa domanda.")
    assert any(b.data and b.data.startswith("ex:") for row in decline.buttons for b in row)

    await giulia.say(ITALY)
    answer = await giulia.reply()
    assert "€140 million" in answer.text  # the quotes stay verbatim
    assert "\n\n<b>Fonti</b>\n[1] " in answer.text and "Sources" not in answer.text
    assert "🔔 Segui questa storia" in button_texts(answer)
    (rate,) = [b.data for row in answer.buttons for b in row if b.data and b.data.endswith(":1") and b.text == "👍"]
    since = len(await tg.calls())
    toast = await tg.callback_answer(await giulia.tap(answer, rate or ""), since)
    assert toast.get("text") == "Grazie! Sono contento che sia stato utile."

    await giulia.command("/follow")
    assert (await giulia.reply()).text.startswith("Uso: /follow <i>argomento</i>")
    await giulia.command("/following")
    assert (await giulia.reply()).text.startswith("Non segui ancora nessuna storia.")


async def test_a_language_the_bot_does_not_speak_gets_english(tg: EmulatorClient) -> None:
    hans = tg.user(1603, "Hans", language_code="de")
    await hans.command("/start")
    assert (await hans.reply()).text.startswith("👋 Hi Hans! I answer questions")
    await hans.say(OUT_OF_COVERAGE)
    assert "doesn't answer that" in (await hans.reply()).text


async def test_language_command_and_keyboard_override_the_app_language(tg: EmulatorClient) -> None:
    taras = tg.user(1604, "Taras", language_code="uk")
    await taras.command("/language")
    shown = await taras.reply()
    assert shown.text.startswith("🌐 Я розмовляю з вами мовою вашого застосунку Telegram: <b>Українська</b>.")
    assert button_texts(shown) == ["English", "Українська", "Italiano", "🔄 Як у моєму застосунку Telegram"]

    await taras.command("/language it")
    assert (await taras.reply()).text == "🌐 D'ora in poi ti parlo in <b>Italiano</b>. /language la cambia."
    await taras.command("/help")
    assert (await taras.reply()).text.startswith("<b>Come usarmi</b>")
    await taras.command("/language")
    assert (await taras.reply()).text.startswith("🌐 Ti parlo in <b>Italiano</b>, come hai scelto.")

    await taras.tap(shown, "lg:en")
    assert (await taras.reply()).text == "🌐 From now on I speak to you in <b>English</b>. /language changes it."
    await taras.say(OUT_OF_COVERAGE)
    assert "doesn't answer that" in (await taras.reply()).text

    await taras.tap(shown, "lg:auto")
    assert (await taras.reply()).text.startswith("🌐 Відтепер я розмовляю з вами мовою вашого застосунку")
    await taras.command("/language klingon")
    assert (await taras.reply()).text.startswith("Використання: /language або /language <i>en|uk|it|auto</i>")
    await taras.nothing_more()


def test_the_quotes_note_and_dates_are_in_the_users_language() -> None:
    citation = Citation(1, "a", "Italy pledges aid", "https://news.example/a", "2024-03-05", "Kyiv Post", 0, 5, "x")
    answer = Answer(
        question="Що пообіцяла Італія?",
        sentences=(AnswerSentence("Italy approved a €140 million package.", (1,)),),
        citations=(citation,),
        quotes_language="en",
        as_of="2024-03-05",
    )
    (uk,) = render_answer(answer, texts("uk"))
    assert uk.startswith("<i>Станом на 5 бер. 2024:</i> Italy approved a €140 million package. [1]")
    assert "<i>Цитати подано мовою статей (англійська).</i>" in uk
    assert "<b>Джерела</b>\n[1] " in uk and "Kyiv Post, 5 бер. 2024" in uk
    (it,) = render_answer(answer, texts("it"))
    assert "<i>Le citazioni sono in inglese, la lingua degli articoli.</i>" in it and "5 mar 2024" in it
    assert not problems(uk) and not problems(it)
