"""The Bot API emulator as the tests and the benchmarks use it: the node process, and users acting through it.

    emulator = Emulator.start()                       # node tests/telegram/emulator.js on a free port
    async with EmulatorClient(emulator.url, TOKEN) as client:
        ann = client.user(501, first_name="Ann")
        await ann.command("/start")
        reply = await ann.reply()                       # every reply is checked as Telegram would check it
        await ann.tap(reply, reply.buttons[0][0].data)
    emulator.stop()

Users' messages are built the way Telegram builds them (commands carry a bot_command entity, mentions a
mention entity), so the bot under test sees realistic updates. tests/README.md lists the emulator's gaps
and how emulator.js bridges them. It lives in the package, not in tests/, so that the tests and bench/ import
one harness; it needs a source checkout (the emulator itself is tests/emulator, installed by
`scripts/bootstrap.sh --dev`) and raises EmulatorUnavailable otherwise.
"""

from bot.telegram.emulator.client import BOT_USERNAME, EmulatorClient, User
from bot.telegram.emulator.process import Emulator, EmulatorUnavailable
from bot.telegram.emulator.replies import Reply

__all__ = ["BOT_USERNAME", "Emulator", "EmulatorClient", "EmulatorUnavailable", "Reply", "User"]
