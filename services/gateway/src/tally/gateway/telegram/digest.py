"""/digest in groups: a chat administrator turns the chat's digest (its /stats card, posted
daily or weekly) on or off; and the posting of the digests the alerts service sends.

``/digest`` shows the schedule; ``/digest on [daily|weekly]`` (weekly when not named) and
``/digest off`` change it, for the chat's creator and administrators only (as Telegram says,
:class:`~tally.gateway.telegram.chat_admins.ChatAdmins`, as for /settings). The change is
written to the chat's entry in the digests bucket (tally.contracts.digests) by
compare-and-set on the revision read, so it never undoes the scheduler's claim of a period.
Each attempt, allowed or refused, is audited (:class:`AdminAuditEvent`, command ``digest``).
"""

from datetime import UTC, datetime
from typing import Final

import nats.errors
import structlog
from aiogram import F, Router
from aiogram.enums import ChatType, ParseMode
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError

from tally.contracts.digests import SCHEDULES, DigestEntry, DigestReady, Schedule, subscribed
from tally.contracts.events import AdminAuditEvent, Language
from tally.contracts.language import detect_language
from tally.contracts.subjects import Subjects
from tally.gateway.chat_settings import chat_zone
from tally.gateway.context import GatewayContext
from tally.gateway.domain import reports
from tally.gateway.telegram.admins import MAX_DETAIL_CHARS, publish_audit
from tally.gateway.telegram.filters import inline
from tally.gateway.telegram.middlewares import GroupThrottlingMiddleware

router: Final = Router(name=__name__)
router.message.filter(inline(F.chat.type.in_({ChatType.GROUP, ChatType.SUPERGROUP})))
router.message.middleware(GroupThrottlingMiddleware())
AUDIT_COMMAND: Final = "digest"
DEFAULT_SCHEDULE: Final[Schedule] = "weekly"
ANONYMOUS_ADMIN: Final = 0
WRITE_ATTEMPTS: Final = 5
"""Compare-and-set attempts before giving up (each lost to a concurrent write)."""
log = structlog.get_logger(__name__)

TEXTS: Final[dict[str, dict[Language, str]]] = {
    "usage": {
        "en": "Usage: /digest on [daily|weekly], /digest off.",
        "ru": "Использование: /digest on [daily|weekly], /digest off.",
    },
    "on": {
        "en": "Digest on: this chat's statistics will be posted {schedule}.",
        "ru": "Сводка включена: статистика чата будет приходить {schedule}.",
    },
    "off": {"en": "Digest off.", "ru": "Сводка выключена."},
    "status_on": {
        "en": "The digest is on ({schedule}). /digest off turns it off.",
        "ru": "Сводка включена ({schedule}). /digest off выключает её.",
    },
    "status_off": {
        "en": "The digest is off. /digest on [daily|weekly] turns it on.",
        "ru": "Сводка выключена. /digest on [daily|weekly] включает её.",
    },
    "refused": {
        "en": "Only this chat's administrators may change its digest.",
        "ru": "Менять сводку могут только администраторы чата.",
    },
    "unavailable": {
        "en": "Digests are unavailable just now; please try again later.",
        "ru": "Сводки сейчас недоступны; попробуйте позже.",
    },
    "daily": {"en": "daily", "ru": "ежедневно"},
    "weekly": {"en": "weekly, on Mondays", "ru": "еженедельно, по понедельникам"},
    "heading_daily": {"en": "📬 Daily digest", "ru": "📬 Сводка за день"},
    "heading_weekly": {"en": "📬 Weekly digest", "ru": "📬 Сводка за неделю"},
}


def text(key: str, language: Language, **values: object) -> str:
    """The sentence ``key`` of :data:`TEXTS` in ``language``, filled with ``values``."""
    return TEXTS[key][language].format(**values)


class DigestUnavailableError(Exception):
    """The digests bucket could not be read or written."""


async def read_digest(js: JetStreamContext, subjects: Subjects, chat_id: int) -> DigestEntry | None:
    """The chat's digest entry, None when it has none. Raises DigestUnavailableError."""
    try:
        bucket = await js.key_value(subjects.digests_bucket)
        found = await bucket.get(str(chat_id))
    except KeyNotFoundError:
        return None
    except (nats.errors.Error, TimeoutError) as error:
        raise DigestUnavailableError(str(error)) from error
    return DigestEntry.model_validate_json(found.value) if found.value else None


async def write_digest(
    js: JetStreamContext,
    subjects: Subjects,
    chat_id: int,
    schedule: Schedule | None,
    *,
    timezone: str,
    language: Language,
    user_id: int | None,
    now: datetime | None = None,
) -> DigestEntry:
    """Set the chat's digest to ``schedule`` (None: off) by compare-and-set on the entry read
    (created when missing), retried when a concurrent write came first; the entry written.
    Raises DigestUnavailableError when the bucket cannot be reached or keeps changing."""
    key, zone = str(chat_id), chat_zone(timezone)
    try:
        bucket = await js.key_value(subjects.digests_bucket)
        for _ in range(WRITE_ATTEMPTS):
            try:
                found = await bucket.get(key)
                current = DigestEntry.model_validate_json(found.value) if found.value else None
                revision: int | None = found.revision
            except KeyNotFoundError:
                current, revision = None, None
            wanted = subscribed(
                current,
                chat_id,
                schedule,
                now=now or datetime.now(UTC),
                zone=zone,
                language=language,
                user_id=user_id,
            )
            value = wanted.model_dump_json().encode()
            try:
                if revision is None:
                    await bucket.create(key, value)
                else:
                    await bucket.update(key, value, last=revision)
            except KeyWrongLastSequenceError:
                continue
            return wanted
    except (nats.errors.Error, TimeoutError) as error:
        raise DigestUnavailableError(str(error)) from error
    raise DigestUnavailableError(f"the digest of {chat_id} kept changing")


def _read(args: list[str]) -> tuple[bool, Schedule | None] | None:
    """(change?, schedule) of the command's words; None when they cannot be read."""
    if not args:
        return False, None
    word = args[0].lower()
    if word == "off" and len(args) == 1:
        return True, None
    if word == "on" and len(args) <= 2:
        named = args[1].lower() if len(args) == 2 else DEFAULT_SCHEDULE
        return (True, named) if named in SCHEDULES else None
    return None


@router.message(Command("digest"))
async def digest(message: Message, command: CommandObject, ctx: GatewayContext) -> None:
    """``/digest``: the schedule; ``/digest on [daily|weekly]``, ``/digest off``: change it
    (admins)."""
    ctx.metrics.message("command")
    chat, user = message.chat, message.from_user
    language = detect_language("", user.language_code if user else None)
    read = _read((command.args or "").split())
    if read is None:
        await ctx.send(chat.id, text("usage", language))
        return
    change, schedule = read
    js = ctx.broker.connection.jetstream()
    if not change:
        try:
            current = await read_digest(js, ctx.subjects, chat.id)
        except DigestUnavailableError:
            await ctx.send(chat.id, text("unavailable", language))
            return
        await ctx.send(chat.id, _status(current, language))
        return
    anonymous = message.sender_chat is not None and message.sender_chat.id == chat.id
    user_id = ANONYMOUS_ADMIN if anonymous else (user.id if user else None)
    allowed = user_id == ANONYMOUS_ADMIN or (
        user_id is not None and await ctx.chat_admins.is_admin(ctx.bot, chat.id, user_id)
    )
    detail = (command.args or "").strip()[:MAX_DETAIL_CHARS]
    audit = AdminAuditEvent(
        user_id=user_id or 0, chat_id=chat.id, command=AUDIT_COMMAND, allowed=allowed, detail=detail
    )
    await publish_audit(ctx, audit)
    if not allowed:
        await ctx.send(chat.id, text("refused", language))
        return
    try:
        await write_digest(
            js,
            ctx.subjects,
            chat.id,
            schedule,
            timezone=ctx.chat_settings.get(chat.id).timezone,
            language=language,
            user_id=user_id,
        )
    except DigestUnavailableError as error:
        log.warning("digest not changed", chat_id=chat.id, error=str(error))
        await ctx.send(chat.id, text("unavailable", language))
        return
    if schedule is None:
        await ctx.send(chat.id, text("off", language))
    else:
        await ctx.send(chat.id, text("on", language, schedule=text(schedule, language)))


def _status(current: DigestEntry | None, language: Language) -> str:
    if current is None or current.schedule is None:
        return text("status_off", language)
    return text("status_on", language, schedule=text(current.schedule, language))


def digest_card(ready: DigestReady) -> str:
    """The digest's HTML: a heading naming the schedule, then the /stats card."""
    heading = text(f"heading_{ready.schedule}", ready.language)
    return f"<b>{heading}</b>\n{reports.stats_card(ready.report, ready.language)}"


async def post_digest(ctx: GatewayContext, ready: DigestReady) -> None:
    """Post ``ready`` to its chat (the report's error sentence when it has one)."""
    if ready.report.error:
        await ctx.send(ready.chat_id, ready.report.error)
        return
    await ctx.send(ready.chat_id, digest_card(ready), parse_mode=ParseMode.HTML)
