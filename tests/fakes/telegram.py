"""A fake Telegram Bot API server on 127.0.0.1, for tests that run a real aiogram bot.

aiogram reaches it with ``TelegramAPIServer.from_base(tg.base_url)``; every request must be
``POST /bot<TOKEN>/<method>`` with the token the fake was created with (else 401, as
Telegram answers). Implemented: getMe, deleteWebhook, getUpdates (long polling that honours
``offset`` and ``timeout``), sendMessage (recorded), answerCallbackQuery and
editMessageReplyMarkup (recorded on the press they concern), setMyCommands; any other method
answers ``{"ok": true, "result": true}``.

    async with FakeTelegram() as tg:
        tg.push_message(chat_id=7, user_id=7, text="How many videos?")
        [reply] = await tg.wait_sent(count=1, timeout=5)
"""

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from tests.fakes.http import serve

DEFAULT_TOKEN = "123456:TEST-fake-telegram-token"
"""A token aiogram accepts (``<bot id>:<secret>``)."""

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class SentMessage:
    """One sendMessage call the bot made; ``reply_markup`` is the decoded JSON, if any."""

    chat_id: int
    text: str
    parse_mode: str | None = None
    reply_markup: Json | None = None


@dataclass
class Press:
    """A button press pushed with ``push_callback``, and what the bot did about it.

    ``notice`` is the text the bot answered the press with (None: answered silently);
    ``buttons_removed`` is True once the bot edited the pressed message to have no buttons.
    """

    query_id: str
    user_id: int
    chat_id: int
    message_id: int
    answered: bool = False
    notice: str | None = None
    buttons_removed: bool = False


@dataclass
class _State:
    updates: list[Json] = field(default_factory=list)
    sent: list[SentMessage] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    blocked: set[int] = field(default_factory=set)
    flaky: dict[int, int] = field(default_factory=dict)
    presses: dict[int, Press] = field(default_factory=dict)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    closing: bool = False


class FakeTelegram:
    """The fake server; an async context manager that listens on a free local port.

    ``sent`` lists every message the bot sent, ``calls`` every method name called (in order).
    """

    def __init__(self, token: str = DEFAULT_TOKEN) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self._state = _State()
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._read: set[int] = set()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    @property
    def sent(self) -> list[SentMessage]:
        return list(self._state.sent)

    @property
    def calls(self) -> list[str]:
        return list(self._state.calls)

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._dispatch)
        self._runner, port = await serve(app, shutdown_timeout=1.0)
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._state.closing = True
        self._state.arrived.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def push_message(
        self,
        chat_id: int,
        user_id: int,
        text: str | None,
        *,
        language_code: str | None = "en",
        chat_type: str = "private",
        username: str | None = None,
        sticker: bool = False,
    ) -> int:
        """Queue an incoming message update; return its ``update_id``.

        ``text=None`` with ``sticker=True`` sends a sticker-like non-text message; a text
        starting with ``/`` carries a ``bot_command`` entity, as Telegram sends it.
        """
        sender: Json = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
        sender |= {"language_code": language_code} if language_code else {}
        sender |= {"username": username} if username else {}
        message: Json = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": chat_type},
            "from": sender,
        }
        if text is not None:
            message |= {"text": text} | _command_entities(text)
        if sticker:
            message["sticker"] = _STICKER
        return self._push({"message": message})

    def push_callback(
        self, chat_id: int, user_id: int, data: str, *, language_code: str = "en"
    ) -> int:
        """Queue a press of an inline button carrying ``data`` under a bot message in
        ``chat_id``; return its ``update_id``."""
        sender: Json = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
        press = Press(
            query_id=str(next(self._message_ids)),
            user_id=user_id,
            chat_id=chat_id,
            message_id=next(self._message_ids),
        )
        query: Json = {
            "id": press.query_id,
            "from": sender | {"language_code": language_code},
            "chat_instance": str(chat_id),
            "data": data,
            "message": {
                "message_id": press.message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
            },
        }
        update_id = self._push({"callback_query": query})
        self._state.presses[update_id] = press
        return update_id

    def flaky(self, chat_id: int, failures: int) -> None:
        """The next ``failures`` sendMessage calls to ``chat_id`` fail with 502 (a server error
        a client should retry); later ones succeed."""
        self._state.flaky[chat_id] = failures

    def block(self, chat_id: int) -> None:
        """From now on sendMessage to ``chat_id`` fails with 403, as when a user blocks the bot."""
        self._state.blocked.add(chat_id)

    async def wait_sent(
        self,
        count: int = 1,
        timeout: float = 5,  # noqa: ASYNC109 (part of this helper's contract)
        *,
        chat_id: int | None = None,
    ) -> list[SentMessage]:
        """The next ``count`` sent messages not returned before (to ``chat_id`` if given).

        Waits up to ``timeout`` seconds; raises TimeoutError (saying what came) when fewer arrive.
        """
        state = self._state
        async with state.changed:
            try:
                await asyncio.wait_for(
                    state.changed.wait_for(lambda: len(self._unread(chat_id)) >= count), timeout
                )
            except TimeoutError:
                unread = self._unread(chat_id)
                raise TimeoutError(f"{len(unread)} of {count} messages sent: {unread}") from None
            batch = self._unread(chat_id)[:count]
            self._read.update(id(message) for message in batch)
            return batch

    async def wait_press(
        self,
        update_id: int,
        timeout: float = 5,  # noqa: ASYNC109 (part of this helper's contract)
        *,
        buttons_removed: bool = False,
    ) -> Press:
        """The press pushed as ``update_id``, once the bot answered it (and, with
        ``buttons_removed``, also removed the buttons); raises TimeoutError after ``timeout`` s."""
        press = self._state.presses[update_id]

        def done() -> bool:
            return press.answered and (press.buttons_removed or not buttons_removed)

        async with self._state.changed:
            try:
                await asyncio.wait_for(self._state.changed.wait_for(done), timeout)
            except TimeoutError:
                raise TimeoutError(f"press {update_id} not handled: {press}") from None
        return press

    async def assert_nothing_sent(self, within: float = 0.5, *, chat_id: int | None = None) -> None:
        """Raise AssertionError when a message not yet returned is sent within ``within`` s."""
        await asyncio.sleep(within)
        unread = self._unread(chat_id)
        assert not unread, f"unexpected messages: {unread}"

    def _unread(self, chat_id: int | None) -> list[SentMessage]:
        return [
            message
            for message in self._state.sent
            if id(message) not in self._read and chat_id in (None, message.chat_id)
        ]

    def _push(self, payload: Json) -> int:
        update_id = next(self._update_ids)
        self._state.updates.append({"update_id": update_id} | payload)
        self._state.arrived.set()
        return update_id

    async def _dispatch(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        self._state.calls.append(method)
        params = await _params(request)
        handler = _HANDLERS.get(method.lower())
        if handler is None:
            return web.json_response({"ok": True, "result": True})
        return await handler(self, params)

    def _me(self) -> Json:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Tally", "username": "tally_bot"}

    async def _get_me(self, params: Json) -> web.Response:
        return _ok(self._me())

    async def _get_updates(self, params: Json) -> web.Response:
        offset, timeout = int(params.get("offset") or 0), float(params.get("timeout") or 0)
        state = self._state
        state.updates = [update for update in state.updates if update["update_id"] >= offset]
        if not state.updates and not state.closing:
            state.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(state.arrived.wait(), timeout)
        return _ok(list(state.updates))

    async def _send_message(self, params: Json) -> web.Response:
        chat_id = int(params["chat_id"])
        if chat_id in self._state.blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        if self._state.flaky.get(chat_id, 0) > 0:
            self._state.flaky[chat_id] -= 1
            return _error(502, "Bad Gateway")
        markup = params.get("reply_markup")
        sent = SentMessage(
            chat_id=chat_id,
            text=str(params["text"]),
            parse_mode=params.get("parse_mode"),
            reply_markup=json.loads(markup) if isinstance(markup, str) else markup,
        )
        async with self._state.changed:
            self._state.sent.append(sent)
            self._state.changed.notify_all()
        return _ok(self._message_json(sent))

    def _message_json(self, sent: SentMessage) -> Json:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": sent.chat_id, "type": "private"},
            "from": self._me(),
            "text": sent.text,
        }

    async def _answer_callback_query(self, params: Json) -> web.Response:
        [press] = [
            p for p in self._state.presses.values() if p.query_id == params["callback_query_id"]
        ]
        async with self._state.changed:
            press.answered, press.notice = True, params.get("text")
            self._state.changed.notify_all()
        return _ok(True)

    async def _edit_message_reply_markup(self, params: Json) -> web.Response:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        markup = params.get("reply_markup")
        keyboard = (json.loads(markup) if isinstance(markup, str) else markup or {}).get(
            "inline_keyboard"
        )
        async with self._state.changed:
            for press in self._state.presses.values():
                if (press.chat_id, press.message_id) == (chat_id, message_id):
                    press.buttons_removed = not keyboard
            self._state.changed.notify_all()
        return _ok(True)

    async def _true(self, params: Json) -> web.Response:
        return _ok(True)


_HANDLERS = {
    "getme": FakeTelegram._get_me,
    "getupdates": FakeTelegram._get_updates,
    "sendmessage": FakeTelegram._send_message,
    "deletewebhook": FakeTelegram._true,
    "setmycommands": FakeTelegram._true,
    "answercallbackquery": FakeTelegram._answer_callback_query,
    "editmessagereplymarkup": FakeTelegram._edit_message_reply_markup,
}

_STICKER: Json = {
    "file_id": "sticker-file",
    "file_unique_id": "sticker-unique",
    "type": "regular",
    "width": 512,
    "height": 512,
    "is_animated": False,
    "is_video": False,
}


def _command_entities(text: str) -> Json:
    if not text.startswith("/"):
        return {}
    length = len(text.split(maxsplit=1)[0])
    return {"entities": [{"type": "bot_command", "offset": 0, "length": length}]}


async def _params(request: web.Request) -> Json:
    """Method parameters from a query string, a form (aiogram's way) or a JSON body."""
    params: Json = dict(request.query)
    if request.content_type == "application/json":
        params |= await request.json()
    elif request.can_read_body:
        params |= {key: value for key, value in (await request.post()).items()}
    return params


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(code: int, description: str) -> web.Response:
    return web.json_response(
        {"ok": False, "error_code": code, "description": description}, status=code
    )
