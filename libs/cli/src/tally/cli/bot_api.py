"""A simulated Telegram Bot API on 127.0.0.1 for ``tally loadtest``: its users' updates go to
the gateway (a real aiogram bot) through long polling, and its replies come back here.

Only what a load run needs: getMe, getUpdates (long polling that honours ``offset`` and
``timeout``), sendMessage and sendPhoto (passed to ``on_sent`` with the monotonic time they
arrived, and kept in ``sent`` unless ``keep_sent=False``); any other method answers
``{"ok": true, "result": true}``. Every request must be ``POST /bot<TOKEN>/<method>`` with
the simulator's token (else 401, as Telegram answers). ``handed_at`` holds when
(``time.monotonic()`` seconds) getUpdates first returned each update.

The tests' fake Bot API (``tally.testing.telegram.FakeTelegram``, a dev-only package) builds
on this one with the rest of what they exercise (buttons, group activity, webhooks, failures).
"""

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from tally.cli.http import serve

DEFAULT_TOKEN = "123456:TEST-fake-telegram-token"
"""A token aiogram accepts (``<bot id>:<secret>``)."""

Json = dict[str, Any]
Handler = Callable[[Json], Awaitable[web.Response]]
"""A Bot API method: its parameters in, the HTTP answer out."""


@dataclass(frozen=True, slots=True)
class SentMessage:
    """One sendMessage call the bot made; ``reply_markup`` is the decoded JSON, if any."""

    chat_id: int
    text: str
    parse_mode: str | None = None
    reply_markup: Json | None = None
    photo: bytes | None = None
    """The image of a sendPhoto call (``text`` is then its caption)."""


SentHook = Callable[[SentMessage, float], None]
"""Called with each sent message and the ``time.monotonic()`` at which it arrived."""


class BotApiSimulator:
    """The simulated server; an async context manager that listens on 127.0.0.1:``port``
    (0: a free one); ``base_url`` says where once entered.

    ``sent`` lists every message the bot sent, ``calls`` every method name called (in order);
    with ``keep_sent=False`` (long load runs) neither is recorded, and ``on_sent`` sees them.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        on_sent: SentHook | None = None,
        keep_sent: bool = True,
        port: int = 0,
    ) -> None:
        self.token = token
        self.port = port
        self.on_sent = on_sent
        self.keep_sent = keep_sent
        self.handed_at: dict[int, float] = {}
        self.bot_id = int(token.split(":", 1)[0])
        self.base_url = ""
        self._updates: list[Json] = []
        self._pushed: dict[int, Json] = {}
        self._sent: list[SentMessage] = []
        self._calls: list[str] = []
        self._changed = asyncio.Condition()
        self._arrived = asyncio.Event()
        self._closing = False
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None

    @property
    def sent(self) -> list[SentMessage]:
        return list(self._sent)

    @property
    def calls(self) -> list[str]:
        return list(self._calls)

    async def __aenter__(self) -> Self:
        app = web.Application()
        self._routes(app)
        self._runner, port = await serve(app, shutdown_timeout=1.0, port=self.port)
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing = True
        self._arrived.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def push_message(
        self, chat_id: int, user_id: int, text: str, *, language_code: str | None = "en"
    ) -> int:
        """Queue a private text message from ``user_id``; return its ``update_id``."""
        message = self._message({"id": chat_id, "type": "private"}, user_id, None)
        if language_code:
            message["from"]["language_code"] = language_code
        return self._push({"message": message | {"text": text}})

    def push_group_message(self, chat_id: int, user_id: int, text: str) -> int:
        """Queue a text message in supergroup ``chat_id``; return its ``update_id``."""
        message = self._message(group_chat(chat_id), user_id, None)
        return self._push({"message": message | {"text": text}})

    async def take_updates(self) -> list[Json]:
        """The updates queued and not taken yet, oldest first, once there is one (webhook mode:
        what Telegram would POST; each is marked handed out now, as ``getUpdates`` does).
        Returns [] once the server is closing."""
        while not self._updates and not self._closing:
            self._arrived.clear()
            await self._arrived.wait()
        taken, self._updates = self._updates, []
        now = time.monotonic()
        for update in taken:
            self.handed_at.setdefault(int(update["update_id"]), now)
        return taken

    def _message(self, chat: Json, user_id: int, message_id: int | None) -> Json:
        """A message's common fields: id (the next one when None), date, ``chat``, sender."""
        return {
            "message_id": message_id if message_id is not None else next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": user(user_id),
        }

    def _push(self, payload: Json) -> int:
        update_id = next(self._update_ids)
        update = {"update_id": update_id} | payload
        self._pushed[update_id] = update
        self._updates.append(update)
        self._arrived.set()
        return update_id

    def _routes(self, app: web.Application) -> None:
        """Add the server's routes to ``app``: the Bot API's ``/bot<token>/<method>``."""
        app.router.add_post("/bot{token}/{method}", self._dispatch)

    def _handlers(self) -> dict[str, Handler]:
        """The implemented methods by lower-case name."""
        return {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "sendmessage": self._send_message,
            "sendphoto": self._send_photo,
        }

    async def _dispatch(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return error(401, "Unauthorized")
        method = request.match_info["method"]
        if self.keep_sent:
            self._calls.append(method)
        params = await _params(request)
        handler = self._handlers().get(method.lower())
        if handler is None:
            return ok(True)
        return await handler(params)

    def _me(self) -> Json:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Tally", "username": "tally_bot"}

    async def _get_me(self, params: Json) -> web.Response:
        return ok(self._me())

    async def _get_updates(self, params: Json) -> web.Response:
        offset, timeout = int(params.get("offset") or 0), float(params.get("timeout") or 0)
        self._updates = [update for update in self._updates if update["update_id"] >= offset]
        if not self._updates and not self._closing:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), timeout)
        now = time.monotonic()
        for update in self._updates:
            self.handed_at.setdefault(int(update["update_id"]), now)
        return ok(list(self._updates))

    async def _send_message(self, params: Json) -> web.Response:
        markup = params.get("reply_markup")
        sent = SentMessage(
            chat_id=int(params["chat_id"]),
            text=str(params["text"]),
            parse_mode=params.get("parse_mode"),
            reply_markup=json.loads(markup) if isinstance(markup, str) else markup,
        )
        await self._record(sent)
        return ok(self._message_json(sent))

    async def _send_photo(self, params: Json) -> web.Response:
        upload = params["photo"]
        if isinstance(upload, str) and upload.startswith("attach://"):
            upload = params[upload.removeprefix("attach://")]  # aiogram's multipart upload
        photo = upload.file.read() if hasattr(upload, "file") else str(upload).encode()
        sent = SentMessage(
            chat_id=int(params["chat_id"]),
            text=str(params.get("caption") or ""),
            parse_mode=params.get("parse_mode"),
            photo=photo,
        )
        await self._record(sent)
        return ok(self._message_json(sent))

    async def _record(self, sent: SentMessage) -> None:
        if self.on_sent is not None:
            self.on_sent(sent, time.monotonic())
        if not self.keep_sent:
            return
        async with self._changed:
            self._sent.append(sent)
            self._changed.notify_all()

    def _message_json(self, sent: SentMessage) -> Json:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": sent.chat_id, "type": "private"},
            "from": self._me(),
            "text": sent.text,
        }


def user(user_id: int) -> Json:
    """A Bot API User who is not a bot, named ``User<id>``."""
    return {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}


def group_chat(chat_id: int, chat_type: str = "supergroup") -> Json:
    """A Bot API Chat of ``chat_type``, titled ``Chat<id>``."""
    return {"id": chat_id, "type": chat_type, "title": f"Chat{chat_id}"}


async def _params(request: web.Request) -> Json:
    """Method parameters from a query string, a form (aiogram's way) or a JSON body."""
    params: Json = dict(request.query)
    if request.content_type == "application/json":
        params |= await request.json()
    elif request.can_read_body:
        params |= {key: value for key, value in (await request.post()).items()}
    return params


def ok(result: Any) -> web.Response:
    """A Bot API success: ``{"ok": true, "result": result}``."""
    return web.json_response({"ok": True, "result": result})


def error(code: int, description: str) -> web.Response:
    """A Bot API failure with HTTP status ``code``, as Telegram answers one."""
    return web.json_response(
        {"ok": False, "error_code": code, "description": description}, status=code
    )
