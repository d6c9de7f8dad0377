"""The tests' fake Telegram Bot API on 127.0.0.1, which a real aiogram bot talks to.

It extends ``tally loadtest``'s simulator (:class:`tally.cli.bot_api.BotApiSimulator`: getMe,
getUpdates long polling, sendMessage and sendPhoto recorded, the token checked) with
setWebhook (its parameters kept in ``webhook`` until deleteWebhook), the ``allowed_updates``
of getUpdates, answerCallbackQuery and editMessageReplyMarkup (recorded on the press they
concern), getChatMember (the bot's role set with ``set_bot_status``, a user's with
``set_member_status``, anyone else a member), getChat and getChatMemberCount (for the chats
given a count with ``set_member_count``; any other chat is "not found", as for a bot that is
not in it), getFile and the file download path ``/file/bot<token>/<path>`` (documents pushed
with ``push_document``; over 20 MB getFile refuses, as Telegram does) and failures
(``block``, ``flaky``). aiogram reaches it with ``TelegramAPIServer.from_base(tg.base_url)``.

    async with FakeTelegram() as tg:
        tg.push_message(chat_id=7, user_id=7, text="How many videos?")
        [reply] = await tg.wait_sent(count=1, timeout=5)

Group activity comes with ``push_group_message``, ``push_edit``, ``push_reaction``,
``push_reaction_count``, ``push_member`` (a ``chat_member`` update), ``push_join_message`` /
``push_leave_message`` (service messages), ``push_title`` and ``push_bot_status``
(``my_chat_member``). Updates are dated now unless ``at`` is given to ``push_group_message``,
``push_reaction`` or ``push_member`` (a conversation on fixed past dates); ``set_username``
gives a user the @username every later update carries, ``set_member_status`` their role for
getChatMember (an ``administrator`` may change a chat's settings). ``redeliver`` hands an
update out again with its ``update_id``, as Telegram does for updates a crashed bot never
confirmed; ``update`` returns a pushed update's JSON (for unit tests that validate it into
aiogram types).
"""

import asyncio
import copy
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from aiohttp import web

from tally.cli.bot_api import (
    DEFAULT_TOKEN,
    BotApiSimulator,
    Handler,
    Json,
    SentHook,
    SentMessage,
    error,
    group_chat,
    ok,
    user,
)

__all__ = [
    "DEFAULT_TOKEN",
    "ContentType",
    "FakeTelegram",
    "Json",
    "MemberChange",
    "Press",
    "SentMessage",
]

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
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
"""The largest file getFile hands a bot (https://core.telegram.org/bots/api#getfile)."""


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


class FakeTelegram(BotApiSimulator):
    """The fake server; an async context manager that listens on a free local port.

    ``sent`` lists every message the bot sent, ``calls`` every method name called (in order).
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        on_sent: SentHook | None = None,
        keep_sent: bool = True,
        port: int = 0,
    ) -> None:
        super().__init__(token, on_sent=on_sent, keep_sent=keep_sent, port=port)
        self._read: set[int] = set()
        self._blocked: set[int] = set()
        self._flaky: dict[int, int] = {}
        self._presses: dict[int, Press] = {}
        self._bot_status: dict[int, str] = {}
        self._member_counts: dict[int, int] = {}
        self._usernames: dict[int, str] = {}
        self._allowed_updates: list[str] | None = None
        self._webhook: Json | None = None
        self._member_status: dict[tuple[int, int], str] = {}
        self._files: dict[str, bytes] = {}
        self._file_sizes: dict[str, int] = {}

    @property
    def allowed_updates(self) -> list[str] | None:
        """The ``allowed_updates`` of the last getUpdates call that named them."""
        return self._allowed_updates

    @property
    def webhook(self) -> Json | None:
        """The parameters of the last setWebhook call (``url``, ``secret_token``,
        ``allowed_updates`` decoded), None before one or after deleteWebhook."""
        return self._webhook

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
        message = self._message({"id": chat_id, "type": chat_type}, user_id, None)
        message["from"] |= {"language_code": language_code} if language_code else {}
        message["from"] |= {"username": username} if username else {}
        if text is not None:
            message |= {"text": text} | _command_entities(text)
        if sticker:
            message["sticker"] = _STICKER
        return self._push({"message": message})

    def push_document(
        self,
        chat_id: int,
        user_id: int,
        content: bytes,
        *,
        file_name: str = "result.json",
        mime_type: str | None = "application/json",
        file_size: int | None = None,
        language_code: str = "en",
    ) -> int:
        """Queue a private message from ``user_id`` carrying a document whose bytes are
        ``content`` (served by getFile and the download path); return its ``update_id``.
        ``file_size`` is the size announced, ``len(content)`` by default (a larger one
        stands for a file too big to send here)."""
        file_id = f"document-{next(self._message_ids)}"
        size = len(content) if file_size is None else file_size
        self._files[file_id], self._file_sizes[file_id] = content, size
        document: Json = {"file_id": file_id, "file_unique_id": f"u-{file_id}"}
        document |= {"file_name": file_name, "file_size": size}
        document |= {"mime_type": mime_type} if mime_type else {}
        message = self._message({"id": chat_id, "type": "private"}, user_id, None)
        message["from"] |= {"language_code": language_code}
        return self._push({"message": message | {"document": document}})

    def push_callback(
        self,
        chat_id: int,
        user_id: int,
        data: str,
        *,
        language_code: str = "en",
        chat_type: str = "private",
    ) -> int:
        """Queue a press of an inline button carrying ``data`` under a bot message in
        ``chat_id`` (a chat of ``chat_type``: a group's for a /settings card); return its
        ``update_id``."""
        press = Press(
            query_id=str(next(self._message_ids)),
            user_id=user_id,
            chat_id=chat_id,
            message_id=next(self._message_ids),
        )
        query: Json = {
            "id": press.query_id,
            "from": user(user_id) | {"language_code": language_code},
            "chat_instance": str(chat_id),
            "data": data,
            "message": {
                "message_id": press.message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": chat_type},
            },
        }
        update_id = self._push({"callback_query": query})
        self._presses[update_id] = press
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
        at: datetime | None = None,
    ) -> int:
        """Queue a message in group ``chat_id``; return its ``update_id``.

        ``text`` is the text of a ``text`` message and the caption of other content (None:
        none); ``entities`` are Bot API MessageEntity dicts (a leading ``/`` adds a
        ``bot_command``). ``thread_id`` puts the message in that forum topic (replying to the
        topic's first message when ``reply_to`` is None, as Telegram does). ``at`` (aware)
        dates it; now when None.
        """
        message = self._message(group_chat(chat_id, chat_type), user_id, message_id)
        message["date"] = _unix(at) if at is not None else message["date"]
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
        message = self._message(group_chat(chat_id), user_id, message_id)
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
        at: datetime | None = None,
    ) -> int:
        """Queue a ``message_reaction``: ``user_id`` (None: anonymously, as the chat) changed
        their reactions to ``message_id`` from ``old`` to ``new`` (emoji, or
        ``custom:<id>``) at ``at`` (aware; now when None); return its ``update_id``."""
        reaction: Json = {
            "chat": group_chat(chat_id),
            "message_id": message_id,
            "date": _unix(at) if at is not None else int(time.time()),
            "old_reaction": [_reaction_type(key) for key in old],
            "new_reaction": [_reaction_type(key) for key in new],
        }
        actor = {"user": self._user(user_id)} if user_id is not None else {}
        reaction |= actor or {"actor_chat": group_chat(chat_id)}
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
                    "chat": group_chat(chat_id),
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
        at: datetime | None = None,
    ) -> int:
        """Queue a ``chat_member`` update: ``user_id`` joined (added by ``inviter`` when
        given; through an invite link with ``via_link``) or left, at ``at`` (aware; now when
        None); return its ``update_id``."""
        statuses = ("left", "member") if change == "join" else ("member", "left")
        update: Json = {
            "chat": group_chat(chat_id),
            "from": self._user(inviter if inviter is not None else user_id),
            "date": _unix(at) if at is not None else int(time.time()),
            "old_chat_member": {"status": statuses[0], "user": self._user(user_id)},
            "new_chat_member": {"status": statuses[1], "user": self._user(user_id)},
        }
        if via_link:
            update["invite_link"] = {
                "invite_link": "https://t.me/+fake",
                "creator": user(1),
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
        message = self._message(group_chat(chat_id), sender, None)
        message["new_chat_members"] = [user(user_id) for user_id in user_ids]
        return self._push({"message": message})

    def push_leave_message(self, chat_id: int, user_id: int, *, by: int | None = None) -> int:
        """Queue a ``left_chat_member`` service message: ``user_id`` left (removed by ``by``
        when given); return its ``update_id``."""
        message = self._message(group_chat(chat_id), by if by is not None else user_id, None)
        message["left_chat_member"] = user(user_id)
        return self._push({"message": message})

    def push_title(self, chat_id: int, user_id: int, title: str) -> int:
        """Queue a ``new_chat_title`` service message; return its ``update_id``."""
        message = self._message(group_chat(chat_id), user_id, None)
        message["chat"]["title"] = title
        message["new_chat_title"] = title
        return self._push({"message": message})

    def set_bot_status(self, chat_id: int, status: str) -> None:
        """From now on getChatMember says the bot is ``status`` (``administrator``,
        ``member``...) in ``chat_id`` (``member`` until set)."""
        self._bot_status[chat_id] = status

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """From now on getChatMember says ``user_id`` is ``status`` (``creator``,
        ``administrator``, ``left``...) in ``chat_id`` (``member`` until set)."""
        self._member_status[(chat_id, user_id)] = status

    def set_member_count(self, chat_id: int, count: int | None) -> None:
        """From now on getChatMemberCount says ``chat_id`` has ``count`` members (None: the
        chat is not found, as when the bot was removed from it)."""
        if count is None:
            self._member_counts.pop(chat_id, None)
        else:
            self._member_counts[chat_id] = count

    def set_username(self, user_id: int, username: str) -> None:
        """From now on every update from or about ``user_id`` names them ``@username``."""
        self._usernames[user_id] = username

    def push_bot_status(self, chat_id: int, status: str) -> int:
        """Set the bot's status in ``chat_id`` and queue the ``my_chat_member`` update that
        tells it; return its ``update_id``."""
        old = self._bot_status.get(chat_id, "member")
        self.set_bot_status(chat_id, status)
        me = {"id": self.bot_id, "is_bot": True, "first_name": "Tally"}
        update: Json = {
            "chat": group_chat(chat_id),
            "from": user(1),
            "date": int(time.time()),
            "old_chat_member": _chat_member(old, me),
            "new_chat_member": _chat_member(status, me),
        }
        return self._push({"my_chat_member": update})

    def redeliver(self, update_id: int) -> None:
        """Queue update ``update_id`` again, same id and content (a fresh poll without an
        offset gets it, as after a restart)."""
        self._updates.append(self._pushed[update_id])
        self._updates.sort(key=lambda update: int(update["update_id"]))
        self._arrived.set()

    def update(self, update_id: int) -> Json:
        """The JSON of pushed update ``update_id``."""
        return copy.deepcopy(self._pushed[update_id])

    def flaky(self, chat_id: int, failures: int) -> None:
        """The next ``failures`` sendMessage calls to ``chat_id`` fail with 502 (a server error
        a client should retry); later ones succeed."""
        self._flaky[chat_id] = failures

    def block(self, chat_id: int) -> None:
        """From now on sendMessage to ``chat_id`` fails with 403, as when a user blocks the bot."""
        self._blocked.add(chat_id)

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
        async with self._changed:
            try:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: len(self._unread(chat_id)) >= count), timeout
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
        press = self._presses[update_id]

        def done() -> bool:
            return press.answered and (press.buttons_removed or not buttons_removed)

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(done), timeout)
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
            for message in self._sent
            if id(message) not in self._read and chat_id in (None, message.chat_id)
        ]

    def _routes(self, app: web.Application) -> None:
        super()._routes(app)
        app.router.add_get("/file/bot{token}/documents/{file_id}.json", self._download)

    def _message(self, chat: Json, user_id: int, message_id: int | None) -> Json:
        message = super()._message(chat, user_id, message_id)
        message["from"] = self._user(user_id)
        return message

    def _user(self, user_id: int) -> Json:
        """A Bot API User, with the @username given by ``set_username`` if any."""
        name = self._usernames.get(user_id)
        return user(user_id) | ({"username": name} if name else {})

    def _handlers(self) -> dict[str, Handler]:
        return super()._handlers() | {
            "getfile": self._get_file,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "answercallbackquery": self._answer_callback_query,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "getchatmember": self._get_chat_member,
            "getchat": self._get_chat,
            "getchatmembercount": self._get_chat_member_count,
        }

    async def _get_updates(self, params: Json) -> web.Response:
        if allowed := params.get("allowed_updates"):
            self._allowed_updates = json.loads(allowed) if isinstance(allowed, str) else allowed
        return await super()._get_updates(params)

    async def _send_message(self, params: Json) -> web.Response:
        chat_id = int(params["chat_id"])
        if chat_id in self._blocked:
            return error(403, "Forbidden: bot was blocked by the user")
        if self._flaky.get(chat_id, 0) > 0:
            self._flaky[chat_id] -= 1
            return error(502, "Bad Gateway")
        return await super()._send_message(params)

    async def _answer_callback_query(self, params: Json) -> web.Response:
        [press] = [p for p in self._presses.values() if p.query_id == params["callback_query_id"]]
        async with self._changed:
            press.answered, press.notice = True, params.get("text")
            press.alert = str(params.get("show_alert")).lower() == "true"
            self._changed.notify_all()
        return ok(True)

    async def _edit_message_reply_markup(self, params: Json) -> web.Response:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        markup = params.get("reply_markup")
        keyboard = (json.loads(markup) if isinstance(markup, str) else markup or {}).get(
            "inline_keyboard"
        )
        async with self._changed:
            for press in self._presses.values():
                if (press.chat_id, press.message_id) == (chat_id, message_id):
                    press.buttons_removed = not keyboard
                    press.keyboard = keyboard
            self._changed.notify_all()
        return ok(True)

    async def _get_chat_member(self, params: Json) -> web.Response:
        chat_id, user_id = int(params["chat_id"]), int(params["user_id"])
        if user_id == self.bot_id:
            me = {"id": self.bot_id, "is_bot": True, "first_name": "Tally"}
            return ok(_chat_member(self._bot_status.get(chat_id, "member"), me))
        status = self._member_status.get((chat_id, user_id), "member")
        return ok(_chat_member(status, self._user(user_id)))

    async def _get_file(self, params: Json) -> web.Response:
        file_id = str(params["file_id"])
        if file_id not in self._files:
            return error(400, "Bad Request: invalid file_id")
        size = self._file_sizes[file_id]
        if size > MAX_DOWNLOAD_BYTES:
            return error(400, "Bad Request: file is too big")
        found = {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_size": size}
        return ok(found | {"file_path": f"documents/{file_id}.json"})

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        file_id = request.match_info["file_id"]
        if file_id not in self._files:
            return web.Response(status=404)
        return web.Response(body=self._files[file_id])

    async def _get_chat(self, params: Json) -> web.Response:
        chat_id = int(params["chat_id"])
        if chat_id not in self._member_counts:
            return error(400, "Bad Request: chat not found")
        full = {"accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": _NO_GIFTS}
        return ok(group_chat(chat_id) | full)

    async def _get_chat_member_count(self, params: Json) -> web.Response:
        chat_id = int(params["chat_id"])
        if chat_id not in self._member_counts:
            return error(400, "Bad Request: chat not found")
        return ok(self._member_counts[chat_id])

    async def _set_webhook(self, params: Json) -> web.Response:
        allowed = params.get("allowed_updates")
        self._webhook = params | {
            "allowed_updates": json.loads(allowed) if isinstance(allowed, str) else allowed
        }
        return ok(True)

    async def _delete_webhook(self, params: Json) -> web.Response:
        self._webhook = None
        return ok(True)


_NO_GIFTS: Json = {
    "unlimited_gifts": False,
    "limited_gifts": False,
    "unique_gifts": False,
    "premium_subscription": False,
    "gifts_from_channels": False,
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


def _chat_member(status: str, who: Json) -> Json:
    member: Json = {"status": status, "user": who}
    if status == "administrator":
        member |= {"can_be_edited": False, "is_anonymous": False}
        member |= dict.fromkeys(_ADMIN_RIGHTS, True)
    elif status == "creator":
        member["is_anonymous"] = False
    return member


def _unix(at: datetime) -> int:
    """``at`` (aware) in Unix seconds, as the Bot API dates updates."""
    return int(at.timestamp())


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
