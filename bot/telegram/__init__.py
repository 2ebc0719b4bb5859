"""The Telegram front.

`app` builds and runs the python-telegram-bot Application, `handlers` answer and manage, `render` turns
answers into Telegram HTML, and `feedback`, `memory` and `ratelimit` keep the little state the bot needs.
"""
