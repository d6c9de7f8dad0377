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

from typing import Final, cast

from aiogram import F, Router
from aiogram.enums import ChatType, ParseMode
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from tally.contracts.chat_reports import ChatReportRequested, ReportKind
from tally.gateway.context import GatewayContext
from tally.gateway.domain import captured
from tally.gateway.domain.texts import say
from tally.gateway.telegram.filters import inline
from tally.gateway.telegram.middlewares import GroupThrottlingMiddleware
from tally.gateway.telegram.report_requests import (
    fetch_report,
    report_arguments,
    report_language,
    report_request,
)

router: Final = Router(name=__name__)
router.message.filter(inline(F.chat.type.in_({ChatType.GROUP, ChatType.SUPERGROUP})))
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


@router.message(Command(*COMMANDS))
async def captured_report(message: Message, command: CommandObject, ctx: GatewayContext) -> None:
    """The report the command names, of this chat over the period it gives (default the
    last 7 days), as a card; the reason when the period cannot be read."""
    ctx.metrics.message("command")
    request = await _request(message, command, ctx)
    if request is None:
        return
    found = await fetch_report(ctx, request)
    if found is None:
        await ctx.send(message.chat.id, say("report_failed", request.language))
    elif found.error:
        await ctx.send(message.chat.id, found.error)
    else:
        text = captured.card(found, request.language) or say("report_failed", request.language)
        await ctx.send(message.chat.id, text, parse_mode=ParseMode.HTML)


async def _request(
    message: Message, command: CommandObject, ctx: GatewayContext
) -> ChatReportRequested | None:
    """The request of the command's kind over its period in the chat's zone, or None once
    the asker was told why the period cannot be read."""
    language = report_language(message, command.args or "")
    kind = cast(ReportKind, command.command.lower())
    arguments = await report_arguments(message, ctx, kind, command.args, language)
    return None if arguments is None else report_request(message, ctx, kind, arguments, language)
