"""A fake Telegram Bot API server on 127.0.0.1, for tests and ``tally loadtest`` that run a
real aiogram bot.

aiogram reaches it with ``TelegramAPIServer.from_base(tg.base_url)``; every request must be
``POST /bot<TOKEN>/<method>`` with the token the fake was created with (else 401, as
Telegram answers). Implemented: getMe, setWebhook (its parameters kept in ``webhook`` until
deleteWebhook), getUpdates (long polling that honours
``offset`` and ``timeout``, recording ``allowed_updates``), sendMessage and sendPhoto (recorded),
answerCallbackQuery and editMessageReplyMarkup (recorded on the press they concern),
getChatMember (the bot's role set with ``set_bot_status``, anyone else a member),
setMyCommands; any other method answers ``{"ok": true, "result": true}``.

    async with FakeTelegram() as tg:
        tg.push_message(chat_id=7, user_id=7, text="How many videos?")
        [reply] = await tg.wait_sent(count=1, timeout=5)

Group activity comes with ``push_group_message``, ``push_edit``, ``push_reaction``,
``push_reaction_count``, ``push_member`` (a ``chat_member`` update), ``push_join_message`` /
``push_leave_message`` (service messages), ``push_title`` and ``push_bot_status``
(``my_chat_member``). ``redeliver`` hands an update out again with its ``update_id``, as
Telegram does for updates a crashed bot never confirmed; ``update`` returns a pushed update's
JSON (for unit tests that validate it into aiogram types).

For load measurements, ``handed_at`` holds when (``time.monotonic()`` seconds) getUpdates
first returned each update, and ``on_sent`` (when set) is called with every sent message and
the monotonic time it arrived; ``keep_sent=False`` stops recording sent messages in ``sent``.
"""

import asyncio
import contextlib
import copy
import itertools
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self

from aiohttp import web

DEFAULT_TOKEN = "123456:TEST-fake-telegram-token"
"""A token aiogram accepts (``<bot id>:<secret>``)."""

Json = dict[str, Any]
ContentType = Literal[
    "text",
    "photo",
    "video",
    "video_note",
    "voice",
    "audio",
    "document",
    "sticker",
    "animation",
    "poll",
    "location",
    "contact",
    "dice",
]
"""What ``push_group_message`` can send; ``dice`` stands for content without a type of its own."""
MemberChange = Literal["join", "leave"]


@dataclass(frozen=True, slots=True)
class SentMessage:
    """One sendMessage call the bot made; ``reply_markup`` is the decoded JSON, if any."""

    chat_id: int
    text: str
    parse_mode: str | None = None
    reply_markup: Json | None = None
    photo: bytes | None = None
    """The image of a sendPhoto call (``text`` is then its caption)."""


@dataclass
class Press:
    """A button press pushed with ``push_callback``, and what the bot did about it.

    ``notice`` is the text the bot answered the press with (None: answered silently), shown
    as a popup when ``alert``; ``buttons_removed`` is True once the bot edited the pressed
    message to have no buttons, ``keyboard`` the ``inline_keyboard`` it last edited in.
    """

    query_id: str
    user_id: int
    chat_id: int
    message_id: int
    answered: bool = False
    notice: str | None = None
    alert: bool = False
    buttons_removed: bool = False
    keyboard: list[list[Json]] | None = None


@dataclass
class _State:
    updates: list[Json] = field(default_factory=list)
    sent: list[SentMessage] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    blocked: set[int] = field(default_factory=set)
    flaky: dict[int, int] = field(default_factory=dict)
    presses: dict[int, Press] = field(default_factory=dict)
    pushed: dict[int, Json] = field(default_factory=dict)
    bot_status: dict[int, str] = field(default_factory=dict)
    allowed_updates: list[str] | None = None
    webhook: Json | None = None
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    closing: bool = False


async def serve(
    app: web.Application, *, shutdown_timeout: float, port: int = 0
) -> tuple[web.AppRunner, int]:
    """Run ``app`` on 127.0.0.1 at ``port`` (0: one the OS picks); return its runner and the
    port.

    Call ``await runner.cleanup()`` to stop it.
    """
    runner = web.AppRunner(app, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    port = int(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
    return runner, port


SentHook = Callable[["SentMessage", float], None]
"""Called with each sent message and the ``time.monotonic()`` at which it arrived."""


class FakeTelegram:
    """The fake server; an async context manager that listens on a free local port.

    ``sent`` lists every message the bot sent, ``calls`` every method name called (in order);
    with ``keep_sent=False`` (long load runs) neither is recorded, and ``on_sent`` sees them.
    It listens on ``port`` (0: a free one); ``base_url`` says where.
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

    @property
    def allowed_updates(self) -> list[str] | None:
        """The ``allowed_updates`` of the last getUpdates call that named them."""
        return self._state.allowed_updates

    @property
    def webhook(self) -> Json | None:
        """The parameters of the last setWebhook call (``url``, ``secret_token``,
        ``allowed_updates`` decoded), None before one or after deleteWebhook."""
        return self._state.webhook

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._dispatch)
        self._runner, port = await serve(app, shutdown_timeout=1.0, port=self.port)
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

    def push_group_message(
        self,
        chat_id: int,
        user_id: int,
        text: str | None,
        *,
        message_id: int | None = None,
        thread_id: int | None = None,
        reply_to: int | None = None,
        entities: Sequence[Json] = (),
        content_type: ContentType = "text",
        forwarded: bool = False,
        chat_type: str = "supergroup",
    ) -> int:
        """Queue a message in group ``chat_id``; return its ``update_id``.

        ``text`` is the text of a ``text`` message and the caption of other content (None:
        none); ``entities`` are Bot API MessageEntity dicts (a leading ``/`` adds a
        ``bot_command``). ``thread_id`` puts the message in that forum topic (replying to the
        topic's first message when ``reply_to`` is None, as Telegram does).
        """
        message = self._group_message(chat_id, user_id, message_id, chat_type=chat_type)
        if text is not None:
            message |= _text(text, entities, caption=content_type != "text")
        if content_type != "text":
            message[content_type] = _CONTENT[content_type]
        if thread_id is not None:
            message |= {"message_thread_id": thread_id, "is_topic_message": True}
            message["chat"]["is_forum"] = True
            reply_to = thread_id if reply_to is None else reply_to
        if reply_to is not None:
            message["reply_to_message"] = {
                "message_id": reply_to,
                "date": message["date"],
                "chat": message["chat"],
            }
        if forwarded:
            message["forward_origin"] = {
                "type": "hidden_user",
                "date": message["date"],
                "sender_user_name": "Someone",
            }
        return self._push({"message": message})

    def push_edit(
        self, chat_id: int, user_id: int, message_id: int, text: str, *, sent_at: int | None = None
    ) -> int:
        """Queue an ``edited_message``: message ``message_id`` (sent at ``sent_at``, Unix
        seconds; a minute ago by default) now reads ``text``; return its ``update_id``."""
        message = self._group_message(chat_id, user_id, message_id)
        message["date"] = sent_at if sent_at is not None else message["date"] - 60
        message |= {"text": text, "edit_date": int(time.time())}
        return self._push({"edited_message": message})

    def push_reaction(
        self,
        chat_id: int,
        user_id: int | None,
        message_id: int,
        *,
        old: Sequence[str] = (),
        new: Sequence[str] = (),
    ) -> int:
        """Queue a ``message_reaction``: ``user_id`` (None: anonymously, as the chat) changed
        their reactions to ``message_id`` from ``old`` to ``new`` (emoji, or
        ``custom:<id>``); return its ``update_id``."""
        reaction: Json = {
            "chat": _group_chat(chat_id),
            "message_id": message_id,
            "date": int(time.time()),
            "old_reaction": [_reaction_type(key) for key in old],
            "new_reaction": [_reaction_type(key) for key in new],
        }
        actor = {"user": _user(user_id)} if user_id is not None else {}
        reaction |= actor or {"actor_chat": _group_chat(chat_id)}
        return self._push({"message_reaction": reaction})

    def push_reaction_count(self, chat_id: int, message_id: int, counts: Mapping[str, int]) -> int:
        """Queue a ``message_reaction_count``: the anonymous totals of ``message_id``
        (reaction -> count); return its ``update_id``."""
        reactions = [
            {"type": _reaction_type(key), "total_count": count} for key, count in counts.items()
        ]
        return self._push(
            {
                "message_reaction_count": {
                    "chat": _group_chat(chat_id),
                    "message_id": message_id,
                    "date": int(time.time()),
                    "reactions": reactions,
                }
            }
        )

    def push_member(
        self,
        chat_id: int,
        user_id: int,
        change: MemberChange,
        inviter: int | None = None,
        *,
        via_link: bool = False,
    ) -> int:
        """Queue a ``chat_member`` update: ``user_id`` joined (added by ``inviter`` when
        given; through an invite link with ``via_link``) or left; return its ``update_id``."""
        statuses = ("left", "member") if change == "join" else ("member", "left")
        update: Json = {
            "chat": _group_chat(chat_id),
            "from": _user(inviter if inviter is not None else user_id),
            "date": int(time.time()),
            "old_chat_member": {"status": statuses[0], "user": _user(user_id)},
            "new_chat_member": {"status": statuses[1], "user": _user(user_id)},
        }
        if via_link:
            update["invite_link"] = {
                "invite_link": "https://t.me/+fake",
                "creator": _user(1),
                "creates_join_request": False,
                "is_primary": True,
                "is_revoked": False,
            }
        return self._push({"chat_member": update})

    def push_join_message(
        self, chat_id: int, user_ids: Sequence[int], *, by: int | None = None
    ) -> int:
        """Queue a ``new_chat_members`` service message: ``user_ids`` joined (added by ``by``;
        by themselves when None); return its ``update_id``."""
        sender = by if by is not None else user_ids[0]
        message = self._group_message(chat_id, sender, None)
        message["new_chat_members"] = [_user(user_id) for user_id in user_ids]
        return self._push({"message": message})

    def push_leave_message(self, chat_id: int, user_id: int, *, by: int | None = None) -> int:
        """Queue a ``left_chat_member`` service message: ``user_id`` left (removed by ``by``
        when given); return its ``update_id``."""
        message = self._group_message(chat_id, by if by is not None else user_id, None)
        message["left_chat_member"] = _user(user_id)
        return self._push({"message": message})

    def push_title(self, chat_id: int, user_id: int, title: str) -> int:
        """Queue a ``new_chat_title`` service message; return its ``update_id``."""
        message = self._group_message(chat_id, user_id, None)
        message["chat"]["title"] = title
        message["new_chat_title"] = title
        return self._push({"message": message})

    def set_bot_status(self, chat_id: int, status: str) -> None:
        """From now on getChatMember says the bot is ``status`` (``administrator``,
        ``member``...) in ``chat_id`` (``member`` until set)."""
        self._state.bot_status[chat_id] = status

    def push_bot_status(self, chat_id: int, status: str) -> int:
        """Set the bot's status in ``chat_id`` and queue the ``my_chat_member`` update that
        tells it; return its ``update_id``."""
        old = self._state.bot_status.get(chat_id, "member")
        self.set_bot_status(chat_id, status)
        me = {"id": self.bot_id, "is_bot": True, "first_name": "Tally"}
        update: Json = {
            "chat": _group_chat(chat_id),
            "from": _user(1),
            "date": int(time.time()),
            "old_chat_member": _chat_member(old, me),
            "new_chat_member": _chat_member(status, me),
        }
        return self._push({"my_chat_member": update})

    def redeliver(self, update_id: int) -> None:
        """Queue update ``update_id`` again, same id and content (a fresh poll without an
        offset gets it, as after a restart)."""
        self._state.updates.append(self._state.pushed[update_id])
        self._state.updates.sort(key=lambda update: int(update["update_id"]))
        self._state.arrived.set()

    def update(self, update_id: int) -> Json:
        """The JSON of pushed update ``update_id``."""
        return copy.deepcopy(self._state.pushed[update_id])

    def _group_message(
        self, chat_id: int, user_id: int, message_id: int | None, *, chat_type: str = "supergroup"
    ) -> Json:
        return {
            "message_id": message_id if message_id is not None else next(self._message_ids),
            "date": int(time.time()),
            "chat": _group_chat(chat_id, chat_type),
            "from": _user(user_id),
        }

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
        update = {"update_id": update_id} | payload
        self._state.pushed[update_id] = update
        self._state.updates.append(update)
        self._state.arrived.set()
        return update_id

    async def _dispatch(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        if self.keep_sent:
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
        if allowed := params.get("allowed_updates"):
            state.allowed_updates = json.loads(allowed) if isinstance(allowed, str) else allowed
        state.updates = [update for update in state.updates if update["update_id"] >= offset]
        if not state.updates and not state.closing:
            state.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(state.arrived.wait(), timeout)
        now = time.monotonic()
        for update in state.updates:
            self.handed_at.setdefault(int(update["update_id"]), now)
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
        await self._record(sent)
        return _ok(self._message_json(sent))

    async def _record(self, sent: SentMessage) -> None:
        if self.on_sent is not None:
            self.on_sent(sent, time.monotonic())
        if not self.keep_sent:
            return
        async with self._state.changed:
            self._state.sent.append(sent)
            self._state.changed.notify_all()

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
            press.alert = str(params.get("show_alert")).lower() == "true"
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
                    press.keyboard = keyboard
            self._state.changed.notify_all()
        return _ok(True)

    async def _get_chat_member(self, params: Json) -> web.Response:
        chat_id, user_id = int(params["chat_id"]), int(params["user_id"])
        if user_id == self.bot_id:
            me = {"id": self.bot_id, "is_bot": True, "first_name": "Tally"}
            return _ok(_chat_member(self._state.bot_status.get(chat_id, "member"), me))
        return _ok(_chat_member("member", _user(user_id)))

    async def _set_webhook(self, params: Json) -> web.Response:
        allowed = params.get("allowed_updates")
        self._state.webhook = params | {
            "allowed_updates": json.loads(allowed) if isinstance(allowed, str) else allowed
        }
        return _ok(True)

    async def _delete_webhook(self, params: Json) -> web.Response:
        self._state.webhook = None
        return _ok(True)

    async def _true(self, params: Json) -> web.Response:
        return _ok(True)


_HANDLERS = {
    "getme": FakeTelegram._get_me,
    "getupdates": FakeTelegram._get_updates,
    "sendmessage": FakeTelegram._send_message,
    "sendphoto": FakeTelegram._send_photo,
    "setwebhook": FakeTelegram._set_webhook,
    "deletewebhook": FakeTelegram._delete_webhook,
    "setmycommands": FakeTelegram._true,
    "answercallbackquery": FakeTelegram._answer_callback_query,
    "editmessagereplymarkup": FakeTelegram._edit_message_reply_markup,
    "getchatmember": FakeTelegram._get_chat_member,
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


def _file(**sizes: int) -> Json:
    return {"file_id": "file", "file_unique_id": "file-unique"} | sizes


_CONTENT: dict[str, Any] = {
    "photo": [_file(width=640, height=480)],
    "video": _file(width=640, height=480, duration=5),
    "video_note": _file(length=240, duration=5),
    "voice": _file(duration=3),
    "audio": _file(duration=180),
    "document": _file(),
    "sticker": _STICKER,
    "animation": _file(width=320, height=240, duration=2),
    "poll": {
        "id": "poll",
        "question": "Lunch?",
        "options": [{"persistent_id": "1", "text": "Yes", "voter_count": 0}],
        "total_voter_count": 0,
        "is_closed": False,
        "is_anonymous": True,
        "type": "regular",
        "allows_multiple_answers": False,
        "allows_revoting": False,
        "members_only": False,
    },
    "location": {"latitude": 55.75, "longitude": 37.62},
    "contact": {"phone_number": "+10000000000", "first_name": "Ann"},
    "dice": {"emoji": "🎲", "value": 4},
}
"""Minimal Bot API objects aiogram accepts, per content type."""

_ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_send_welcome_messages",
)


def _user(user_id: int) -> Json:
    return {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}


def _group_chat(chat_id: int, chat_type: str = "supergroup") -> Json:
    return {"id": chat_id, "type": chat_type, "title": f"Chat{chat_id}"}


def _chat_member(status: str, user: Json) -> Json:
    member: Json = {"status": status, "user": user}
    if status == "administrator":
        member |= {"can_be_edited": False, "is_anonymous": False}
        member |= dict.fromkeys(_ADMIN_RIGHTS, True)
    elif status == "creator":
        member["is_anonymous"] = False
    return member


def _reaction_type(key: str) -> Json:
    if key.startswith("custom:"):
        return {"type": "custom_emoji", "custom_emoji_id": key.removeprefix("custom:")}
    return {"type": "emoji", "emoji": key}


def _text(text: str, entities: Sequence[Json], *, caption: bool) -> Json:
    found = [*entities, *_command_entities(text).get("entities", [])]
    if caption:
        return {"caption": text} | ({"caption_entities": found} if found else {})
    return {"text": text} | ({"entities": found} if found else {})


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
