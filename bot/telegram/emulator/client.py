"""The emulator's client side: users who send messages, commands, mentions, stickers and button taps as Telegram
builds them, wait for the bot's replies (each checked as Telegram would check it), and inject failures."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from bot.telegram.emulator.replies import Reply
from bot.telegram.html_check import assert_valid

BOT_ID = 666  # what the emulator's getMe says
BOT_USERNAME = "TestNameBot"


class EmulatorClient:
    """The emulator's client side for one bot token, over one HTTP connection pool."""

    def __init__(self, url: str, token: str, timeout_s: float = 60.0) -> None:
        self.url = url
        self.token = token
        self.sent_texts: list[str] = []  # what users said, to check it never shows up in the bot's logs
        self._http = httpx.AsyncClient(
            base_url=url, timeout=timeout_s, limits=httpx.Limits(max_connections=200)
        )

    async def __aenter__(self) -> EmulatorClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def call(self, path: str, payload: dict[str, Any], timeout_s: float | None = None) -> Any:
        kwargs: dict[str, Any] = {}
        if timeout_s is not None:
            kwargs["timeout"] = timeout_s
        response = await self._http.post(path, json=payload, **kwargs)
        body = response.json()
        if response.status_code != 200 or not body.get("ok"):
            raise AssertionError(f"emulator {path} -> {response.status_code}: {body}")
        return body["result"]

    def user(
        self,
        user_id: int,
        first_name: str = "Ann",
        chat_id: int | None = None,
        chat_type: str = "private",
    ) -> User:
        return User(self, user_id, first_name, chat_id if chat_id is not None else user_id, chat_type)

    async def calls(self, since: int = 0) -> list[dict[str, Any]]:
        """Every Bot API call the bot made (but getUpdates), from sequence number `since` on."""
        result: list[dict[str, Any]] = await self.call("/client/log", {"since": since})
        return result

    async def callback_answer(self, callback_id: str, since: int = 0, timeout_s: float = 30.0) -> dict[str, Any]:
        """The bot's answerCallbackQuery for a tap (its parameters: `text` is the toast), once it has come;
        `since`: a call sequence number from before the tap, to search less of the log."""
        deadline = time.monotonic() + timeout_s
        while True:
            for call in await self.calls(since):
                params = call["params"]
                if call["method"] == "answerCallbackQuery" and str(params.get("callback_query_id")) == callback_id:
                    return dict(params)
            assert time.monotonic() < deadline, f"callback {callback_id} was never answered"
            await asyncio.sleep(0.05)

    async def fail_chat_action(self, fail: bool) -> None:
        """Let sendChatAction fail with HTTP 500, as the bare emulator does."""
        await self.call("/client/control", {"failChatAction": fail})

    async def flood_next(self, n: int) -> None:
        """Answer the bot's next `n` sendMessage calls with 429 Too Many Requests, retry after 1 s."""
        await self.call("/client/control", {"floodNext": n})

    async def reject_html_next(self, n: int) -> None:
        """Answer the bot's next `n` sendMessage calls in a parse mode with 400 Bad Request (can't parse entities)."""
        await self.call("/client/control", {"rejectHtmlNext": n})

    async def block_chats(self, chat_ids: list[int]) -> None:
        """Answer the bot's sendMessage calls to these chats with 403 Forbidden, as for a user who blocked it."""
        await self.call("/client/control", {"blockChats": chat_ids})

    async def drop_next(self, n: int) -> None:
        """Close the connection of the bot's next `n` sendMessage calls without an answer."""
        await self.call("/client/control", {"dropNext": n})


class User:
    """One Telegram user in one chat (a private chat has the user's id; a group a negative id)."""

    def __init__(self, client: EmulatorClient, user_id: int, first_name: str, chat_id: int, chat_type: str):
        self.client = client
        self.id = user_id
        self.first_name = first_name
        self.chat_id = chat_id
        self.chat_type = chat_type

    @property
    def sender(self) -> dict[str, Any]:
        return {"id": self.id, "is_bot": False, "first_name": self.first_name, "username": f"user{self.id}"}

    @property
    def chat(self) -> dict[str, Any]:
        if self.chat_type == "private":
            return {"id": self.chat_id, "type": "private", "first_name": self.first_name}
        return {"id": self.chat_id, "type": self.chat_type, "title": f"Group {self.chat_id}"}

    async def send(self, **message: Any) -> int:
        """Send any message (text, sticker, photo…); returns its message id."""
        payload = {"botToken": self.client.token, "from": self.sender, "chat": self.chat, **message}
        if "text" in message:
            self.client.sent_texts.append(message["text"])
        result = await self.client.call("/client/message", payload)
        return int(result["message_id"])

    async def say(
        self, text: str, entities: list[dict[str, Any]] | None = None, reply_to: Reply | None = None
    ) -> int:
        extra: dict[str, Any] = {}
        if entities:
            extra["entities"] = entities
        if reply_to is not None:
            extra["reply_to_message"] = {
                "message_id": reply_to.message_id,
                "date": int(time.time()),
                "chat": self.chat,
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Bot", "username": BOT_USERNAME},
                "text": reply_to.text,
            }
        return await self.send(text=text, **extra)

    async def command(self, text: str) -> int:
        """A command as Telegram sends it: text with a bot_command entity over the command word."""
        word = text.split(maxsplit=1)[0]
        return await self.say(text, entities=[{"type": "bot_command", "offset": 0, "length": len(word)}])

    async def mention(self, text: str) -> int:
        """`@TestNameBot text` with the mention entity Telegram adds."""
        full = f"@{BOT_USERNAME} {text}"
        return await self.say(
            full, entities=[{"type": "mention", "offset": 0, "length": len(BOT_USERNAME) + 1}]
        )

    async def sticker(self) -> int:
        return await self.send(
            sticker={
                "file_id": "CAACAgIAAxkBAAEB",
                "file_unique_id": "AgADAgADf3BGHA",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": "👍",
            }
        )

    async def photo(self, caption: str | None = None) -> int:
        sizes = [{"file_id": "AgACAgIAAxkBAAEC", "file_unique_id": "AQADAgATxyz", "width": 90, "height": 90}]
        extra = {"caption": caption} if caption else {}
        return await self.send(photo=sizes, **extra)

    async def tap(self, reply: Reply, data: str) -> str:
        """Tap an inline button of a bot message (or send any callback data for it); returns the callback id."""
        result = await self.client.call(
            "/client/callback",
            {
                "botToken": self.client.token,
                "from": self.sender,
                "chatId": self.chat_id,
                "messageId": reply.message_id,
                "data": data,
            },
        )
        return str(result["callback_id"])

    async def replies(self, n: int = 1, timeout_s: float = 30.0) -> list[Reply]:
        """Wait for the bot's next `n` messages to this chat; each is checked as Telegram would check it."""
        got: list[Reply] = []
        deadline = time.monotonic() + timeout_s
        while len(got) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"chat {self.chat_id}: {len(got)} of {n} replies within {timeout_s} s: {got}"
                )
            raw = await self.client.call(
                "/client/replies",
                {"botToken": self.client.token, "chatId": self.chat_id, "timeout": left},
                timeout_s=left + 10,
            )
            got.extend(Reply.of(r) for r in raw)
        for r in got:
            assert_valid(r.text, r.parse_mode, what=f"message {r.message_id} to chat {r.chat_id}")
        return got

    async def reply(self, timeout_s: float = 30.0) -> Reply:
        (only,) = await self.replies(1, timeout_s)
        return only

    async def nothing_more(self, timeout_s: float = 30.0) -> None:
        """Assert the bot has nothing more to say here: a /help probe is sent, and the next message to this chat
        must be the probe's answer. Unlike waiting a while for silence, it does not depend on the machine's speed:
        whatever the bot sends for earlier updates before it answers a later one is caught."""
        await self.command("/help")
        got = await self.replies(1, timeout_s)
        assert len(got) == 1 and got[0].text.startswith("<b>How to use me</b>"), [r.text[:80] for r in got]

    async def state(self, message_id: int) -> Reply:
        """A bot message as it is now, after any edits."""
        raw = await self.client.call(
            "/client/state", {"botToken": self.client.token, "chatId": self.chat_id, "messageId": message_id}
        )
        reply = Reply.of(raw)
        assert_valid(reply.text, reply.parse_mode, what=f"edited message {message_id}")
        return reply
