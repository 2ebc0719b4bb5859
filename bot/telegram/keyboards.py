"""Inline keyboards and their callback data: example questions (`ex:KEY`) and ratings (`fb:ANSWER:±1`).

The keyboard under an answer is built in one place, `answer_keyboard`; `buttons.py` reads the taps.
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.telegram.examples import Example
from bot.telegram.i18n import Texts
from bot.telegram.render.follow import follow_button

EXAMPLE = "ex"  # callback data `ex:KEY`: ask the example question KEY
FEEDBACK = "fb"  # callback data `fb:ANSWER_ID:RATING`: rate an answer +1 or -1


def examples_keyboard(items: Sequence[Example]) -> list[list[InlineKeyboardButton]]:
    return [[InlineKeyboardButton(e.label, callback_data=f"{EXAMPLE}:{e.key}")] for e in items]


def feedback_row(answer_id: int, chosen: int | None = None) -> list[InlineKeyboardButton]:
    up = "👍 ✓" if chosen == 1 else "👍"
    down = "👎 ✓" if chosen == -1 else "👎"
    return [
        InlineKeyboardButton(up, callback_data=f"{FEEDBACK}:{answer_id}:1"),
        InlineKeyboardButton(down, callback_data=f"{FEEDBACK}:{answer_id}:-1"),
    ]


def answer_keyboard(
    answer_id: int, t: Texts, suggestions: Sequence[Example] = (), followable: bool = False
) -> InlineKeyboardMarkup:
    """The buttons under an answer: example questions to try instead (after a decline), "🔔 Follow this story"
    (under an answer that answered), then 👍/👎."""
    follow = [follow_button(answer_id, t)] if followable else []
    return InlineKeyboardMarkup([*examples_keyboard(suggestions), *follow, feedback_row(answer_id)])


def rated_keyboard(keyboard: InlineKeyboardMarkup, answer_id: int, rating: int) -> InlineKeyboardMarkup:
    """`keyboard` with its rating row showing the choice; the other rows as they were."""
    rows = [
        feedback_row(answer_id, rating)
        if any(str(b.callback_data).startswith(f"{FEEDBACK}:") for b in row)
        else list(row)
        for row in keyboard.inline_keyboard
    ]
    return InlineKeyboardMarkup(rows)
