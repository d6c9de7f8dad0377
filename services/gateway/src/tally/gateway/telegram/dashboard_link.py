"""/dashboard in groups: a chat administrator gets, in a private message, a short-lived
signed link to the chat's dashboard page (:mod:`tally.contracts.dashboard_link`).

Only the chat's creator and administrators are answered with a link, as Telegram says
(:class:`~tally.gateway.telegram.chat_admins.ChatAdmins`, as for /settings); the link is
never posted in the group. A user who never started the bot cannot be written to (Telegram
answers 403), so the group is told to start a private chat first. Without
``DASHBOARD_LINK_SECRET`` or ``DASHBOARD_PUBLIC_URL`` the command says links are off. Each
attempt, allowed or refused, is audited (:class:`AdminAuditEvent`, command ``dashboard``).
"""

from datetime import UTC, datetime, timedelta
from typing import Final

import structlog
from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.filters import Command
from aiogram.types import Message

from tally.contracts.dashboard_link import page_url, sign
from tally.contracts.events import AdminAuditEvent, Language
from tally.contracts.language import detect_language
from tally.gateway.context import GatewayContext
from tally.gateway.telegram.admins import publish_audit
from tally.gateway.telegram.filters import inline
from tally.gateway.telegram.middlewares import GroupThrottlingMiddleware

router: Final = Router(name=__name__)
router.message.filter(inline(F.chat.type.in_({ChatType.GROUP, ChatType.SUPERGROUP})))
router.message.middleware(GroupThrottlingMiddleware())
AUDIT_COMMAND: Final = "dashboard"
log = structlog.get_logger(__name__)

TEXTS: Final[dict[str, dict[Language, str]]] = {
    "link": {
        "en": "The dashboard of «{title}», for you only (good for {minutes} min):\n{url}",
        "ru": "Панель чата «{title}», только для вас (действует {minutes} мин):\n{url}",
    },
    "sent": {
        "en": "I sent you the dashboard link in a private message.",
        "ru": "Я отправил ссылку на панель вам в личные сообщения.",
    },
    "start_first": {
        "en": "I cannot write to you privately: open a private chat with me, press Start, "
        "then send /dashboard here again.",
        "ru": "Я не могу написать вам в личные сообщения: откройте чат со мной, нажмите "
        "«Старт» и снова отправьте /dashboard здесь.",
    },
    "not_sent": {
        "en": "I could not send you the link just now; please try again later.",
        "ru": "Не удалось отправить ссылку; попробуйте позже.",
    },
    "refused": {
        "en": "Only this chat's administrators may open its dashboard.",
        "ru": "Панель чата доступна только его администраторам.",
    },
    "anonymous": {
        "en": "I cannot send a link to an anonymous admin: send /dashboard as yourself.",
        "ru": "Я не могу отправить ссылку анонимному админу: отправьте /dashboard от своего имени.",
    },
    "off": {
        "en": "Dashboard links are off here: the bot's operator has not set "
        "DASHBOARD_LINK_SECRET and DASHBOARD_PUBLIC_URL.",
        "ru": "Ссылки на панель здесь выключены: оператор бота не задал "
        "DASHBOARD_LINK_SECRET и DASHBOARD_PUBLIC_URL.",
    },
}


def text(key: str, language: Language, **values: object) -> str:
    """The sentence ``key`` of :data:`TEXTS` in ``language``, filled with ``values``."""
    return TEXTS[key][language].format(**values)


@router.message(Command("dashboard"))
async def dashboard(message: Message, ctx: GatewayContext) -> None:
    """``/dashboard``: a signed link to this chat's page, privately, for its admins."""
    ctx.metrics.message("command")
    chat, user = message.chat, message.from_user
    language = detect_language("", user.language_code if user else None)
    secret, url = ctx.settings.dashboard_link_secret, ctx.settings.dashboard_public_url
    if secret is None or url is None:
        await ctx.send(chat.id, text("off", language))
        return
    anonymous = message.sender_chat is not None and message.sender_chat.id == chat.id
    if user is None or anonymous or user.is_bot:
        await ctx.send(chat.id, text("anonymous", language))
        return
    allowed = await ctx.chat_admins.is_admin(ctx.bot, chat.id, user.id)
    await publish_audit(
        ctx,
        AdminAuditEvent(user_id=user.id, chat_id=chat.id, command=AUDIT_COMMAND, allowed=allowed),
    )
    if not allowed:
        await ctx.send(chat.id, text("refused", language))
        return
    ttl = timedelta(seconds=ctx.settings.dashboard_link_ttl_s)
    token = sign(chat.id, user.id, datetime.now(UTC) + ttl, secret.get_secret_value())
    link = page_url(url, chat.id, token)
    minutes = max(1, round(ttl.total_seconds() / 60))
    body = text("link", language, title=chat.title or chat.id, minutes=minutes, url=link)
    try:
        await ctx.bot.send_message(user.id, body, disable_web_page_preview=True)
    except TelegramForbiddenError:
        await ctx.send(chat.id, text("start_first", language))
        return
    except TelegramAPIError as error:
        log.warning("dashboard link not sent", chat_id=chat.id, error=str(error))
        await ctx.send(chat.id, text("not_sent", language))
        return
    await ctx.send(chat.id, text("sent", language))
