"""A fake OpenAI-compatible chat-completions server on 127.0.0.1, for tests of LLM clients.

Any OpenAI-compatible client reaches it at ``llm.base_url`` (``http://127.0.0.1:<port>/v1``)
with the API key the fake was created with; any other ``Authorization: Bearer`` answers 401,
as OpenAI does. ``POST /v1/chat/completions`` answers with the next scripted :class:`Reply`,
or, when none is queued, with ``respond(body)`` when given, else 400 "nothing scripted".
Every request is recorded in ``requests`` (before its reply, so a hanging one is recorded too).

    async with FakeLlm() as llm:
        llm.script(Reply.error(500), Reply.json(sql_reply("SELECT 1; DROP TABLE videos")))
        ...  # point the client at llm.base_url with llm.api_key
        assert len(llm.requests) == 2

``plan_reply``, ``sql_reply`` and ``refusal_reply`` build the JSON object nl2sql asks models
for (``{"plan", "sql", "interpretation", "refuse"}``, exactly one of plan/sql/refuse set).
"""

import asyncio
import itertools
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from tally.cli.http import serve

DEFAULT_API_KEY = "sk-test-fake-llm-key-0123456789"
Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Reply:
    """One scripted answer: a chat completion whose message is ``content`` (status 200), an
    OpenAI-style error with ``status``, or, with ``hang``, no answer at all until the fake
    closes. ``prompt_tokens``/``completion_tokens`` fill the response's ``usage``;
    ``delay_s`` is how long the fake thinks before answering (a slow model, see :meth:`after`)."""

    content: str = ""
    status: int = 200
    hang: bool = False
    prompt_tokens: int = 120
    completion_tokens: int = 30
    delay_s: float = 0.0

    def after(self, delay_s: float) -> Self:
        """This reply, given ``delay_s`` seconds after the request arrives."""
        return replace(self, delay_s=delay_s)

    @classmethod
    def json(cls, payload: Json, *, prompt_tokens: int = 120, completion_tokens: int = 30) -> Self:
        """A completion whose message content is ``payload`` as JSON text."""
        return cls.text(json.dumps(payload), prompt_tokens, completion_tokens)

    @classmethod
    def text(cls, content: str, prompt_tokens: int = 120, completion_tokens: int = 30) -> Self:
        """A completion with this exact content (e.g. invalid JSON)."""
        return cls(
            content=content, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
        )

    @classmethod
    def error(cls, status: int = 500) -> Self:
        """An HTTP error with OpenAI's error body."""
        return cls(status=status)

    @classmethod
    def hanging(cls) -> Self:
        """A request that is never answered (the connection stays open until the fake closes)."""
        return cls(hang=True)


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the fake received: its ``Authorization`` header and decoded JSON body."""

    authorization: str
    body: Json

    @property
    def messages(self) -> list[Json]:
        return list(self.body.get("messages", []))


def plan_reply(plan: Json) -> Json:
    """The reply object for a query plan (``plan`` as the QueryPlan JSON)."""
    return {"plan": plan, "sql": None, "interpretation": "", "refuse": None}


def sql_reply(sql: str, interpretation: str = "") -> Json:
    """The reply object for SQL written for a question no plan can express."""
    return {"plan": None, "sql": sql, "interpretation": interpretation, "refuse": None}


def refusal_reply(reason: str) -> Json:
    """The reply object for a question the model declines (off-topic, writes, ...)."""
    return {"plan": None, "sql": None, "interpretation": "", "refuse": reason}


@dataclass
class _State:
    replies: deque[Reply] = field(default_factory=deque)
    requests: list[RecordedRequest] = field(default_factory=list)
    closing: asyncio.Event = field(default_factory=asyncio.Event)


class FakeLlm:
    """The fake server; an async context manager listening on a free local port."""

    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        *,
        respond: Callable[[Json], Reply] | None = None,
    ) -> None:
        self.api_key = api_key
        self.respond = respond
        self.base_url = ""
        self._state = _State()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None

    @property
    def requests(self) -> list[RecordedRequest]:
        return list(self._state.requests)

    def script(self, *replies: Reply) -> None:
        """Queue ``replies``, answered one per request in order."""
        self._state.replies.extend(replies)

    def reset(self) -> None:
        """Forget queued replies and recorded requests."""
        self._state.replies.clear()
        self._state.requests.clear()

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._complete)
        self._runner, port = await serve(app, shutdown_timeout=0.5)
        self.base_url = f"http://127.0.0.1:{port}/v1"
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._state.closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _complete(self, request: web.Request) -> web.Response:
        authorization = request.headers.get("Authorization", "")
        if authorization != f"Bearer {self.api_key}":
            return _error(401, "Incorrect API key provided", "invalid_api_key")
        body = await request.json()
        self._state.requests.append(RecordedRequest(authorization=authorization, body=body))
        reply = self._next(body)
        if reply is None:
            return _error(400, "fake LLM: nothing scripted for this request", "unscripted")
        if reply.hang:
            await self._state.closing.wait()
            return _error(503, "fake LLM closed", "closed")
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.status != 200:
            return _error(reply.status, f"fake LLM error {reply.status}", "scripted")
        return web.json_response(self._completion(body, reply))

    def _next(self, body: Json) -> Reply | None:
        if self._state.replies:
            return self._state.replies.popleft()
        return self.respond(body) if self.respond else None

    def _completion(self, body: Json, reply: Reply) -> Json:
        return {
            "id": f"chatcmpl-fake-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply.content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": reply.prompt_tokens,
                "completion_tokens": reply.completion_tokens,
                "total_tokens": reply.prompt_tokens + reply.completion_tokens,
            },
        }


def _error(status: int, message: str, code: str) -> web.Response:
    body = {"error": {"message": message, "type": "fake_error", "param": None, "code": code}}
    return web.json_response(body, status=status)
