"""aiogram middlewares of the gateway: the chat allow-list, throttling, publishing
``UserSeen`` on first contact, command counts.

:class:`ChatAllowListMiddleware` is an outer middleware on every update, so an update from a
chat not allowed reaches nothing. Private throttling, ``UserSeen`` and the command count are
outer middlewares on ``message`` updates, so they see every message before filters run; the
first two act on private chats only, the command count on every chat. In groups, where every
message must still be captured, :class:`GroupThrottlingMiddleware` is an inner middleware of
the routers that answer (it sees only messages a handler matched). They read ``ctx`` (the
GatewayContext), ``bot`` and ``event_chat`` from aiogram's ``data``.
"""

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Chat, Message, ReactionTypeEmoji, TelegramObject, User
from aiogram.types.reaction_type_union import ReactionTypeUnion

from tally.contracts.events import UserSeen
from tally.contracts.language import detect_language
from tally.gateway.context import GatewayContext
from tally.gateway.domain.memory import SeenUsers, Verdict
from tally.gateway.domain.texts import say

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
GROUP_CHATS = frozenset({ChatType.GROUP, ChatType.SUPERGROUP})
THROTTLED_REACTION = "👀"
"""The reaction on a group question dropped by throttling: "seen, not answered". (⏳ would
say it better, but it is not among the emoji Telegram lets bots react with.)"""

log = structlog.get_logger(__name__)


class ChatAllowListMiddleware(BaseMiddleware):
    """Drops every update whose chat is not in ``allowed`` (chat ids), and updates that name
    no chat: no handler runs, nothing is replied or published; each is counted in
    ``tally_gateway_ignored_updates_total{reason}`` and logged at debug level."""

    def __init__(self, allowed: frozenset[int]) -> None:
        self._allowed = allowed

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        chat: Chat | None = data.get("event_chat")
        if chat is not None and chat.id in self._allowed:
            return await handler(event, data)
        reason = "no_chat" if chat is None else "chat_not_allowed"
        data["ctx"].metrics.ignored(reason)
        log.debug("update ignored", reason=reason, chat_id=None if chat is None else chat.id)
        return UNHANDLED


class PrivateThrottlingMiddleware(BaseMiddleware):
    """Drops a user's private messages that come sooner than ``interval_s`` after their last
    handled one.

    The first dropped message in an interval gets a polite "slow down" reply; the drops are
    counted in ``tally_gateway_throttled_total`` and never published. The throttle is the
    context's ``private_throttle``, shared by every gateway (:mod:`tally.gateway.shared`).
    """

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user = private_sender(event)
        if user is None:
            return await handler(event, data)
        ctx: GatewayContext = data["ctx"]
        verdict = await ctx.private_throttle.check(user.id)
        if verdict is Verdict.ALLOW:
            return await handler(event, data)
        ctx.metrics.throttled.inc()
        if verdict is Verdict.WARN:
            text = say("slow_down", detect_language("", user.language_code))
            await ctx.send(data["event_chat"].id, text)
        return None


class GroupThrottlingMiddleware(BaseMiddleware):
    """Drops a group message asking something of the bot (a question, a report, an admin
    command) that comes sooner than the ``group_throttle`` interval after the sender's last
    handled one; counted in ``tally_gateway_throttled_total``. Other messages pass.

    A dropped message is not ignored silently: the bot reacts to it with
    :data:`THROTTLED_REACTION` (``setMessageReaction``, once per dropped message). Where it
    cannot react (reactions off in the chat, no rights), the first drop of each interval is
    answered "one question every N seconds" instead.

    Stateless: the throttle is the context's ``group_throttle``, shared by every gateway (so
    routers, which are module-level, can carry this middleware).
    """

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user = group_sender(event)
        if user is None or not isinstance(event, Message):
            return await handler(event, data)
        ctx: GatewayContext = data["ctx"]
        verdict = await ctx.group_throttle.check(user.id)
        if verdict is Verdict.ALLOW:
            return await handler(event, data)
        ctx.metrics.throttled.inc()
        if not await _react(ctx, event) and verdict is Verdict.WARN:
            seconds = f"{ctx.settings.group_throttle_interval_s:g}"
            text = say("group_slow_down", detect_language("", user.language_code))
            await ctx.send(event.chat.id, text.format(seconds=seconds))
        return None


async def _react(ctx: GatewayContext, message: Message) -> bool:
    """Put :data:`THROTTLED_REACTION` on ``message``; False (logged) when Telegram refused."""
    reaction: list[ReactionTypeUnion] = [ReactionTypeEmoji(emoji=THROTTLED_REACTION)]
    try:
        await ctx.bot.set_message_reaction(message.chat.id, message.message_id, reaction)
    except TelegramAPIError as error:
        log.info("throttled message not reacted to", chat_id=message.chat.id, error=str(error))
        return False
    return True


class UserSeenMiddleware(BaseMiddleware):
    """Publishes ``UserSeen`` on a user's first private message to this process, then goes on
    (it authorises nothing: every user passes).

    Remembers the ``max_users`` most recent users; ingest stores the event in ``bot_users``.
    """

    def __init__(self, *, max_users: int = 10_000) -> None:
        self._seen = SeenUsers(max_users)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user = private_sender(event)
        if user is not None and self._seen.first_contact(user.id):
            seen = _user_seen(user, chat_id=data["event_chat"].id)
            ctx: GatewayContext = data["ctx"]
            await ctx.broker.publish(seen, ctx.subjects.user_seen)
        return await handler(event, data)


class CommandCountingMiddleware(BaseMiddleware):
    """Counts each bot command that reaches the handlers in ``tally_commands_total``, by name
    (:meth:`GatewayMetrics.command`), whichever router handles it; a command addressed to
    another bot (``/stats@other_bot``) is not this bot's and is not counted."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if isinstance(event, Message) and event.text and event.text.startswith("/"):
            me = await data["bot"].me()
            name = command_name(event.text, me.username)
            if name is not None:
                data["ctx"].metrics.command(name)
        return await handler(event, data)


def command_name(text: str, bot_username: str | None) -> str | None:
    """The command of a message text (``"/Stats@tally_bot 30"`` -> ``"stats"``); None when the
    text is no command or names another bot."""
    head = text.split(maxsplit=1)[0] if text.strip() else ""
    name, _, mention = head.removeprefix("/").partition("@")
    if not head.startswith("/") or not name:
        return None
    if mention and (bot_username is None or mention.lower() != bot_username.lower()):
        return None
    return name.lower()


def private_sender(event: TelegramObject) -> User | None:
    """The sender of ``event`` when it is a message in a private chat, else None."""
    if isinstance(event, Message) and event.chat.type == ChatType.PRIVATE:
        return event.from_user
    return None


def group_sender(event: TelegramObject) -> User | None:
    """The sender of ``event`` when it is a message in a group or supergroup, else None."""
    if isinstance(event, Message) and event.chat.type in GROUP_CHATS:
        return event.from_user
    return None


def _user_seen(user: User, *, chat_id: int) -> UserSeen:
    return UserSeen(
        user_id=user.id,
        chat_id=chat_id,
        username=user.username,
        first_name=user.first_name,
        last_name=user.last_name,
        language_code=user.language_code,
    )
