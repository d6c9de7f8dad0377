"""Alerts in Telegram: the buttons under a firing notification and the admins' alert commands.

Buttons (keyboards.alert_keyboard, callback data ``al:<action>:<group id>``): Acknowledge,
Silence 1h, Silence 24h and Mute until resolved. Commands, in private chats and groups
(``/alerts`` or ``/alerts@<bot>``): /alerts, /alerts history [N], /silences,
/silence <matchers> <duration>, /unsilence <id> and /watch <plain words>. Each becomes an
:class:`AlertCommand` sent to the alerts service as a core NATS request on
``subjects.alert_command``; its :class:`AlertCommandReply` is what the admin sees. Only
ADMIN_USER_IDS may use them (:class:`IsAdmin`); anyone else gets REFUSAL. Every command and
press, allowed or refused, is audited (:class:`AdminAuditMiddleware`); in groups a member's
commands are throttled first (:class:`GroupThrottlingMiddleware`). Replies in groups keep
Telegram's pace through the bot session's GroupRateLimit.
"""

from collections.abc import Callable
from typing import Final

import structlog
from aiogram import Bot, F, Router
from aiogram.enums import ChatType, ParseMode
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, User
from opentelemetry import trace

from tally.contracts.alerting import AlertCommand, AlertCommandReply
from tally.contracts.language import detect_language
from tally.gateway.context import GatewayContext
from tally.gateway.domain import alerts
from tally.gateway.domain.texts import shorten
from tally.gateway.telegram.admins import REFUSAL, AdminAuditMiddleware, IsAdmin
from tally.gateway.telegram.filters import MAYBE_COMMAND, inline
from tally.gateway.telegram.keyboards import ALERT_BUTTONS, DONE, AlertButton, done_keyboard
from tally.gateway.telegram.middlewares import GroupThrottlingMiddleware
from tally.gateway.telegram.requests import request_reply

router: Final = Router(name=__name__)
router.message.filter(
    MAYBE_COMMAND, inline(F.chat.type.in_({ChatType.PRIVATE, ChatType.GROUP, ChatType.SUPERGROUP}))
)

COMMANDS: Final = ("alerts", "silences", "silence", "unsilence", "watch")
COMMAND_TIMEOUT_S: Final = 10.0
WATCH_TIMEOUT_S: Final = 30.0
"""/watch compiles and backtests a rule over stored history: it may take longer."""
NO_ANSWER: Final = "The alerts service did not answer; try again shortly."
MAX_NOTICE_CHARS: Final = 200
"""Longest text of a button press's notice (Bot API ``answerCallbackQuery``)."""

tracer: Final = trace.get_tracer("tally.gateway")
log = structlog.get_logger(__name__)

router.message.middleware(GroupThrottlingMiddleware())
_audit: Final = AdminAuditMiddleware(buttons=frozenset({*ALERT_BUTTONS, DONE}))
router.message.middleware(_audit)
router.callback_query.middleware(_audit)


async def request_command(
    ctx: GatewayContext, command: AlertCommand, *, timeout_s: float
) -> AlertCommandReply | None:
    """The alerts service's reply to ``command``, or None (logged) when none came within
    ``timeout_s`` seconds, nobody listens, or the reply is not an AlertCommandReply."""
    return await request_reply(
        ctx.broker,
        command,
        ctx.subjects.alert_command,
        AlertCommandReply,
        timeout_s=timeout_s,
        span="telegram alert command",
        attributes={"tally.alert_action": command.action},
    )


@router.callback_query(AlertButton.filter(), ~IsAdmin())
async def refuse_press(query: CallbackQuery, ctx: GatewayContext) -> None:
    """A non-admin's press: REFUSAL in a popup, nothing sent."""
    ctx.metrics.message("command")
    await query.answer(REFUSAL, show_alert=True)


@router.callback_query(AlertButton.filter(F.action.in_(ALERT_BUTTONS)))
async def press(query: CallbackQuery, callback_data: AlertButton, ctx: GatewayContext) -> None:
    """An admin's press: send the button's command for the group; answer with the reply's
    message; once done, the buttons give way to a line saying who did what."""
    ctx.metrics.message("command")
    button = ALERT_BUTTONS[callback_data.action]
    command = AlertCommand(
        action=button.action,
        target=callback_data.group,
        duration_s=button.duration_s,
        actor_id=query.from_user.id,
    )
    reply = await request_command(ctx, command, timeout_s=COMMAND_TIMEOUT_S)
    if reply is None:
        await query.answer(NO_ANSWER, show_alert=True)
        return
    await query.answer(shorten(reply.message, MAX_NOTICE_CHARS), show_alert=not reply.ok)
    if reply.ok:
        line = f"{button.done} by {_name(query.from_user)}"
        await _replace_buttons(query, ctx.bot, done_keyboard(callback_data.group, line))


@router.callback_query(AlertButton.filter())
async def status_press(query: CallbackQuery) -> None:
    """A press on the status line (or on a button this gateway no longer knows): answered
    silently, so the client stops waiting."""
    await query.answer()


def _name(user: User) -> str:
    return f"@{user.username}" if user.username else user.full_name


async def _replace_buttons(query: CallbackQuery, bot: Bot, keyboard: InlineKeyboardMarkup) -> None:
    if query.message is None:
        return
    try:
        await bot.edit_message_reply_markup(
            chat_id=query.message.chat.id,
            message_id=query.message.message_id,
            reply_markup=keyboard,
        )
    except TelegramBadRequest as error:
        log.warning("could not replace alert buttons", error=error.message)


@router.message(Command(*COMMANDS), ~IsAdmin())
async def refuse(message: Message, ctx: GatewayContext) -> None:
    """A non-admin's alert command: REFUSAL, nothing sent."""
    ctx.metrics.message("command")
    await ctx.send(message.chat.id, REFUSAL)


@router.message(Command("alerts"), IsAdmin())
async def list_alerts(message: Message, command: CommandObject, ctx: GatewayContext) -> None:
    """/alerts: the firing and pending alerts; /alerts history [N]: the N latest alert events
    (alert_history in PostgreSQL), newest first.

    Raises alerts.UsageError (shown by the errors router) for other arguments."""
    ctx.metrics.message("command")
    limit = alerts.parse_alerts(command.args)
    if limit is None:
        request = AlertCommand(action="alerts", actor_id=_actor(message))
        reply = await request_command(ctx, request, timeout_s=COMMAND_TIMEOUT_S)
        await _show(ctx, message.chat.id, reply, render=_alerts_html)
        return
    request = AlertCommand(action="history", limit=limit, actor_id=_actor(message))
    reply = await request_command(ctx, request, timeout_s=COMMAND_TIMEOUT_S)
    await _show(ctx, message.chat.id, reply, render=_history_html)


@router.message(Command("silences"), IsAdmin())
async def list_silences(message: Message, ctx: GatewayContext) -> None:
    """/silences: the active silences."""
    ctx.metrics.message("command")
    command = AlertCommand(action="silences", actor_id=_actor(message))
    reply = await request_command(ctx, command, timeout_s=COMMAND_TIMEOUT_S)
    await _show(ctx, message.chat.id, reply, render=_silences_html)


@router.message(Command("silence"), IsAdmin())
async def silence(message: Message, command: CommandObject, ctx: GatewayContext) -> None:
    """/silence <matchers> <duration>: silence matching alerts for that long.

    Raises alerts.UsageError (shown by the errors router) for arguments it cannot read."""
    ctx.metrics.message("command")
    asked = alerts.parse_silence(command.args)
    request = AlertCommand(
        action="silence",
        matchers=asked.matchers,
        duration_s=asked.duration_s,
        actor_id=_actor(message),
    )
    reply = await request_command(ctx, request, timeout_s=COMMAND_TIMEOUT_S)
    await _show(ctx, message.chat.id, reply)


@router.message(Command("unsilence"), IsAdmin())
async def unsilence(message: Message, command: CommandObject, ctx: GatewayContext) -> None:
    """/unsilence <silence id>: expire that silence now.

    Raises alerts.UsageError (shown by the errors router) for a missing or malformed id."""
    ctx.metrics.message("command")
    silence_id = alerts.parse_silence_id(command.args)
    request = AlertCommand(action="unsilence", target=silence_id, actor_id=_actor(message))
    reply = await request_command(ctx, request, timeout_s=COMMAND_TIMEOUT_S)
    await _show(ctx, message.chat.id, reply)


@router.message(Command("watch"), IsAdmin())
async def watch(message: Message, command: CommandObject, ctx: GatewayContext) -> None:
    """/watch <plain words>: a data alert on this group's (or the videos') numbers, read in
    the words' language and the chat's time zone (UTC when the gateway knows none). In a
    private chat it is refused with a sentence (alerts.WATCH_IN_PRIVATE).

    Raises alerts.UsageError (shown by the errors router) without words, or in private."""
    ctx.metrics.message("command")
    text = alerts.parse_watch(command.args, private=message.chat.type == ChatType.PRIVATE)
    user = message.from_user
    request = AlertCommand(
        action="watch",
        text=text,
        chat_id=message.chat.id,
        language=detect_language(text, user.language_code if user else None),
        timezone=ctx.chat_settings.get(message.chat.id).timezone,
        actor_id=_actor(message),
    )
    reply = await request_command(ctx, request, timeout_s=WATCH_TIMEOUT_S)
    await _show(ctx, message.chat.id, reply)


def _actor(message: Message) -> int:
    """The sender's user id (IsAdmin let only messages with a sender through)."""
    return message.from_user.id if message.from_user else 0


def _alerts_html(reply: AlertCommandReply) -> str:
    return alerts.alerts_text(reply.message, reply.alerts)


def _history_html(reply: AlertCommandReply) -> str:
    return alerts.history_text(reply.message, reply.history)


def _silences_html(reply: AlertCommandReply) -> str:
    return alerts.silences_text(reply.message, reply.silences)


async def _show(
    ctx: GatewayContext,
    chat_id: int,
    reply: AlertCommandReply | None,
    *,
    render: Callable[[AlertCommandReply], str] | None = None,
) -> None:
    """Send ``render(reply)`` as HTML, or the reply's message as plain text (when it failed
    or there is nothing to render), or NO_ANSWER when no reply came."""
    if reply is None:
        await ctx.send(chat_id, NO_ANSWER)
    elif render is None or not reply.ok:
        text = alerts.clip_plain(reply.message or ("Done." if reply.ok else "Failed."))
        await ctx.send(chat_id, text)
    else:
        await ctx.send(chat_id, render(reply), parse_mode=ParseMode.HTML)
