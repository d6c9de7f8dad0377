"""In groups, what is captured: /content, /reactions, /replies, /topics, /members, /words.

Each command takes an optional period like /stats (``/content 30``, ``/replies last week``,
``/words 2025-11``; default the last 7 days), read on the chat's calendar (its time zone, UTC
when it has none or an unknown one) by
:func:`tally.language.report_period.read_report_arguments`. It asks the executor for a
:class:`ChatReport` of that kind (core NATS request) and replies with the card
(tally.gateway.domain.captured) naming the period and zone. A period that cannot be read is
answered with the reason, in the asker's language; a report that did not come, with
``report_failed``. Throttled per member like the other group reports.

Registered before tally.gateway.telegram.groups, whose report handler takes every report kind.
"""

from datetime import datetime
from typing import Final, cast

from aiogram import F, Router
from aiogram.enums import ChatType, ParseMode
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from tally.contracts.chat_reports import ChatReport, ChatReportRequested, ReportKind
from tally.contracts.events import Language
from tally.contracts.language import detect_language
from tally.gateway.chat_settings import chat_zone
from tally.gateway.context import GatewayContext
from tally.gateway.domain import captured
from tally.gateway.domain.texts import say
from tally.gateway.telegram.middlewares import GroupThrottlingMiddleware
from tally.gateway.telegram.requests import request_reply
from tally.language.report_period import ReportPeriodError, read_report_arguments

router: Final = Router(name=__name__)
router.message.filter(F.chat.type.in_({ChatType.GROUP, ChatType.SUPERGROUP}))
router.message.middleware(GroupThrottlingMiddleware())

COMMANDS: Final[tuple[ReportKind, ...]] = (
    "content",
    "reactions",
    "replies",
    "topics",
    "members",
    "words",
)
"""The commands, each named as the report kind it asks for."""
REPORT_TIMEOUT_S: Final = 10.0


@router.message(Command(*COMMANDS))
async def captured_report(message: Message, command: CommandObject, ctx: GatewayContext) -> None:
    """The report the command names, of this chat over the period it gives (default the
    last 7 days), as a card; the reason when the period cannot be read."""
    ctx.metrics.message("command")
    request = await _request(message, command, ctx)
    if request is None:
        return
    found = await _fetch(ctx, request)
    if found is None:
        await ctx.send(message.chat.id, say("report_failed", request.language))
    elif found.error:
        await ctx.send(message.chat.id, found.error)
    else:
        text = captured.card(found, request.language) or say("report_failed", request.language)
        await ctx.send(message.chat.id, text, parse_mode=ParseMode.HTML)


def _language(message: Message, text: str) -> Language:
    user = message.from_user
    return detect_language(text, user.language_code if user else None)


async def _request(
    message: Message, command: CommandObject, ctx: GatewayContext
) -> ChatReportRequested | None:
    """The request of the command's kind over its period in the chat's zone, or None once
    the asker was told why the period cannot be read."""
    language = _language(message, command.args or "")
    kind = cast(ReportKind, command.command.lower())
    timezone = ctx.chat_settings.get(message.chat.id).timezone
    today = datetime.now(chat_zone(timezone)).date()
    try:
        arguments = read_report_arguments(kind, command.args, today=today, language=language)
    except ReportPeriodError as error:
        await ctx.send(message.chat.id, error.message)
        return None
    return ChatReportRequested(
        chat_id=message.chat.id,
        kind=kind,
        first=arguments.period.first,
        last=arguments.period.last,
        language=language,
        timezone=timezone,
    )


async def _fetch(ctx: GatewayContext, request: ChatReportRequested) -> ChatReport | None:
    """The executor's report, or None (logged) when it did not answer in time or sensibly."""
    return await request_reply(
        ctx.broker,
        request,
        ctx.subjects.chat_report,
        ChatReport,
        timeout_s=REPORT_TIMEOUT_S,
        span="telegram report",
        attributes={"tally.report": request.kind},
    )
