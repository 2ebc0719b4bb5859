"""The Telegram front.

`app` builds and runs the python-telegram-bot Application over the `Services` of `services`; `subscribers`,
`buttons`, `admin` and `sources` (followed sources) handle updates; `sending` delivers with retries, `keyboards`
builds the inline buttons, `failures` names what went wrong; `render` turns everything shown into Telegram HTML;
`feedback`, `memory` and `ratelimit` keep the little state the bot needs.
"""
