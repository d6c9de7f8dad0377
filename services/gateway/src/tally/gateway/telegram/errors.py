"""What a person sees when handling their update failed: a sentence to act on, never a trace.

aiogram turns an exception raised by a handler, a filter or an inner middleware into an error
event (``ErrorEvent``) that goes through every router's ``errors`` observer; this router,
included last, takes them all. A :class:`UserFacingError` shows its own message (and hint);
anything else is logged with its traceback and answered with ``say("handler_failed")``. Both
are counted in ``tally_gateway_handler_errors_total{update, kind}``.

The sentence goes where the person is waiting for the bot: a private chat, a button press (a
popup), or a group message that asked the bot something (a command, ``@bot ...`` or a reply to
the bot); other group messages are only captured, and their failures stay in the logs.
"""

from typing import Final, cast

import structlog
from aiogram import Bot, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent, Message, User

from tally.contracts.language import detect_language
from tally.gateway.context import GatewayContext
from tally.gateway.domain.texts import say, shorten
from tally.infra.errors import UserFacingError

router: Final = Router(name=__name__)

MAX_NOTICE_CHARS: Final = 200
"""Longest text of a button press's notice (Bot API ``answerCallbackQuery``)."""

log = structlog.get_logger(__name__)


@router.errors(ExceptionTypeFilter(UserFacingError))
async def user_facing(event: ErrorEvent, ctx: GatewayContext) -> None:
    """Show the error's message (and its hint on a line of its own)."""
    error = cast(UserFacingError, event.exception)  # the filter lets only these through
    ctx.metrics.handler_error(event.update.event_type, "user_facing")
    log.info("telegram handler refused", update_id=event.update.update_id, error=str(error))
    text = error.message if error.hint is None else f"{error.message}\n{error.hint}"
    await _tell(event, ctx, text)


@router.errors()
async def unexpected(
    event: ErrorEvent, ctx: GatewayContext, event_from_user: User | None = None
) -> None:
    """Log the failure with its traceback and say something went wrong on Tally's side."""
    ctx.metrics.handler_error(event.update.event_type, "unexpected")
    log.error(
        "telegram handler failed",
        update_id=event.update.update_id,
        update=event.update.event_type,
        exc_info=event.exception,
    )
    code = event_from_user.language_code if event_from_user else None
    language = detect_language("", code)
    await _tell(event, ctx, say("handler_failed", language))


async def _tell(event: ErrorEvent, ctx: GatewayContext, text: str) -> None:
    """Send ``text`` where the person waits (see the module); a press the handler answered
    already cannot be answered again (logged)."""
    update = event.update
    if update.callback_query is not None:
        notice = shorten(text, MAX_NOTICE_CHARS)
        try:
            await update.callback_query.answer(notice, show_alert=True)
        except TelegramBadRequest as error:
            log.warning("could not answer the press", error=error.message)
    elif update.message is not None and await _asked_of_bot(update.message, ctx.bot):
        await ctx.send(update.message.chat.id, text)


async def _asked_of_bot(message: Message, bot: Bot) -> bool:
    """True for a private message, and for a group message that is a command, starts with the
    bot's @username or replies to the bot."""
    if message.chat.type == ChatType.PRIVATE:
        return True
    text = (message.text or "").strip()
    if text.startswith("/"):
        return True
    me = await bot.me()
    reply = message.reply_to_message
    if reply is not None and reply.from_user is not None and reply.from_user.id == me.id:
        return True
    return bool(me.username) and text.lower().startswith(f"@{me.username}".lower())
