"""/settings in groups: the chat's time zone, text storage and retention, changed by its
administrators.

``/settings`` shows the card with buttons (store text on/off, keep raw messages 30, 90,
365 days or forever); ``/settings timezone Europe/Berlin`` sets the zone (an IANA name).
Only the chat's creator and administrators may change anything, as Telegram says
(:class:`~tally.gateway.telegram.chat_admins.ChatAdmins`, ``getChatMember`` kept 60 s); a
member's press gets a popup refusal, a member's command a reply. Each change is published as
a :class:`SettingsChanged` chat event (ingest writes the settings bucket, which the gateway
follows), and each attempt, allowed or refused, as an :class:`AdminAuditEvent`.
"""

from datetime import UTC, datetime
from typing import Final

import structlog
from aiogram import F, Router
from aiogram.enums import ChatType, ParseMode
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Chat, Message, Update, User

from tally.contracts.chat_events import ChatSettings, SettingsChanged
from tally.contracts.events import AdminAuditEvent, Language
from tally.contracts.language import detect_language
from tally.gateway.context import GatewayContext
from tally.gateway.domain.settings import settings_card, text, valid_timezone
from tally.gateway.telegram.admins import publish_audit
from tally.gateway.telegram.filters import inline
from tally.gateway.telegram.keyboards import SettingsButton, settings_keyboard
from tally.gateway.telegram.middlewares import GROUP_CHATS, GroupThrottlingMiddleware

router: Final = Router(name=__name__)
router.message.filter(inline(F.chat.type.in_({ChatType.GROUP, ChatType.SUPERGROUP})))
router.message.middleware(GroupThrottlingMiddleware())
AUDIT_COMMAND: Final = "settings"
ANONYMOUS_ADMIN: Final = 0
"""The sender id of a group's anonymous admin (who writes as the chat), as the audit records
it."""
log = structlog.get_logger(__name__)


def _language(user: User | None) -> Language:
    return detect_language("", user.language_code if user else None)


@router.message(Command("settings"))
async def settings(
    message: Message, command: CommandObject, event_update: Update, ctx: GatewayContext
) -> None:
    """``/settings``: the card and its buttons; ``/settings timezone <IANA name>``: set it."""
    ctx.metrics.message("command")
    chat, language = message.chat, _language(message.from_user)
    current = ctx.chat_settings.get(chat.id)
    args = (command.args or "").split()
    if not args:
        card, keyboard = settings_card(current, language), settings_keyboard(current, language)
        await ctx.send(chat.id, card, parse_mode=ParseMode.HTML, reply_markup=keyboard)
        return
    if len(args) != 2 or args[0].lower() not in ("timezone", "tz"):
        await ctx.send(chat.id, text("usage", language))
        return
    zone = valid_timezone(args[1])
    if zone is None:
        await ctx.send(chat.id, text("bad_zone", language, name=args[1][:64]))
        return
    wanted = current.model_copy(update={"timezone": zone})
    allowed = await _change(ctx, chat, _sender(message), wanted, update_id=event_update.update_id)
    reply = settings_card(wanted, language) if allowed else text("refused", language)
    await ctx.send(chat.id, reply, parse_mode=ParseMode.HTML)


@router.callback_query(SettingsButton.filter())
async def press(
    query: CallbackQuery,
    callback_data: SettingsButton,
    event_update: Update,
    ctx: GatewayContext,
) -> None:
    """A /settings button: the change when an admin pressed it (the card redrawn), a popup
    refusal for anyone else."""
    language, message = _language(query.from_user), query.message
    if message is None or message.chat.type not in GROUP_CHATS:
        await query.answer(text("refused", language), show_alert=True)
        return
    current = ctx.chat_settings.get(message.chat.id)
    wanted = _pressed(current, callback_data)
    update_id = event_update.update_id
    if not await _change(ctx, message.chat, query.from_user.id, wanted, update_id=update_id):
        await query.answer(text("refused", language), show_alert=True)
        return
    await query.answer(text("saved", language))
    try:
        await ctx.bot.edit_message_text(
            settings_card(wanted, language),
            chat_id=message.chat.id,
            message_id=message.message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=settings_keyboard(wanted, language),
        )
    except TelegramAPIError as error:  # the card is only a view: the change was published
        log.warning("settings card not redrawn", chat_id=message.chat.id, error=str(error))


def _sender(message: Message) -> int | None:
    """Who sent ``message``: their user id, :data:`ANONYMOUS_ADMIN` for the chat's anonymous
    admin (who writes as the chat), None when Telegram names nobody."""
    if message.sender_chat is not None and message.sender_chat.id == message.chat.id:
        return ANONYMOUS_ADMIN
    return message.from_user.id if message.from_user else None


def _pressed(current: ChatSettings, button: SettingsButton) -> ChatSettings:
    if button.action == "text":
        return current.model_copy(update={"store_text": bool(button.value)})
    return current.model_copy(update={"retention_days": button.value or None})


async def _change(
    ctx: GatewayContext, chat: Chat, user_id: int | None, wanted: ChatSettings, *, update_id: int
) -> bool:
    """Audit the attempt of ``user_id`` (see :func:`_sender`); when they administer ``chat``,
    publish ``wanted`` as its settings and assume them until the bucket has them. True when
    allowed (the change published, or its failure logged)."""
    allowed = user_id == ANONYMOUS_ADMIN or (
        user_id is not None and await ctx.chat_admins.is_admin(ctx.bot, chat.id, user_id)
    )
    audit = AdminAuditEvent(
        user_id=user_id or 0,
        chat_id=chat.id,
        command=AUDIT_COMMAND,
        allowed=allowed,
        detail=wanted.model_dump_json(),
    )
    await publish_audit(ctx, audit)
    if allowed:
        changed = SettingsChanged(
            event_id=f"u{update_id}:settings",
            chat_id=chat.id,
            chat_type="group" if chat.type == ChatType.GROUP else "supergroup",
            chat_title=chat.title,
            occurred_at=datetime.now(UTC),
            settings=wanted,
        )
        await ctx.chat_events.publish([changed], update_id=update_id)
        ctx.chat_settings.assume(chat.id, wanted)
    return allowed
