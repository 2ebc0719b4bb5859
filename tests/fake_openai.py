"""An OpenAI-compatible chat completions server on 127.0.0.1, scripted per test.

The real `langchain-openai` client talks to it over HTTP, so the LLM mode is tested through the request and
response shapes of a real provider: plain completions, `response_format` (json_schema structured output, what
`with_structured_output` sends by default) and `tools` (function calling), and through the ways a provider
fails: an HTTP error, a hang until the client's timeout, a server that rejects `response_format`.

    with FakeOpenAI() as server:
        server.script(Reply(content='{"sentences": []}'))
        model = init_chat_model("openai:test-model", base_url=server.base_url, api_key="test")
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class Reply:
    """One scripted response.

    Attributes:
        content: the assistant's text (for a tools request: the function's JSON arguments), or a function of
            the request body that returns it, for replies that depend on the prompt.
        status: HTTP status; anything but 200 sends an OpenAI-shaped error body.
        delay_s: wait before answering (longer than the client's timeout = a hang).
        reject_response_format: answer 400, as servers without structured output do, to any request that
            carries `response_format`; the reply then stays queued for the next request.
    """

    content: str | Callable[[dict[str, Any]], str] | None = None
    status: int = 200
    delay_s: float = 0.0
    reject_response_format: bool = False


@dataclass(frozen=True)
class Request:
    """What the client sent, for assertions."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))


def _error(status: int, message: str) -> dict[str, Any]:
    kind = "invalid_request_error" if status < 500 else "server_error"
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def _completion(
    body: dict[str, Any], content: str | Callable[[dict[str, Any]], str] | None
) -> dict[str, Any]:
    """A chat.completion object; a tool call when the request forces a function, as OpenAI does."""
    if callable(content):
        content = content(body)
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    finish = "stop"
    tools = body.get("tools") or []
    if tools:
        choice = body.get("tool_choice")
        name = choice["function"]["name"] if isinstance(choice, dict) else tools[0]["function"]["name"]
        message["content"] = None
        message["tool_calls"] = [
            {"id": "call_1", "type": "function", "function": {"name": name, "arguments": content or "{}"}}
        ]
        finish = "tool_calls"
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        "system_fingerprint": None,
    }


class FakeOpenAI:
    """Serves POST /v1/chat/completions from a queue of `Reply`s; an empty queue answers HTTP 500."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        host, port = self._httpd.server_address[:2]
        self.base_url = f"http://{host!s}:{port}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True

    def script(self, *replies: Reply) -> None:
        """Queue the responses for the next requests, in order."""
        with self._lock:
            self._replies.extend(replies)

    def _next(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            if not self._replies:
                return Reply(status=500, content="nothing scripted")
            reply = self._replies[0]
            if reply.reject_response_format and "response_format" in body:
                return Reply(status=400, content="'response_format' is not supported by this server")
            return self._replies.popleft()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    self._send(400, _error(400, "body is not JSON"))
                    return
                server.requests.append(
                    Request(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(404, _error(404, f"no route {self.path}"))
                    return
                if body.get("stream"):
                    self._send(400, _error(400, "streaming is not scripted"))
                    return
                reply = server._next(body)
                if reply.delay_s and server._stop.wait(reply.delay_s):
                    return
                if reply.status != 200:
                    self._send(reply.status, _error(reply.status, str(reply.content or "error")))
                else:
                    self._send(200, _completion(body, reply.content))

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and left

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the stdlib's name)
                pass

        return Handler

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
